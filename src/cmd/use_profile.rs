//! `awsso use PROFILE`: shell code that switches the calling shell to a profile (`AWS_PROFILE`), for the
//! function that `awsso shell-init` defines to eval. A child process cannot change its parent shell, so
//! awsso only prints; the function runs it.
//!
//! Besides setting `AWS_PROFILE` it unsets what would make the switch silently ineffective: static keys
//! in the environment (every SDK reads them before any profile), `AWS_DEFAULT_PROFILE`, and the marker of
//! `awsso env`/`exec` (which would make a later `awsso exec` refuse to run). The region variables are
//! unset only when that marker shows awsso exported them, since a user's own `AWS_REGION` is deliberate.
use std::collections::BTreeSet;
use std::process::ExitCode;

use super::Context;
use crate::awsconfig::ConfigFile;
use crate::cli::{ShellKind, UseArgs};
use crate::error::{EXIT_CONFIG, UserError};
use crate::output::sanitize;
use crate::shell::detect_shell;

/// Unset on every switch.
pub const CLEARED: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_DEFAULT_PROFILE",
    crate::creds::env::MARKER,
];
/// Unset on a switch when [`crate::creds::env::MARKER`] shows that `awsso env` or `exec` set them.
pub const CLEARED_AFTER_AWSSO_ENV: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];
/// What `--unset` clears.
pub const UNSET: [&str; 2] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

/// The code that switches to `profile`; `after_awsso_env` = the environment came from `awsso env`.
pub fn render_use(shell: ShellKind, profile: &str, after_awsso_env: bool) -> String {
    let mut out = String::new();
    let extra: &[&str] = if after_awsso_env {
        &CLEARED_AFTER_AWSSO_ENV
    } else {
        &[]
    };
    let names: Vec<&str> = CLEARED.iter().chain(extra).copied().collect();
    out.push_str(&crate::shell::unset(shell, &names));
    out.push_str(&crate::shell::export(shell, "AWS_PROFILE", profile));
    out
}

pub fn render_unset(shell: ShellKind) -> String {
    crate::shell::unset(shell, &UNSET)
}

/// Edit distance, to suggest the profile that was meant.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Up to five names of `names` close to `wanted`: a few typos away, or containing it.
pub fn close_names<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_l = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|n| {
            let l = n.to_lowercase();
            let d = distance(&wanted_l, &l);
            if d <= limit {
                Some((d, n))
            } else if l.contains(&wanted_l) {
                Some((limit + 1, n))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, n)| n).collect()
}

/// The session whose cached listing would give `name` a profile that `awsso sync` has not written yet.
fn unsynced_session(config: &ConfigFile, name: &str) -> Option<String> {
    crate::session::all(config)
        .into_iter()
        .flatten()
        .find(|s| {
            crate::listing::load_cached(s)
                .and_then(|l| crate::profiles::planned::plans_for(config, s, &l, None).ok())
                .is_some_and(|planned| planned.plans.iter().any(|p| p.name == name))
        })
        .map(|s| s.name)
}

fn unknown_profile(config: &ConfigFile, name: &str) -> UserError {
    let message = format!(
        "{} has no profile {}",
        config.path.display(),
        sanitize(name, 100)
    );
    let hint = if let Some(session) = unsynced_session(config, name) {
        format!(
            "{name} is in the account listing of session {session} but not in the config yet: \
             run `awsso sync --session {session}`"
        )
    } else {
        let close = close_names(name, config.profiles().map(|p| p.name.as_str()));
        if close.is_empty() {
            "`awsso ls` shows the profiles awsso knows; `awsso sync` writes them".to_string()
        } else {
            format!(
                "did you mean {}? (`awsso ls` shows every profile awsso knows)",
                close.join(", ")
            )
        }
    };
    UserError {
        message,
        hint: Some(hint),
        code: EXIT_CONFIG,
    }
}

/// Which shell rc file line loads the function, for the note shown when the code reaches a terminal.
fn init_line(shell: ShellKind) -> &'static str {
    match shell {
        ShellKind::Bash => "add `eval \"$(awsso shell-init bash)\"` to ~/.bashrc",
        ShellKind::Zsh => "add `eval \"$(awsso shell-init zsh)\"` to ~/.zshrc",
        ShellKind::Fish => "add `awsso shell-init fish | source` to ~/.config/fish/config.fish",
        ShellKind::Powershell => "run `awsso use PROFILE --shell powershell | Invoke-Expression`",
    }
}

pub fn run(ctx: &Context, args: UseArgs) -> anyhow::Result<ExitCode> {
    let shell = args.shell.unwrap_or_else(detect_shell);
    let code = if args.unset {
        render_unset(shell)
    } else {
        let config = ctx.load_config()?;
        let name = match args.profile.or(args.profile_flag) {
            Some(name) => name,
            None => match crate::creds::pick_profile(&config, "awsso use")? {
                Some(name) => name,
                None => return Ok(ExitCode::from(crate::error::EXIT_INTERRUPTED)),
            },
        };
        if config.profile(&name).is_none() {
            return Err(unknown_profile(&config, &name).into());
        }
        // Named switches count for the picker's ordering too (a pick already recorded itself).
        crate::picker::frecency::remember(&name);
        let shadowing: Vec<&str> = CLEARED[..3]
            .iter()
            .copied()
            .filter(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
            .collect();
        if !shadowing.is_empty() {
            eprintln!(
                "awsso: unsetting {} (keys in the environment take precedence over AWS_PROFILE)",
                shadowing.join(", ")
            );
        }
        let after_awsso_env = std::env::var_os(crate::creds::env::MARKER).is_some();
        render_use(shell, &name, after_awsso_env)
    };
    if crate::output::stdout_is_terminal() {
        eprintln!(
            "note: this is shell code, which changes nothing by itself; to make `awsso use` switch \
             your shell, {}",
            init_line(shell)
        );
    }
    print!("{code}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_code_quotes_and_clears() {
        let bash = render_use(ShellKind::Bash, "it's", false);
        assert!(bash.ends_with("export AWS_PROFILE='it'\\''s'\n"), "{bash}");
        assert!(bash.contains("unset AWS_ACCESS_KEY_ID\n"));
        assert!(!bash.contains("AWS_REGION"));
        assert!(render_use(ShellKind::Zsh, "p", true).contains("unset AWS_REGION\n"));
        let fish = render_use(ShellKind::Fish, "a\\b", false);
        assert!(fish.ends_with("set -gx AWS_PROFILE 'a\\\\b'\n"), "{fish}");
        assert!(
            fish.starts_with("set -e AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY "),
            "{fish}"
        );
        assert_eq!(
            render_unset(ShellKind::Fish),
            "set -e AWS_PROFILE AWS_DEFAULT_PROFILE; or true\n"
        );
        assert!(
            render_use(ShellKind::Powershell, "p", false).ends_with("$Env:AWS_PROFILE = 'p'\n")
        );
        assert_eq!(
            render_unset(ShellKind::Bash),
            "unset AWS_PROFILE\nunset AWS_DEFAULT_PROFILE\n"
        );
    }

    #[test]
    fn suggestions() {
        let names = [
            "prod-admin",
            "prod-readonly",
            "staging-admin",
            "default",
            "sandbox",
        ];
        assert_eq!(close_names("prod-admn", names), ["prod-admin"]);
        assert_eq!(close_names("prod", names), ["prod-admin", "prod-readonly"]);
        assert_eq!(close_names("Sandbox", names), ["sandbox"]);
        assert!(close_names("zzzzzz", names).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
