//! What every Identity Center client of awsso is built from: one HTTPS client (rustls with ring), the
//! timeouts, the [`guard::AnswerGuard`] that caps and vets answers, the endpoint when one is configured
//! ([`super::endpoints`]), and the mapping of the SDK's errors to [`SsoError`]. The SDK's service crates
//! share the builder's method names but no trait, so the common part is a macro, [`sdk_config!`].
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::timeout::TimeoutConfig;

use super::{SsoError, bad_answer, guard};
use crate::output::sanitize;

/// The configuration builder of an SDK service crate (`aws_sdk_ssooidc`, `aws_sdk_sso`,
/// `aws_sdk_ssoadmin`) with what all of awsso's clients share: the region, the one HTTPS client, the answer
/// guard, the retry policy given, the timeouts, and the endpoint URL when one is configured (otherwise the
/// SDK resolves the region's own).
macro_rules! sdk_config {
    ($sdk:ident, $region:expr, $retry:expr, $endpoint:expr) => {{
        let mut conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new(String::from($region)))
            .http_client($crate::sso::client::http_client())
            .interceptor($crate::sso::guard::AnswerGuard)
            .retry_config($retry)
            .timeout_config($crate::sso::client::timeouts());
        if let Some(url) = $endpoint {
            conf = conf.endpoint_url(url);
        }
        conf
    }};
}
pub(crate) use sdk_config;

pub(crate) fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build()
}

/// Maps an SDK error to an [`SsoError`], by the error code the service sent; answers the SDK could not
/// make sense of (refused by [`guard`], redirects, malformed bodies) become [`SsoError::BadAnswer`].
pub(super) fn map_err<E>(
    op: &'static str,
    endpoint: &str,
    err: SdkError<E, HttpResponse>,
) -> SsoError
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
