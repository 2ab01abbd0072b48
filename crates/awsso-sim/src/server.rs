//! HTTP plumbing: the accept loop (hyper 1, one task per keep-alive connection), routing of the
//! OIDC, portal, federation, sso-admin, verification-page and `/_sim` admin routes, and rendering
//! results as responses. hyper adds a `Date` header to every response, which awsso's doctor uses to
//! measure clock skew.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::admin::{FederationError, SignedRequest};
use crate::hostile::{PaddedBody, Spoil, apply_set};
use crate::service::{AuthorizeResult, DEVICE_GRANT, DeviceStatus, Shared};
use crate::wire::{ApiError, Service};

type Resp = Response<Either<Full<Bytes>, PaddedBody>>;

/// Request bodies are tiny JSON documents; anything larger is a client bug.
const MAX_BODY: usize = 1 << 20;

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
                        // Errors here are peers hanging up mid-request: nothing to report.
                        let _ = http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
                // Typically EMFILE under a connection storm: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query());
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = header("x-amz-sso_bearer_token");
    let signed = SignedRequest {
        target: header("x-amz-target"),
        authorization: header("authorization"),
        amz_date: header("x-amz-date"),
        security_token: header("x-amz-security-token"),
    };
    let (op, resp) = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => {
            let body = body.to_bytes();
            route(&shared, &method, &path, &query, bearer, &signed, &body).await
        }
        Err(_) => ("-", text(StatusCode::PAYLOAD_TOO_LARGE, "body too large")),
    };
    let mut resp = resp;
    let offset = shared.config().clock_offset_secs;
    if offset != 0 {
        // hyper only adds its own Date when the response has none.
        let now = std::time::SystemTime::now();
        let at = if offset > 0 {
            now + Duration::from_secs(offset.unsigned_abs())
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        };
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
            resp.headers_mut().insert(hyper::header::DATE, v);
        }
    }
    if shared.log_requests {
        eprintln!(
            "awsso-sim: {method} {path} {op} {} ({} ms)",
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    Ok(resp)
}

async fn route(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    bearer: Option<&str>,
    signed: &SignedRequest<'_>,
    body: &[u8],
) -> (&'static str, Resp) {
    // Invalid JSON becomes Null, which every operation rejects as InvalidRequestException.
    let json_body = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    match (method.clone(), path) {
        // ---- SSO OIDC ----
        (Method::POST, "/client/register") => {
            let b = json_body();
            let r = api(shared, Service::Oidc, &["RegisterClient"], || {
                shared.register_client(&b)
            });
            ("RegisterClient", r.await)
        }
        (Method::POST, "/device_authorization") => {
            let b = json_body();
            let r = api(shared, Service::Oidc, &["StartDeviceAuthorization"], || {
                shared.start_device_authorization(&b)
            });
            ("StartDeviceAuthorization", r.await)
        }
        (Method::POST, "/token") => {
            let b = json_body();
            // The counters are kept before the body is checked, so a refused body still counts
            // under its grant: peek at the one member they need.
            let grant = match b.get("grantType").and_then(Value::as_str) {
                Some(DEVICE_GRANT | "device_code") => Some("CreateToken.device_code"),
                Some("refresh_token") => Some("CreateToken.refresh_token"),
                Some("authorization_code") => Some("CreateToken.authorization_code"),
                _ => None,
            };
            let ops: &[&'static str] = match grant {
                Some(g) => &["CreateToken", g][..],
                None => &["CreateToken"][..],
            };
            let r = api(shared, Service::Oidc, ops, || shared.create_token(&b));
            ("CreateToken", r.await)
        }
        (Method::GET, "/authorize") => {
            let adm = shared.admit(&["Authorize"], false);
            sleep(adm.latency).await;
            let resp = match shared.authorize(query) {
                AuthorizeResult::Redirect(location) => redirect(&location),
                AuthorizeResult::Page(status, msg) => html(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    "Authorization failed",
                    &msg,
                ),
            };
            ("Authorize", resp)
        }

        // ---- SSO portal ----
        (Method::GET, "/assignment/accounts") => {
            let r = api(shared, Service::Portal, &["ListAccounts"], || {
                shared.list_accounts(bearer, query)
            });
            ("ListAccounts", r.await)
        }
        (Method::GET, "/assignment/roles") => {
            let r = api(shared, Service::Portal, &["ListAccountRoles"], || {
                shared.list_account_roles(bearer, query)
            });
            ("ListAccountRoles", r.await)
        }
        (Method::GET, "/federation/credentials") => {
            let r = api(shared, Service::Portal, &["GetRoleCredentials"], || {
                shared.get_role_credentials(bearer, query)
            });
            ("GetRoleCredentials", r.await)
        }
        (Method::POST, "/logout") => {
            let r = api(shared, Service::Portal, &["Logout"], || {
                shared.logout(bearer).map(|()| Value::Null)
            });
            ("Logout", r.await)
        }

        // ---- console federation (signin.aws.amazon.com) ----
        (Method::GET, "/federation") => match query.get("Action").map(String::as_str) {
            Some("getSigninToken") => {
                let adm = shared.admit(&["GetSigninToken"], false);
                sleep(adm.latency).await;
                let resp = match shared.get_signin_token(query) {
                    Ok(v) => ok_json(&v),
                    Err(FederationError(m)) => text(StatusCode::BAD_REQUEST, &m),
                };
                ("GetSigninToken", resp)
            }
            Some("login") => {
                let adm = shared.admit(&["FederationLogin"], false);
                sleep(adm.latency).await;
                let resp = match shared.federation_login(query) {
                    Ok(destination) => redirect(&destination),
                    Err(FederationError(m)) => text(StatusCode::BAD_REQUEST, &m),
                };
                ("FederationLogin", resp)
            }
            _ => (
                "-",
                text(
                    StatusCode::BAD_REQUEST,
                    "Action must be getSigninToken or login",
                ),
            ),
        },

        // ---- sso-admin (awsJson1_1) ----
        (Method::POST, "/") if signed.target.is_some() => {
            let b = json_body();
            let adm = shared.admit(&["ListInstances"], true);
            sleep(adm.latency).await;
            let result = match adm.rejection {
                Some(e) => Err(e),
                None => shared.admin_call(signed, &b),
            };
            let resp = match result {
                Ok(v) => finish(
                    base(StatusCode::OK).header(CONTENT_TYPE, "application/x-amz-json-1.1"),
                    v.to_string(),
                ),
                Err(e) => error_resp(Service::Admin, &e),
            };
            ("ListInstances", resp)
        }

        // ---- the "browser" side of the device flow ----
        (Method::GET, "/device") => ("DevicePage", device_page(shared, query)),

        // ---- admin: never counted, never delayed ----
        (Method::GET, "/_sim/stats") => ("admin", ok_json(&json!(shared.counts()))),
        (Method::POST, "/_sim/revoke") => {
            shared.revoke_all();
            ("admin", ok_json(&json!({"ok": true})))
        }
        (Method::POST, "/_sim/expire-clients") => {
            shared.expire_clients();
            ("admin", ok_json(&json!({"ok": true})))
        }
        (Method::POST, "/_sim/reset-counts") => {
            shared.reset_counts();
            ("admin", ok_json(&json!({"ok": true})))
        }
        (Method::POST, "/_sim/approve") => {
            let code = query.get("user_code").map(String::as_str).unwrap_or("");
            let resp = match shared.approve_user_code(code) {
                Some(status) => ok_json(&json!({"ok": true, "status": status_name(status)})),
                None => json_resp(
                    StatusCode::NOT_FOUND,
                    &json!({"ok": false, "message": "unknown user_code"}),
                ),
            };
            ("admin", resp)
        }
        (Method::GET, "/_sim/config") => ("admin", ok_json(&shared.config_json())),
        (Method::POST, "/_sim/config") => {
            let resp = match serde_json::from_slice::<Value>(body)
                .map_err(|e| format!("invalid JSON: {e}"))
                .and_then(|patch| shared.update_from_json(&patch))
            {
                Ok(cfg) => ok_json(&cfg),
                Err(msg) => json_resp(
                    StatusCode::BAD_REQUEST,
                    &json!({"ok": false, "message": msg}),
                ),
            };
            ("admin", resp)
        }
        (Method::GET, "/_sim/credentials") => {
            ("admin", ok_json(&json!(shared.issued_credentials())))
        }
        (Method::GET, "/_sim/clients") => ("admin", ok_json(&json!(shared.clients()))),

        _ => {
            let e = ApiError {
                status: 404,
                shape: "UnknownOperationException",
                code: "unknown_operation",
                message: format!("No route for {method} {path}"),
            };
            ("-", error_resp(Service::Portal, &e))
        }
    }
}

/// One modelled API call: counted, possibly throttled or failed by injection, delayed, handled.
async fn api(
    shared: &Shared,
    service: Service,
    ops: &[&'static str],
    handler: impl FnOnce() -> Result<Value, ApiError>,
) -> Resp {
    let adm = shared.admit(ops, true);
    sleep(adm.latency).await;
    if let Some(e) = adm.rejection {
        return error_resp(service, &e);
    }
    let spoil = shared.lock().config.hostile.spoil_for(ops).cloned();
    match (handler(), spoil) {
        (Ok(v), Some(spoil)) => spoiled(v, spoil),
        (Ok(Value::Null), None) => empty_ok(),
        (Ok(v), None) => ok_json(&v),
        (Err(e), _) => error_resp(service, &e),
    }
}

/// A successful answer as a hostile server would send it.
fn spoiled(answer: Value, spoil: Spoil) -> Resp {
    match spoil {
        Spoil::Set(sets) => ok_json(&apply_set(answer, &sets)),
        Spoil::Raw(bytes) => finish(
            base(StatusCode::OK).header(CONTENT_TYPE, "application/json"),
            bytes,
        ),
        Spoil::Huge(size) => {
            let answer = if answer.is_object() {
                answer
            } else {
                json!({})
            };
            base(StatusCode::OK)
                .header(CONTENT_TYPE, "application/json")
                .body(Either::Right(PaddedBody::new(&answer, size)))
                .unwrap_or_else(|_| empty_ok())
        }
        Spoil::Redirect(location) => redirect(&location),
    }
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn device_page(shared: &Shared, query: &HashMap<String, String>) -> Resp {
    let Some(code) = query.get("user_code").filter(|c| !c.is_empty()) else {
        return html(
            StatusCode::OK,
            "Authorize request",
            "Open the link with ?user_code=XXXX-XXXX to approve a device code.",
        );
    };
    match shared.approve_user_code(code) {
        None => html(StatusCode::NOT_FOUND, "Unknown code", "Unknown user code."),
        Some(DeviceStatus::Approved | DeviceStatus::Redeemed) => html(
            StatusCode::OK,
            "Request approved",
            "Request approved. You can close this window.",
        ),
        Some(DeviceStatus::Denied) => html(StatusCode::OK, "Request denied", "Request denied."),
        Some(DeviceStatus::Expired) => html(StatusCode::OK, "Request expired", "Request expired."),
        Some(DeviceStatus::Pending) => html(StatusCode::OK, "Request pending", "Request pending."),
    }
}

fn status_name(s: DeviceStatus) -> &'static str {
    match s {
        DeviceStatus::Pending => "pending",
        DeviceStatus::Approved => "approved",
        DeviceStatus::Denied => "denied",
        DeviceStatus::Expired => "expired",
        DeviceStatus::Redeemed => "redeemed",
    }
}

/// Form-style query parsing (`+` is a space); clients percent-encode literal `+` as `%2B`.
fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        // First occurrence wins, as with most servers.
        out.entry(decode(k)).or_insert_with(|| decode(v));
    }
    out
}

fn base(status: StatusCode) -> hyper::http::response::Builder {
    // Both SDKs log the request id; a real-looking one keeps their debug output sane.
    Response::builder()
        .status(status)
        .header("x-amzn-RequestId", request_id())
}

fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn finish(b: hyper::http::response::Builder, body: impl Into<Bytes>) -> Resp {
    b.body(Either::Left(Full::new(body.into())))
        .unwrap_or_else(|_| Response::new(Either::Left(Full::new(Bytes::new()))))
}

fn json_resp(status: StatusCode, v: &Value) -> Resp {
    finish(
        base(status).header(CONTENT_TYPE, "application/json"),
        v.to_string(),
    )
}

fn ok_json(v: &Value) -> Resp {
    json_resp(StatusCode::OK, v)
}

fn empty_ok() -> Resp {
    finish(base(StatusCode::OK), Bytes::new())
}

fn error_resp(service: Service, e: &ApiError) -> Resp {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = base(status).header(CONTENT_TYPE, "application/json");
    if let Ok(v) = HeaderValue::from_str(&e.error_type_header(service)) {
        b = b.header("x-amzn-ErrorType", v);
    }
    finish(b, e.body(service).to_string())
}

fn redirect(location: &str) -> Resp {
    match HeaderValue::from_str(location) {
        Ok(v) => finish(base(StatusCode::FOUND).header(LOCATION, v), Bytes::new()),
        Err(_) => text(StatusCode::BAD_REQUEST, "redirect_uri is not a valid URI"),
    }
}

fn text(status: StatusCode, msg: &str) -> Resp {
    finish(
        base(status).header(CONTENT_TYPE, "text/plain; charset=utf-8"),
        msg.to_owned(),
    )
}

fn html(status: StatusCode, title: &str, msg: &str) -> Resp {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1><p>{}</p></body></html>",
        esc(title),
        esc(title),
        esc(msg)
    );
    finish(
        base(status).header(CONTENT_TYPE, "text/html; charset=utf-8"),
        page,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes_percent_and_plus() {
        let q = parse_query(Some(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Foauth%2Fcallback&a=b+c&role_name=x%2By&flag",
        ));
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5/oauth/callback");
        assert_eq!(q["a"], "b c");
        assert_eq!(q["role_name"], "x+y");
        assert_eq!(q["flag"], "");
    }
}
