//! Logging in to an SSO session: reuse a valid token, else refresh it, else run the interactive flow
//! (device code or PKCE) — all under a per-session cross-process lock, so that concurrent awsso processes
//! never open two browser logins and the ones that waited reuse the winner's token.
pub mod device;
pub mod pkce;

use std::time::Duration;

use crate::lock;
use crate::session::{self, REFRESH_WINDOW, Refresh, SessionConfig, TokenError, TokenRecord};
use crate::sso::{ClientRegistration, Flow, Oidc, SsoError};
use crate::store::{Store, StoreError};

#[derive(Clone, Debug)]
pub struct LoginOptions {
    pub flow: Flow,
    /// Log in again even when the stored token is valid or refreshable.
    pub force: bool,
    /// Open the browser when one is available.
    pub browser: bool,
    /// How long the PKCE flow waits for the browser to come back.
    pub timeout: Duration,
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// The stored token is valid beyond the refresh window; nothing was done.
    AlreadyValid(TokenRecord),
    /// The refresh token bought a new access token without any interaction.
    Refreshed(TokenRecord),
    /// An interactive login completed.
    LoggedIn(TokenRecord),
    /// Another awsso process logged in while this one waited for the lock.
    ByOtherProcess(TokenRecord),
}

impl LoginOutcome {
    pub fn token(&self) -> &TokenRecord {
        match self {
            LoginOutcome::AlreadyValid(t)
            | LoginOutcome::Refreshed(t)
            | LoginOutcome::LoggedIn(t)
            | LoginOutcome::ByOtherProcess(t) => t,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Sso(#[from] SsoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("login cancelled")]
    Cancelled,
    #[error("the browser did not come back within {secs} s")]
    TimedOut { secs: u64 },
    #[error("sign-in failed: {error}: {description}")]
    Callback { error: String, description: String },
}

impl From<TokenError> for LoginError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Store(e) => LoginError::Store(e),
            TokenError::Sso(e) => LoginError::Sso(e),
            TokenError::Lock(e) => LoginError::Lock(e),
            // refresh() never asks for a login; keep the message if it ever does.
            TokenError::Session(e) => LoginError::Callback {
                error: "session".into(),
                description: e.to_string(),
            },
        }
    }
}

impl LoginError {
    pub fn hint(&self, session: &str) -> Option<String> {
        match self {
            LoginError::Sso(SsoError::DeviceCodeExpired) => Some(format!(
                "run `awsso login --session {session}` again and approve the code before it expires"
            )),
            LoginError::Sso(SsoError::AccessDenied) => Some(
                "the request was declined in the browser; run the login again and choose Allow, \
                 or ask your administrator whether you are assigned to this directory"
                    .into(),
            ),
            LoginError::Sso(SsoError::InvalidClient) => Some(format!(
                "run `awsso login --session {session}` again; awsso registers a new client"
            )),
            LoginError::Sso(e) => e.hint(),
            LoginError::Store(e) => e.hint(),
            LoginError::TimedOut { .. } => {
                Some("try again with a longer --timeout, or use `--flow device`".into())
            }
            _ => None,
        }
    }
}

/// Logs in to `session` as needed.
pub async fn login(
    store: &Store,
    session: &SessionConfig,
    options: &LoginOptions,
) -> Result<LoginOutcome, LoginError> {
    let started_ms = session::now_ms();
    let lock = lock::acquire(&session.lock_name(), || {
        eprintln!(
            "Another awsso process is signing in to session {}; waiting for it…",
            session.name
        )
    })
    .await?;

    let previous = session::load_token(store, session)?;
    let keep_export = previous.as_ref().is_some_and(|t| t.export_cli_cache);
    if let Some(current) = previous {
        if lock.waited && current.issued_at_ms >= started_ms && current.valid_for(60) {
            return Ok(LoginOutcome::ByOtherProcess(current));
        }
        if !options.force {
            if current.valid_for(REFRESH_WINDOW) {
                return Ok(LoginOutcome::AlreadyValid(current));
            }
            if current.refreshable() {
                match session::refresh(store, session, &current).await {
                    Ok(Refresh::Refreshed(fresh)) => return Ok(LoginOutcome::Refreshed(fresh)),
                    Ok(Refresh::Rejected(e)) => {
                        eprintln!(
                            "The session's refresh token was not accepted ({e}); signing in again."
                        )
                    }
                    Err(e) => tracing::warn!("refresh failed ({e}); signing in again"),
                }
            }
        }
    }

    let oidc = Oidc::new(&session.region, &session.endpoints());
    let mut attempt = 0;
    let grant = loop {
        let client = client_for(store, &oidc, session, options.flow, attempt > 0).await?;
        let result = tokio::select! {
            r = run_flow(&oidc, &client, session, options) => r.map(|g| (client, g)),
            _ = tokio::signal::ctrl_c() => Err(LoginError::Cancelled),
        };
        match result {
            Err(LoginError::Sso(SsoError::InvalidClient)) if attempt == 0 => {
                eprintln!(
                    "Identity Center no longer accepts awsso's client registration; registering again."
                );
                store.delete(&session.client_key(options.flow))?;
                attempt += 1;
            }
            other => break other?,
        }
    };
    let (client, grant) = grant;
    let mut record = TokenRecord::from_grant(session, client, grant);
    record.export_cli_cache = keep_export;
    session::save_token(store, session, &record)?;
    // A new login id: whatever the kernel keyring cached for the previous login is no longer served, even
    // if this run has the cache turned off.
    crate::credcache::invalidate(&session.scope(), &[]);
    drop(lock);
    Ok(LoginOutcome::LoggedIn(record))
}

async fn run_flow(
    oidc: &Oidc,
    client: &ClientRegistration,
    session: &SessionConfig,
    options: &LoginOptions,
) -> Result<crate::sso::TokenGrant, LoginError> {
    match options.flow {
        Flow::Device => device::run(oidc, client, session, options).await,
        Flow::Pkce => pkce::run(oidc, client, session, options).await,
    }
}

/// The stored registration for this flow when still usable, else a new one (stored for reuse).
async fn client_for(
    store: &Store,
    oidc: &Oidc,
    session: &SessionConfig,
    flow: Flow,
    force_new: bool,
) -> Result<ClientRegistration, LoginError> {
    let key = session.client_key(flow);
    if !force_new
        && let Some(existing) = store.get_json::<ClientRegistration>(&key)?
        && existing.usable(&session.start_url, &session.region, &session.scopes)
    {
        tracing::debug!(client = %existing.client_id, "reusing the client registration");
        return Ok(existing);
    }
    let fresh = oidc
        .register(flow, &session.start_url, &session.region, &session.scopes)
        .await?;
    store.set_json_until(&key, &fresh, fresh.expires_at)?;
    Ok(fresh)
}
