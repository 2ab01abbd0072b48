//! What awsso's own settings file says, once read: the [`Settings`] of one session (templates, regions,
//! colours, filters, per-account overrides), the settings errors, and where the file lives. Reading and
//! validating the file is `settings_file`'s; the format is documented in the parent module.
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use super::template::{DEFAULT_TEMPLATE, TEMPLATE_HINT, check_template};

/// Settings for generating one session's profiles, resolved from awsso's own settings file + CLI flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Profile-name template; see [`validate_template`].
    pub template: String,
    /// Default region for profiles (else the session's sso_region).
    pub region: Option<String>,
    /// Ordered; first match wins. Empty means the built-in rules.
    pub color_rules: Vec<ColorRule>,
    /// By account id.
    pub accounts: BTreeMap<String, AccountOverride>,
    /// Which hint keys the profiles carry besides their credentials and region.
    pub hints: Hints,
    /// Globs: `sync` writes only the pairs one of them matches (all when empty); see [`super::Filter`].
    pub include: Vec<String>,
    /// Globs: `sync` leaves out the pairs one of them matches, whatever `include` says.
    pub exclude: Vec<String>,
}

/// `hints = full|minimal|none`: how many hint keys each generated profile carries. Every key costs every
/// AWS process that reads the config at start (see `scripts/bench-config-cost.sh`), so the default is the
/// one key a tool reads from the config at run time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Hints {
    /// `color`, `granted_color`, `aws_account_id`, `role_name`, `awsso_account_name`, `awsso_display_name`.
    Full,
    /// `granted_color` only.
    #[default]
    Minimal,
    /// No hint key: `credential_process` (or the `sso_*` keys) and `region`.
    None,
}

impl Hints {
    pub const NAMES: [&str; 3] = ["full", "minimal", "none"];

    pub fn parse(v: &str) -> Option<Hints> {
        match v.to_ascii_lowercase().as_str() {
            "full" => Some(Hints::Full),
            "minimal" => Some(Hints::Minimal),
            "none" => Some(Hints::None),
            _ => None,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            template: DEFAULT_TEMPLATE.to_owned(),
            region: None,
            color_rules: Vec::new(),
            accounts: BTreeMap::new(),
            hints: Hints::default(),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// `pattern=color`: accounts whose name contains `pattern` (case-insensitively) get `color`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColorRule {
    pub pattern: String,
    /// 6 hex digits, lowercase, no '#'.
    pub color: String,
}

/// What `[account ID]` changes for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountOverride {
    /// Replaces {account_name} in the template (and in the display name).
    pub name: Option<String>,
    pub region: Option<String>,
    pub color: Option<String>,
    /// Full profile-name override; may hold placeholders, e.g. {role_name} for accounts with several roles.
    pub profile_name: Option<String>,
}

/// A settings file awsso cannot use. Every variant names the file (or the flag) and says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read awsso settings {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {}{problem}", path.display(), location(section.as_deref(), key.as_deref()))]
    Invalid {
        path: PathBuf,
        /// The section as written between the brackets, when the problem is inside one.
        section: Option<String>,
        key: Option<String>,
        problem: String,
        hint: String,
    },
    /// A template given on the command line rather than in the file.
    #[error("invalid profile name template {template:?}: {problem}")]
    Template { template: String, problem: String },
}

/// `[section] key: `, with control characters from the file shown as `?`.
fn location(section: Option<&str>, key: Option<&str>) -> String {
    let clean = |s: &str| crate::text::sanitize(s, 100);
    let (section, key) = (section.map(clean), key.map(clean));
    match (section.as_deref(), key.as_deref()) {
        (Some(s), Some(k)) => format!("[{s}] {k}: "),
        (Some(s), None) => format!("[{s}]: "),
        (None, Some(k)) => format!("{k}: "),
        (None, None) => String::new(),
    }
}

impl SettingsError {
    /// One line of advice for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsError::Read { path, source } => Some(match source.kind() {
                io::ErrorKind::PermissionDenied => {
                    format!("check the permissions of {}", path.display())
                }
                io::ErrorKind::InvalidData => format!("save {} as UTF-8 text", path.display()),
                _ => format!(
                    "{} chooses another settings file; without {} awsso uses its defaults",
                    crate::vars::SETTINGS,
                    path.display()
                ),
            }),
            SettingsError::Invalid { hint, .. } => Some(hint.clone()),
            SettingsError::Template { .. } => Some(TEMPLATE_HINT.to_owned()),
        }
    }
}

/// Checks a profile-name template (e.g. from `--template`).
pub fn validate_template(template: &str) -> Result<(), SettingsError> {
    check_template(template).map_err(|problem| SettingsError::Template {
        template: template.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        for ok in [
            "{account_name}/{role_name}",
            "corp-{account_name}-{role_name}",
            "{session}:{account_id}@{role_name}",
            "{account_id}",
        ] {
            validate_template(ok).unwrap();
        }
        for (bad, needle) in [
            ("{account}/{role_name}", "unknown placeholder {account}"),
            (
                "{account_name}/{Role_Name}",
                "unknown placeholder {Role_Name}",
            ),
            ("{account_name", "never closed"),
            ("{account_name}}", "closes no placeholder"),
            ("{account_name} {role_name}", "' '"),
            ("{account_name}#{role_name}", "'#'"),
            ("{role_name}", "needs {account_name} or {account_id}"),
            ("", "empty"),
        ] {
            let e = validate_template(bad).unwrap_err();
            assert!(e.to_string().contains(needle), "{bad:?}: {e}");
            assert!(e.hint().unwrap().contains("{account_name}"));
        }
    }
}
