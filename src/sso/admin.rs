//! The sso-admin API, as far as `awsso doctor --instances` needs it: ListInstances. Unlike the portal it is
//! signed with SigV4 from the caller's credentials (not a bearer token); otherwise it is built like the
//! other clients (the shared HTTPS client, timeouts and answer guard of `client.rs`), and its endpoint
//! follows the same override rules ([`super::endpoints::admin_endpoint`]).
use aws_sdk_ssoadmin::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::RetryConfig;

use super::client::sdk_config;
use super::guard;
use crate::output::sanitize;

/// One instance as ListInstances describes it (as served: untrusted text, sanitised wherever shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: Option<String>,
    pub status: String,
}

/// Why a sso-admin call failed, in one line with nothing raw from the server.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The service's own error code and message.
    #[error("{code}: {message}")]
    Service { code: String, message: String },
    /// An answer [`guard`] refused before the SDK read it.
    #[error("the answer was refused: {0}")]
    Refused(String),
    /// No answer (network, timeout) or one the SDK could not read.
    #[error("{0}")]
    Other(String),
}

/// The sso-admin API of one region.
pub struct Admin {
    client: aws_sdk_ssoadmin::Client,
}

impl Admin {
    /// A client for `region` that signs with `credentials`; `endpoint` overrides the service URL. Two
    /// attempts: doctor reports a failure rather than waiting long for it.
    pub fn new(
        region: &str,
        credentials: aws_credential_types::Credentials,
        endpoint: Option<&str>,
    ) -> Admin {
        let conf = sdk_config!(
            aws_sdk_ssoadmin,
            region,
            RetryConfig::standard().with_max_attempts(2),
            endpoint
        )
        .credentials_provider(credentials);
        Admin {
            client: aws_sdk_ssoadmin::Client::from_conf(conf.build()),
        }
    }

    /// Every instance visible to the credentials, over all pages.
    pub async fn list_instances(&self) -> Result<Vec<Instance>, AdminError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        // A page holds up to 100 instances; an account has a handful. The cap only guards against a loop.
        for _ in 0..50 {
            let page = self
                .client
                .list_instances()
                .set_next_token(next.take())
                .send()
                .await
                .map_err(admin_err)?;
            for i in page.instances() {
                out.push(Instance {
                    arn: i.instance_arn().unwrap_or_default().to_string(),
                    identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
                    owner_account_id: i.owner_account_id().unwrap_or_default().to_string(),
                    name: i.name().map(str::to_string),
                    status: i
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }
}

fn admin_err<E, R>(e: SdkError<E, R>) -> AdminError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(refused) = guard::refused_in(&e) {
        return AdminError::Refused(refused.to_string());
    }
    match &e {
        SdkError::ServiceError(se) => AdminError::Service {
            code: sanitize(se.err().code().unwrap_or("UnknownError"), 80),
            message: sanitize(se.err().message().unwrap_or("no message"), 300),
        },
        _ => AdminError::Other(sanitize(&DisplayErrorContext(&e).to_string(), 300)),
    }
}
