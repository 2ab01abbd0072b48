//! SSO sessions: the `[sso-session NAME]` sections of the AWS config, the token record awsso keeps for each
//! in the credential store, and keeping that token fresh (refresh under a cross-process lock).
//!
//! Secrets are keyed by the Identity Center *instance* (normalised start URL + region, see [`instance_scope`]),
//! not by the session name: two configs that use the same name for two directories keep two tokens, and
//! each token carries a random per-login id that tags the role credentials fetched with it.
use serde::{Deserialize, Serialize};

use crate::awsconfig::{ConfigFile, Section};
use crate::lock;
use crate::output::format_time;
use crate::secret::Secret;
use crate::sso::{self, ClientRegistration, Endpoints, Flow, Grant, Oidc, SsoError};
use crate::store::{Key, Store, StoreError};

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

/// `https://D.awsapps.com/start#/` and `https://d.awsapps.com/start/` name the same portal: scheme and host
/// lower-cased, surrounding blanks and trailing `/` and `#` trimmed.
pub fn normalize_start_url(url: &str) -> String {
    let url = url.trim().trim_end_matches(['/', '#']);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_string(),
    }
}

/// The key part naming an Identity Center instance in the store and the cache: `@` and 16 hex digits of
/// SHA-256 over the normalised start URL and the region (short, free of URL characters, and never equal to
/// a session name, which cannot hold `@`: older releases keyed secrets by session name).
pub fn instance_scope(start_url: &str, region: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!(
        "{}\n{}",
        normalize_start_url(start_url),
        region.trim()
    ));
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("@{hex}")
}

/// A fresh random id for one login: role credentials fetched with a token are tagged with it, so a new
/// login (or a logout) makes every earlier cache entry worthless.
pub fn new_login_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: fall back to the clock and pid, still unique per login on this machine.
        let n =
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() ^ i128::from(std::process::id());
        bytes.copy_from_slice(&n.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    /// The implicit session of a legacy profile (`sso_start_url` and `sso_region` in the profile itself),
    /// named after the portal's host like `awsso login --start-url` names a session. Such a session has no
    /// registration scopes, so Identity Center issues no refresh token.
    pub fn from_legacy_profile(
        path: &str,
        section: &Section,
    ) -> Result<SessionConfig, SessionError> {
        let line = section.header_line;
        let profile = section.name.clone();
        let get = |key: &'static str| -> Result<String, SessionError> {
            match section.get(key).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => Err(SessionError::MissingKey {
                    path: path.into(),
                    name: format!("profile {profile}"),
                    line,
                    key,
                }),
            }
        };
        let start_url = get("sso_start_url")?;
        let region = get("sso_region")?;
        let invalid = |key: &'static str, value: &str| SessionError::InvalidValue {
            path: path.into(),
            name: format!("profile {profile}"),
            line,
            key,
            value: crate::output::sanitize(value, 120),
        };
        if !valid_start_url(&start_url) {
            return Err(invalid("sso_start_url", &start_url));
        }
        if !valid_region(&region) {
            return Err(invalid("sso_region", &region));
        }
        Ok(SessionConfig {
            name: implicit_name(&start_url),
            start_url: normalize_start_url(&start_url),
            region,
            scopes: Vec::new(),
            legacy: Some(LegacyOrigin {
                profile,
                start_url_as_written: start_url,
                line,
            }),
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
    fn legacy_token_key(&self) -> Key<'_> {
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

/// `https://d-1234567890.awsapps.com/start#/` → `d-1234567890`.
pub fn implicit_name(start_url: &str) -> String {
    let host = start_url
        .split("://")
        .nth(1)
        .unwrap_or(start_url)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("");
    let name: String = host
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if name.is_empty() {
        "default".into()
    } else {
        name
    }
}

/// Whether a profile is a legacy SSO profile: `sso_start_url` in the profile, no `sso_session`.
pub fn is_legacy_profile(section: &Section) -> bool {
    section.get("sso_start_url").is_some() && section.get("sso_session").is_none()
}

/// The implicit sessions of the config's legacy profiles, one per instance (the first profile names it),
/// leaving out instances an [sso-session] of the same name already covers.
pub fn legacy_sessions(config: &ConfigFile) -> Vec<Result<SessionConfig, SessionError>> {
    let path = config.path.display().to_string();
    let mut out: Vec<Result<SessionConfig, SessionError>> = Vec::new();
    for section in config.profiles().filter(|s| is_legacy_profile(s)) {
        let s = SessionConfig::from_legacy_profile(&path, section);
        if let Ok(new) = &s {
            let seen = out
                .iter()
                .flatten()
                .any(|o| o.scope() == new.scope() || o.name == new.name);
            let covered = config.sso_session(&new.name).is_some();
            if seen || covered {
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// The sso-sessions and the implicit sessions of legacy profiles.
pub fn all_with_legacy(config: &ConfigFile) -> Vec<Result<SessionConfig, SessionError>> {
    let mut v = all(config);
    v.extend(legacy_sessions(config));
    v
}

/// The session of a legacy profile named `profile`, if it is one.
pub fn of_legacy_profile(
    config: &ConfigFile,
    profile: &str,
) -> Option<Result<SessionConfig, SessionError>> {
    let section = config.profile(profile).filter(|s| is_legacy_profile(s))?;
    let path = config.path.display().to_string();
    Some(
        SessionConfig::from_legacy_profile(&path, section).map(|mut s| {
            // The profile asked for names the session in messages about it.
            if let Some(l) = s.legacy.as_mut() {
                l.profile = profile.to_string();
            }
            s
        }),
    )
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

/// What the credential store holds for a logged-in session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRecord {
    pub start_url: String,
    pub region: String,
    pub access_token: Secret<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: Option<Secret<String>>,
    /// Unix milliseconds; lets a process that waited on the login lock see that the holder just logged in.
    pub issued_at_ms: i64,
    /// The registration that was granted the token (a refresh must use the same client).
    pub client: ClientRegistration,
    /// The person opted in to a plaintext copy in the AWS CLI's token cache (`login --export-cli-cache`);
    /// every refresh then rewrites that copy.
    #[serde(default)]
    pub export_cli_cache: bool,
    /// Random per login, kept across refreshes: role credentials are tagged with it.
    #[serde(default = "new_login_id")]
    pub login_id: String,
}

impl TokenRecord {
    pub fn from_grant(
        session: &SessionConfig,
        client: ClientRegistration,
        grant: sso::TokenGrant,
    ) -> Self {
        let now_ms = now_ms();
        TokenRecord {
            start_url: session.start_url.clone(),
            region: session.region.clone(),
            access_token: grant.access_token,
            expires_at: now_ms / 1000 + grant.expires_in,
            refresh_token: grant.refresh_token,
            issued_at_ms: now_ms,
            client,
            export_cli_cache: false,
            login_id: new_login_id(),
        }
    }

    pub fn valid_for(&self, secs: i64) -> bool {
        self.expires_at > sso::now() + secs
    }

    /// Until when the record is worth keeping: while it can be refreshed (the client registration lives),
    /// else while the access token does; plus a day, so that `status` can still say it expired.
    pub fn keep_until(&self) -> i64 {
        let usable = if self.refresh_token.is_some() {
            self.client.expires_at.max(self.expires_at)
        } else {
            self.expires_at
        };
        usable.saturating_add(24 * 3600)
    }

    pub fn refreshable(&self) -> bool {
        self.refresh_token.is_some() && self.client.expires_at > sso::now()
    }

    /// Tokens are bound to the start URL and region they were issued for: editing the session's URL makes
    /// the stored token irrelevant rather than silently used against another directory.
    pub fn belongs_to(&self, session: &SessionConfig) -> bool {
        session.same_instance(&self.start_url, &self.region)
    }

    pub fn describe_expiry(&self) -> String {
        let left = self.expires_at - sso::now();
        if left > 0 {
            format!(
                "valid until {} ({} left)",
                format_time(self.expires_at),
                crate::output::format_duration(left)
            )
        } else {
            format!("expired at {}", format_time(self.expires_at))
        }
    }
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The stored token of `session`, if any and if it belongs to it.
///
/// A token stored by an older awsso under the session name alone is moved to the instance key once, when
/// its recorded start URL and region are this session's; otherwise it is left alone (and unused).
pub fn load_token(
    store: &Store,
    session: &SessionConfig,
) -> Result<Option<TokenRecord>, StoreError> {
    if let Some(t) = store.get_json::<TokenRecord>(&session.token_key())? {
        return Ok(t.belongs_to(session).then_some(t));
    }
    let old_key = session.legacy_token_key();
    match store.get_json::<TokenRecord>(&old_key) {
        Ok(Some(t)) if t.belongs_to(session) => {
            store.set_json_until(&session.token_key(), &t, t.keep_until())?;
            store.delete(&old_key)?;
            tracing::debug!(session = %session.name, "moved the token to its instance key");
            Ok(Some(t))
        }
        Ok(_) | Err(StoreError::Corrupt { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sso(#[from] SsoError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}

/// The outcome of trying to refresh a token.
#[allow(clippy::large_enum_variant)] // one per refresh, moved once: boxing buys nothing
pub enum Refresh {
    Refreshed(TokenRecord),
    /// Identity Center no longer accepts the refresh token or the client: a new login is needed.
    Rejected(SsoError),
}

/// Exchanges the refresh token for a new access token and stores it.
pub async fn refresh(
    store: &Store,
    session: &SessionConfig,
    record: &TokenRecord,
) -> Result<Refresh, TokenError> {
    let Some(refresh_token) = record.refresh_token.as_ref() else {
        return Ok(Refresh::Rejected(SsoError::InvalidGrant));
    };
    let oidc = Oidc::new(&session.region, &session.endpoints());
    match oidc
        .create_token(&record.client, Grant::RefreshToken(refresh_token))
        .await
    {
        Ok(grant) => {
            let mut fresh = TokenRecord::from_grant(session, record.client.clone(), grant);
            if fresh.refresh_token.is_none() {
                // A response without a new refresh token keeps the old one (protocol).
                fresh.refresh_token = record.refresh_token.clone();
            }
            fresh.export_cli_cache = record.export_cli_cache;
            fresh.login_id = record.login_id.clone();
            save_token(store, session, &fresh)?;
            tracing::debug!(session = %session.name, "token refreshed");
            Ok(Refresh::Refreshed(fresh))
        }
        Err(e @ (SsoError::InvalidGrant | SsoError::InvalidClient | SsoError::Unauthorized)) => {
            // The refresh token is dead: forget it so no later call tries it again.
            let mut dead = record.clone();
            dead.refresh_token = None;
            save_token(store, session, &dead)?;
            Ok(Refresh::Rejected(e))
        }
        Err(e) => Err(e.into()),
    }
}

/// A token good for at least `min_validity` seconds, refreshed first when it is inside the refresh window.
/// Never starts an interactive login: when none can be had, fails with [`SessionError::LoginRequired`].
pub async fn ensure_token(
    store: &Store,
    session: &SessionConfig,
    min_validity: i64,
) -> Result<TokenRecord, TokenError> {
    let login_required = |reason: String| SessionError::LoginRequired {
        session: session.name.clone(),
        reason,
    };
    let current = load_token(store, session)?;
    match &current {
        None => return Err(login_required("no token in the credential store".into()).into()),
        Some(t) if t.valid_for(refresh_window(t)) => return Ok(t.clone()),
        Some(t) if !t.refreshable() => {
            if t.valid_for(min_validity) {
                return Ok(t.clone());
            }
            return Err(login_required(format!("the token {}", t.describe_expiry())).into());
        }
        Some(_) => {}
    }
    let _lock = lock::acquire(&session.lock_name(), || {
        tracing::debug!("waiting for another awsso process refreshing this session")
    })
    .await?;
    // Whoever held the lock may have refreshed already.
    let Some(current) = load_token(store, session)? else {
        return Err(login_required("no token in the credential store".into()).into());
    };
    if current.valid_for(refresh_window(&current)) {
        return Ok(current);
    }
    match refresh(store, session, &current).await {
        Ok(Refresh::Refreshed(fresh)) => Ok(fresh),
        Ok(Refresh::Rejected(e)) => {
            if current.valid_for(min_validity) {
                tracing::warn!(session = %session.name, "refresh rejected ({e}); using the current token until it expires");
                Ok(current)
            } else {
                Err(login_required(format!(
                    "the token expired and the refresh was rejected ({e})"
                ))
                .into())
            }
        }
        Err(e) if current.valid_for(min_validity) => {
            tracing::warn!(session = %session.name, "refresh failed ({e}); using the current token");
            Ok(current)
        }
        Err(e) => Err(e),
    }
}

/// How early a token is refreshed: botocore's 15 minutes, or [`EXPORT_WINDOW`] when an SDK reads an
/// exported copy that it cannot refresh itself.
pub fn refresh_window(t: &TokenRecord) -> i64 {
    if t.export_cli_cache {
        EXPORT_WINDOW
    } else {
        REFRESH_WINDOW
    }
}

/// Stores a session's token, and refreshes its AWS CLI cache copy when the person opted in to one.
pub fn save_token(
    store: &Store,
    session: &SessionConfig,
    record: &TokenRecord,
) -> Result<(), StoreError> {
    store.set_json_until(&session.token_key(), record, record.keep_until())?;
    if record.export_cli_cache
        && let Err(e) = export_cli_cache(session, record)
    {
        eprintln!("warning: could not update the AWS CLI token cache: {e}");
    }
    Ok(())
}

/// `~/.aws/sso/cache/<sha1(key)>.json`, where the AWS CLI and the SDKs look for a token: the key is the
/// sso-session's name, or for a legacy profile its `sso_start_url` as written.
pub fn cli_cache_path(session: &str) -> std::path::PathBuf {
    use sha1::Digest;
    let home = directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .unwrap_or_default();
    let digest = sha1::Sha1::digest(session.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    home.join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{hex}.json"))
}

/// Writes the plaintext AWS CLI token cache file (mode 0600, atomically). Deliberately without the refresh
/// token and client secret: an SDK refreshing with them would rotate the refresh token under awsso, and
/// the file stays a short-lived credential; awsso rewrites it whenever it refreshes the token.
pub fn export_cli_cache(
    session: &SessionConfig,
    record: &TokenRecord,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let at = |unix: i64| {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_default()
    };
    let body = Secret::new(
        serde_json::json!({
            "startUrl": record.start_url,
            "region": record.region,
            "accessToken": record.access_token.expose(),
            "expiresAt": at(record.expires_at),
            "clientId": record.client.client_id,
            "registrationExpiresAt": at(record.client.expires_at),
        })
        .to_string(),
    );
    crate::paths::home_dir("the AWS CLI token cache")?;
    let path = cli_cache_path(session.cli_cache_key());
    let dir = path.parent().expect("cache path has a parent");
    crate::paths::ensure_private_dir(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".awsso").tempfile_in(dir)?;
    tmp.write_all(body.expose().as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// Removes the AWS CLI token cache copy of a session, if there is one.
pub fn remove_cli_cache(session: &str) -> std::io::Result<bool> {
    if crate::paths::home_dir("the AWS CLI token cache").is_err() {
        return Ok(false);
    }
    match std::fs::remove_file(cli_cache_path(session)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Forgets the token of a session Identity Center no longer accepts (revoked, or its session ended), so that
/// later calls fail fast with "log in" instead of retrying a dead token.
pub fn evict_token(store: &Store, session: &SessionConfig) -> Result<(), StoreError> {
    if let Err(e) = remove_cli_cache(session.cli_cache_key()) {
        tracing::warn!("could not remove the AWS CLI token cache copy: {e}");
    }
    store.delete(&session.token_key()).map(|_| ())
}
