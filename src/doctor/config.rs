//! The config file as a whole: whether it parses, what in it trips the SDKs up even when it parses (a
//! BOM, settings after an awsso block, botocore-only forms), its `[sso-session]` sections, and two sessions
//! on one access portal.
use std::collections::BTreeMap;
use std::path::Path;

use super::{Check, plural, show};
use crate::awsconfig::{ConfigError, ConfigFile};
use crate::session::SessionConfig;

/// Whether the config parses; on failure, where and why.
pub fn config_check(path: &Path, loaded: &Result<ConfigFile, ConfigError>) -> Check {
    match loaded {
        Ok(config) if config.text.is_empty() && !path.exists() => Check::warn(
            "config",
            format!("there is no AWS config file at {}", path.display()),
            "create it with `awsso login --start-url https://<id>.awsapps.com/start --region <region>`",
        ),
        Ok(config) => Check::ok(
            "config",
            format!(
                "{} parses: {}, {}, {}",
                path.display(),
                plural(config.profiles().count(), "profile", "profiles"),
                plural(config.sso_sessions().count(), "sso-session", "sso-sessions"),
                plural(config.managed_blocks().len(), "awsso block", "awsso blocks"),
            ),
        ),
        Err(e) => Check::fail(
            "config",
            format!("the AWS config does not parse: {e}"),
            e.hint()
                .unwrap_or_else(|| format!("check {} and its permissions", path.display())),
        ),
    }
}

/// What in a config that parses will still trip someone up: a UTF-8 BOM (botocore and the Rust SDK
/// cannot read the file; awsso refuses to write it), settings after one of awsso's blocks (they belong to
/// the block's last profile; sync refuses), and what botocore accepts but other SDKs reject or skip.
pub fn config_shape_checks(config: &ConfigFile) -> Vec<Check> {
    let path = config.path.display();
    let mut checks = Vec::new();
    if config.text.starts_with('\u{feff}') {
        let e = ConfigError::Bom {
            path: config.path.clone(),
        };
        checks.push(Check::fail(
            "config",
            e.to_string(),
            e.hint().unwrap_or_default(),
        ));
    }
    for (block, line, setting) in config.settings_after_blocks() {
        let e = ConfigError::AfterBlock {
            path: config.path.clone(),
            line,
            end_line: block.end_line,
            id: block.id.clone(),
            setting: show(&setting),
        };
        checks.push(Check::warn(
            "config",
            format!("{e}; awsso refuses to rewrite the block until it moves"),
            e.hint().unwrap_or_default(),
        ));
    }
    for note in config.compat_notes() {
        checks.push(Check::warn(
            "config",
            format!("{path}:{}: {}", note.line, show(&note.message)),
            "botocore and the AWS CLI accept it; rewrite that line in the plain form if other SDKs \
             (Rust, Java, Go, JavaScript) must read this file",
        ));
    }
    checks
}

/// Every `[sso-session]` valid; returns the valid ones for the other checks.
pub fn session_checks(config: &ConfigFile) -> (Vec<Check>, Vec<SessionConfig>) {
    let mut checks = Vec::new();
    let mut valid = Vec::new();
    for result in crate::session::all(config) {
        match result {
            Ok(s) => valid.push(s),
            Err(e) => checks.push(Check::fail(
                "sessions",
                e.to_string(),
                e.hint().unwrap_or_else(|| "fix that section".into()),
            )),
        }
    }
    if checks.is_empty() {
        checks.push(if valid.is_empty() {
            Check::warn(
                "sessions",
                format!("{} has no [sso-session] section", config.path.display()),
                "add one with `awsso login --start-url https://<id>.awsapps.com/start --region <region>`",
            )
        } else {
            Check::ok(
                "sessions",
                format!(
                    "{}: {}",
                    plural(valid.len(), "sso-session", "sso-sessions"),
                    valid
                        .iter()
                        .map(|s| show(&s.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        });
    }
    (checks, valid)
}

/// Two sessions on one access portal mean two logins, two tokens, and profiles split between them.
pub fn duplicate_sessions(config: &ConfigFile, sessions: &[SessionConfig]) -> Vec<Check> {
    let mut groups: BTreeMap<String, Vec<&SessionConfig>> = BTreeMap::new();
    for s in sessions {
        groups
            .entry(crate::session::normalize_start_url(&s.start_url))
            .or_default()
            .push(s);
    }
    let line = |name: &str| config.sso_session(name).map_or(0, |s| s.header_line);
    let mut checks: Vec<Check> = groups
        .values()
        .filter(|g| g.len() > 1)
        .map(|g| {
            let keep = &g[0].name;
            let others: Vec<String> = g[1..]
                .iter()
                .map(|s| format!("{} (line {})", show(&s.name), line(&s.name)))
                .collect();
            Check::warn(
                "duplicate-sessions",
                format!(
                    "sessions {} (line {}) and {} sign in to the same access portal {}: two logins, two tokens, \
                     and profiles split between them",
                    show(keep),
                    line(keep),
                    others.join(", "),
                    show(&g[0].start_url)
                ),
                format!(
                    "keep [sso-session {}]: point the profiles of the others at it (sso_session = {}), delete \
                     the other sections and their awsso blocks, then run `awsso sync`",
                    show(keep),
                    show(keep)
                ),
            )
        })
        .collect();
    if checks.is_empty() && !sessions.is_empty() {
        checks.push(Check::ok(
            "duplicate-sessions",
            "each access portal has one sso-session",
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::doctor::test_support::parse;

    #[test]
    fn config_errors_carry_the_line() {
        let path = Path::new("/c");
        let loaded = ConfigFile::parse(path, "[default]\nregion = x\nnot a setting\n".into());
        let c = config_check(path, &loaded);
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("/c:3"), "{}", c.message);
        assert!(c.fix.unwrap().contains("line 3"));
        let ok = config_check(path, &Ok(parse("[profile a]\nregion = x\n")));
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.message.contains("1 profile,"), "{}", ok.message);
    }

    #[test]
    fn duplicate_sessions_by_portal() {
        let config = parse(
            "[sso-session a]\nsso_start_url = https://D-1.awsapps.com/start\nsso_region = eu-west-1\n\
             [sso-session b]\nsso_start_url = https://d-1.awsapps.com/start/#/\nsso_region = eu-west-1\n\
             [sso-session c]\nsso_start_url = https://d-2.awsapps.com/start\nsso_region = eu-west-1\n",
        );
        let (_, sessions) = session_checks(&config);
        let checks = duplicate_sessions(&config, &sessions);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Warn);
        assert!(
            checks[0]
                .message
                .contains("sessions a (line 1) and b (line 4)")
        );
    }
}
