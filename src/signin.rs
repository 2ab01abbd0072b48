//! The federation sign-in endpoint (`https://signin.aws.amazon.com/federation` and its partition twins):
//! where it is, the getSigninToken exchange that turns role credentials into a console sign-in URL, and the
//! one plain HTTP GET awsso makes outside the SDKs (the endpoint is not an SDK service), which `doctor`
//! also uses to read a server's `Date` header. The GET runs on the hyper, hyper-util and rustls (ring) stack
//! that the SDK's HTTP client already brings, so it adds no crate to the build.
//!
//! Its failures are [`ConsoleError`]s (the console command's, whose hints name `AWSSO_SIGNIN_ENDPOINT`);
//! the GET's own are [`HttpError`]s, whose messages never carry the URL.
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;

use crate::console::{ConsoleError, Partition, encode};
use crate::output::sanitize;
use crate::secret::Secret;
use crate::sso::RoleCredentials;

/// What the console shows as the origin of a federated sign-in.
pub const ISSUER: &str = "awsso";

/// The sign-in endpoint for a partition: `AWSSO_SIGNIN_ENDPOINT` when set, else the partition's own.
pub fn signin_endpoint(region: &str) -> String {
    crate::vars::env()
        .signin_endpoint
        .clone()
        .unwrap_or_else(|| Partition::of_region(region).signin_endpoint().to_string())
}

/// The federation sign-in URL for role credentials: getSigninToken, then the login URL carrying the
/// token. The result is a credential in itself (whoever opens it within 15 minutes is signed in as
/// the role), hence a [`Secret`].
pub async fn federated_url(
    endpoint: &str,
    creds: &RoleCredentials,
    destination: &str,
) -> Result<Secret<String>, ConsoleError> {
    let session = Secret::new(
        serde_json::json!({
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key.expose(),
            "sessionToken": creds.session_token.expose(),
        })
        .to_string(),
    );
    let request = Secret::new(format!(
        "{endpoint}/federation?Action=getSigninToken&Session={}",
        encode(session.expose())
    ));
    let reply = http_get(request.expose(), Duration::from_secs(20))
        .await
        .map_err(|e| ConsoleError::Network {
            endpoint: endpoint.to_string(),
            detail: e.to_string(),
        })?;
    if reply.status == 400 || reply.status == 401 || reply.status == 403 {
        return Err(ConsoleError::Refused {
            endpoint: endpoint.to_string(),
            status: reply.status,
        });
    }
    #[derive(serde::Deserialize)]
    struct TokenReply {
        #[serde(rename = "SigninToken")]
        signin_token: Secret<String>,
    }
    let token = (reply.status == 200)
        .then(|| serde_json::from_slice::<TokenReply>(&reply.body).ok())
        .flatten()
        .filter(|t| !t.signin_token.expose().is_empty())
        .ok_or(ConsoleError::InvalidResponse {
            endpoint: endpoint.to_string(),
            status: reply.status,
        })?;
    Ok(Secret::new(format!(
        "{endpoint}/federation?Action=login&Issuer={}&Destination={}&SigninToken={}",
        encode(ISSUER),
        encode(destination),
        encode(token.signin_token.expose())
    )))
}

/// What [`http_get`] read: the status, the `Date` header, and at most [`MAX_BODY`] bytes of body.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub date: Option<String>,
    pub body: Vec<u8>,
}

/// The replies read here are small JSON documents or error pages.
pub const MAX_BODY: usize = 64 * 1024;

/// Why a GET failed. Messages never carry the URL, whose query can hold credentials.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("not a valid http(s) URL")]
    BadUrl,
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Transport(String),
}

/// One GET over HTTPS (or plain HTTP, for local endpoints), with a deadline on the whole exchange.
pub async fn http_get(url: &str, timeout: Duration) -> Result<HttpReply, HttpError> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let uri: hyper::Uri = url.parse().map_err(|_| HttpError::BadUrl)?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
        return Err(HttpError::BadUrl);
    }
    let client = Client::builder(TokioExecutor::new()).build(https_connector());
    let request = hyper::Request::get(uri)
        .header(
            hyper::header::USER_AGENT,
            concat!("awsso/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|_| HttpError::BadUrl)?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| HttpError::Transport(describe_transport(&e)))?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get(hyper::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| HttpError::Transport(sanitize(&e.to_string(), 200)))?
            .to_bytes()
            .to_vec();
        Ok(HttpReply { status, date, body })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout(timeout.as_secs()))?
}

/// The innermost cause of a client error (e.g. "Connection refused"), which is what a person can act on.
fn describe_transport(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    sanitize(&inner.to_string(), 200)
}

fn https_connector()
-> hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match builder.with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b,
        Err(e) => {
            // No system CA certificates: plain-HTTP endpoints still work, HTTPS fails on the certificate.
            tracing::debug!("no native root certificates: {e}");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    builder.https_or_http().enable_http1().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_http_urls_are_fetched_and_errors_name_no_url() {
        for bad in ["ftp://x/y", "not a url", "/relative", "https:///nohost"] {
            let e = http_get(bad, Duration::from_secs(1)).await.unwrap_err();
            assert!(matches!(e, HttpError::BadUrl), "{bad}: {e}");
        }
        // A closed loopback port: a transport error naming the cause, not the URL (which can hold secrets).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/federation?Session=very-secret");
        let e = http_get(&url, Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(e, HttpError::Transport(_)), "{e}");
        assert!(!e.to_string().contains("very-secret"), "{e}");
    }
}
