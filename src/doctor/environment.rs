//! The shell's environment: static AWS keys and `AWS_PROFILE`, which make the AWS tools ignore profiles (or
//! fail outright when the profile does not exist); inside `awsso exec`/`env` they are awsso's own.
use super::{Check, show};
use crate::awsconfig::ConfigFile;

/// Variables that make the AWS tools ignore profiles: static keys (which beat `AWS_PROFILE` and every
/// profile), and `AWS_PROFILE` itself (which beats `[default]`, and breaks everything when it names no
/// profile). Values are never shown, except the profile name.
pub fn environment_checks(
    env: &dyn Fn(&str) -> Option<String>,
    config: Option<&ConfigFile>,
) -> Vec<Check> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(label) = set(crate::envfile::MARKER) {
        return vec![Check::ok(
            "environment",
            format!(
                "inside `awsso exec`/`awsso env` for {}: the exported keys are that role's",
                show(&label)
            ),
        )];
    }
    let keys: Vec<&str> = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ]
    .into_iter()
    .filter(|k| set(k).is_some())
    .collect();
    let profile = set("AWS_PROFILE")
        .map(|p| ("AWS_PROFILE", p))
        .or_else(|| set("AWS_DEFAULT_PROFILE").map(|p| ("AWS_DEFAULT_PROFILE", p)));
    let unset_keys = format!("`unset {}`", keys.join(" "));
    let mut checks = Vec::new();
    match (&profile, keys.is_empty()) {
        (Some((var, p)), false) => checks.push(Check::fail(
            "environment",
            format!(
                "{} {} set and win over {var}={}: AWS commands run as those keys, not as profile {}",
                keys.join(", "),
                if keys.len() == 1 { "is" } else { "are" },
                show(p),
                show(p)
            ),
            format!("{unset_keys} to use profile {}", show(p)),
        )),
        (None, false) => checks.push(Check::warn(
            "environment",
            format!(
                "{} {} set: AWS commands use these keys instead of any profile's credentials, awsso's included",
                keys.join(", "),
                if keys.len() == 1 { "is" } else { "are" }
            ),
            format!("{unset_keys} unless you meant to use them"),
        )),
        _ => {}
    }
    if let Some((var, p)) = &profile {
        let exists = config.is_none_or(|c| c.profile(p).is_some());
        if !exists {
            checks.push(Check::fail(
                "environment",
                format!(
                    "{var}={} names no profile in the AWS config: every AWS command in this shell fails",
                    show(p)
                ),
                format!(
                    "`unset {var}`, or choose an existing profile (`awsso ls` lists awsso's)"
                ),
            ));
        } else if keys.is_empty() {
            checks.push(Check::warn(
                "environment",
                format!(
                    "{var}={} is set: every AWS command in this shell uses that profile instead of [default] \
                     unless given --profile",
                    show(p)
                ),
                format!("`unset {var}` when you mean another profile"),
            ));
        }
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "environment",
            "no AWS_PROFILE or static AWS keys in the environment",
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::doctor::test_support::{parse, statuses};

    #[test]
    fn environment_shadows() {
        let config = parse("[profile dev]\nregion = x\n");
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let clean = environment_checks(&env(&[]), Some(&config));
        assert_eq!(statuses(&clean, "environment"), [Status::Ok]);
        let profile = environment_checks(&env(&[("AWS_PROFILE", "dev")]), Some(&config));
        assert_eq!(statuses(&profile, "environment"), [Status::Warn]);
        let unknown = environment_checks(&env(&[("AWS_PROFILE", "nope")]), Some(&config));
        assert_eq!(statuses(&unknown, "environment"), [Status::Fail]);
        let keys = environment_checks(
            &env(&[
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ]),
            Some(&config),
        );
        assert_eq!(statuses(&keys, "environment"), [Status::Warn]);
        assert!(!format!("{keys:?}").contains("very-secret"));
        let both = environment_checks(
            &env(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWS_PROFILE", "dev")]),
            Some(&config),
        );
        assert_eq!(statuses(&both, "environment"), [Status::Fail]);
        let inside = environment_checks(
            &env(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWSSO_PROFILE", "dev")]),
            Some(&config),
        );
        assert_eq!(statuses(&inside, "environment"), [Status::Ok]);
    }
}
