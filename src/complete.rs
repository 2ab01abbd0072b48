//! Dynamic shell completion: the candidates for profile, session, account and role arguments.
//!
//! The scripts that `awsso completions SHELL` prints call back into awsso on every TAB
//! (`AWSSO_COMPLETE=bash awsso -- awsso creds --profile pr`); start-up (`crate::main`) answers that call
//! before anything else, with the functions here as the candidates `cli` names, and exits. This module
//! never needs `cli`, so the dependency runs one way.
//!
//! The candidates come from the AWS config and the listing cache only: a TAB must never wait on the
//! network, unlock a keyring or print anything but candidates, so every error here means "no
//! candidates", silently.
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::StyledStr;
use clap_complete::CompletionCandidate;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use crate::awsconfig::{self, ConfigFile, Section};
use crate::ids::{AccountId, RoleName};
use crate::listing::{self, Listing};
use crate::session::{self, SessionConfig};
use crate::text::sanitize;

/// The variable that turns a run of awsso into a completion request. Not clap's usual `COMPLETE`: awsso
/// runs as a credential_process under other programs' environments, where a stray generic `COMPLETE`
/// would turn credentials JSON into completion output.
pub const ENV_VAR: &str = crate::vars::COMPLETE;

/// The name the scripts call awsso by. A bare name (found on PATH) rather than this binary's path keeps the
/// generated scripts identical on every machine, so that they can be committed and packaged.
const BIN: &str = "awsso";

/// The shells `awsso completions` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

impl CompletionShell {
    pub const ALL: [CompletionShell; 5] = [
        CompletionShell::Bash,
        CompletionShell::Zsh,
        CompletionShell::Fish,
        CompletionShell::Powershell,
        CompletionShell::Elvish,
    ];

    /// The file name extension of the committed script.
    pub fn extension(self) -> &'static str {
        match self {
            CompletionShell::Bash => "bash",
            CompletionShell::Zsh => "zsh",
            CompletionShell::Fish => "fish",
            CompletionShell::Powershell => "ps1",
            CompletionShell::Elvish => "elv",
        }
    }
}

/// The completion script for `shell`: clap_complete's registration, which calls `awsso` back.
pub fn script(shell: CompletionShell) -> String {
    let completer: &dyn EnvCompleter = match shell {
        CompletionShell::Bash => &Bash,
        CompletionShell::Zsh => &Zsh,
        CompletionShell::Fish => &Fish,
        CompletionShell::Powershell => &Powershell,
        CompletionShell::Elvish => &Elvish,
    };
    let mut buf = Vec::new();
    completer
        .write_registration(ENV_VAR, BIN, BIN, BIN, &mut buf)
        .expect("writing to a Vec cannot fail");
    let text = String::from_utf8(buf).expect("the registration is UTF-8");
    match shell {
        CompletionShell::Zsh => zsh_fpath_compatible(&text),
        _ => text,
    }
}

/// clap's zsh script only registers itself with `compdef`, which suits `source`. Installed in `$fpath` as
/// `_awsso` (what packagers do) the file is instead the body of the `_awsso` function that compinit
/// autoloads on the first TAB, and must complete right away; and sourced before compinit there is no
/// `compdef` to call.
fn zsh_fpath_compatible(text: &str) -> String {
    const REGISTER: &str = "compdef _clap_dynamic_completer_awsso awsso";
    let Some(at) = text.rfind(REGISTER) else {
        return text.to_string();
    };
    let replacement = "if [[ \"${funcstack[1]-}\" == _awsso ]]; then\n    \
         _clap_dynamic_completer_awsso \"$@\"\n\
         elif (( $+functions[compdef] )); then\n    \
         compdef _clap_dynamic_completer_awsso awsso\n\
         fi";
    format!(
        "{}{}{}",
        &text[..at],
        replacement,
        &text[at + REGISTER.len()..]
    )
}

/// What the words already on the command line say about the value being completed.
#[derive(Debug, Default)]
struct LineContext {
    config: Option<PathBuf>,
    session: Option<String>,
    account_id: Option<String>,
}

impl LineContext {
    /// Read from this process's arguments: during a completion request they are
    /// `awsso -- awsso SUBCOMMAND WORDS…` (the words may include the one being completed, possibly cut).
    fn from_args() -> LineContext {
        let args: Vec<OsString> = std::env::args_os().collect();
        let words = args
            .iter()
            .position(|a| a == "--")
            .map(|i| &args[i + 1..])
            .unwrap_or(&[]);
        let words: Vec<String> = words
            .iter()
            .filter_map(|w| w.to_str())
            .map(crate::shell::unquote_word)
            .collect();
        Self::from_words(words.iter().map(String::as_str))
    }

    fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> LineContext {
        let mut ctx = LineContext::default();
        let mut words = words.into_iter();
        while let Some(w) = words.next() {
            if w == "--" {
                break;
            }
            let (flag, inline) = match w.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (w, None),
            };
            let slot = match flag {
                "--config" => None,
                "--session" | "-s" => Some(&mut ctx.session),
                "--account-id" => Some(&mut ctx.account_id),
                _ => continue,
            };
            let Some(value) = inline.or_else(|| words.next().map(str::to_string)) else {
                break;
            };
            match slot {
                Some(slot) => *slot = Some(value),
                None => ctx.config = Some(PathBuf::from(value)),
            }
        }
        ctx
    }
}

/// The config and the cached listings, as a TAB sees them.
struct Known {
    config: ConfigFile,
    /// Valid sessions of the config, with their cached listing when there is one.
    sessions: Vec<(SessionConfig, Option<Listing>)>,
}

impl Known {
    fn load(ctx: &LineContext) -> Option<Known> {
        let path = ctx.config.clone().unwrap_or_else(awsconfig::config_path);
        let config = ConfigFile::load(&path).ok()?;
        let sessions = session::all(&config)
            .into_iter()
            .flatten()
            .map(|s| {
                let listing = listing::load_cached(&s);
                (s, listing)
            })
            .collect();
        Some(Known { config, sessions })
    }

    /// The listings of the session on the line, or of every session when none (or an unknown one) is.
    fn listings(&self, ctx: &LineContext) -> Vec<&Listing> {
        let all = || self.sessions.iter().filter_map(|(_, l)| l.as_ref());
        let named: Vec<&Listing> = all()
            .filter(|l| ctx.session.as_deref() == Some(l.session.as_str()))
            .collect();
        if named.is_empty() {
            all().collect()
        } else {
            named
        }
    }
}

/// A candidate as the shell should insert it, or `None` when it must not be offered at all.
///
/// The shells insert a candidate verbatim into the command line, so a name such as `Adm$(touch x)` would
/// run when the line is. Names that are bare-safe shell words are offered as they are; others without
/// quotes, backslashes or control characters are offered single-quoted (a valid word in every shell
/// awsso completes for); the rest are not offered. A leading `=` or `~` is quoted too (zsh and bash expand
/// them at the start of a word).
fn shell_candidate(name: &str) -> Option<String> {
    if name.is_empty()
        || name.chars().count() > 256
        || sanitize(name, 256) != name
        || name.contains(['\'', '\\'])
    {
        return None;
    }
    let word = crate::shell::quote_word(name);
    if word == name && name.starts_with(['=', '~']) {
        return Some(format!("'{name}'"));
    }
    Some(word)
}

fn help(text: String) -> Option<StyledStr> {
    let text = sanitize(&text, 80);
    (!text.is_empty()).then(|| StyledStr::from(text))
}

/// A short description of a profile: the account and role it stands for, when the config says.
fn describe_profile(section: &Section) -> String {
    let get = |k: &str| section.get(k).map(str::trim).filter(|v| !v.is_empty());
    // awsso's default block names the account and role in the comment line above the header.
    if let (Some(_), None, Some(hint)) = (
        &section.managed_by,
        get("awsso_display_name"),
        section.comment.as_deref().filter(|c| !c.is_empty()),
    ) {
        return hint.to_string();
    }
    let account = get("awsso_display_name")
        .or_else(|| get("sso_account_id"))
        .or_else(|| get("aws_account_id"));
    let role = get("sso_role_name").or_else(|| get("role_name"));
    match (account, role) {
        (Some(a), Some(r)) => format!("{a} {r}"),
        (Some(a), None) => a.to_string(),
        _ => get("region").unwrap_or_default().to_string(),
    }
}

/// Candidates for `--profile` and `awsso use PROFILE`: the profiles of the config (only those work there:
/// a profile the listing would give but `awsso sync` has not written yet is not one the AWS tools see).
pub fn profiles() -> Vec<CompletionCandidate> {
    let Some(known) = Known::load(&LineContext::from_args()) else {
        return Vec::new();
    };
    profile_candidates(&known.config)
}

fn profile_candidates(config: &ConfigFile) -> Vec<CompletionCandidate> {
    let names: std::collections::BTreeSet<&str> =
        config.profiles().map(|s| s.name.as_str()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let word = shell_candidate(name)?;
            // `profile` picks the section the SDKs read when `default` is defined twice.
            let about = config.profile(name).map(describe_profile);
            Some(CompletionCandidate::new(word).help(help(about.unwrap_or_default())))
        })
        .collect()
}

/// Candidates for `--session`: the sso-sessions of the config, described by their start URL.
pub fn sessions() -> Vec<CompletionCandidate> {
    let ctx = LineContext::from_args();
    let path = ctx.config.clone().unwrap_or_else(awsconfig::config_path);
    let Ok(config) = ConfigFile::load(&path) else {
        return Vec::new();
    };
    let mut out: Vec<CompletionCandidate> = config
        .sso_sessions()
        .filter(|s| s.name.parse::<crate::ids::SessionName>().is_ok())
        .filter_map(|s| {
            Some(
                CompletionCandidate::new(shell_candidate(&s.name)?)
                    .help(help(s.get("sso_start_url").unwrap_or_default().to_string())),
            )
        })
        .collect();
    out.sort();
    out
}

/// Candidates for `--account-id`, from the listing cache (of the `--session` on the line, if any),
/// described by the account name. A word that is not the start of an id is matched against the account
/// names instead, so that in bash `--account-id prod<TAB>` becomes the id of the account named Production.
pub fn account_ids(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let ctx = LineContext::from_args();
    let Some(known) = Known::load(&ctx) else {
        return Vec::new();
    };
    account_candidates(&known.listings(&ctx), current.to_str().unwrap_or(""))
}

fn account_candidates(listings: &[&Listing], current: &str) -> Vec<CompletionCandidate> {
    let mut by_id: BTreeMap<&str, &str> = BTreeMap::new();
    for l in listings {
        // The cache is a file anyone with the user's rights could have written: checked again here.
        for a in l
            .accounts
            .iter()
            .filter(|a| a.id.parse::<AccountId>().is_ok())
        {
            by_id.entry(a.id.as_str()).or_insert(a.name.as_str());
        }
    }
    let by_prefix: Vec<(&str, &str)> = by_id
        .iter()
        .filter(|(id, _)| id.starts_with(current))
        .map(|(id, name)| (*id, *name))
        .collect();
    let chosen = if by_prefix.is_empty() && !current.is_empty() {
        let needle = current.to_lowercase();
        by_id
            .into_iter()
            .filter(|(_, name)| name.to_lowercase().contains(&needle))
            .collect()
    } else {
        by_prefix
    };
    chosen
        .into_iter()
        .map(|(id, name)| CompletionCandidate::new(id).help(help(name.to_string())))
        .collect()
}

/// Candidates for `--role-name`: the roles of the cached listing, narrowed to the `--account-id` and
/// `--session` on the line when they name something known.
pub fn role_names() -> Vec<CompletionCandidate> {
    let ctx = LineContext::from_args();
    let Some(known) = Known::load(&ctx) else {
        return Vec::new();
    };
    role_candidates(&known.listings(&ctx), ctx.account_id.as_deref())
}

fn role_candidates(listings: &[&Listing], account_id: Option<&str>) -> Vec<CompletionCandidate> {
    let accounts = || listings.iter().flat_map(|l| l.accounts.iter());
    let in_account: Vec<_> = accounts()
        .filter(|a| Some(a.id.as_str()) == account_id)
        .collect();
    let pool = if in_account.is_empty() {
        accounts().collect()
    } else {
        in_account
    };
    let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
    for a in pool {
        // Only names that profile generation would accept: a cached `Adm$(touch x)` is never offered.
        for r in a.roles.iter().filter(|r| r.parse::<RoleName>().is_ok()) {
            *roles.entry(r.as_str()).or_default() += 1;
        }
    }
    roles
        .into_iter()
        .filter_map(|(role, n)| {
            let about = if n == 1 {
                "1 account".to_string()
            } else {
                format!("{n} accounts")
            };
            Some(CompletionCandidate::new(shell_candidate(role)?).help(help(about)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::Account;

    fn listing(session: &str, accounts: &[(&str, &str, &[&str])]) -> Listing {
        Listing {
            session: session.into(),
            start_url: "https://d-x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            fetched_at: 0,
            accounts: accounts
                .iter()
                .map(|(id, name, roles)| Account {
                    id: id.to_string(),
                    name: name.to_string(),
                    email: None,
                    roles: roles.iter().map(|r| r.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn values(c: &[CompletionCandidate]) -> Vec<String> {
        c.iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn line_context_reads_flags_in_every_form() {
        let ctx = LineContext::from_words([
            "awsso",
            "--config=/c",
            "creds",
            "-s",
            "corp",
            "--account-id",
            "111122223333",
            "--role-name",
        ]);
        assert_eq!(ctx.config, Some(PathBuf::from("/c")));
        assert_eq!(ctx.session.as_deref(), Some("corp"));
        assert_eq!(ctx.account_id.as_deref(), Some("111122223333"));
        let ctx = LineContext::from_words(["awsso", "exec", "--", "--session", "x"]);
        assert_eq!(ctx.session, None);
        let ctx = LineContext::from_words(["awsso", "ls", "--session"]);
        assert_eq!(ctx.session, None);
    }

    #[test]
    fn accounts_match_ids_then_names() {
        let l = listing(
            "corp",
            &[
                ("111122223333", "Production", &["Admin"]),
                ("444455556666", "Staging", &["Admin", "ReadOnly"]),
            ],
        );
        assert_eq!(
            values(&account_candidates(&[&l], "")),
            ["111122223333", "444455556666"]
        );
        assert_eq!(values(&account_candidates(&[&l], "44")), ["444455556666"]);
        assert_eq!(values(&account_candidates(&[&l], "prod")), ["111122223333"]);
        assert!(account_candidates(&[&l], "9").is_empty());
    }

    #[test]
    fn roles_narrow_to_the_account_on_the_line() {
        let l = listing(
            "corp",
            &[
                ("111122223333", "Production", &["Admin"]),
                ("444455556666", "Staging", &["Admin", "ReadOnly"]),
            ],
        );
        assert_eq!(values(&role_candidates(&[&l], None)), ["Admin", "ReadOnly"]);
        assert_eq!(
            values(&role_candidates(&[&l], Some("111122223333"))),
            ["Admin"]
        );
        // A cut or unknown id narrows nothing rather than hiding every role.
        assert_eq!(
            values(&role_candidates(&[&l], Some("1111"))),
            ["Admin", "ReadOnly"]
        );
    }

    #[test]
    fn hostile_names_are_never_offered_raw() {
        let huge = "1".repeat(70);
        let l = listing(
            "corp",
            &[
                (
                    "111122223333",
                    "Production",
                    &["Adm$(touch x)", "=ls", "Admin"],
                ),
                (huge.as_str(), "Huge", &["ReadOnly"]),
            ],
        );
        assert_eq!(
            values(&role_candidates(&[&l], None)),
            ["'=ls'", "Admin", "ReadOnly"]
        );
        assert_eq!(values(&account_candidates(&[&l], "")), ["111122223333"]);
        assert_eq!(
            shell_candidate("my profile").as_deref(),
            Some("'my profile'")
        );
        assert_eq!(shell_candidate("a'b"), None);
        assert_eq!(shell_candidate("a\u{1b}b"), None);
    }

    #[test]
    fn profiles_are_described_by_account_and_role() {
        let config = ConfigFile::parse(
            std::path::Path::new("config"),
            "[default]\nregion = eu-west-1\n\n[profile prod]\nawsso_display_name = Production (111122223333)\n\
             role_name = Admin\n\n[profile native]\nsso_session = corp\nsso_account_id = 444455556666\n\
             sso_role_name = ReadOnly\n\n[profile default]\nregion = us-east-1\n"
                .to_string(),
        )
        .unwrap();
        let c = profile_candidates(&config);
        assert_eq!(values(&c), ["default", "native", "prod"]);
        let helps: Vec<String> = c
            .iter()
            .map(|c| c.get_help().map(|h| h.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(
            helps,
            [
                "us-east-1",
                "444455556666 ReadOnly",
                "Production (111122223333) Admin"
            ]
        );
    }

    #[test]
    fn zsh_script_works_from_fpath_and_when_sourced() {
        let s = script(CompletionShell::Zsh);
        assert!(s.starts_with("#compdef awsso"), "{s}");
        assert!(s.contains("if [[ \"${funcstack[1]-}\" == _awsso ]]"), "{s}");
        assert!(s.contains("AWSSO_COMPLETE=\"zsh\""), "{s}");
    }
}
