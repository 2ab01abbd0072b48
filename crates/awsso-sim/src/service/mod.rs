//! The simulated Identity Center itself: client registrations, device codes, PKCE authorization
//! codes, sign-in sessions with their access/refresh tokens, the account catalogue, the call
//! counters and the fault knobs (rate limit, injected errors). Transport-agnostic: `server.rs`
//! turns HTTP into calls on [`Shared`] and results back into HTTP.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::{self, Account};
use crate::ids::{ALNUM, IdGen, UPPER_ALNUM, USER_CODE};
use crate::wire::ApiError;
use crate::{
    AdminCall, DeviceOutcome, IssuedCredentials, IssuedSigninToken, RateLimitKind, SimConfig,
    SimInstance,
};

pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_SCOPE: &str = "sso:account:access";
/// Long enough for a human-speed browser round trip, short enough to matter in tests.
const AUTH_CODE_TTL: Duration = Duration::from_secs(300);
/// RFC 3986 unreserved characters stay; everything else in a query value is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

/// The limiter behind `rate_limit`, of the configured kind.
enum Limiter {
    Bucket(Bucket),
    /// The admission times of the last second, oldest first, and the most calls a second admits.
    Window(VecDeque<Instant>, usize),
}

impl Limiter {
    fn new(rate: Option<f64>, kind: RateLimitKind) -> Option<Limiter> {
        let rate = rate?;
        match kind {
            RateLimitKind::TokenBucket => Bucket::new(rate).map(Limiter::Bucket),
            RateLimitKind::SlidingWindow => (!rate.is_nan())
                .then(|| Limiter::Window(VecDeque::new(), (rate.floor() as usize).max(1))),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        match self {
            Limiter::Bucket(b) => b.take(now),
            Limiter::Window(admitted, max) => {
                while admitted
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
                {
                    admitted.pop_front();
                }
                if admitted.len() < *max {
                    admitted.push_back(now);
                    true
                } else {
                    false
                }
            }
        }
    }
}

struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Option<Self> {
        if rate.is_nan() {
            return None;
        }
        let rate = rate.max(0.0);
        let burst = rate.max(1.0);
        Some(Self {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        })
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
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

/// What the server should do with an API call before handling it.
pub(crate) struct Admission {
    pub latency: Duration,
    pub rejection: Option<ApiError>,
}

pub(crate) enum AuthorizeResult {
    Redirect(String),
    Page(u16, String),
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

    // ---- control surface (SimHandle and /_sim) ----

    pub(crate) fn count(&self, op: &str) -> u64 {
        self.lock().counts.get(op).copied().unwrap_or(0)
    }

    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        self.lock()
            .counts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    pub(crate) fn reset_counts(&self) {
        self.lock().counts.clear();
    }

    pub(crate) fn revoke_all(&self) {
        let mut st = self.lock();
        // Session ids start at 1 and `next_session` is the last one handed out.
        st.min_live_session = st.next_session + 1;
    }

    pub(crate) fn expire_clients(&self) {
        for c in self.lock().clients.values_mut() {
            c.info.expired = true;
        }
    }

    pub(crate) fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut SimConfig)) {
        let mut st = self.lock();
        let mut next = st.config.clone();
        f(&mut next);
        st.set_config(next);
    }

    /// Applies a partial JSON config (the `/_sim/config` format) atomically.
    pub(crate) fn update_from_json(&self, patch: &Value) -> Result<Value, String> {
        let mut st = self.lock();
        let mut next = st.config.clone();
        apply_config_json(&mut next, patch)?;
        st.set_config(next);
        Ok(config_json(&st.config))
    }

    pub(crate) fn config_json(&self) -> Value {
        config_json(&self.lock().config)
    }

    pub(crate) fn issued_credentials(&self) -> Vec<IssuedCredentials> {
        self.lock().issued.clone()
    }

    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        let st = self.lock();
        let mut out: Vec<String> = st.access_tokens.keys().cloned().collect();
        out.extend(st.refresh_tokens.keys().cloned());
        out.extend(st.clients.values().map(|c| c.secret.clone()));
        out.extend(st.device_codes.keys().cloned());
        for c in &st.issued {
            out.push(c.secret_access_key.clone());
            out.push(c.session_token.clone());
        }
        out.extend(st.signin_tokens.iter().map(|t| t.signin_token.clone()));
        out
    }

    pub(crate) fn clients(&self) -> Vec<RegisteredClient> {
        let st = self.lock();
        let now = Instant::now();
        st.client_order
            .iter()
            .filter_map(|id| st.clients.get(id))
            .map(|c| RegisteredClient {
                expired: c.is_expired(now),
                ..c.info.clone()
            })
            .collect()
    }

    pub(crate) fn accounts(&self) -> Vec<(String, String)> {
        self.lock()
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect()
    }

    /// Resolves a pending device code as the verification page would; `None` if unknown.
    pub(crate) fn approve_user_code(&self, user_code: &str) -> Option<DeviceStatus> {
        let mut st = self.lock();
        let outcome = st.config.device_outcome;
        let key = user_code.trim().to_ascii_uppercase();
        let device_code = st.user_codes.get(&key)?.clone();
        let dc = st.device_codes.get_mut(&device_code)?;
        let now = Instant::now();
        if dc.effective_status(now) == DeviceStatus::Pending {
            dc.resolve(outcome);
        }
        Some(dc.effective_status(now))
    }

    // ---- admission: counters, rate limit, injected errors, latency ----

    /// Counts `ops` and decides whether the call is throttled or fails by injection.
    /// `faults` is false for routes that only take latency (the /authorize page).
    pub(crate) fn admit(&self, ops: &[&'static str], faults: bool) -> Admission {
        let mut st = self.lock();
        for op in ops {
            *st.counts.entry(op).or_default() += 1;
        }
        let latency = st.config.latency;
        if !faults {
            return Admission {
                latency,
                rejection: None,
            };
        }
        let now = Instant::now();
        if let Some(bucket) = st.bucket.as_mut()
            && !bucket.take(now)
        {
            *st.counts.entry("Throttled").or_default() += 1;
            return Admission {
                latency,
                rejection: Some(ApiError::too_many_requests()),
            };
        }
        // Only admitted calls advance the counter, so "every Nth call fails" stays exact among
        // the calls that actually reached the service.
        st.admitted_calls += 1;
        if let Some(n) = st.config.error_every
            && n > 0
            && st.admitted_calls.is_multiple_of(n)
        {
            *st.counts.entry("InjectedError").or_default() += 1;
            return Admission {
                latency,
                rejection: Some(ApiError::internal()),
            };
        }
        Admission {
            latency,
            rejection: None,
        }
    }

    // ---- SSO OIDC ----

    pub(crate) fn register_client(&self, body: &Value) -> Result<Value, ApiError> {
        let obj = object(body)?;
        let client_name = req_str(obj, "clientName")?.to_owned();
        let client_type = req_str(obj, "clientType")?.to_owned();
        if client_type != "public" {
            return Err(ApiError::invalid_request("clientType must be \"public\""));
        }
        let scopes = str_list(obj, "scopes")?;
        let grant_types = str_list(obj, "grantTypes")?;
        let redirect_uris = str_list(obj, "redirectUris")?;
        let issuer_url = opt_str(obj, "issuerUrl")?.map(str::to_owned);

        let client_id = self.ids.b64url(16);
        let secret = self.ids.b64url(192);
        let mut st = self.lock();
        let ttl = st.config.client_ttl;
        let issued_at = epoch_secs();
        st.clients.insert(
            client_id.clone(),
            Client {
                info: RegisteredClient {
                    client_id: client_id.clone(),
                    client_name,
                    client_type,
                    scopes,
                    grant_types,
                    redirect_uris,
                    issuer_url,
                    expired: false,
                },
                secret: secret.clone(),
                expires_at: Instant::now() + ttl,
            },
        );
        st.client_order.push(client_id.clone());
        Ok(json!({
            "clientId": client_id,
            "clientSecret": secret,
            "clientIdIssuedAt": issued_at,
            "clientSecretExpiresAt": issued_at + ttl.as_secs() as i64,
        }))
    }

    pub(crate) fn start_device_authorization(&self, body: &Value) -> Result<Value, ApiError> {
        let obj = object(body)?;
        let client_id = req_str(obj, "clientId")?;
        let client_secret = req_str(obj, "clientSecret")?;
        req_str(obj, "startUrl")?;
        let mut st = self.lock();
        st.check_client(client_id, client_secret)?;
        let device_code = self.ids.b64url(32);
        let user_code = loop {
            let c = self.ids.chars(8, USER_CODE);
            let c = format!("{}-{}", &c[..4], &c[4..]);
            if !st.user_codes.contains_key(&c) {
                break c;
            }
        };
        let ttl = st.config.device_code_ttl;
        let interval = st.config.interval;
        st.device_codes.insert(
            device_code.clone(),
            DeviceCode {
                client_id: client_id.to_owned(),
                expires_at: Instant::now() + ttl,
                interval,
                last_poll: None,
                pending_answers: 0,
                status: DeviceStatus::Pending,
            },
        );
        st.user_codes.insert(user_code.clone(), device_code.clone());
        Ok(json!({
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": format!("{}/device", self.url),
            "verificationUriComplete": format!("{}/device?user_code={user_code}", self.url),
            "expiresIn": ttl.as_secs(),
            "interval": interval,
        }))
    }

    pub(crate) fn create_token(&self, body: &Value) -> Result<Value, ApiError> {
        let obj = object(body)?;
        let client_id = req_str(obj, "clientId")?;
        let client_secret = req_str(obj, "clientSecret")?;
        let grant_type = req_str(obj, "grantType")?;
        let mut st = self.lock();
        st.check_client(client_id, client_secret)?;
        match grant_type {
            DEVICE_GRANT | "device_code" => {
                let device_code = req_str(obj, "deviceCode")?;
                self.device_grant(&mut st, client_id, device_code)
            }
            "refresh_token" => {
                let refresh_token = req_str(obj, "refreshToken")?;
                self.refresh_grant(&mut st, client_id, refresh_token)
            }
            "authorization_code" => {
                let code = req_str(obj, "code")?;
                let redirect_uri = opt_str(obj, "redirectUri")?;
                let verifier = opt_str(obj, "codeVerifier")?;
                self.code_grant(&mut st, client_id, code, redirect_uri, verifier)
            }
            other => Err(ApiError::unsupported_grant_type(format!(
                "unsupported grant type {other:?}"
            ))),
        }
    }

    fn device_grant(
        &self,
        st: &mut State,
        client_id: &str,
        device_code: &str,
    ) -> Result<Value, ApiError> {
        let now = Instant::now();
        let approve_after = st.config.approve_after_polls;
        let outcome = st.config.device_outcome;
        let dc = st
            .device_codes
            .get_mut(device_code)
            .filter(|d| d.client_id == client_id)
            .ok_or_else(|| ApiError::invalid_grant("Invalid device code provided"))?;
        match dc.effective_status(now) {
            DeviceStatus::Redeemed => {
                return Err(ApiError::invalid_grant("Device code has already been used"));
            }
            DeviceStatus::Expired => {
                return Err(ApiError::expired_token("Device code has expired"));
            }
            DeviceStatus::Denied => return Err(ApiError::access_denied()),
            DeviceStatus::Pending | DeviceStatus::Approved => {}
        }
        let too_soon = dc.interval > 0
            && dc
                .last_poll
                .is_some_and(|last| now.duration_since(last) < Duration::from_secs(dc.interval));
        dc.last_poll = Some(now);
        if too_soon {
            return Err(ApiError::slow_down());
        }
        if dc.status == DeviceStatus::Pending {
            dc.pending_answers += 1;
            if approve_after > 0 && dc.pending_answers >= approve_after {
                dc.resolve(outcome);
            }
            return Err(ApiError::authorization_pending());
        }
        dc.status = DeviceStatus::Redeemed;
        let with_refresh = st.refresh_allowed(client_id);
        let session = st.new_session();
        Ok(self.issue_tokens(st, client_id, session, with_refresh))
    }

    fn refresh_grant(
        &self,
        st: &mut State,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<Value, ApiError> {
        let session = match st.refresh_tokens.get(refresh_token) {
            Some(rt) if rt.client_id == client_id && st.session_live(rt.session) => rt.session,
            _ => {
                return Err(ApiError::invalid_grant(
                    "Refresh token is invalid, expired or revoked",
                ));
            }
        };
        // Rotation: the presented refresh token dies once a successor is issued. Without a
        // successor (refresh tokens switched off meanwhile) the client keeps using the old one.
        let rotate = st.config.refresh_tokens;
        if rotate {
            st.refresh_tokens.remove(refresh_token);
        }
        Ok(self.issue_tokens(st, client_id, session, rotate))
    }

    fn code_grant(
        &self,
        st: &mut State,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Value, ApiError> {
        let now = Instant::now();
        let ac = st
            .auth_codes
            .get_mut(code)
            .filter(|c| c.client_id == client_id)
            .ok_or_else(|| ApiError::invalid_grant("Invalid authorization code provided"))?;
        if ac.used {
            return Err(ApiError::invalid_grant(
                "Authorization code has already been used",
            ));
        }
        // Single use even when the exchange fails: a wrong verifier must not allow a retry.
        ac.used = true;
        if now >= ac.expires_at {
            return Err(ApiError::invalid_grant("Authorization code has expired"));
        }
        if redirect_uri != Some(ac.redirect_uri.as_str()) {
            return Err(ApiError::invalid_grant(
                "redirectUri does not match the authorization request",
            ));
        }
        let Some(verifier) = verifier else {
            return Err(ApiError::invalid_grant("codeVerifier is required"));
        };
        if pkce_challenge(verifier) != ac.challenge {
            return Err(ApiError::invalid_grant(
                "codeVerifier does not match code_challenge",
            ));
        }
        let with_refresh = st.refresh_allowed(client_id);
        let session = st.new_session();
        Ok(self.issue_tokens(st, client_id, session, with_refresh))
    }

    fn issue_tokens(&self, st: &mut State, client_id: &str, session: u64, refresh: bool) -> Value {
        let ttl = st.config.token_ttl;
        let access_token = format!("aoa{}", self.ids.b64url(96));
        st.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                session,
                expires_at: Instant::now() + ttl,
            },
        );
        let now = epoch_secs();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"awsso-sim"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            json!({
                "iss": self.url,
                "aud": client_id,
                "sub": "awsso-sim-user",
                "iat": now,
                "exp": now + ttl.as_secs() as i64,
            })
            .to_string(),
        );
        let mut out = json!({
            "accessToken": access_token,
            "tokenType": "Bearer",
            "expiresIn": ttl.as_secs(),
            "idToken": format!("{header}.{claims}.{}", self.ids.b64url(64)),
        });
        if refresh {
            let refresh_token = format!("aor{}", self.ids.b64url(96));
            st.refresh_tokens.insert(
                refresh_token.clone(),
                RefreshToken {
                    client_id: client_id.to_owned(),
                    session,
                },
            );
            out["refreshToken"] = Value::String(refresh_token);
        }
        out
    }

    /// The PKCE `/authorize` page. Problems with the client or the redirect URI are shown as a
    /// page (redirecting to an unvetted URI would be an open redirect); the rest go back to the
    /// client as `?error=...`.
    pub(crate) fn authorize(&self, q: &HashMap<String, String>) -> AuthorizeResult {
        let page = |msg: &str| AuthorizeResult::Page(400, msg.to_owned());
        let Some(client_id) = q.get("client_id") else {
            return page("missing client_id");
        };
        let Some(redirect_uri) = q.get("redirect_uri") else {
            return page("missing redirect_uri");
        };
        let mut st = self.lock();
        let now = Instant::now();
        let Some(client) = st.clients.get(client_id) else {
            return page("unknown client_id");
        };
        if client.is_expired(now) {
            return page("client registration expired");
        }
        if !loopback_callback(redirect_uri) && !client.info.redirect_uris.contains(redirect_uri) {
            return page("redirect_uri is not allowed for this client");
        }
        let state = q.get("state").map(String::as_str);
        let back = |params: &[(&str, &str)]| {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            if let Some(s) = state {
                all.push(("state", s));
            }
            AuthorizeResult::Redirect(with_query(redirect_uri, &all))
        };
        if q.get("response_type").map(String::as_str) != Some("code") {
            return back(&[("error", "unsupported_response_type")]);
        }
        if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "code_challenge_method must be S256"),
            ]);
        }
        let Some(challenge) = q.get("code_challenge").filter(|c| !c.is_empty()) else {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "code_challenge is required"),
            ]);
        };
        let expires_at = match st.config.device_outcome {
            DeviceOutcome::Deny => return back(&[("error", "access_denied")]),
            DeviceOutcome::Expire => now,
            DeviceOutcome::Approve => now + AUTH_CODE_TTL,
        };
        let code = self.ids.b64url(32);
        st.auth_codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                challenge: challenge.clone(),
                expires_at,
                used: false,
            },
        );
        back(&[("code", &code)])
    }

    // ---- SSO portal ----

    pub(crate) fn list_accounts(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let st = self.lock();
        st.bearer(token)?;
        let accounts = Arc::clone(&st.accounts);
        let page_size = st.config.page_size;
        drop(st);
        let (start, end, next) = paginate(q, "accounts", accounts.len(), page_size)?;
        let list: Vec<Value> = accounts[start..end]
            .iter()
            .map(|a| json!({"accountId": a.id, "accountName": a.name, "emailAddress": a.email}))
            .collect();
        let mut out = json!({ "accountList": list });
        if let Some(next) = next {
            out["nextToken"] = Value::String(next);
        }
        Ok(out)
    }

    pub(crate) fn list_account_roles(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let account_id = q_req(q, "account_id")?;
        let st = self.lock();
        st.bearer(token)?;
        if st.account(account_id).is_none() {
            return Err(ApiError::not_found("No access to this account"));
        }
        let roles = Arc::clone(&st.roles);
        let page_size = st.config.page_size;
        drop(st);
        let scope = format!("roles:{account_id}");
        let (start, end, next) = paginate(q, &scope, roles.len(), page_size)?;
        let list: Vec<Value> = roles[start..end]
            .iter()
            .map(|r| json!({"roleName": r, "accountId": account_id}))
            .collect();
        let mut out = json!({ "roleList": list });
        if let Some(next) = next {
            out["nextToken"] = Value::String(next);
        }
        Ok(out)
    }

    pub(crate) fn get_role_credentials(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let role_name = q_req(q, "role_name")?;
        let account_id = q_req(q, "account_id")?;
        let mut st = self.lock();
        st.bearer(token)?;
        if st.account(account_id).is_none() || !st.roles.iter().any(|r| r == role_name) {
            return Err(ApiError::not_found("No access to this role"));
        }
        let creds = IssuedCredentials {
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
            access_key_id: format!("ASIA{}", self.ids.chars(16, UPPER_ALNUM)),
            secret_access_key: self.ids.chars(40, ALNUM),
            session_token: self.ids.b64(264),
            expiration_ms: epoch_ms()
                + st.config.clock_offset_secs * 1000
                + st.config.credentials_ttl.as_millis() as i64,
        };
        st.issued.push(creds.clone());
        Ok(json!({
            "roleCredentials": {
                "accessKeyId": creds.access_key_id,
                "secretAccessKey": creds.secret_access_key,
                "sessionToken": creds.session_token,
                "expiration": creds.expiration_ms,
            }
        }))
    }

    pub(crate) fn logout(&self, token: Option<&str>) -> Result<(), ApiError> {
        let mut st = self.lock();
        let session = st.bearer(token)?;
        st.revoked_sessions.insert(session);
        Ok(())
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

// ---- helpers ----

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::invalid_request("Request body must be a JSON object"))
}

fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid_request(format!("{key} must be a string"))),
    }
}

fn req_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    opt_str(obj, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("Missing required field {key}")))
}

fn str_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::invalid_request(format!("{key} must be a list of strings"))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{key} must be a list of strings"
        ))),
    }
}

fn q_req<'a>(q: &'a HashMap<String, String>, key: &str) -> Result<&'a str, ApiError> {
    q.get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("Missing required parameter {key}")))
}

/// Returns `(start, end, nextToken)` for one page of a list of `len` items.
fn paginate(
    q: &HashMap<String, String>,
    scope: &str,
    len: usize,
    default_size: usize,
) -> Result<(usize, usize, Option<String>), ApiError> {
    let size = match q.get("max_result") {
        None => default_size.max(1),
        Some(s) => match s.parse::<usize>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(ApiError::invalid_request(
                    "max_result must be an integer between 1 and 100",
                ));
            }
        },
    };
    let start = match q.get("next_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => decode_page_token(t, scope)
            .filter(|&o| o <= len)
            .ok_or_else(|| ApiError::invalid_request("Invalid nextToken"))?,
    };
    let end = start.saturating_add(size).min(len);
    let next = (end < len).then(|| encode_page_token(scope, end));
    Ok((start, end, next))
}

pub(crate) fn encode_page_token(scope: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("awsso-sim/v1/{scope}/{offset}"))
}

pub(crate) fn decode_page_token(token: &str, scope: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("awsso-sim/v1/")?
        .strip_prefix(scope)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `http://127.0.0.1:<port>/oauth/callback`, the loopback redirect the AWS CLI uses.
fn loopback_callback(uri: &str) -> bool {
    uri.strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/oauth/callback"))
        .is_some_and(|port| {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        })
}

fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut out = base.to_owned();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.extend(utf8_percent_encode(v, QUERY_VALUE));
        sep = '&';
    }
    out
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

/// An instance as ListInstances serialises it (and `/_sim/config` shows it).
pub(crate) fn instance_json(i: &SimInstance) -> Value {
    let mut v = json!({
        "InstanceArn": i.instance_arn,
        "IdentityStoreId": i.identity_store_id,
        "OwnerAccountId": i.owner_account_id,
        "Status": i.status,
        "CreatedDate": i.created_date,
    });
    if let Some(name) = &i.name {
        v["Name"] = Value::String(name.clone());
    }
    v
}

fn instance_from_json(v: &Value) -> Result<SimInstance, String> {
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let required = |k: &str| field(k).ok_or(format!("instances[].{k} must be a string"));
    Ok(SimInstance {
        instance_arn: required("InstanceArn")?,
        identity_store_id: required("IdentityStoreId")?,
        owner_account_id: required("OwnerAccountId")?,
        name: field("Name"),
        status: field("Status").unwrap_or_else(|| "ACTIVE".to_owned()),
        created_date: v
            .get("CreatedDate")
            .and_then(Value::as_i64)
            .unwrap_or(1_700_000_000),
    })
}

/// The role names every account has: the hostile override, else the generated ones.
fn roles_for(c: &SimConfig) -> Vec<String> {
    c.hostile
        .role_names
        .clone()
        .unwrap_or_else(|| accounts::role_names(c.roles_per_account))
}

fn config_json(c: &SimConfig) -> Value {
    json!({
        "accounts": c.accounts,
        "roles_per_account": c.roles_per_account,
        "latency_ms": c.latency.as_millis() as u64,
        "rate_limit": c.rate_limit,
        "rate_limit_kind": c.rate_limit_kind.name(),
        "error_every": c.error_every,
        "token_ttl": c.token_ttl.as_secs_f64(),
        "refresh_tokens": c.refresh_tokens,
        "credentials_ttl": c.credentials_ttl.as_secs_f64(),
        "client_ttl": c.client_ttl.as_secs_f64(),
        "device_code_ttl": c.device_code_ttl.as_secs_f64(),
        "interval": c.interval,
        "approve_after_polls": c.approve_after_polls,
        "device_outcome": c.device_outcome.as_str(),
        "hostile_names": c.hostile_names,
        "page_size": c.page_size,
        "clock_offset_secs": c.clock_offset_secs,
        "instances": c.instances.iter().map(instance_json).collect::<Vec<_>>(),
        "hostile": crate::hostile::to_json(&c.hostile),
    })
}

/// Applies a partial config; unknown keys are rejected so that a typo in a test fails loudly.
fn apply_config_json(c: &mut SimConfig, patch: &Value) -> Result<(), String> {
    let obj = patch.as_object().ok_or("config must be a JSON object")?;
    for (key, v) in obj {
        let uint = || {
            v.as_u64()
                .ok_or(format!("{key} must be a non-negative integer"))
        };
        let secs = || {
            v.as_f64()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or(format!("{key} must be a non-negative number of seconds"))
        };
        let boolean = || v.as_bool().ok_or(format!("{key} must be a boolean"));
        match key.as_str() {
            "accounts" => c.accounts = uint()? as usize,
            "roles_per_account" => c.roles_per_account = uint()? as usize,
            "latency_ms" => c.latency = Duration::from_millis(uint()?),
            "rate_limit" => {
                c.rate_limit = match v {
                    Value::Null => None,
                    _ => Some(
                        v.as_f64()
                            .filter(|r| *r > 0.0 && r.is_finite())
                            .ok_or("rate_limit must be a positive number or null")?,
                    ),
                }
            }
            "rate_limit_kind" => {
                c.rate_limit_kind = v
                    .as_str()
                    .and_then(RateLimitKind::parse)
                    .ok_or("rate_limit_kind must be \"token-bucket\" or \"sliding-window\"")?
            }
            "error_every" => {
                c.error_every = match v {
                    Value::Null => None,
                    _ => Some(uint()?).filter(|n| *n > 0),
                }
            }
            "token_ttl" => c.token_ttl = secs()?,
            "clock_offset_secs" => {
                c.clock_offset_secs = v.as_i64().ok_or("clock_offset_secs must be an integer")?
            }
            "refresh_tokens" => c.refresh_tokens = boolean()?,
            "credentials_ttl" => c.credentials_ttl = secs()?,
            "client_ttl" => c.client_ttl = secs()?,
            "device_code_ttl" => c.device_code_ttl = secs()?,
            "interval" => c.interval = uint()?,
            "approve_after_polls" => {
                c.approve_after_polls = u32::try_from(uint()?)
                    .map_err(|_| "approve_after_polls is too large".to_owned())?
            }
            "device_outcome" => {
                c.device_outcome = v
                    .as_str()
                    .and_then(DeviceOutcome::parse)
                    .ok_or("device_outcome must be approve, deny or expire")?
            }
            "hostile_names" => c.hostile_names = boolean()?,
            "page_size" => c.page_size = uint()? as usize,
            "instances" => {
                c.instances = v
                    .as_array()
                    .ok_or("instances must be a list")?
                    .iter()
                    .map(instance_from_json)
                    .collect::<Result<_, _>>()?
            }
            "hostile" => c.hostile = crate::hostile::from_json(v)?,
            other => return Err(format!("unknown config key {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sliding window admits `rate` calls in any one second, however they are spread; a token bucket
    /// refills continuously, so it admits a call 1/rate s after its burst.
    #[test]
    fn the_two_limiters() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut w = Limiter::new(Some(20.0), RateLimitKind::SlidingWindow).unwrap();
        let mut b = Limiter::new(Some(20.0), RateLimitKind::TokenBucket).unwrap();
        for i in 0..20 {
            assert!(w.take(ms(i * 10)), "window call {i}");
            assert!(b.take(t0), "bucket call {i}");
        }
        assert!(!w.take(ms(200)));
        assert!(!b.take(t0));
        assert!(b.take(ms(60)), "the bucket refilled one token in 50 ms");
        assert!(
            !w.take(ms(999)),
            "the first call is still inside the window"
        );
        assert!(w.take(ms(1000)), "the first call left the window");
        assert!(!w.take(ms(1005)));
        assert!(w.take(ms(1010)));
        // Throttled calls do not count: 20 admitted per second, whatever is refused.
        let mut w = Limiter::new(Some(20.5), RateLimitKind::SlidingWindow).unwrap();
        let admitted = (0..2000).filter(|i| w.take(ms(i * 5))).count();
        assert_eq!(admitted, 200);
        assert!(Limiter::new(None, RateLimitKind::SlidingWindow).is_none());
    }

    #[test]
    fn pkce_challenge_matches_an_independent_computation() {
        // Value from Python: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip(b"=")
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ92IZu0QJK2w6RNqfFUbfFBJcQcW0"),
            "IL9JH6KhAHyMnv4D6fjmYx58S5eKptmV3eVjCyMAID8"
        );
    }

    #[test]
    fn loopback_callback_accepts_only_127_0_0_1_with_port() {
        assert!(loopback_callback("http://127.0.0.1:53117/oauth/callback"));
        assert!(!loopback_callback("http://127.0.0.1/oauth/callback"));
        assert!(!loopback_callback("http://127.0.0.1:99999/oauth/callback"));
        assert!(!loopback_callback("http://evil.example:80/oauth/callback"));
        assert!(!loopback_callback("http://127.0.0.1:80/oauth/callback/x"));
    }

    #[test]
    fn redirect_query_values_are_percent_encoded() {
        assert_eq!(
            with_query(
                "http://127.0.0.1:1/oauth/callback",
                &[("code", "a b"), ("state", "x&y=z/~")]
            ),
            "http://127.0.0.1:1/oauth/callback?code=a%20b&state=x%26y%3Dz%2F~"
        );
        assert_eq!(
            with_query("http://h/cb?x=1", &[("code", "c")]),
            "http://h/cb?x=1&code=c"
        );
    }

    #[test]
    fn page_tokens_round_trip_and_are_scoped() {
        let t = encode_page_token("accounts", 7);
        assert_eq!(decode_page_token(&t, "accounts"), Some(7));
        assert_eq!(decode_page_token(&t, "roles:1"), None);
        assert_eq!(decode_page_token("garbage!", "accounts"), None);
    }

    #[test]
    fn config_patch_is_validated_and_atomic() {
        let shared = Shared::new(SimConfig::default(), "http://127.0.0.1:1".into(), false);
        let err = shared
            .update_from_json(&json!({"interval": 5, "nope": 1}))
            .unwrap_err();
        assert!(err.contains("nope"));
        assert_eq!(
            shared.config().interval,
            1,
            "a rejected patch applies nothing"
        );
        shared
            .update_from_json(&json!({"interval": 0, "latency_ms": 50, "rate_limit": 2.5,
                "error_every": 3, "token_ttl": 1.5, "device_outcome": "deny"}))
            .unwrap();
        let c = shared.config();
        assert_eq!(c.interval, 0);
        assert_eq!(c.latency, Duration::from_millis(50));
        assert_eq!(c.rate_limit, Some(2.5));
        assert_eq!(c.error_every, Some(3));
        assert_eq!(c.token_ttl, Duration::from_millis(1500));
        assert_eq!(c.device_outcome, DeviceOutcome::Deny);
    }
}
