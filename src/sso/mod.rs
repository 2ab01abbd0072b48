//! The AWS IAM Identity Center client: SSO OIDC (client registration, device and PKCE grants, refresh) and the
//! SSO portal (Logout, and the listing and credential calls), over the AWS SDK's generated clients.
//!
//! Everything that crosses the network goes through here, and every error that comes back is turned into
//! an [`SsoError`] whose message carries no secret and no raw control characters from the server.
pub mod clock;
pub mod endpoints;
pub mod guard;

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use serde::{Deserialize, Serialize};

pub use endpoints::Endpoints;

use crate::ids::{AccountId, RoleName};
use crate::output::sanitize;
use crate::secret::Secret;

pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// The redirect URI registered for PKCE; the port is chosen per login and added at authorization time.
pub const PKCE_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
const CLIENT_NAME: &str = "awsso";

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

fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build()
}

/// Maps an SDK error to an [`SsoError`], by the error code the service sent; answers the SDK could not
/// make sense of (refused by [`guard`], redirects, malformed bodies) become [`SsoError::BadAnswer`].
fn map_err<E>(op: &'static str, endpoint: &str, err: SdkError<E, HttpResponse>) -> SsoError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(refused) = guard::refused_in(&err) {
        return bad_answer(op, refused.to_string());
    }
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let Some(code) = e.code() else {
                // No error code: an answer the SDK could not read at all.
                let problem = if (200..300).contains(&status) {
                    guard::describe_unreadable(se.raw().body().bytes())
                } else {
                    format!(
                        "HTTP {status} without an error code ({})",
                        guard::describe_unreadable(se.raw().body().bytes())
                    )
                };
                return bad_answer(op, problem);
            };
            match code {
                "AuthorizationPendingException" => SsoError::Pending,
                "SlowDownException" => SsoError::SlowDown,
                "ExpiredTokenException" => SsoError::DeviceCodeExpired,
                "AccessDeniedException" => SsoError::AccessDenied,
                "InvalidClientException" => SsoError::InvalidClient,
                "InvalidGrantException" => SsoError::InvalidGrant,
                "UnauthorizedException" => SsoError::Unauthorized,
                "TooManyRequestsException" => SsoError::Throttled { op },
                _ => SsoError::Service {
                    op,
                    code: sanitize(code, 80),
                    message: sanitize(e.message().unwrap_or("no message"), 300),
                },
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => SsoError::Network {
            op,
            endpoint: endpoint.to_string(),
            detail: sanitize(&DisplayErrorContext(&err).to_string(), 400),
        },
        _ => SsoError::Service {
            op,
            code: "InvalidResponse".into(),
            message: sanitize(&DisplayErrorContext(&err).to_string(), 400),
        },
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

/// The SSO OIDC API.
pub struct Oidc {
    client: aws_sdk_ssooidc::Client,
    endpoint: String,
}

impl Oidc {
    pub fn new(region: &str, endpoints: &Endpoints) -> Oidc {
        let mut conf = aws_sdk_ssooidc::Config::builder()
            .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
            .region(aws_sdk_ssooidc::config::Region::new(region.to_string()))
            .http_client(http_client())
            .interceptor(guard::AnswerGuard)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(timeouts());
        if endpoints.oidc_overridden {
            conf = conf.endpoint_url(&endpoints.oidc);
        }
        Oidc {
            client: aws_sdk_ssooidc::Client::from_conf(conf.build()),
            endpoint: endpoints.oidc.clone(),
        }
    }

    /// The browser page that starts a PKCE authorization.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.endpoint)
    }

    pub async fn register(
        &self,
        flow: Flow,
        start_url: &str,
        region: &str,
        scopes: &[String],
    ) -> Result<ClientRegistration, SsoError> {
        const OP: &str = "RegisterClient";
        let mut req = self
            .client
            .register_client()
            .client_name(CLIENT_NAME)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()));
        req = match flow {
            Flow::Device => req
                .grant_types(GRANT_DEVICE_CODE)
                .grant_types(GRANT_REFRESH_TOKEN),
            Flow::Pkce => req
                .grant_types(GRANT_AUTHORIZATION_CODE)
                .grant_types(GRANT_REFRESH_TOKEN)
                .redirect_uris(PKCE_REDIRECT_URI)
                .issuer_url(start_url),
        };
        let out = req
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        if out
            .client_id()
            .is_some_and(|id| id.is_empty() || id.len() > 4096)
        {
            return Err(bad_answer(OP, "clientId is empty or too long"));
        }
        Ok(ClientRegistration {
            client_id: out
                .client_id()
                .ok_or_else(|| missing(OP, "clientId"))?
                .into(),
            client_secret: secret_field(OP, "clientSecret", out.client_secret())?,
            expires_at: out.client_secret_expires_at(),
            flow,
            scopes: scopes.to_vec(),
            start_url: start_url.into(),
            region: region.into(),
        })
    }

    pub async fn start_device_authorization(
        &self,
        reg: &ClientRegistration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, SsoError> {
        const OP: &str = "StartDeviceAuthorization";
        let out = self
            .client
            .start_device_authorization()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let expires_in = lifetime(OP, "expiresIn", i64::from(out.expires_in()))?;
        if out.interval() < 0 {
            return Err(bad_answer(OP, format!("interval is {}", out.interval())));
        }
        Ok(DeviceAuthorization {
            device_code: secret_field(OP, "deviceCode", out.device_code())?,
            user_code: sanitize(out.user_code().ok_or_else(|| missing(OP, "userCode"))?, 64),
            verification_uri: out
                .verification_uri()
                .ok_or_else(|| missing(OP, "verificationUri"))?
                .into(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_string),
            expires_in,
            interval: i64::from(out.interval()),
        })
    }

    pub async fn create_token(
        &self,
        reg: &ClientRegistration,
        grant: Grant<'_>,
    ) -> Result<TokenGrant, SsoError> {
        const OP: &str = "CreateToken";
        let req = self
            .client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose());
        let req = match grant {
            Grant::DeviceCode(code) => req.grant_type(GRANT_DEVICE_CODE).device_code(code.expose()),
            Grant::RefreshToken(token) => req
                .grant_type(GRANT_REFRESH_TOKEN)
                .refresh_token(token.expose()),
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => req
                .grant_type(GRANT_AUTHORIZATION_CODE)
                .code(code.expose())
                .code_verifier(verifier.expose())
                .redirect_uri(redirect_uri),
        };
        let out = req
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        Ok(TokenGrant {
            access_token: secret_field(OP, "accessToken", out.access_token())?,
            expires_in: lifetime(OP, "expiresIn", i64::from(out.expires_in()))?,
            refresh_token: out
                .refresh_token()
                .map(|t| secret_field(OP, "refreshToken", Some(t)))
                .transpose()?,
        })
    }
}

/// The SSO portal API (bearer-token authenticated).
pub struct Portal {
    client: aws_sdk_sso::Client,
    endpoint: String,
    clock: clock::ServerClock,
}

/// One account as ListAccounts returns it.
#[derive(Clone, Debug)]
pub struct AccountInfo {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// Role credentials from GetRoleCredentials.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Secret<String>,
    /// Unix seconds (the wire carries milliseconds).
    pub expiration: i64,
}

impl Portal {
    /// A portal client with the SDK's standard retries (3 attempts: throttling, 5xx, network).
    pub fn new(region: &str, endpoints: &Endpoints) -> Portal {
        Self::with_retries(
            region,
            endpoints,
            RetryConfig::standard().with_max_attempts(3),
        )
    }

    /// A portal client that makes each call once: for callers that pace and retry themselves.
    pub fn without_retries(region: &str, endpoints: &Endpoints) -> Portal {
        Self::with_retries(region, endpoints, RetryConfig::disabled())
    }

    fn with_retries(region: &str, endpoints: &Endpoints, retry: RetryConfig) -> Portal {
        let mut conf = aws_sdk_sso::Config::builder()
            .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
            .region(aws_sdk_sso::config::Region::new(region.to_string()))
            .http_client(http_client())
            .interceptor(guard::AnswerGuard)
            .retry_config(retry)
            .timeout_config(timeouts());
        if endpoints.portal_overridden {
            conf = conf.endpoint_url(&endpoints.portal);
        }
        let clock = clock::ServerClock::default();
        conf = conf.interceptor(clock.clone());
        Portal {
            client: aws_sdk_sso::Client::from_conf(conf.build()),
            endpoint: endpoints.portal.clone(),
            clock,
        }
    }

    /// The server's time (Unix seconds) by the `Date` header of the last response, if it sent one.
    pub fn server_time(&self) -> Option<i64> {
        self.clock.last()
    }

    pub async fn logout(&self, access_token: &Secret<String>) -> Result<(), SsoError> {
        self.client
            .logout()
            .access_token(access_token.expose())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| map_err("Logout", &self.endpoint, e))
    }

    /// One page of ListAccounts.
    pub async fn list_accounts(
        &self,
        access_token: &Secret<String>,
        next_token: Option<String>,
    ) -> Result<(Vec<AccountInfo>, Option<String>), SsoError> {
        const OP: &str = "ListAccounts";
        let out = self
            .client
            .list_accounts()
            .access_token(access_token.expose())
            .max_results(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let (accounts, skipped) = valid_accounts(out.account_list());
        if skipped > 0 {
            warn_skipped(OP, skipped, "an account id that is not 12 digits");
        }
        Ok((accounts, out.next_token().map(str::to_string)))
    }

    /// One page of ListAccountRoles.
    pub async fn list_account_roles(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), SsoError> {
        const OP: &str = "ListAccountRoles";
        request_ids(OP, account_id, None)?;
        let out = self
            .client
            .list_account_roles()
            .access_token(access_token.expose())
            .account_id(account_id)
            .max_results(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let (roles, skipped) = valid_roles(out.role_list());
        if skipped > 0 {
            warn_skipped(OP, skipped, "a name AWS does not allow for a role");
        }
        Ok((roles, out.next_token().map(str::to_string)))
    }

    pub async fn get_role_credentials(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials, SsoError> {
        const OP: &str = "GetRoleCredentials";
        request_ids(OP, account_id, Some(role_name))?;
        let out = self
            .client
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let c = out
            .role_credentials()
            .ok_or_else(|| missing(OP, "roleCredentials"))?;
        let access_key_id = c
            .access_key_id()
            .ok_or_else(|| missing(OP, "accessKeyId"))?;
        if !(16..=128).contains(&access_key_id.len())
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad_answer(OP, "accessKeyId is not an access key id"));
        }
        Ok(RoleCredentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_field(OP, "secretAccessKey", c.secret_access_key())?,
            session_token: secret_field(OP, "sessionToken", c.session_token())?,
            // Judged by the server's own clock when its answer said what time it was: credentials that
            // are only expired by a skewed local clock are the caller's to report as clock skew
            // (`creds::check_clock`), not a nonsensical answer.
            expiration: credentials_expiration(
                OP,
                c.expiration(),
                self.server_time().unwrap_or_else(now),
            )?,
        })
    }
}

/// The accounts of a ListAccounts page whose id is 12 digits, and how many were not. Names stay as served
/// (bounded by the body cap): they are untrusted text, sanitised wherever shown; ids go into URIs, keys and
/// profiles.
fn valid_accounts(list: &[aws_sdk_sso::types::AccountInfo]) -> (Vec<AccountInfo>, usize) {
    let mut skipped = 0;
    let accounts = list
        .iter()
        .filter_map(|a| {
            let Some(id) = a.account_id().and_then(|id| id.parse::<AccountId>().ok()) else {
                skipped += 1;
                return None;
            };
            Some(AccountInfo {
                id: id.into_string(),
                name: a.account_name().unwrap_or_default().to_string(),
                email: a.email_address().map(str::to_string),
            })
        })
        .collect();
    (accounts, skipped)
}

/// The role names of a ListAccountRoles page that AWS allows, and how many were not.
fn valid_roles(list: &[aws_sdk_sso::types::RoleInfo]) -> (Vec<String>, usize) {
    let mut skipped = 0;
    let roles = list
        .iter()
        .filter_map(|r| match r.role_name().map(str::parse::<RoleName>) {
            Some(Ok(role)) => Some(role.into_string()),
            _ => {
                skipped += 1;
                None
            }
        })
        .collect();
    (roles, skipped)
}

/// Bad entries are skipped, not fatal: one nonsensical entry should not cost the person every other
/// profile. The warning says how many, so that the gap is never silent.
fn warn_skipped(op: &str, n: usize, what: &str) {
    eprintln!(
        "warning: {op} returned {n} {} with {what}; skipped",
        if n == 1 { "entry" } else { "entries" }
    );
}
