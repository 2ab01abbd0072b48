//! SSO OIDC: RegisterClient, StartDeviceAuthorization, CreateToken (device code, refresh token and
//! PKCE authorization code grants) and the browser-facing `/authorize` page of the PKCE flow.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::json::{
    CreateTokenRequest, CreateTokenResponse, IdTokenClaims, RegisterClientRequest,
    RegisterClientResponse, StartDeviceAuthorizationRequest, StartDeviceAuthorizationResponse,
    answer, parse, required,
};
use super::{
    AccessToken, AuthCode, Client, DeviceCode, DeviceStatus, RefreshToken, RegisteredClient,
    Shared, State, epoch_secs,
};
use crate::DeviceOutcome;
use crate::ids::USER_CODE;
use crate::wire::ApiError;

pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub(super) const REFRESH_SCOPE: &str = "sso:account:access";
/// Long enough for a human-speed browser round trip, short enough to matter in tests.
const AUTH_CODE_TTL: Duration = Duration::from_secs(300);
/// RFC 3986 unreserved characters stay; everything else in a query value is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) enum AuthorizeResult {
    Redirect(String),
    Page(u16, String),
}

impl Shared {
    pub(crate) fn register_client(&self, body: &Value) -> Result<Value, ApiError> {
        let req: RegisterClientRequest = parse(body)?;
        if req.client_type != "public" {
            return Err(ApiError::invalid_request("clientType must be \"public\""));
        }

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
                    client_name: req.client_name,
                    client_type: req.client_type,
                    scopes: req.scopes.unwrap_or_default(),
                    grant_types: req.grant_types.unwrap_or_default(),
                    redirect_uris: req.redirect_uris.unwrap_or_default(),
                    issuer_url: req.issuer_url,
                    expired: false,
                },
                secret: secret.clone(),
                expires_at: Instant::now() + ttl,
            },
        );
        st.client_order.push(client_id.clone());
        answer(&RegisterClientResponse {
            client_id,
            client_secret: secret,
            client_id_issued_at: issued_at,
            client_secret_expires_at: issued_at + ttl.as_secs() as i64,
        })
    }

    pub(crate) fn start_device_authorization(&self, body: &Value) -> Result<Value, ApiError> {
        let req: StartDeviceAuthorizationRequest = parse(body)?;
        let mut st = self.lock();
        st.check_client(&req.client_id, &req.client_secret)?;
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
                client_id: req.client_id,
                expires_at: Instant::now() + ttl,
                interval,
                last_poll: None,
                pending_answers: 0,
                status: DeviceStatus::Pending,
            },
        );
        st.user_codes.insert(user_code.clone(), device_code.clone());
        answer(&StartDeviceAuthorizationResponse {
            verification_uri: format!("{}/device", self.url),
            verification_uri_complete: format!("{}/device?user_code={user_code}", self.url),
            device_code,
            user_code,
            expires_in: ttl.as_secs(),
            interval,
        })
    }

    pub(crate) fn create_token(&self, body: &Value) -> Result<Value, ApiError> {
        let req: CreateTokenRequest = parse(body)?;
        let client_id = req.client_id.as_str();
        let mut st = self.lock();
        st.check_client(client_id, &req.client_secret)?;
        match req.grant_type.as_str() {
            DEVICE_GRANT | "device_code" => {
                let device_code = required(&req.device_code, "deviceCode")?;
                self.device_grant(&mut st, client_id, device_code)
            }
            "refresh_token" => {
                let refresh_token = required(&req.refresh_token, "refreshToken")?;
                self.refresh_grant(&mut st, client_id, refresh_token)
            }
            "authorization_code" => {
                let code = required(&req.code, "code")?;
                let redirect_uri = req.redirect_uri.as_deref();
                let verifier = req.code_verifier.as_deref();
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
        self.issue_tokens(st, client_id, session, with_refresh)
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
        self.issue_tokens(st, client_id, session, rotate)
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
        self.issue_tokens(st, client_id, session, with_refresh)
    }

    fn issue_tokens(
        &self,
        st: &mut State,
        client_id: &str,
        session: u64,
        refresh: bool,
    ) -> Result<Value, ApiError> {
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
        let claims = serde_json::to_string(&IdTokenClaims {
            aud: client_id,
            exp: now + ttl.as_secs() as i64,
            iat: now,
            iss: &self.url,
            sub: "awsso-sim-user",
        })
        .unwrap_or_default();
        let id_token = format!(
            "{header}.{}.{}",
            URL_SAFE_NO_PAD.encode(claims),
            self.ids.b64url(64)
        );
        let refresh_token = refresh.then(|| {
            let refresh_token = format!("aor{}", self.ids.b64url(96));
            st.refresh_tokens.insert(
                refresh_token.clone(),
                RefreshToken {
                    client_id: client_id.to_owned(),
                    session,
                },
            );
            refresh_token
        });
        answer(&CreateTokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
            refresh_token,
            id_token,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
