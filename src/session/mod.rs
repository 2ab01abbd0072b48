//! SSO sessions: the `[sso-session NAME]` sections of the AWS config, the token record awsso keeps for each
//! in the credential store, and keeping that token fresh (refresh under a cross-process lock).
//!
//! Secrets are keyed by the Identity Center *instance* (normalised start URL + region, see [`instance_scope`]),
//! not by the session name: two configs that use the same name for two directories keep two tokens, and
//! each token carries a random per-login id that tags the role credentials fetched with it.
//!
//! Submodules: `instance` (start URLs and instance scopes), `legacy` (the implicit sessions of legacy
//! profiles), `token` (the stored token: load, refresh, save, evict, and its AWS CLI cache copy).
mod instance;
mod legacy;
mod token;

pub use instance::{instance_scope, normalize_start_url};
pub use legacy::{
    all_with_legacy, implicit_name, is_legacy_profile, legacy_sessions, of_legacy_profile,
};
pub use token::{
    Refresh, TokenError, TokenRecord, cli_cache_path, ensure_token, evict_token, export_cli_cache,
    load_token, new_login_id, now_ms, refresh, refresh_window, remove_cli_cache, save_token,
};

use crate::awsconfig::{ConfigFile, Section};
use crate::sso::{Endpoints, Flow};
use crate::store::Key;

/// A token with less than this left is refreshed before use (botocore uses the same 15-minute window).
pub const REFRESH_WINDOW: i64 = 15 * 60;
/// The scope that makes Identity Center issue refresh tokens.
pub const REFRESH_SCOPE: &str = "sso:account:access";

/// An exported token (`login --export-cli-cache`) is refreshed when less than this is left, so that it
/// always has more than botocore's 15-minute window (and the JavaScript SDK's 5) when awsso has run.
pub const EXPORT_WINDOW: i64 = 20 * 60;

/// One `[sso-session NAME]` section, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub name: String,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// Set for the implicit session of legacy profiles (`sso_start_url` in a profile, no sso-session).
    pub legacy: Option<LegacyOrigin>,
}

/// Where an implicit session comes from: the first legacy profile of its instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyOrigin {
    pub profile: String,
    /// `sso_start_url` exactly as written: the AWS CLI names its token file after the SHA-1 of it.
    pub start_url_as_written: String,
    pub line: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path} has no [sso-session] section")]
    NoSessions { path: String },
    #[error("{path} has {count} sso-sessions ({names}); which one?")]
    Ambiguous {
        path: String,
        count: usize,
        names: String,
    },
    #[error("{path} has no [sso-session {name}] section")]
    Unknown { path: String, name: String },
    #[error("[sso-session {name}] in {path} (line {line}) has no {key}")]
    MissingKey {
        path: String,
        name: String,
        line: usize,
        key: &'static str,
    },
    #[error("[sso-session {name}] in {path} (line {line}) has an invalid {key}: {value}")]
    InvalidValue {
        path: String,
        name: String,
        line: usize,
        key: &'static str,
        value: String,
    },
    #[error("not logged in to session {session}: {reason}")]
    LoginRequired { session: String, reason: String },
}

impl SessionError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            SessionError::NoSessions { .. } => {
                "create one with `awsso login --start-url https://<id>.awsapps.com/start --region <region>`".into()
            }
            SessionError::Ambiguous { .. } => "pick one with --session NAME".into(),
            SessionError::Unknown { name, .. } => format!(
                "check the name with `awsso status`, or create it with `awsso login --session {name} --start-url URL --region REGION`"
            ),
            SessionError::MissingKey { key, .. } | SessionError::InvalidValue { key, .. } => {
                format!("fix {key} in that section")
            }
            SessionError::LoginRequired { session, .. } => format!("run `awsso login --session {session}`"),
        })
    }
}

impl SessionConfig {
    pub fn from_section(path: &str, section: &Section) -> Result<SessionConfig, SessionError> {
        let name = section.name.clone();
        let line = section.header_line;
        let get = |key: &'static str| -> Result<String, SessionError> {
            match section.get(key).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => Err(SessionError::MissingKey {
                    path: path.into(),
                    name: name.clone(),
                    line,
                    key,
                }),
            }
        };
        // The name goes into messages, keyring keys, file names and credential_process lines.
        if let Err(e) = name.parse::<crate::ids::SessionName>() {
            return Err(SessionError::InvalidValue {
                path: path.into(),
                name: crate::output::sanitize(&name, 60),
                line,
                key: "name",
                value: e.to_string(),
            });
        }
        let start_url = get("sso_start_url")?;
        let region = get("sso_region")?;
        let invalid = |key: &'static str, value: &str| SessionError::InvalidValue {
            path: path.into(),
            name: name.clone(),
            line,
            key,
            value: crate::output::sanitize(value, 240),
        };
        if let Err(e) = start_url.parse::<crate::ids::StartUrl>() {
            return Err(invalid("sso_start_url", &e.to_string()));
        }
        if !valid_region(&region) {
            return Err(invalid("sso_region", &region));
        }
        let scopes = section
            .get("sso_registration_scopes")
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(SessionConfig {
            name,
            start_url,
            region,
            scopes,
            legacy: None,
        })
    }

    /// The name the AWS CLI's token cache file is derived from: the session name, or for a legacy profile
    /// the start URL as written.
    pub fn cli_cache_key(&self) -> &str {
        match &self.legacy {
            Some(l) => &l.start_url_as_written,
            None => &self.name,
        }
    }

    /// Identity Center only issues refresh tokens to clients registered with this scope.
    pub fn refresh_capable(&self) -> bool {
        self.scopes.iter().any(|s| s == REFRESH_SCOPE)
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints::resolve(&self.region)
    }

    /// The instance this session signs in to (see [`instance_scope`]).
    pub fn scope(&self) -> String {
        instance_scope(&self.start_url, &self.region)
    }

    /// Whether two sessions name the same Identity Center instance.
    pub fn same_instance(&self, start_url: &str, region: &str) -> bool {
        normalize_start_url(&self.start_url) == normalize_start_url(start_url)
            && self.region == region.trim()
    }

    pub fn token_key(&self) -> Key<'static> {
        Key::token(self.scope())
    }

    pub fn client_key(&self, flow: Flow) -> Key<'static> {
        Key::client(self.scope(), flow.name())
    }

    /// The name of the cross-process lock serialising logins and refreshes of this instance.
    pub fn lock_name(&self) -> String {
        format!("instance-{}", self.scope())
    }

    /// Where releases up to 0.x kept the token: by session name alone (read once, then moved).
    pub(super) fn legacy_token_key(&self) -> Key<'_> {
        Key::token(&self.name)
    }
}

/// The start URL rule of [`crate::ids::StartUrl`]: https (http for loopback only), bounded.
pub fn valid_start_url(url: &str) -> bool {
    url.parse::<crate::ids::StartUrl>().is_ok()
}

/// The region rule of [`crate::ids::Region`].
pub fn valid_region(region: &str) -> bool {
    region.parse::<crate::ids::Region>().is_ok()
}

/// Every sso-session of the config, in file order; invalid ones are reported, not skipped.
pub fn all(config: &ConfigFile) -> Vec<Result<SessionConfig, SessionError>> {
    let path = config.path.display().to_string();
    config
        .sso_sessions()
        .map(|s| SessionConfig::from_section(&path, s))
        .collect()
}

/// The session named, or the only one there is.
pub fn resolve(config: &ConfigFile, name: Option<&str>) -> Result<SessionConfig, SessionError> {
    let path = config.path.display().to_string();
    if let Some(name) = name {
        if let Some(section) = config.sso_session(name) {
            return SessionConfig::from_section(&path, section);
        }
        // The implicit session of legacy profiles, by its name.
        if let Some(found) = legacy_sessions(config)
            .into_iter()
            .find(|s| s.as_ref().is_ok_and(|s| s.name == name))
        {
            return found;
        }
        return Err(SessionError::Unknown {
            path: path.clone(),
            name: name.into(),
        });
    }
    let sections: Vec<&Section> = config.sso_sessions().collect();
    match sections.as_slice() {
        [] => Err(SessionError::NoSessions { path }),
        [one] => SessionConfig::from_section(&path, one),
        many => Err(SessionError::Ambiguous {
            path,
            count: many.len(),
            names: many
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
