//! Test-side HTTP client for the simulator: raw HTTP/1.1 over `std::net::TcpStream` with
//! `Connection: close`, so the tests exercise the real socket without an HTTP client dependency.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {:?}", self.body))
    }

    /// The error shape name as SDKs derive it: `x-amzn-ErrorType` up to the first `:`.
    pub fn error_type(&self) -> &str {
        let h = self.header("x-amzn-ErrorType").unwrap_or("");
        h.split(':').next().unwrap_or("")
    }

    /// The OAuth error code of an OIDC error body.
    pub fn oidc_error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    #[track_caller]
    pub fn assert_oidc_error(&self, status: u16, shape: &str, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.error_type(), shape, "{self:?}");
        assert_eq!(
            self.header("x-amzn-ErrorType").unwrap(),
            format!("{shape}:http://internal.amazon.com/coral/com.amazonaws.swbup.oidc/")
        );
        assert_eq!(self.oidc_error(), code, "{self:?}");
        assert!(self.json()["error_description"].is_string());
        assert_eq!(self.header("content-type"), Some("application/json"));
    }

    #[track_caller]
    pub fn assert_portal_error(&self, status: u16, shape: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("x-amzn-ErrorType").unwrap(),
            format!("{shape}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/")
        );
        let body = self.json();
        assert_eq!(
            body["__type"],
            format!("com.amazonaws.switchboard.portal#{shape}")
        );
        assert!(body["message"].is_string());
    }
}

/// One HTTP/1.1 exchange on a fresh connection.
pub fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let host = url.strip_prefix("http://").expect("http url");
    let mut stream = TcpStream::connect(host).expect("connect to simulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = String::from_utf8(raw[split + 4..].to_vec()).expect("body is UTF-8");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body,
    }
}

/// A thin typed layer over [`request`] for one simulator.
pub struct Api {
    pub url: String,
}

impl Api {
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        request(
            &self.url,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            Some(&body.to_string()),
        )
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        match token {
            Some(t) => request(
                &self.url,
                "GET",
                path,
                &[("x-amz-sso_bearer_token", t)],
                None,
            ),
            None => request(&self.url, "GET", path, &[], None),
        }
    }

    /// RegisterClient; returns (clientId, clientSecret).
    pub fn register(&self, scopes: &[&str]) -> (String, String) {
        let r = self.post(
            "/client/register",
            &json!({"clientName": "awsso-test", "clientType": "public", "scopes": scopes}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        (
            v["clientId"].as_str().unwrap().to_owned(),
            v["clientSecret"].as_str().unwrap().to_owned(),
        )
    }

    pub fn start_device(&self, client: &(String, String)) -> Value {
        let r = self.post(
            "/device_authorization",
            &json!({"clientId": client.0, "clientSecret": client.1,
                    "startUrl": "https://d-123.awsapps.com/start"}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        r.json()
    }

    pub fn poll(&self, client: &(String, String), device_code: &str) -> Resp {
        self.post(
            "/token",
            &json!({"clientId": client.0, "clientSecret": client.1,
                    "grantType": DEVICE_GRANT, "deviceCode": device_code}),
        )
    }

    pub fn refresh(&self, client: &(String, String), refresh_token: &str) -> Resp {
        self.post(
            "/token",
            &json!({"clientId": client.0, "clientSecret": client.1,
                    "grantType": "refresh_token", "refreshToken": refresh_token}),
        )
    }

    /// A full device login with the sim's defaults (first poll pending, auto-approved) using
    /// `interval` 0 so no sleeping is needed; returns the CreateToken body.
    pub fn login(&self, client: &(String, String)) -> Value {
        let dev = self.start_device(client);
        let code = dev["deviceCode"].as_str().unwrap();
        for _ in 0..10 {
            let r = self.poll(client, code);
            if r.status == 200 {
                return r.json();
            }
            assert_eq!(r.oidc_error(), "authorization_pending", "{r:?}");
        }
        panic!("device code never approved");
    }

    pub fn list_accounts(&self, token: &str, query: &str) -> Resp {
        self.get(&format!("/assignment/accounts{query}"), Some(token))
    }
}

/// Percent-encoding of a query value, RFC 3986 unreserved characters kept.
pub fn enc(s: &str) -> String {
    const VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, VALUE).to_string()
}
