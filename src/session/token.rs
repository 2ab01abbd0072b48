//! The token record awsso keeps for an instance in the credential store, and keeping it fresh: loading it
//! (moving an older release's key once), refreshing it under the instance's cross-process lock, saving it
//! (and its AWS CLI cache copy when exported), and forgetting it when Identity Center no longer accepts it.
//!
//! The AWS CLI's own token cache (`~/.aws/sso/cache/<sha1>.json`) is here too: the plaintext copy that
//! `login --export-cli-cache` opts in to, which every save rewrites and every eviction removes.
use serde::{Deserialize, Serialize};

use crate::lock;
use crate::output::format_time;
use crate::secret::Secret;
use crate::sso::{self, ClientRegistration, Grant, Oidc, SsoError};
use crate::store::{Store, StoreError};

use super::{EXPORT_WINDOW, REFRESH_WINDOW, SessionConfig, SessionError};

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

/// Forgets the token of a session Identity Center no longer accepts (revoked, or its session ended), so that
/// later calls fail fast with "log in" instead of retrying a dead token.
pub fn evict_token(store: &Store, session: &SessionConfig) -> Result<(), StoreError> {
    if let Err(e) = remove_cli_cache(session.cli_cache_key()) {
        tracing::warn!("could not remove the AWS CLI token cache copy: {e}");
    }
    store.delete(&session.token_key()).map(|_| ())
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
