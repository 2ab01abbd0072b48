//! awsso's managed blocks: hand edits, blocks of sessions gone from the config, and blocks that differ from
//! what `awsso sync` would write from the cached listing.
use std::path::Path;

use super::profiles::awsso_command;
use super::{Check, plural, show};
use crate::awsconfig::{ConfigError, ConfigFile, Section, SectionKind};
use crate::creds::shell_split;
use crate::session::SessionConfig;

/// One profile as `awsso sync` would write it now: its name and its `(key, value)` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedProfile {
    pub name: String,
    pub entries: Vec<(String, String)>,
}

/// Reads the profiles out of a rendered block body.
pub fn expected_profiles(body: &str) -> Result<Vec<ExpectedProfile>, ConfigError> {
    let parsed = ConfigFile::parse(Path::new(""), body.to_string())?;
    Ok(parsed
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Profile)
        .map(|s| ExpectedProfile {
            name: s.name.clone(),
            entries: s
                .entries
                .iter()
                .map(|e| (e.key.to_ascii_lowercase(), e.value.clone()))
                .collect(),
        })
        .collect())
}

/// A value as compared: the awsso binary's path in credential_process is left out (`awsso sync` writes
/// wherever this awsso runs from; a missing binary is its own check).
fn comparable(key: &str, value: &str) -> String {
    if key.eq_ignore_ascii_case("credential_process")
        && let Some(words) = shell_split(value)
        && words.len() > 1
    {
        return words[1..].join("\u{1f}");
    }
    value.trim().to_string()
}

/// awsso's blocks: hand edits (keys awsso does not write, sections that are not profiles, profiles of
/// another session), blocks of sessions gone from the config, and blocks that differ from what `awsso
/// sync` would write from the cached listing (`expected` gives that, when there is a listing).
pub fn block_checks(
    config: &ConfigFile,
    expected: &dyn Fn(&SessionConfig) -> Option<Vec<ExpectedProfile>>,
) -> Vec<Check> {
    let path = config.path.display().to_string();
    let mut checks = Vec::new();
    let move_out = "move your changes out of the block (awsso's settings file sets names, regions and colours; \
                    other keys belong in a profile of your own), then run `awsso sync`";
    for block in config.managed_blocks() {
        let Some(name) = block.id.strip_prefix("session ") else {
            continue;
        };
        let lines = format!("lines {}-{}", block.begin_line, block.end_line);
        let sections: Vec<&Section> = config
            .sections
            .iter()
            .filter(|s| s.managed_by.as_deref() == Some(block.id.as_str()))
            .collect();
        let Some(section) = config.sso_session(name) else {
            checks.push(Check::warn(
                "managed-blocks",
                format!(
                    "the awsso block of session {} ({lines} of {path}) belongs to a session that is no longer in \
                     the config: its {} cannot get credentials",
                    show(name),
                    plural(sections.len(), "profile", "profiles")
                ),
                format!(
                    "delete {lines} (the block and its two marker lines), or add [sso-session {}] back and run \
                     `awsso sync`",
                    show(name)
                ),
            ));
            continue;
        };
        let mut edits = Vec::new();
        for s in &sections {
            if s.kind != SectionKind::Profile {
                edits.push(format!("[{}] (line {})", show(&s.header()), s.header_line));
                continue;
            }
            for e in &s.entries {
                if !crate::profiles::WRITTEN_KEYS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(e.key.trim()))
                {
                    edits.push(format!(
                        "{} in [profile {}] (line {})",
                        show(&e.key),
                        show(&s.name),
                        e.line
                    ));
                }
            }
            let session_of = s
                .get("sso_session")
                .map(|v| v.trim().to_string())
                .or_else(|| {
                    awsso_command(s).and_then(|w| crate::shell::flag_value(&w, "--session"))
                });
            if let Some(other) = session_of.filter(|o| o != name) {
                edits.push(format!(
                    "[profile {}] (line {}) uses session {}",
                    show(&s.name),
                    s.header_line,
                    show(&other)
                ));
            }
        }
        if !edits.is_empty() {
            let more = if edits.len() > 3 {
                format!(" and {} more", edits.len() - 3)
            } else {
                String::new()
            };
            edits.truncate(3);
            checks.push(Check::warn(
                "managed-blocks",
                format!(
                    "the awsso block of session {} ({lines}) was edited by hand: {}{more}; the next `awsso sync` \
                     overwrites it",
                    show(name),
                    edits.join("; ")
                ),
                move_out,
            ));
        }
        let Ok(session) = SessionConfig::from_section(&path, section) else {
            continue;
        };
        let Some(wanted) = expected(&session) else {
            if edits.is_empty() {
                checks.push(Check::ok(
                    "managed-blocks",
                    format!(
                        "the awsso block of session {} ({lines}) holds {} and no hand edits (no cached listing to \
                         compare it with)",
                        show(name),
                        plural(sections.len(), "profile", "profiles")
                    ),
                ));
            }
            continue;
        };
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|w| {
                !sections
                    .iter()
                    .any(|s| s.kind == SectionKind::Profile && s.name == w.name)
            })
            .map(|w| w.name.as_str())
            .collect();
        let mut changed = Vec::new();
        for w in &wanted {
            let Some(s) = sections
                .iter()
                .find(|s| s.kind == SectionKind::Profile && s.name == w.name)
            else {
                continue;
            };
            let differs: Vec<&str> = w
                .entries
                .iter()
                .filter(|(k, v)| s.get(k).map(|have| comparable(k, have)) != Some(comparable(k, v)))
                .map(|(k, _)| k.as_str())
                .collect();
            if !differs.is_empty() {
                changed.push(format!("{} ({})", show(&w.name), differs.join(", ")));
            }
        }
        if missing.is_empty() && changed.is_empty() {
            if edits.is_empty() {
                checks.push(Check::ok(
                    "managed-blocks",
                    format!(
                        "the awsso block of session {} ({lines}) matches what `awsso sync` writes from the cached \
                         listing ({})",
                        show(name),
                        plural(wanted.len(), "profile", "profiles")
                    ),
                ));
            }
            continue;
        }
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "{} missing (e.g. {})",
                plural(missing.len(), "profile", "profiles"),
                show(missing[0])
            ));
        }
        if !changed.is_empty() {
            parts.push(format!(
                "{} (e.g. {})",
                plural(changed.len(), "profile differs", "profiles differ"),
                changed[0]
            ));
        }
        checks.push(Check::warn(
            "managed-blocks",
            format!(
                "the awsso block of session {} ({lines}) is not what `awsso sync` writes from the cached listing: {}",
                show(name),
                parts.join("; ")
            ),
            format!(
                "see the change with `awsso sync --session {} --dry-run`, then run `awsso sync --session {}`",
                show(name),
                show(name)
            ),
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::test_support::parse;

    #[test]
    fn hand_edits_and_orphans_in_blocks() {
        let text = "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n\
            # BEGIN awsso managed block session corp\n\
            [profile a]\ncredential_process = /x/awsso creds --session corp --account-id 1 --role-name R\nregion = eu-west-1\noutput = json\n\
            [profile b]\ncredential_process = /x/awsso creds --session other --account-id 1 --role-name R\n\
            # END awsso managed block session corp\n\
            # BEGIN awsso managed block session gone\n[profile c]\nregion = x\n# END awsso managed block session gone\n";
        let config = parse(text);
        let none = |_: &SessionConfig| None;
        let checks = block_checks(&config, &none);
        assert_eq!(checks.len(), 2, "{checks:#?}");
        assert!(checks[0].message.contains("edited by hand"));
        assert!(checks[0].message.contains("output in [profile a] (line 8)"));
        assert!(
            checks[0]
                .message
                .contains("[profile b] (line 9) uses session other")
        );
        assert!(checks[1].message.contains("no longer in the config"));

        // Against what sync would write: one value changed, one profile missing.
        let expected = |_: &SessionConfig| {
            Some(vec![
                ExpectedProfile {
                    name: "a".into(),
                    entries: vec![
                        (
                            "credential_process".into(),
                            "/elsewhere/awsso creds --session corp --account-id 1 --role-name R"
                                .into(),
                        ),
                        ("region".into(), "us-east-1".into()),
                    ],
                },
                ExpectedProfile {
                    name: "z".into(),
                    entries: vec![],
                },
            ])
        };
        let checks = block_checks(&config, &expected);
        let stale = checks
            .iter()
            .find(|c| c.message.contains("not what `awsso sync` writes"))
            .unwrap();
        assert!(
            stale.message.contains("1 profile missing (e.g. z)"),
            "{}",
            stale.message
        );
        assert!(stale.message.contains("a (region)"), "{}", stale.message);
    }
}
