//! The container-credentials endpoint that `awsso exec --server` and `awsso serve` run: the HTTP server
//! (hyper) the SDKs' container provider calls with `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`, one route (random path and token) per role, and the in-memory copy of
//! each role's credentials that spares the store a read on every request.
//!
//! The credentials themselves come from a [`Fetch`] the command gives (the same function `awsso creds`
//! uses), so the cache, single-flight fetching and login rules are those of every other command.
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;

use base64::Engine as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::output::rfc3339;
use crate::secret::Secret;
use crate::sso::{self, RoleCredentials};

/// Variables that would make an SDK take other credentials before the container provider, or read
/// another token: a command under `exec --server` must not see them.
pub const SHADOWING: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];
pub const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const AUTH_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/// Credentials handed out keep at least this long: botocore refreshes when less than 15 minutes remain
/// (the JavaScript and Java SDKs later), so anything shorter would send it back on every call.
pub const CLIENT_REFRESH: i64 = 15 * 60;

/// Fetches a role's credentials; the error is the one-line message for the log and the client.
pub type Fetch = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<RoleCredentials, String>>>>>;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the system gave no random bytes: {0}")]
    Random(getrandom::Error),
}

/// One role served at one path, to whoever presents its token.
struct Route {
    path: String,
    token: Secret<String>,
    label: String,
    account_id: String,
    fetch: Fetch,
    held: RefCell<Option<RoleCredentials>>,
    /// Held across a fetch so that concurrent requests make one upstream call.
    refreshing: tokio::sync::Mutex<()>,
}

/// What a client sets to reach one route.
pub struct Access {
    pub label: String,
    pub uri: String,
    pub token: Secret<String>,
}

/// A bound listener and its routes; [`Endpoint::serve`] answers until dropped.
pub struct Endpoint {
    listener: TcpListener,
    addr: SocketAddr,
    routes: Vec<Rc<Route>>,
}

/// `n` random bytes, URL-safe base64.
fn random(n: usize) -> Result<String, ServerError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(ServerError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Whether a client SDK accepts a plain-http full URI on this address (loopback only; the ECS/EKS
/// link-local addresses are not ours to bind).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

impl Endpoint {
    pub async fn bind(addr: SocketAddr) -> Result<Endpoint, ServerError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Endpoint {
            listener,
            addr,
            routes: Vec::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a route for one role. `path` must be URL-safe (it is used as given); `None` picks a random
    /// one. `first`, when given, is served until it is due for refresh.
    pub fn add(
        &mut self,
        label: &str,
        path: Option<String>,
        account_id: &str,
        fetch: Fetch,
        first: Option<RoleCredentials>,
    ) -> Result<Access, ServerError> {
        let path = match path {
            Some(p) => p,
            None => format!("/{}", random(18)?),
        };
        let token = Secret::new(random(32)?);
        let host = match self.addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let access = Access {
            label: label.to_string(),
            uri: format!("http://{host}:{}{path}", self.addr.port()),
            token: token.clone(),
        };
        self.routes.push(Rc::new(Route {
            path,
            token,
            label: label.to_string(),
            account_id: account_id.to_string(),
            fetch,
            held: RefCell::new(first),
            refreshing: tokio::sync::Mutex::new(()),
        }));
        Ok(access)
    }

    /// Accepts connections until the future is dropped (the command ends it with its child). Connections
    /// are served concurrently on this thread: the fetchers need not be `Send`.
    pub async fn serve(self) -> std::io::Error {
        let routes: Rc<[Rc<Route>]> = self.routes.into();
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                loop {
                    let (stream, peer) = match self.listener.accept().await {
                        Ok(s) => s,
                        Err(e) if is_transient(&e) => continue,
                        Err(e) => return e,
                    };
                    let routes = routes.clone();
                    tokio::task::spawn_local(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let routes = routes.clone();
                            async move { Ok::<_, Infallible>(answer(&routes, req).await) }
                        });
                        if let Err(e) = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                        {
                            tracing::debug!(%peer, "container-credentials connection: {e}");
                        }
                    });
                }
            })
            .await
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || e.raw_os_error() == Some(24) // EMFILE: wait for a descriptor rather than stop serving
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({ "code": code, "message": message }).to_string(),
    )
}

async fn answer(routes: &[Rc<Route>], req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(route) = routes.iter().find(|r| r.path == req.uri().path()) else {
        return error(StatusCode::NOT_FOUND, "NotFound", "no credentials here");
    };
    if req.method() != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "use GET",
        );
    }
    let Some(presented) = req.headers().get(AUTHORIZATION) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "set AWS_CONTAINER_AUTHORIZATION_TOKEN",
        );
    };
    if !bool::from(presented.as_bytes().ct_eq(route.token.expose().as_bytes())) {
        tracing::warn!(route = %route.label, "container-credentials request with a wrong token");
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "wrong authorization token",
        );
    }
    match credentials(route).await {
        Ok(c) => json(StatusCode::OK, body(&c, &route.account_id)),
        Err(message) => {
            eprintln!("awsso: credentials for {}: {message}", route.label);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "CredentialsUnavailable",
                &message,
            )
        }
    }
}

/// The held credentials while they have more than [`CLIENT_REFRESH`] left, else new ones from the fetcher.
async fn credentials(route: &Route) -> Result<RoleCredentials, String> {
    let fresh = |c: &RoleCredentials| c.expiration - sso::now() > CLIENT_REFRESH;
    let _single = route.refreshing.lock().await;
    if let Some(c) = route.held.borrow().as_ref().filter(|c| fresh(c)) {
        return Ok(c.clone());
    }
    let c = (route.fetch)().await?;
    *route.held.borrow_mut() = Some(c.clone());
    Ok(c)
}

/// The answer the SDKs parse (botocore, the JavaScript SDK's fromContainerMetadata and fromHttp).
pub fn body(c: &RoleCredentials, account_id: &str) -> String {
    serde_json::json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "Token": c.session_token.expose(),
        "Expiration": rfc3339(c.expiration),
        "AccountId": account_id,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_paths_are_random_and_url_safe() {
        let a = random(32).unwrap();
        let b = random(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn the_body_has_the_fields_the_sdks_read() {
        let c = RoleCredentials {
            access_key_id: "AKIA".into(),
            secret_access_key: Secret::new("s".into()),
            session_token: Secret::new("t".into()),
            expiration: 1_767_225_600,
        };
        let v: serde_json::Value = serde_json::from_str(&body(&c, "123456789012")).unwrap();
        assert_eq!(v["Expiration"], "2026-01-01T00:00:00Z");
        assert_eq!(v["AccountId"], "123456789012");
        assert_eq!(v["Token"], "t");
    }
}
