//! awsso-sim: a local HTTP simulator of IAM Identity Center's SSO OIDC and SSO portal APIs, plus the two
//! neighbours awsso talks to: the console federation endpoint (`GET /federation`, getSigninToken and login)
//! and sso-admin's ListInstances (awsJson1_1, `POST /` with `X-Amz-Target`).
//!
//! This file owns the public surface used by integration tests: [`SimConfig`], [`start`] and the
//! [`SimHandle`] that controls a running simulator. The wire protocol follows
//! `docs/identity-center-protocol.md`; the state machine lives in `service/`, the HTTP plumbing
//! in `server.rs`.
//!
//! ```no_run
//! use awsso_sim::{SimConfig, start};
//! let sim = start(SimConfig { accounts: 5, ..Default::default() }).unwrap();
//! // Point the code under test at sim.url() via AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO.
//! sim.update(|c| c.rate_limit = Some(20.0));
//! assert_eq!(sim.count("ListAccounts"), 0);
//! ```

mod accounts;
mod admin;
mod hostile;
mod ids;
mod server;
mod service;
mod wire;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

pub use crate::hostile::{Hostile, Spoil};
pub use crate::service::RegisteredClient;
use crate::service::Shared;

/// What happens to a device code (or a PKCE authorization) when it gets approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceOutcome {
    /// The user approves: the next poll gets tokens.
    #[default]
    Approve,
    /// The user declines: the next poll gets `access_denied` (PKCE: redirect with `error=access_denied`).
    Deny,
    /// The code lapses: the next poll gets `expired_token` (PKCE: the code is issued already expired).
    Expire,
}

impl DeviceOutcome {
    /// Parses `approve`, `deny` or `expire` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "approve" => Some(Self::Approve),
            "deny" => Some(Self::Deny),
            "expire" => Some(Self::Expire),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Expire => "expire",
        }
    }
}

/// How the simulator enforces `rate_limit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RateLimitKind {
    /// A token bucket refilled at `rate` per second, holding at most max(1, rate) tokens: a burst of
    /// `rate` calls after a quiet second, then one call per 1/rate s.
    #[default]
    TokenBucket,
    /// At most floor(rate) (at least 1) admitted calls in any sliding one-second window: a call is
    /// answered 429 when that many were admitted in the second before it. Throttled calls do not count.
    SlidingWindow,
}

impl RateLimitKind {
    pub fn parse(s: &str) -> Option<RateLimitKind> {
        match s {
            "token-bucket" => Some(RateLimitKind::TokenBucket),
            "sliding-window" => Some(RateLimitKind::SlidingWindow),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RateLimitKind::TokenBucket => "token-bucket",
            RateLimitKind::SlidingWindow => "sliding-window",
        }
    }
}

/// The simulator's knobs. All of them can also be changed at runtime with [`SimHandle::update`]
/// or `POST /_sim/config`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of accounts assigned to the user.
    pub accounts: usize,
    /// Roles per account: AdministratorAccess, ReadOnlyAccess, PowerUserAccess, Billing, Role5, ...
    pub roles_per_account: usize,
    /// Added to every API call (an async sleep, so it never holds a thread).
    pub latency: Duration,
    /// Calls per second over the whole API (portal + OIDC); excess → 429. How: [`SimConfig::rate_limit_kind`].
    pub rate_limit: Option<f64>,
    /// The limiter behind `rate_limit`.
    pub rate_limit_kind: RateLimitKind,
    /// Every Nth admitted API call (global counter) answers 500 InternalServerException.
    pub error_every: Option<u64>,
    /// Access token lifetime (`expiresIn`).
    pub token_ttl: Duration,
    /// Issue refresh tokens to clients registered with scope `sso:account:access`.
    pub refresh_tokens: bool,
    /// Role credential lifetime.
    pub credentials_ttl: Duration,
    /// Client registration lifetime (`clientSecretExpiresAt`).
    pub client_ttl: Duration,
    /// Device code lifetime (`expiresIn` of StartDeviceAuthorization).
    pub device_code_ttl: Duration,
    /// Device-flow poll interval in seconds; 0 disables `slow_down`.
    pub interval: u64,
    /// Auto-approve a device code after this many `authorization_pending` answers; 0 = never.
    pub approve_after_polls: u32,
    /// What approval does: approve, deny or expire.
    pub device_outcome: DeviceOutcome,
    /// Serve injection-prone account names first (see `accounts.rs`).
    pub hostile_names: bool,
    /// Page size when `max_result` is absent.
    pub page_size: usize,
    /// What sso-admin ListInstances returns (the same in every region).
    pub instances: Vec<SimInstance>,
    /// Hostile answers (see `hostile.rs`): none by default.
    pub hostile: Hostile,
    /// Seconds the simulated server's clock is ahead of the machine's (negative: behind): shifts the `Date`
    /// header of every response and the expirations GetRoleCredentials issues, as a client whose own clock
    /// is off by the opposite amount would see them.
    pub clock_offset_secs: i64,
}

/// One Identity Center instance as sso-admin ListInstances describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimInstance {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: Option<String>,
    /// `ACTIVE`, `CREATE_IN_PROGRESS`, `CREATE_FAILED`, `DELETE_IN_PROGRESS`.
    pub status: String,
    /// Epoch seconds.
    pub created_date: i64,
}

impl SimInstance {
    /// An ACTIVE instance owned by `owner_account_id`, with ids derived from `tag` (16 hex digits).
    pub fn new(owner_account_id: &str, tag: &str) -> Self {
        Self {
            instance_arn: format!("arn:aws:sso:::instance/ssoins-{tag}"),
            identity_store_id: format!("d-{}", &tag[..tag.len().min(10)]),
            owner_account_id: owner_account_id.to_owned(),
            name: None,
            status: "ACTIVE".to_owned(),
            created_date: 1_700_000_000,
        }
    }
}

/// A sign-in token handed out by the federation endpoint's getSigninToken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedSigninToken {
    pub signin_token: String,
    /// The access key id of the role credentials the request carried (one the simulator issued).
    pub access_key_id: String,
    pub account_id: String,
    pub role_name: String,
}

/// One sso-admin call as it arrived: what the SigV4 `Authorization` header said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminCall {
    /// `X-Amz-Target`, e.g. `SWBExternalService.ListInstances`.
    pub target: String,
    pub access_key_id: String,
    /// The region and service of the credential scope.
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub security_token: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            accounts: 3,
            roles_per_account: 2,
            latency: Duration::ZERO,
            rate_limit: None,
            rate_limit_kind: RateLimitKind::TokenBucket,
            error_every: None,
            token_ttl: Duration::from_secs(8 * 3600),
            refresh_tokens: true,
            credentials_ttl: Duration::from_secs(3600),
            client_ttl: Duration::from_secs(90 * 24 * 3600),
            device_code_ttl: Duration::from_secs(600),
            interval: 1,
            approve_after_polls: 1,
            device_outcome: DeviceOutcome::Approve,
            hostile_names: false,
            page_size: 20,
            instances: vec![SimInstance::new("111111111111", "1111111111111111")],
            hostile: Hostile::default(),
            clock_offset_secs: 0,
        }
    }
}

/// One set of role credentials handed out by GetRoleCredentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCredentials {
    pub account_id: String,
    pub role_name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch milliseconds, as served on the wire.
    pub expiration_ms: i64,
}

/// How to run the server (as opposed to what it simulates).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Log one line per request to stderr.
    pub log_requests: bool,
}

/// Starts a simulator on `127.0.0.1:0` with its own thread and tokio runtime, so it works from
/// synchronous tests and from inside another runtime alike.
pub fn start(config: SimConfig) -> io::Result<SimHandle> {
    start_with(config, StartOptions::default())
}

/// Like [`start`], with a chosen port and request logging.
pub fn start_with(config: SimConfig, options: StartOptions) -> io::Result<SimHandle> {
    // Bind synchronously so that a busy port is reported to the caller, not lost in a thread.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let shared = Arc::new(Shared::new(config, url.clone(), options.log_requests));

    // Two workers: enough to keep hundreds of mostly-sleeping connections moving without
    // competing with the code under test for the machine's cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("awsso-sim-worker")
        .enable_all()
        .build()?;
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let server_shared = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("awsso-sim".into())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                server::serve(listener, server_shared, shutdown_rx).await;
                Ok::<(), io::Error>(())
            });
            if let Err(e) = result {
                eprintln!("awsso-sim: server stopped: {e}");
            }
            // Keep-alive connections may still be parked; don't let them hold up Drop.
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;

    Ok(SimHandle {
        shared,
        url,
        port,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

/// A running simulator. Dropping it shuts the server down.
pub struct SimHandle {
    shared: Arc<Shared>,
    url: String,
    port: u16,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, no trailing slash; serves both the OIDC and the portal API.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Calls answered for one operation name (0 if never called).
    pub fn count(&self, op: &str) -> u64 {
        self.shared.count(op)
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// Invalidates every access and refresh token issued so far.
    pub fn revoke_all(&self) {
        self.shared.revoke_all();
    }

    /// Expires every client registration issued so far.
    pub fn expire_clients(&self) {
        self.shared.expire_clients();
    }

    /// Changes knobs at runtime; takes effect for the next request.
    pub fn update(&self, f: impl FnOnce(&mut SimConfig)) {
        self.shared.update(f);
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> SimConfig {
        self.shared.config()
    }

    /// Approves a pending device code by its user code, as the verification page would.
    /// Returns false for an unknown user code.
    pub fn approve(&self, user_code: &str) -> bool {
        self.shared.approve_user_code(user_code).is_some()
    }

    /// Role credentials handed out so far, in issue order.
    pub fn issued_credentials(&self) -> Vec<IssuedCredentials> {
        self.shared.issued_credentials()
    }

    /// Every secret handed out so far: access and refresh tokens, client secrets, device codes, and role
    /// secret keys and session tokens. Tests grep files and output for these to prove none leaked.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.shared.issued_secrets()
    }

    /// Client registrations so far, in registration order.
    pub fn clients(&self) -> Vec<RegisteredClient> {
        self.shared.clients()
    }

    /// Sign-in tokens issued by the federation endpoint so far, in issue order.
    pub fn signin_tokens(&self) -> Vec<IssuedSigninToken> {
        self.shared.signin_tokens()
    }

    /// sso-admin calls received so far (signed or not), in arrival order.
    pub fn admin_calls(&self) -> Vec<AdminCall> {
        self.shared.admin_calls()
    }

    /// `(account id, account name)` as ListAccounts serves them.
    pub fn accounts(&self) -> Vec<(String, String)> {
        self.shared.accounts()
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle").field("url", &self.url).finish()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
