//! The OAuth device authorization grant: show a code, let the person approve it in any browser (on any
//! machine, which is what makes it work over SSH), and poll CreateToken until they do.
use std::time::{Duration, Instant};

use super::{LoginError, LoginOptions};
use crate::browser;
use crate::output::{format_duration, sanitize};
use crate::session::SessionConfig;
use crate::sso::{ClientRegistration, Grant, Oidc, SsoError, TokenGrant};

/// Interval the protocol prescribes when the server gives none.
const DEFAULT_INTERVAL: u64 = 5;
/// Added to the interval on each slow_down (RFC 8628 §3.5).
const SLOW_DOWN_STEP: u64 = 5;

pub async fn run(
    oidc: &Oidc,
    client: &ClientRegistration,
    session: &SessionConfig,
    options: &LoginOptions,
) -> Result<TokenGrant, LoginError> {
    let auth = oidc
        .start_device_authorization(client, &session.start_url)
        .await?;
    let url = auth
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| auth.verification_uri.clone());
    let opened = options.browser && browser::available();
    eprintln!(
        "Sign in to {} (session {}):",
        sanitize(&session.start_url, 200),
        session.name
    );
    eprintln!("  open  {}", sanitize(&url, 500));
    eprintln!("  code  {}", auth.user_code);
    if opened {
        browser::open(&url);
        eprintln!("Opened your browser; confirm that it shows the code above.");
    }
    // expires_in was checked to be positive and at most a year by the SSO client.
    let lifetime = auth.expires_in.max(1) as u64;
    eprintln!(
        "Waiting for approval (the code expires in {}; Ctrl-C to cancel)…",
        format_duration(lifetime as i64)
    );

    let deadline = Instant::now() + Duration::from_secs(lifetime);
    let mut interval = if auth.interval > 0 {
        auth.interval as u64
    } else {
        DEFAULT_INTERVAL
    };
    if interval >= lifetime {
        tracing::warn!(
            interval,
            lifetime,
            "the poll interval is longer than the code's lifetime; polling once, at expiry"
        );
    }
    loop {
        // Never sleep past the code's expiry: an interval longer than the lifetime (a broken or hostile
        // server) would otherwise keep the login waiting after the code is dead.
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(Duration::from_secs(interval).min(left)).await;
        match oidc
            .create_token(client, Grant::DeviceCode(&auth.device_code))
            .await
        {
            Ok(grant) => return Ok(grant),
            Err(SsoError::Pending) => {}
            Err(SsoError::SlowDown) => {
                interval += SLOW_DOWN_STEP;
                tracing::debug!(interval, "server asked to slow down");
            }
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            return Err(SsoError::DeviceCodeExpired.into());
        }
    }
}
