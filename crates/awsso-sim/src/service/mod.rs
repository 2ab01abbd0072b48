//! The simulated Identity Center itself: the state behind both APIs (client registrations, device
//! codes, PKCE authorization codes, sign-in sessions with their access/refresh tokens, the account
//! catalogue) and the checks every operation shares (client secret, bearer token, session liveness).
//! Transport-agnostic: `server.rs` turns HTTP into calls on [`Shared`] and results back into HTTP.
//!
//! The operations live beside this file, one concern each: `control.rs` (the test-facing control
//! surface and `/_sim/config`), `admission.rs` (counters, rate limit, injected errors, latency),
//! `oidc.rs` (SSO OIDC), `portal.rs` (SSO portal) and `json.rs` (the request and response bodies).

mod admission;
mod control;
mod json;
mod oidc;
mod portal;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::accounts::{self, Account};
use crate::ids::IdGen;
use crate::wire::ApiError;
use crate::{AdminCall, DeviceOutcome, IssuedCredentials, IssuedSigninToken, SimConfig};

use admission::Limiter;
pub(crate) use json::{InstanceJson, answer, from_value};
use oidc::REFRESH_SCOPE;
pub(crate) use oidc::{AuthorizeResult, DEVICE_GRANT};
pub(crate) use portal::{decode_page_token, encode_page_token};

/// A client registration as RegisterClient recorded it (exposed for assertions on how awsso
/// registers: scopes, grant types, redirect URIs, issuer URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_name: String,
    pub client_type: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub issuer_url: Option<String>,
    pub expired: bool,
}

struct Client {
    info: RegisteredClient,
    secret: String,
    expires_at: Instant,
}

impl Client {
    fn is_expired(&self, now: Instant) -> bool {
        self.info.expired || now >= self.expires_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Redeemed,
}

struct DeviceCode {
    client_id: String,
    expires_at: Instant,
    interval: u64,
    last_poll: Option<Instant>,
    pending_answers: u32,
    status: DeviceStatus,
}

impl DeviceCode {
    fn effective_status(&self, now: Instant) -> DeviceStatus {
        match self.status {
            DeviceStatus::Pending | DeviceStatus::Approved if now >= self.expires_at => {
                DeviceStatus::Expired
            }
            s => s,
        }
    }

    fn resolve(&mut self, outcome: DeviceOutcome) {
        if self.status == DeviceStatus::Pending {
            self.status = match outcome {
                DeviceOutcome::Approve => DeviceStatus::Approved,
                DeviceOutcome::Deny => DeviceStatus::Denied,
                DeviceOutcome::Expire => DeviceStatus::Expired,
            };
        }
    }
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    expires_at: Instant,
    used: bool,
}

/// Tokens belong to a sign-in session: Logout and revocation kill the session, which takes every
/// access and refresh token minted from it (including ones rotated by refresh) along.
struct AccessToken {
    session: u64,
    expires_at: Instant,
}

struct RefreshToken {
    client_id: String,
    session: u64,
}

pub(crate) struct State {
    pub(crate) config: SimConfig,
    accounts: Arc<Vec<Account>>,
    roles: Arc<Vec<String>>,
    clients: HashMap<String, Client>,
    client_order: Vec<String>,
    device_codes: HashMap<String, DeviceCode>,
    user_codes: HashMap<String, String>,
    auth_codes: HashMap<String, AuthCode>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    next_session: u64,
    /// Sessions below this number were revoked wholesale by `revoke_all`.
    min_live_session: u64,
    revoked_sessions: HashSet<u64>,
    counts: BTreeMap<&'static str, u64>,
    admitted_calls: u64,
    bucket: Option<Limiter>,
    pub(crate) issued: Vec<IssuedCredentials>,
    pub(crate) signin_tokens: Vec<IssuedSigninToken>,
    pub(crate) admin_calls: Vec<AdminCall>,
}

pub(crate) struct Shared {
    pub url: String,
    pub log_requests: bool,
    pub(crate) ids: IdGen,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, url: String, log_requests: bool) -> Self {
        let state = State {
            accounts: Arc::new(accounts::generate(config.accounts, config.hostile_names)),
            roles: Arc::new(roles_for(&config)),
            bucket: Limiter::new(config.rate_limit, config.rate_limit_kind),
            config,
            clients: HashMap::new(),
            client_order: Vec::new(),
            device_codes: HashMap::new(),
            user_codes: HashMap::new(),
            auth_codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            next_session: 0,
            min_live_session: 0,
            revoked_sessions: HashSet::new(),
            counts: BTreeMap::new(),
            admitted_calls: 0,
            issued: Vec::new(),
            signin_tokens: Vec::new(),
            admin_calls: Vec::new(),
        };
        Self {
            url,
            log_requests,
            ids: IdGen::new(),
            state: Mutex::new(state),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the simulator, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn set_config(&mut self, next: SimConfig) {
        let old = std::mem::replace(&mut self.config, next);
        let cfg = &self.config;
        if old.accounts != cfg.accounts || old.hostile_names != cfg.hostile_names {
            self.accounts = Arc::new(accounts::generate(cfg.accounts, cfg.hostile_names));
        }
        if old.roles_per_account != cfg.roles_per_account
            || old.hostile.role_names != cfg.hostile.role_names
        {
            self.roles = Arc::new(roles_for(cfg));
        }
        let same_rate = match (old.rate_limit, cfg.rate_limit) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same_rate || old.rate_limit_kind != cfg.rate_limit_kind {
            self.bucket = Limiter::new(cfg.rate_limit, cfg.rate_limit_kind);
        }
    }

    fn check_client(&self, client_id: &str, secret: &str) -> Result<&Client, ApiError> {
        let client = self
            .clients
            .get(client_id)
            .filter(|c| c.secret == secret)
            .ok_or_else(|| ApiError::invalid_client("Invalid client id or secret"))?;
        if client.is_expired(Instant::now()) {
            return Err(ApiError::invalid_client("Client registration has expired"));
        }
        Ok(client)
    }

    fn refresh_allowed(&self, client_id: &str) -> bool {
        self.config.refresh_tokens
            && self
                .clients
                .get(client_id)
                .is_some_and(|c| c.info.scopes.iter().any(|s| s == REFRESH_SCOPE))
    }

    fn new_session(&mut self) -> u64 {
        self.next_session += 1;
        self.next_session
    }

    fn session_live(&self, session: u64) -> bool {
        session >= self.min_live_session && !self.revoked_sessions.contains(&session)
    }

    fn bearer(&self, token: Option<&str>) -> Result<u64, ApiError> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Session token not found or invalid"))?;
        let at = self
            .access_tokens
            .get(token)
            .ok_or_else(|| ApiError::unauthorized("Session token not found or invalid"))?;
        if !self.session_live(at.session) {
            return Err(ApiError::unauthorized("Session token has been revoked"));
        }
        if Instant::now() >= at.expires_at {
            return Err(ApiError::unauthorized("Session token has expired"));
        }
        Ok(at.session)
    }

    /// Account ids are positional, so lookups are O(1) even for huge organisations.
    fn account(&self, id: &str) -> Option<&Account> {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = id.parse().ok()?;
        let index = n.checked_sub(100_000_000_001)?;
        self.accounts
            .get(usize::try_from(index).ok()?)
            .filter(|a| a.id == id)
    }
}

fn epoch_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The role names every account has: the hostile override, else the generated ones.
fn roles_for(c: &SimConfig) -> Vec<String> {
    c.hostile
        .role_names
        .clone()
        .unwrap_or_else(|| accounts::role_names(c.roles_per_account))
}
