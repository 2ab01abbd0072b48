//! The profile picker of `awsso use`, `exec`, `env` and `console` without a profile: every SSO profile of
//! the config as a candidate line (account name, id, role, session, colour), fuzzy-ranked with
//! nucleo-matcher (the matcher of the Helix editor: fzf-compatible scoring, case-insensitive, fast enough to
//! rank thousands of lines per keystroke), recently and often used first ([`frecency`]), drawn by [`ui`].
pub mod frecency;
pub mod ui;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Matcher, Utf32String};

use crate::awsconfig::{ConfigFile, Section};
use crate::output::sanitize;

/// One profile as the picker shows it.
pub struct Candidate {
    pub profile: String,
    pub account_name: String,
    pub account_id: String,
    pub role: String,
    pub session: String,
    pub color: Option<[u8; 3]>,
    /// What the query is matched against: every field, one string.
    haystack: Utf32String,
}

impl Candidate {
    /// The fields shown, in order, made safe for a terminal (names may come from the server).
    pub fn columns(&self) -> [String; 5] {
        [
            sanitize(&self.account_name, 48),
            sanitize(&self.account_id, 12),
            sanitize(&self.role, 48),
            sanitize(&self.session, 32),
            sanitize(&self.profile, 80),
        ]
    }
}

/// (session, account id, role) of a profile section: native SSO keys, or an awsso `credential_process`
/// line. Read from the section itself (not by name) so that thousands of profiles cost one pass.
fn sso_fields(section: &Section) -> Option<(String, String, String)> {
    if let (Some(s), Some(a), Some(r)) = (
        section.get("sso_session"),
        section.get("sso_account_id"),
        section.get("sso_role_name"),
    ) {
        return Some((s.trim().into(), a.trim().into(), r.trim().into()));
    }
    let words = crate::shell::split(section.get("credential_process")?)?;
    let at = words.iter().position(|w| w == "creds")?;
    let flag = |f: &str| {
        words[at..]
            .windows(2)
            .find(|w| w[0] == f)
            .map(|w| w[1].clone())
    };
    Some((
        flag("--session")?,
        flag("--account-id")?,
        flag("--role-name")?,
    ))
}

/// Every profile awsso can serve: awsso's own and the user's SSO profiles, in file order.
pub fn candidates(config: &ConfigFile) -> Vec<Candidate> {
    config
        .profiles()
        .filter_map(|section| {
            let (session, account_id, role) = sso_fields(section)?;
            let account_name = section
                .get("awsso_account_name")
                .map(|s| s.trim().to_string())
                .or_else(|| {
                    let hint = section
                        .managed_by
                        .as_ref()
                        .and(section.comment.as_deref())?;
                    crate::profiles::account_name_of_comment(hint, &account_id, &role)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            let color = section
                .get("color")
                .and_then(crate::prompt::parse_hex)
                .or_else(|| crate::prompt::parse_hex(crate::profiles::hashed_color(&account_id)));
            let haystack = Utf32String::from(
                format!(
                    "{account_name} {account_id} {role} {session} {}",
                    section.name
                )
                .as_str(),
            );
            Some(Candidate {
                profile: section.name.clone(),
                account_name,
                account_id,
                role,
                session,
                color,
                haystack,
            })
        })
        .collect()
}

/// Ranks candidates for a query: the indices of those that match, best first (fuzzy score, then
/// frecency, then file order). An empty query keeps every candidate, by frecency.
pub struct Ranker {
    matcher: Matcher,
}

impl Default for Ranker {
    fn default() -> Self {
        Ranker {
            matcher: Matcher::new(nucleo_matcher::Config::DEFAULT),
        }
    }
}

impl Ranker {
    pub fn rank(&mut self, cands: &[Candidate], frecency: &[f64], query: &str) -> Vec<usize> {
        let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
        let mut hits: Vec<(u32, usize)> = if query.trim().is_empty() {
            (0..cands.len()).map(|i| (0, i)).collect()
        } else {
            cands
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    pattern
                        .score(c.haystack.slice(..), &mut self.matcher)
                        .map(|s| (s, i))
                })
                .collect()
        };
        hits.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| frecency[b.1].total_cmp(&frecency[a.1]))
                .then(a.1.cmp(&b.1))
        });
        hits.into_iter().map(|(_, i)| i).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("no profile given, and no terminal to pick one on")]
    NoTerminal,
    #[error("{path} has no SSO profile to pick from")]
    NoProfiles { path: String },
    #[error("the picker failed: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Whether the picker can run: it reads keys from stdin and draws on stderr.
pub fn available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Opens the picker over the config's profiles; `Ok(None)` when the user cancelled. The pick is
/// remembered for the ordering of the next time.
pub fn choose(config: &ConfigFile, title: &str) -> Result<Option<String>, PickError> {
    let started = std::time::Instant::now();
    if !available() {
        return Err(PickError::NoTerminal);
    }
    let cands = candidates(config);
    if cands.is_empty() {
        return Err(PickError::NoProfiles {
            path: config.path.display().to_string(),
        });
    }
    let mut frecency = frecency::Frecency::load();
    let now = crate::sso::now();
    let scores = frecency.scores(cands.iter().map(|c| c.profile.as_str()), now);
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    match ui::pick(&cands, &scores, title, color, started)? {
        ui::Outcome::Cancelled => Ok(None),
        ui::Outcome::Picked(i) => {
            let profile = cands[i].profile.clone();
            frecency.record(&profile, now);
            frecency.save();
            Ok(Some(profile))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ConfigFile {
        ConfigFile::parse(std::path::Path::new("/x/config"), text.to_string()).unwrap()
    }

    #[test]
    fn candidates_come_from_native_and_awsso_profiles() {
        let c = config(
            "[profile mine]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n\
             [profile Prod/ReadOnly]\ncredential_process = awsso creds --session corp --account-id 222222222222 --role-name ReadOnly\n\
             awsso_account_name = Prod Payments\ncolor = cc0000\n\
             [profile keys]\naws_access_key_id = AKIA\n",
        );
        let cands = candidates(&c);
        assert_eq!(cands.len(), 2);
        assert_eq!(cands[1].account_name, "Prod Payments");
        assert_eq!(cands[1].color, Some([204, 0, 0]));
        assert_eq!(cands[0].role, "Admin");
    }

    /// The default block (`hints = minimal`) names the account in the comment above the header.
    #[test]
    fn the_account_name_of_the_default_block_comes_from_its_name_comment() {
        let c = config(concat!(
            "# mine (111111111111) Admin\n[profile mine]\nsso_session = corp\n",
            "sso_account_id = 111111111111\nsso_role_name = Admin\n",
            "# BEGIN awsso managed block session corp\n# Prod Payments (222222222222) ReadOnly\n",
            "[profile Prod/ReadOnly]\ncredential_process = awsso creds --session corp ",
            "--account-id 222222222222 --role-name ReadOnly\n",
            "# END awsso managed block session corp\n",
        ));
        let names: Vec<String> = candidates(&c).into_iter().map(|c| c.account_name).collect();
        assert_eq!(
            names,
            ["", "Prod Payments"],
            "a user's own comment is not read"
        );
    }

    #[test]
    fn ranking_is_fuzzy_case_insensitive_and_frecency_breaks_ties() {
        let c = config(
            "[profile a]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nawsso_account_name = Payments Prod\n\
             [profile b]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nawsso_account_name = Payments Dev\n\
             [profile c]\nsso_session = corp\nsso_account_id = 333333333333\nsso_role_name = Admin\nawsso_account_name = Sandbox\n",
        );
        let cands = candidates(&c);
        let mut r = Ranker::default();
        assert_eq!(r.rank(&cands, &[0.0, 0.0, 0.0], "pdev"), vec![1]);
        assert_eq!(r.rank(&cands, &[0.0, 0.0, 0.0], "SANDBOX"), vec![2]);
        assert_eq!(r.rank(&cands, &[0.0, 5.0, 1.0], ""), vec![1, 2, 0]);
        assert_eq!(r.rank(&cands, &[0.0, 5.0, 0.0], "readonly"), vec![1, 0]);
        assert!(r.rank(&cands, &[0.0; 3], "zzzz").is_empty());
        assert_eq!(r.rank(&cands, &[0.0; 3], "2222"), vec![1]);
    }
}
