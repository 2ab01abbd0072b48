//! The profile generator behind `awsso sync`: one AWS CLI profile per account × role of a session,
//! named by a template, coloured, and rendered as the body of awsso's managed block. Pure logic: the
//! caller loads the listing and the config, and writes the block with `awsconfig`.
//!
//! Submodules, each using only those before it: `template` (profile-name templates), `settings` (what
//! awsso's own settings file says), `color` (colour rules), `naming` (planning: names, collisions,
//! regions, colours, display texts), `filter` (include/exclude globs), `settings_file` (reading the
//! settings file), `render` (block text and shell quoting), `export` (browser-extension exports).
//!
//! # Settings file
//!
//! `$AWSSO_SETTINGS` (or the deprecated `$AWSSO_CONFIG`), else `<config dir>/awsso/config`
//! (`~/.config/awsso/config` on Linux, `~/Library/Application Support/awsso/config` on macOS); see
//! `paths::settings_file`. A missing file means the defaults.
//!
//! ```ini
//! # applies to every session
//! [defaults]
//! template = {account_name}/{role_name}
//! colors = prod=ff0000, staging=ff9900, dev=00aa00     # pattern=hex, ordered
//!
//! [session corp]            # overrides [defaults] for session corp
//! template = corp-{account_name}-{role_name}
//! region = eu-west-1
//!
//! [account 123456789012]    # per account
//! name = payments-prod
//! region = us-west-2
//! color = 00ffff
//! profile = payments      # optional full profile-name override
//! ```
//!
//! - Comments: lines starting with `#` or `;`, and inline from a `#`/`;` that has whitespace on both
//!   sides (so `color = #00ffff` is a colour). Values are the text after `=`, trimmed; quotes and
//!   backslashes are ordinary characters.
//! - `[defaults]` and `[session NAME]` take `template`, `region`, `colors` and `hints`; a session's value
//!   replaces the default's (the colour lists are not merged).
//! - `hints`: `full`, `minimal` (default) or `none`: which hint keys the profiles carry (below).
//! - `include`, `exclude`: glob patterns separated by commas (a comma inside `{…}` belongs to the glob),
//!   matched case-insensitively against the account name, the account id, the role name, `NAME/ROLE` and
//!   `ID/ROLE`; `sync` writes the pairs an include pattern matches (every pair without one) unless an
//!   exclude pattern matches. Names are planned for every pair first, so a filter never renames a profile.
//! - `template`: placeholders `{account_name}` `{account_id}` `{role_name}` `{session}`, at least one of
//!   the first two; the literal text may use ASCII letters, digits and `- _ . / @ + :` (what a profile
//!   name can hold). Default `{account_name}/{role_name}`.
//! - `region`: the profiles' `region` (default: the session's `sso_region`).
//! - `colors`: `pattern=hex` pairs, comma-separated, tried in order; a pattern matches when the account
//!   name contains it, ignoring case. When no list is set, the built-in rules apply: `preprod`/`nonprod`
//!   (also `pre-prod`, `non-prod`) orange `ff9900`; otherwise `prod` red `cc0000`; `stag`, or the words
//!   `uat`/`qa`, orange; `dev`, `sandbox`, `test` green `2e8b57`. Accounts no rule matches get one of 12
//!   colours chosen by a hash of the account id (stable across runs and machines).
//! - `[account ID]` (12 digits): `name` replaces `{account_name}` (and the display name), `region`,
//!   `color`, and `profile`, a whole profile name that may use the placeholders; for an account with
//!   several roles and no `{role_name}` in it, `/{role_name}` is appended.
//! - Colours are 6 hex digits, `#` allowed. Regions are lowercase letters, digits and `-`. Unknown
//!   sections or keys, duplicates and empty values are errors naming the file, section and key.
//!
//! # Names
//!
//! The template is expanded with each placeholder value sanitised on its own (Latin-1 accents folded,
//! anything outside `A-Za-z0-9-_.@+:` — `/` included — mapped to `-`; the account-name part capped at 64
//! characters; an account name with nothing left falls back to the account id), then runs of `-` are
//! collapsed, each `/`-separated part is trimmed of `-` and `.`, and the name is capped at 100
//! characters. Case is kept. Names that two pairs share, or that the user already has (the `taken` set,
//! and always `default`), get `-<account id>`, then `-2`, `-3`… in account-id order.
//!
//! # Keys written per profile
//!
//! Every key of every profile costs every SDK process that reads the config (botocore, the AWS CLI and
//! the JS SDK parse the whole file at start; `scripts/bench-config-cost.sh` measures it), so the hint
//! keys depend on `hints`: `none` writes the credential keys and `region`; `minimal` (the default) adds
//! `granted_color`, the one hint a tool reads from the config at run time, and names the account and role
//! in a comment line above each header in place of the blank separator (`render::name_comment`); `full`
//! writes all the keys below. Colours reach the browser through `awsso export` instead.
//!
//! - `credential_process = <awsso> creds --session S --account-id ID --role-name ROLE` (mode `process`,
//!   the default), each word quoted by [`shell_quote`] for both botocore's shlex and `sh -c`. No `sso_*`
//!   key: the SDKs try those first and would bypass awsso.
//! - `sso_session`, `sso_account_id`, `sso_role_name` (mode `native`): the SDKs' own SSO support, which
//!   reads the AWS CLI's token cache.
//! - `region`: the default region for the profile.
//! - `color` (6 hex digits, no `#`): read by the AWS Extend Switch Roles browser extension, which also
//!   reads `region`, `aws_account_id` and `role_name` from profiles in this format.
//! - `granted_color`: Granted passes the profile's `granted_<x>` keys to its Firefox container extension,
//!   which accepts only the eight container colours (blue turquoise green yellow orange red pink purple):
//!   the colour nearest `color`.
//! - `aws_account_id`: botocore and the JS SDK read it, for credential_process and static-key profiles
//!   only, as the fallback account id (account-based endpoints) when the credentials carry none; `awsso
//!   creds` prints `AccountId`, which they read first, so `minimal` does without it.
//! - `role_name`: no AWS tool reads it.
//! - `awsso_account_name`: the account name as served, sanitised (control characters, `#`, `;` → space).
//! - `awsso_display_name`: `Name (123456789012)`, with the `name` override applied.
mod color;
mod export;
mod filter;
mod naming;
pub mod planned;
mod render;
mod settings;
mod settings_file;
mod template;

pub use color::{builtin_color, container_color, hashed_color};
pub use export::{PeacockEntry, PeacockStyle, aesr, peacock, peacock_json};
pub use filter::{Filter, PatternError};
pub use naming::{ProfilePlan, is_valid_account_id, is_valid_role_name, plan};
pub use render::{WRITTEN_KEYS, account_name_of_comment, render_block, shell_quote};
pub use settings::{AccountOverride, ColorRule, Hints, Settings, SettingsError, validate_template};
pub use settings_file::load_settings;
pub use template::{DEFAULT_TEMPLATE, PLACEHOLDERS};

/// How generated profiles get their credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `credential_process` running awsso (keyring-backed tokens, awsso's cache and locking).
    #[default]
    Process,
    /// `sso_session` + `sso_account_id` + `sso_role_name`: the SDKs' own SSO support.
    Native,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;
    use crate::listing::{Account, Listing};

    /// The calls `awsso ls` / `awsso sync` make, end to end, through `anyhow` as they do.
    #[test]
    fn api_as_the_commands_use_it() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "[session corp]\nregion = eu-west-1\n[account 111111111111]\nname = Payments\n",
        )?;
        let mut settings = load_settings(&path, "corp")?;
        settings.template = "{session}-{account_name}-{role_name}".into();
        validate_template(&settings.template)?;
        let listing = Listing {
            session: "corp".into(),
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "us-east-1".into(),
            fetched_at: 0,
            accounts: vec![Account {
                id: "111111111111".into(),
                name: "acct".into(),
                email: None,
                roles: vec!["Admin".into()],
            }],
        };
        let plans = plan(&listing, &settings, &listing.region, &BTreeSet::new());
        assert_eq!(plans[0].name, "corp-Payments-Admin");
        assert_eq!(plans[0].region, "eu-west-1");
        let exe = PathBuf::from("/usr/bin/awsso");
        let body = render_block(&plans, Mode::Process, Hints::Full, "corp", &exe)?;
        assert!(body.starts_with("[profile corp-Payments-Admin]\n"));
        assert!(validate_template("{nope}").is_err());
        Ok(())
    }

    #[test]
    fn mode_names() {
        use clap::ValueEnum;
        let names: Vec<String> = Mode::value_variants()
            .iter()
            .map(|m| m.to_possible_value().unwrap().get_name().to_owned())
            .collect();
        assert_eq!(names, ["process", "native"]);
        assert_eq!(Mode::default(), Mode::Process);
    }
}
