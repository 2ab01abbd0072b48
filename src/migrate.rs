//! Moving legacy SSO profiles (`sso_start_url`/`sso_region` in the profile itself) to an `[sso-session]`:
//! the exact edit, which `awsso doctor` shows as a diff and `awsso migrate` makes (atomically, under the
//! config lock, with `--dry-run`). Only the two lines of each profile change (`sso_start_url` becomes
//! `sso_session = NAME`, `sso_region` goes) and one section is appended per instance; every other byte of
//! the file stays as the person wrote it.
use crate::awsconfig::{self, ConfigError, ConfigFile, SectionKind};
use crate::session::{self, REFRESH_SCOPE, SessionConfig};

/// What a migration does: the sessions it creates (or reuses) and the profiles it repoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub new_text: String,
    /// `(session name, profiles moved to it)`.
    pub moves: Vec<(String, Vec<String>)>,
}

/// The migration of every legacy profile of `config`; `None` when there is none to migrate.
pub fn plan(config: &ConfigFile) -> Result<Option<Plan>, ConfigError> {
    let path = config.path.display().to_string();
    // The instance of every valid legacy profile outside awsso's blocks, and the session it moves to.
    let mut moves: Vec<(SessionConfig, bool, Vec<&awsconfig::Section>)> = Vec::new();
    for section in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Profile && s.managed_by.is_none())
        .filter(|s| session::is_legacy_profile(s))
    {
        let Ok(legacy) = SessionConfig::from_legacy_profile(&path, section) else {
            continue;
        };
        if let Some(m) = moves.iter_mut().find(|m| m.0.scope() == legacy.scope()) {
            m.2.push(section);
            continue;
        }
        // An [sso-session] of that name: reuse it when it is the same instance, else pick a free name.
        let mut name = legacy.name.clone();
        let mut exists = false;
        for n in 1.. {
            match config.sso_session(&name) {
                None => break,
                Some(s) => {
                    if SessionConfig::from_section(&path, s)
                        .is_ok_and(|s| s.same_instance(&legacy.start_url, &legacy.region))
                    {
                        exists = true;
                        break;
                    }
                    name = format!("{}-{}", legacy.name, n + 1);
                }
            }
        }
        if !awsconfig::is_safe_section_name(&name) {
            continue;
        }
        let mut target = legacy;
        target.name = name;
        moves.push((target, exists, vec![section]));
    }
    if moves.is_empty() {
        return Ok(None);
    }

    let mut lines: Vec<String> = config
        .text
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect();
    let mut drop_line = vec![false; lines.len()];
    for (target, _, sections) in &moves {
        for section in sections {
            for e in &section.entries {
                let Some(i) = e.line.checked_sub(1).filter(|i| *i < lines.len()) else {
                    continue;
                };
                if e.key.eq_ignore_ascii_case("sso_start_url") {
                    let ending = line_ending(&lines[i]);
                    lines[i] = format!("sso_session = {}{ending}", target.name);
                } else if e.key.eq_ignore_ascii_case("sso_region") {
                    drop_line[i] = true;
                }
            }
        }
    }
    let mut text: String = lines
        .into_iter()
        .zip(drop_line)
        .filter(|(_, d)| !d)
        .map(|(l, _)| l)
        .collect();
    for (target, exists, _) in &moves {
        if !exists {
            text = awsconfig::try_append_section(
                &text,
                &format!("sso-session {}", target.name),
                &[
                    ("sso_start_url", target.start_url.as_str()),
                    ("sso_region", target.region.as_str()),
                    ("sso_registration_scopes", REFRESH_SCOPE),
                ],
            )?;
        }
    }
    Ok(Some(Plan {
        new_text: text,
        moves: moves
            .iter()
            .map(|(t, _, s)| (t.name.clone(), s.iter().map(|s| s.name.clone()).collect()))
            .collect(),
    }))
}

fn line_ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// The plan as a unified diff of the config file.
pub fn diff(config: &ConfigFile, plan: &Plan) -> String {
    similar::TextDiff::from_lines(&config.text, &plan.new_text)
        .unified_diff()
        .context_radius(1)
        .header(&config.path.display().to_string(), "(after awsso migrate)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_profiles_move_to_one_session_per_instance_and_nothing_else_changes() {
        let text = "# mine\n[profile team-dev]\nsso_start_url = https://d-abc.awsapps.com/start#/\r\n\
                    sso_region = ap-northeast-1\nsso_account_id = 111111111111\nsso_role_name = Admin\n\
                    region = ap-northeast-1\n\n[profile team-prod]\nsso_region = ap-northeast-1\n\
                    sso_start_url = https://d-abc.awsapps.com/start\nsso_account_id = 222222222222\n\
                    sso_role_name = Admin\n";
        let config = ConfigFile::parse(std::path::Path::new("/c"), text.into()).unwrap();
        let plan = plan(&config).unwrap().unwrap();
        assert_eq!(
            plan.moves,
            vec![(
                "d-abc".to_string(),
                vec!["team-dev".to_string(), "team-prod".to_string()]
            )]
        );
        let after = ConfigFile::parse(std::path::Path::new("/c"), plan.new_text.clone()).unwrap();
        let s = session::resolve(&after, Some("d-abc")).unwrap();
        assert_eq!(s.start_url, "https://d-abc.awsapps.com/start");
        assert_eq!(s.region, "ap-northeast-1");
        assert!(s.refresh_capable());
        for p in ["team-dev", "team-prod"] {
            let section = after.profile(p).unwrap();
            assert_eq!(section.get("sso_session"), Some("d-abc"));
            assert_eq!(section.get("sso_start_url"), None);
            assert_eq!(section.get("sso_region"), None);
        }
        assert!(
            plan.new_text
                .starts_with("# mine\n[profile team-dev]\nsso_session = d-abc\r\n")
        );
        assert!(plan.new_text.contains("region = ap-northeast-1\n"));
        // Migrated: nothing left to do.
        assert!(super::plan(&after).unwrap().is_none());
    }
}
