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

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};

    use super::*;

    /// A loopback server that answers every request with `response` (the bytes of an HTTP/1.1 answer).
    fn canned(response: &'static str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        url
    }

    fn admin(url: &str) -> Admin {
        let keys =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        Admin::new("eu-west-1", keys, Some(url))
    }

    #[tokio::test]
    async fn instances_are_read_and_hostile_answers_refused() {
        let ok = canned(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 139\r\n\r\n\
             {\"Instances\":[{\"InstanceArn\":\"arn:aws:sso:::instance/ssoins-1\",\"IdentityStoreId\":\"d-1\",\
             \"OwnerAccountId\":\"111111111111\",\"Status\":\"ACTIVE\"}]}",
        );
        let found = admin(&ok).list_instances().await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].owner_account_id, "111111111111");
        assert_eq!(found[0].status, "ACTIVE");

        // The shared answer guard holds for sso-admin too: no redirects, no oversized answers.
        let redirect = canned(
            "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n",
        );
        let e = admin(&redirect).list_instances().await.unwrap_err();
        assert!(
            matches!(&e, AdminError::Refused(m) if m.contains("redirect")),
            "{e}"
        );
        let huge = canned(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 300000000\r\n\r\n{",
        );
        let e = admin(&huge).list_instances().await.unwrap_err();
        assert!(
            matches!(&e, AdminError::Refused(m) if m.contains("larger than")),
            "{e}"
        );

        let denied = canned(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 63\r\n\r\n\
             {\"__type\":\"AccessDeniedException\",\"message\":\"no\\u001b[31m way\"}",
        );
        let e = admin(&denied).list_instances().await.unwrap_err();
        assert_eq!(e.to_string(), "AccessDeniedException: no?[31m way");
    }
}
