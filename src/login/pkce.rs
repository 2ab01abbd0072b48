//! The OAuth authorization-code grant with PKCE (S256): the browser signs in and comes back to a one-shot
//! HTTP listener on 127.0.0.1; the `state` parameter ties the answer to this login. The listener serves
//! connections concurrently and ignores (with an error page) anything that is not this login's answer.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{LoginError, LoginOptions};
use crate::browser;
use crate::output::sanitize;
use crate::secret::Secret;
use crate::session::SessionConfig;
use crate::sso::{ClientRegistration, Grant, Oidc, TokenGrant};

const CALLBACK_PATH: &str = "/oauth/callback";
/// RFC 3986 unreserved characters stay as they are in query values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS random number generator is available");
    buf
}

/// A 64-character verifier over the unreserved alphabet (RFC 7636 §4.1).
pub fn new_verifier() -> Secret<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let bytes = random_bytes::<64>();
    Secret::new(
        bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect(),
    )
}

/// base64url(SHA-256(verifier)) without padding.
pub fn challenge(verifier: &Secret<String>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.expose().as_bytes()))
}

pub async fn run(
    oidc: &Oidc,
    client: &ClientRegistration,
    session: &SessionConfig,
    options: &LoginOptions,
) -> Result<TokenGrant, LoginError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| LoginError::Io {
            context: "cannot listen on 127.0.0.1 for the sign-in callback".into(),
            source: e,
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| LoginError::Io {
            context: "cannot read the callback listener's port".into(),
            source: e,
        })?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
    let verifier = new_verifier();
    let state: String = random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256",
        oidc.authorize_url(),
        encode(&client.client_id),
        encode(&redirect_uri),
        state,
    );
    if !client.scopes.is_empty() {
        url.push_str(&format!("&scopes={}", encode(&client.scopes.join(" "))));
    }
    url.push_str(&format!("&code_challenge={}", challenge(&verifier)));

    eprintln!(
        "Sign in to {} (session {}) in your browser:",
        sanitize(&session.start_url, 200),
        session.name
    );
    eprintln!("  {url}");
    if options.browser && browser::available() {
        browser::open(&url);
        eprintln!("Opened your browser; waiting for it to come back to 127.0.0.1:{port}…");
    } else {
        eprintln!(
            "Open that URL in a browser on this machine (it returns to 127.0.0.1:{port}); \
             over SSH, use `--flow device` instead."
        );
    }

    let code = tokio::time::timeout(options.timeout, wait_for_code(&listener, &state))
        .await
        .map_err(|_| LoginError::TimedOut {
            secs: options.timeout.as_secs(),
        })??;
    Ok(oidc
        .create_token(
            client,
            Grant::AuthorizationCode {
                code: &code,
                verifier: &verifier,
                redirect_uri: &redirect_uri,
            },
        )
        .await?)
}

/// How long one connection to the listener may take to send its request and get the answer. A browser
/// sends the request as soon as it connects; speculative connections (browsers preconnect) and probes from
/// other programs just sit there, and are served concurrently, so they never hold the real callback up.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more are closed at once (a local flood cannot exhaust awsso).
const MAX_CONNECTIONS: usize = 64;

/// Serves the loopback listener until the browser brings back the authorization response for this login.
///
/// Anything else that reaches the port (another local process, a web page's `<img src=http://127.0.0.1…>`,
/// a stale tab of an earlier login) is answered with an error page and otherwise ignored: only an answer
/// carrying this login's `state` ends the wait, so nobody but the browser that got the URL can abort the
/// login. The caller bounds the whole wait with the login's timeout.
async fn wait_for_code(listener: &TcpListener, state: &str) -> Result<Secret<String>, LoginError> {
    let state: Arc<str> = Arc::from(state);
    let warned = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    // Dropped on return, which aborts the connections still being served.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                while connections.try_join_next().is_some() {}
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // EMFILE and the like pass; waiting a moment keeps a failing accept from spinning.
                        tracing::debug!("accept on the callback listener failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if connections.len() >= MAX_CONNECTIONS {
                    continue;
                }
                let (tx, state, warned) = (tx.clone(), state.clone(), warned.clone());
                connections.spawn(async move {
                    let served = tokio::time::timeout(CONNECTION_TIMEOUT, serve(stream, &state, &warned));
                    if let Ok(Some(outcome)) = served.await {
                        let _ = tx.send(outcome).await;
                    }
                });
            }
            Some(outcome) = rx.recv() => return outcome,
        }
    }
}

/// Answers one connection. `Some` when it carried this login's answer (a code or the server's refusal),
/// `None` when it was something else, which the login ignores.
async fn serve(
    mut stream: TcpStream,
    state: &str,
    warned: &AtomicBool,
) -> Option<Result<Secret<String>, LoginError>> {
    let target = read_request_target(&mut stream).await?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != CALLBACK_PATH {
        respond(&mut stream, "404 Not Found", "Not found.").await;
        return None;
    }
    let params = parse_query(query);
    if params.get("state").map(String::as_str) != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            "This sign-in answer does not belong to the awsso login that is waiting. Nothing was changed.",
        )
        .await;
        if !warned.swap(true, Ordering::Relaxed) {
            eprintln!(
                "Ignored a request to the sign-in listener that is not this login's answer (wrong or no \
                 state: another program or a web page?); still waiting for the browser."
            );
        }
        return None;
    }
    if let Some(error) = params.get("error") {
        respond(
            &mut stream,
            "200 OK",
            "Sign-in was not completed. You can close this tab.",
        )
        .await;
        let description = params.get("error_description").cloned().unwrap_or_default();
        return Some(Err(match error.as_str() {
            "access_denied" => crate::sso::SsoError::AccessDenied.into(),
            other => LoginError::Callback {
                error: sanitize(other, 80),
                description: sanitize(&description, 300),
            },
        }));
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        respond(
            &mut stream,
            "400 Bad Request",
            "The sign-in answer has no code.",
        )
        .await;
        return Some(Err(LoginError::Callback {
            error: "missing_code".into(),
            description: "the browser came back without an authorization code".into(),
        }));
    };
    respond(
        &mut stream,
        "200 OK",
        "Signed in to AWS IAM Identity Center. You can close this tab and return to the terminal.",
    )
    .await;
    Some(Ok(Secret::new(code.clone())))
}

/// The request target of a GET, or None for anything unreadable (a probe, a half-open connection). The
/// caller bounds the time this takes.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut parts = text.lines().next()?.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_string()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>awsso</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h2>awsso</h2><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (!k.is_empty()).then(|| (decode(k), decode(v)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_and_challenge_follow_rfc7636() {
        let v = new_verifier();
        assert_eq!(v.expose().len(), 64);
        assert!(
            v.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        );
        // RFC 7636 appendix B.
        let known = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string());
        assert_eq!(
            challenge(&known),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn query_values_are_decoded() {
        let q = parse_query("code=a%2Bb&state=x+y&error_description=no%20way&flag");
        assert_eq!(q["code"], "a+b");
        assert_eq!(q["state"], "x y");
        assert_eq!(q["error_description"], "no way");
        assert_eq!(q["flag"], "");
    }

    #[test]
    fn redirect_uri_is_fully_encoded() {
        assert_eq!(
            encode("http://127.0.0.1:8080/oauth/callback"),
            "http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fcallback"
        );
        assert_eq!(encode("sso:account:access"), "sso%3Aaccount%3Aaccess");
    }
}
