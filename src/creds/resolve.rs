//! Which role a command means: the session, account and role named on its command line, a profile of the
//! AWS config (checked like command-line arguments), or, with neither, the profile the picker chooses.
use crate::awsconfig::ConfigFile;
use crate::cli::TargetArgs;
use crate::ids::{AccountId, RoleName, SessionName};
use crate::picker::PickError;

use super::{ProfileError, Target, target_of_profile};

/// A target that cannot be resolved. Each variant's message and hint are what the commands have always
/// said; its exit code is decided in `error::diagnose`.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Neither a profile nor a session, account and role.
    #[error("which role?")]
    Unnamed,
    /// A profile whose session, account id or role name would not pass as an argument.
    #[error("profile {profile} in {path} has an invalid {what}: {problem}")]
    Invalid {
        /// Already sanitised for the terminal.
        profile: String,
        path: String,
        what: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The picker's error, shown as it is (not as a source: its own cause is already in its text).
    #[error("{0}")]
    Pick(PickError),
}

impl TargetError {
    /// One line of advice for the user.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TargetError::Unnamed => {
                "pass --profile P, or --session S --account-id ID --role-name R".into()
            }
            TargetError::Invalid { .. } => {
                "fix the profile, or write it again with `awsso sync`".into()
            }
            TargetError::Profile(e) => return e.hint(),
            TargetError::Pick(PickError::NoTerminal) => {
                "pass --profile P (or run it on a terminal to pick one)".into()
            }
            TargetError::Pick(PickError::NoProfiles { .. }) => {
                "run `awsso sync`, or pass --profile P".into()
            }
            TargetError::Pick(PickError::Terminal(_)) => "pass --profile P".into(),
        })
    }
}

/// The target named on the command line, when it needs no config lookup.
pub fn explicit_target(args: &TargetArgs) -> Option<Target> {
    match (&args.session, &args.account_id, &args.role_name) {
        (Some(s), Some(a), Some(r)) => Some(Target {
            session: s.to_string(),
            account_id: a.to_string(),
            role_name: r.to_string(),
        }),
        _ => None,
    }
}

/// Resolves the target (and the profile's region) from the arguments and the config.
pub fn resolve_target(
    config: &ConfigFile,
    args: &TargetArgs,
) -> Result<(Target, Option<String>), TargetError> {
    if let Some(t) = explicit_target(args) {
        return Ok((t, None));
    }
    match &args.profile {
        Some(p) => {
            let (target, region) = target_of_profile(config, p)?;
            check_profile_target(config, p, &target)?;
            Ok((target, region))
        }
        None => Err(TargetError::Unnamed),
    }
}

/// A profile's session, account id and role name are checked like command-line arguments before anything
/// uses them (a hand-edited 66,000-digit `sso_account_id` would otherwise reach the SDK's URI builder).
fn check_profile_target(config: &ConfigFile, profile: &str, t: &Target) -> Result<(), TargetError> {
    let problem = t
        .session
        .parse::<SessionName>()
        .err()
        .map(|e| ("session", e))
        .or_else(|| {
            t.account_id
                .parse::<AccountId>()
                .err()
                .map(|e| ("account id", e))
        })
        .or_else(|| {
            t.role_name
                .parse::<RoleName>()
                .err()
                .map(|e| ("role name", e))
        });
    match problem {
        None => Ok(()),
        Some((what, e)) => Err(TargetError::Invalid {
            profile: crate::output::sanitize(profile, 100),
            path: config.path.display().to_string(),
            what,
            problem: e.to_string(),
        }),
    }
}

/// [`resolve_target`], except that with no role named, on a terminal, the picker chooses a profile (and
/// `args.profile` is set to it). `Ok(None)`: the user cancelled.
pub fn resolve_or_pick(
    config: &ConfigFile,
    args: &mut TargetArgs,
    title: &str,
) -> Result<Option<(Target, Option<String>)>, TargetError> {
    if args.profile.is_none() && explicit_target(args).is_none() {
        match pick_profile(config, title)? {
            Some(p) => args.profile = Some(p),
            None => return Ok(None),
        }
    }
    resolve_target(config, args).map(Some)
}

/// The picker, its errors as the user sees them (no terminal is a usage error naming --profile).
/// `Ok(None)`: the user cancelled.
pub fn pick_profile(config: &ConfigFile, title: &str) -> Result<Option<String>, TargetError> {
    crate::picker::choose(config, title).map_err(TargetError::Pick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{classify, message};

    fn config(text: &str) -> ConfigFile {
        ConfigFile::parse(std::path::Path::new("/h/.aws/config"), text.into()).unwrap()
    }

    fn args(profile: Option<&str>) -> TargetArgs {
        TargetArgs {
            profile: profile.map(Into::into),
            session: None,
            account_id: None,
            role_name: None,
        }
    }

    #[test]
    fn no_role_named_is_a_usage_error_naming_both_ways() {
        let e = anyhow::Error::new(resolve_target(&config(""), &args(None)).unwrap_err());
        assert_eq!(message(&e), "which role?");
        assert_eq!(
            classify(&e),
            (
                2,
                Some("pass --profile P, or --session S --account-id ID --role-name R".into())
            )
        );
    }

    #[test]
    fn a_profile_with_an_invalid_account_id_is_a_config_error() {
        let c =
            config("[profile p]\nsso_session = corp\nsso_account_id = 12\nsso_role_name = Admin\n");
        let e = anyhow::Error::new(resolve_target(&c, &args(Some("p"))).unwrap_err());
        assert!(
            message(&e).starts_with("profile p in /h/.aws/config has an invalid account id: "),
            "{}",
            message(&e)
        );
        assert_eq!(classify(&e).0, 5);
    }

    #[test]
    fn a_missing_profile_keeps_the_profile_errors_words() {
        let e = resolve_target(&config(""), &args(Some("nope"))).unwrap_err();
        let TargetError::Profile(inner) = &e else {
            panic!("{e:?}");
        };
        let (text, hint) = (inner.to_string(), inner.hint());
        let e = anyhow::Error::new(e);
        assert_eq!(message(&e), text);
        assert_eq!(classify(&e), (5, hint));
    }

    #[test]
    fn a_profile_names_its_target_and_region() {
        let c = config(
            "[profile p]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n\
             region = eu-west-1\n",
        );
        let (t, region) = resolve_target(&c, &args(Some("p"))).unwrap();
        assert_eq!(
            (
                t.session.as_str(),
                t.account_id.as_str(),
                t.role_name.as_str()
            ),
            ("corp", "123456789012", "Admin")
        );
        assert_eq!(region.as_deref(), Some("eu-west-1"));
    }
}
