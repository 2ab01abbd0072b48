//! The AWS IAM Identity Center clients, over the AWS SDK's generated ones: [`Oidc`] (client registration,
//! device and PKCE grants, refresh; `oidc.rs`), [`Portal`] (Logout, and the listing and credential calls;
//! `portal.rs`) and [`Admin`] (sso-admin ListInstances for `doctor --instances`; `admin.rs`), all built
//! alike by `client.rs` (one HTTPS client, timeouts, endpoint overrides, the answer guard of `guard.rs`).
//! This file holds what they exchange: the login flows, registrations, grants, and the checks every answer
//! passes before it is believed.
//!
//! Everything that crosses the network goes through here (except the federation sign-in GET, see
//! `crate::signin`), and every error that comes back is turned into an [`SsoError`] (an [`AdminError`] for
//! sso-admin) whose message carries no secret and no raw control characters from the server.
pub mod admin;
mod client;
pub mod clock;
pub mod endpoints;
pub mod guard;
mod oidc;
mod portal;

use serde::{Deserialize, Serialize};

pub use admin::{Admin, AdminError, Instance};
pub use endpoints::Endpoints;
pub use oidc::Oidc;
pub use portal::{AccountInfo, Portal, RoleCredentials};

use crate::ids::{AccountId, RoleName};
use crate::secret::Secret;

pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// The redirect URI registered for PKCE; the port is chosen per login and added at authorization time.
pub const PKCE_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The two login flows; registrations are kept per flow because their grant types differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// OAuth device authorization: a code to confirm in any browser, on any machine (works over SSH).
    Device,
    /// Authorization code with PKCE: a browser on this machine returns to a loopback listener.
    Pkce,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::Device => "device",
            Flow::Pkce => "pkce",
        }
    }
}

/// An OIDC client registration (valid ~90 days; reused until it expires).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub flow: Flow,
    pub scopes: Vec<String>,
    /// The start URL and region it was registered for: a registration is reused only for the same ones.
    pub start_url: String,
    pub region: String,
}

impl ClientRegistration {
    /// Usable for a login that may take a while: not expiring within the next hour.
    pub fn usable(&self, start_url: &str, region: &str, scopes: &[String]) -> bool {
        self.start_url == start_url
            && self.region == region
            && self.scopes == scopes
            && self.expires_at > now() + 3600
    }
}

#[derive(Debug)]
pub struct DeviceAuthorization {
    pub device_code: Secret<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// What CreateToken granted.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: Secret<String>,
    pub expires_in: i64,
    pub refresh_token: Option<Secret<String>>,
}

pub enum Grant<'a> {
    DeviceCode(&'a Secret<String>),
    RefreshToken(&'a Secret<String>),
    AuthorizationCode {
        code: &'a Secret<String>,
        verifier: &'a Secret<String>,
        redirect_uri: &'a str,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("authorization is still pending")]
    Pending,
    #[error("polling too fast")]
    SlowDown,
    #[error("Identity Center rejected awsso's client registration (invalid_client)")]
    InvalidClient,
    #[error("Identity Center rejected the refresh token or authorization code (invalid_grant)")]
    InvalidGrant,
    #[error("the sign-in request was denied")]
    AccessDenied,
    #[error("the sign-in code expired before it was approved")]
    DeviceCodeExpired,
    #[error("the SSO access token was rejected: it expired or was revoked")]
    Unauthorized,
    #[error("Identity Center throttled {op} (TooManyRequestsException)")]
    Throttled { op: &'static str },
    #[error("could not reach Identity Center at {endpoint} for {op}: {detail}")]
    Network {
        op: &'static str,
        endpoint: String,
        detail: String,
    },
    /// An answer that makes no sense (or could not be read): refused, never used.
    #[error("{op}: Identity Center's answer was refused: {problem}")]
    BadAnswer { op: &'static str, problem: String },
    /// A request awsso will not send (a value that cannot be an account id or a role name).
    #[error("{op} was not sent: {problem}")]
    BadRequest { op: &'static str, problem: String },
    #[error("{op} failed: {code}: {message}")]
    Service {
        op: &'static str,
        code: String,
        message: String,
    },
}

impl SsoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SsoError::Network { .. } => Some(
                "check your network and the session's sso_region; AWS_ENDPOINT_URL_SSO_OIDC / \
                 AWS_ENDPOINT_URL_SSO override the endpoints"
                    .into(),
            ),
            SsoError::Throttled { .. } => Some("wait a little and try again".into()),
            SsoError::BadAnswer { problem, .. } if problem.contains("clock") => Some(
                "check this machine's clock: `awsso doctor` compares it with Identity Center's".into(),
            ),
            SsoError::BadAnswer { .. } => Some(
                "this is not how Identity Center answers: check AWS_ENDPOINT_URL_SSO / \
                 AWS_ENDPOINT_URL_SSO_OIDC and any proxy between you and AWS; run with -v for details"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn bad_answer(op: &'static str, problem: impl Into<String>) -> SsoError {
    SsoError::BadAnswer {
        op,
        problem: problem.into(),
    }
}

/// The longest lifetime awsso believes for a token, a device code or credentials: beyond it an answer is
/// nonsense (and adding it to a timestamp could overflow).
pub const MAX_LIFETIME: i64 = 366 * 24 * 3600;

/// A lifetime in seconds from the server: positive and at most [`MAX_LIFETIME`].
fn lifetime(op: &'static str, field: &str, secs: i64) -> Result<i64, SsoError> {
    if secs <= 0 {
        return Err(bad_answer(
            op,
            format!("{field} is {secs}: the grant would be expired already"),
        ));
    }
    if secs > MAX_LIFETIME {
        return Err(bad_answer(
            op,
            format!("{field} is {secs} s, more than a year"),
        ));
    }
    Ok(secs)
}

/// A non-empty secret of sane length and characters (it is sent back in headers and bodies).
fn secret_field(
    op: &'static str,
    field: &str,
    v: Option<&str>,
) -> Result<Secret<String>, SsoError> {
    let v = v.ok_or_else(|| missing(op, field))?;
    if v.is_empty() {
        return Err(bad_answer(op, format!("{field} is empty")));
    }
    if v.len() > 16 << 10 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad_answer(
            op,
            format!(
                "{field} is not a token ({} bytes, or control characters)",
                v.len()
            ),
        ));
    }
    Ok(Secret::new(v.to_string()))
}

/// Role credentials' expiration (epoch milliseconds on the wire) as Unix seconds, if it is a time that
/// makes sense: in the future, within a year.
pub fn credentials_expiration(op: &'static str, millis: i64, now: i64) -> Result<i64, SsoError> {
    let secs = millis.div_euclid(1000);
    if secs <= now {
        return Err(bad_answer(
            op,
            format!(
                "the credentials' expiration ({millis} ms since 1970) is not in the future by this \
                 machine's clock"
            ),
        ));
    }
    if secs - now > MAX_LIFETIME {
        return Err(bad_answer(
            op,
            format!(
                "the credentials' expiration ({millis} ms since 1970) is more than a year away"
            ),
        ));
    }
    Ok(secs)
}

/// Checks the account id and role name of a request before they go into a URI (the SDK's URI builder
/// panics on an over-long one).
fn request_ids(
    op: &'static str,
    account_id: &str,
    role_name: Option<&str>,
) -> Result<(), SsoError> {
    let bad = |e: crate::ids::InvalidId| SsoError::BadRequest {
        op,
        problem: e.to_string(),
    };
    account_id.parse::<AccountId>().map_err(bad)?;
    if let Some(role) = role_name {
        role.parse::<RoleName>().map_err(bad)?;
    }
    Ok(())
}

fn missing(op: &'static str, field: &str) -> SsoError {
    SsoError::Service {
        op,
        code: "InvalidResponse".into(),
        message: format!("the response has no {field}"),
    }
}
