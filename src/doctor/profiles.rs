//! Profiles one by one: legacy `sso_start_url` profiles (and the migration that fixes them), `sso_*` keys
//! beside `credential_process` (the SDKs never run the helper then), and awsso profiles whose
//! `credential_process` names a binary that is gone.
use std::path::Path;

use super::{Check, plural, show};
use crate::awsconfig::{ConfigFile, Section};
use crate::creds::shell_split;
use crate::output::sanitize;

/// Legacy SSO profiles: awsso uses them (an implicit session per instance), but their tokens cannot refresh;
/// the fix is the exact migration, as a diff, that `awsso migrate` would make.
pub fn legacy_checks(config: &ConfigFile) -> Vec<Check> {
    let Ok(Some(plan)) = crate::migrate::plan(config) else {
        return Vec::new();
    };
    let diff = crate::migrate::diff(config, &plan);
    plan.moves
        .iter()
        .map(|(session, profiles)| {
            Check::warn(
                "legacy-profiles",
                format!(
                    "{} {} the legacy sso_start_url form (no sso-session): awsso serves {} as session {}, \
                     but its token cannot refresh",
                    if profiles.len() == 1 { "profile" } else { "profiles" },
                    sanitize(&profiles.join(", "), 200),
                    if profiles.len() == 1 { "it" } else { "them" },
                    sanitize(session, 100),
                ),
                format!(
                    "run `awsso migrate --dry-run` to review, then `awsso migrate`, which makes this change:\n{diff}"
                ),
            )
        })
        .collect()
}

/// The words of an awsso `credential_process` (`<awsso> creds --session …`), or `None` for other commands.
pub fn awsso_command(section: &Section) -> Option<Vec<String>> {
    let words = shell_split(section.get("credential_process")?)?;
    let (exe, rest) = words.split_first()?;
    let base = exe.rsplit(['/', '\\']).next().unwrap_or(exe);
    let creds = rest.iter().any(|w| w == "creds");
    let flags = ["--session", "--account-id", "--role-name"]
        .iter()
        .all(|f| crate::shell::flag_value(rest, f).is_some());
    (creds && (base.starts_with("awsso") || flags)).then_some(words)
}

/// Whether `exe` names a file that can be run: a path as given, or a bare name looked up in `path_var`.
pub fn executable_exists(exe: &str, path_var: Option<&std::ffi::OsStr>) -> bool {
    if exe.contains('/') || exe.contains('\\') {
        return crate::paths::is_executable(Path::new(exe));
    }
    path_var.is_some_and(|p| {
        std::env::split_paths(p).any(|dir| crate::paths::is_executable(&dir.join(exe)))
    })
}

/// Profiles the SDKs would misread: `sso_*` keys beside `credential_process` (the SDKs take the SSO
/// route and never run the helper), and awsso profiles whose `credential_process` names a binary that
/// is gone.
pub fn profile_checks(
    config: &ConfigFile,
    path_var: Option<&std::ffi::OsStr>,
    current_exe: Option<&Path>,
) -> Vec<Check> {
    let mut mixed = Vec::new();
    let mut missing = Vec::new();
    let mut awsso_profiles = 0;
    let rewrite = |s: &Section| match (&s.managed_by, current_exe) {
        (Some(_), _) => "run `awsso sync` to rewrite the block with this awsso's path".to_string(),
        (None, Some(exe)) => format!(
            "point credential_process of [{}] at {}",
            show(&s.header()),
            exe.display()
        ),
        (None, None) => format!(
            "point credential_process of [{}] at the installed awsso",
            show(&s.header())
        ),
    };
    for s in config.profiles() {
        let has_process = s.get("credential_process").is_some();
        let sso_keys: Vec<&str> = s
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .filter(|k| k.to_ascii_lowercase().starts_with("sso_"))
            .collect();
        let command = awsso_command(s);
        if has_process && !sso_keys.is_empty() {
            let fix = if command.is_some() {
                format!(
                    "delete {} from [{}]: awsso's credential_process needs none of them",
                    sso_keys.join(", "),
                    show(&s.header())
                )
            } else {
                format!(
                    "keep one of the two in [{}]: the sso_* keys or credential_process",
                    show(&s.header())
                )
            };
            mixed.push(Check::fail(
                "mixed-keys",
                format!(
                    "profile {} (line {}) has credential_process and {}: the SDKs use the sso_* keys and \
                     never run credential_process",
                    show(&s.name),
                    s.header_line,
                    sso_keys.join(", ")
                ),
                fix,
            ));
        }
        if let Some(words) = command {
            awsso_profiles += 1;
            if !executable_exists(&words[0], path_var) {
                let line = s
                    .entries
                    .iter()
                    .find(|e| e.key.eq_ignore_ascii_case("credential_process"))
                    .map_or(s.header_line, |e| e.line);
                missing.push(Check::fail(
                    "credential-process",
                    format!(
                        "profile {} (line {line}) runs {}, which does not exist or is not executable: every \
                         AWS command with this profile fails",
                        show(&s.name),
                        show(&words[0])
                    ),
                    rewrite(s),
                ));
            }
        }
    }
    if mixed.is_empty() {
        mixed.push(Check::ok(
            "mixed-keys",
            "no profile mixes sso_* keys with credential_process",
        ));
    }
    if missing.is_empty() {
        missing.push(Check::ok(
            "credential-process",
            format!(
                "the awsso binary of every awsso profile exists ({})",
                plural(awsso_profiles, "profile", "profiles")
            ),
        ));
    }
    mixed.extend(missing);
    mixed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::doctor::test_support::{parse, statuses};

    #[test]
    fn mixed_keys_and_missing_binaries() {
        let exe = std::env::current_exe().unwrap();
        let config = parse(&format!(
            "[profile mixed]\nsso_session = corp\ncredential_process = {exe} creds --session corp --account-id 1 --role-name R\n\
             [profile gone]\ncredential_process = /nonexistent/awsso creds --session corp --account-id 1 --role-name R\n\
             [profile fine]\ncredential_process = {exe} creds --session corp --account-id 1 --role-name R\n\
             [profile other]\ncredential_process = /nonexistent/other-tool\n",
            exe = exe.display()
        ));
        let checks = profile_checks(&config, None, Some(&exe));
        assert_eq!(statuses(&checks, "mixed-keys"), [Status::Fail]);
        assert_eq!(statuses(&checks, "credential-process"), [Status::Fail]);
        let gone = checks
            .iter()
            .find(|c| c.check == "credential-process")
            .unwrap();
        assert!(
            gone.message.contains("profile gone (line 5)")
                && gone.message.contains("/nonexistent/awsso"),
            "{}",
            gone.message
        );
        assert!(executable_exists(
            "sh",
            Some(std::ffi::OsStr::new("/bin:/usr/bin"))
        ));
        assert!(!executable_exists(
            "no-such-tool-xyz",
            Some(std::ffi::OsStr::new("/bin"))
        ));
    }
}
