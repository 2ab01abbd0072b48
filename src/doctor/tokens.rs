//! Each session's token in the credential store: valid, refreshable, expired for good or missing, and what
//! refreshing it depends on (a refresh token, an unexpired client registration, the registration scopes).
use super::{Check, show};
use crate::output::{format_duration, format_time};
use crate::session::{SessionConfig, TokenRecord};

/// The session's token: valid, expired but refreshable, expired for good, or none; and what refreshing
/// it depends on (a refresh token and an unexpired client registration).
pub fn token_checks(session: &SessionConfig, token: Option<&TokenRecord>, now: i64) -> Vec<Check> {
    let name = show(&session.name);
    let login = format!("`awsso login --session {name}`");
    let Some(t) = token else {
        return vec![Check::warn(
            "token",
            format!("session {name}: not logged in (no token in the credential store)"),
            format!("run {login}"),
        )];
    };
    let mut checks = Vec::new();
    let refreshable = t.refresh_token.is_some() && t.client.expires_at > now;
    checks.push(if t.expires_at > now {
        Check::ok(
            "token",
            format!(
                "session {name}: token valid until {} ({} left)",
                format_time(t.expires_at),
                format_duration(t.expires_at - now)
            ),
        )
    } else if refreshable {
        Check::ok(
            "token",
            format!(
                "session {name}: token expired at {}; it is refreshed on next use",
                format_time(t.expires_at)
            ),
        )
    } else {
        Check::warn(
            "token",
            format!(
                "session {name}: token expired at {} and cannot be refreshed",
                format_time(t.expires_at)
            ),
            format!("run {login}"),
        )
    });
    checks.push(match (&t.refresh_token, t.client.expires_at > now) {
        (Some(_), true) => Check::ok(
            "refresh",
            format!(
                "session {name}: refresh token present; client registration valid until {} ({} left)",
                format_time(t.client.expires_at),
                format_duration(t.client.expires_at - now)
            ),
        ),
        (Some(_), false) => Check::warn(
            "refresh",
            format!(
                "session {name}: the client registration expired at {}, and the refresh token with it",
                format_time(t.client.expires_at)
            ),
            format!("run {login} (awsso registers a new client)"),
        ),
        (None, _) if session.legacy.is_some() => Check::warn(
            "refresh",
            format!(
                "session {name} (legacy profile): no refresh token; Identity Center issues them only to an \
                 [sso-session] with sso_registration_scopes, so every token expiry means a new sign-in"
            ),
            "move the profile to an [sso-session]: `awsso migrate --dry-run`, then `awsso migrate`",
        ),
        (None, _) if !session.refresh_capable() => Check::warn(
            "refresh",
            format!(
                "session {name}: no refresh token, because the session lacks sso_registration_scopes = \
                 sso:account:access; every token expiry means a new sign-in"
            ),
            format!(
                "add `sso_registration_scopes = sso:account:access` to [sso-session {name}], then run \
                 `awsso login --session {name} --force`"
            ),
        ),
        (None, _) => Check::warn(
            "refresh",
            format!(
                "session {name}: no refresh token (Identity Center did not issue one, or rejected it); \
                 the token cannot be renewed without a sign-in"
            ),
            format!("run `awsso login --session {name} --force`"),
        ),
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::secret::Secret;
    use crate::sso::{ClientRegistration, Flow};

    fn session(name: &str, url: &str, scopes: bool) -> SessionConfig {
        SessionConfig {
            name: name.into(),
            start_url: url.into(),
            region: "eu-west-1".into(),
            scopes: if scopes {
                vec!["sso:account:access".into()]
            } else {
                vec![]
            },
            legacy: None,
        }
    }

    fn token(expires_at: i64, refresh: bool, client_expires_at: i64) -> TokenRecord {
        TokenRecord {
            start_url: "u".into(),
            region: "eu-west-1".into(),
            access_token: Secret::new("a".into()),
            expires_at,
            refresh_token: refresh.then(|| Secret::new("r".into())),
            issued_at_ms: 0,
            client: ClientRegistration {
                client_id: "c".into(),
                client_secret: Secret::new("s".into()),
                expires_at: client_expires_at,
                flow: Flow::Device,
                scopes: vec![],
                start_url: "u".into(),
                region: "eu-west-1".into(),
            },
            export_cli_cache: false,
            login_id: "l".into(),
        }
    }

    #[test]
    fn token_states() {
        let s = session("corp", "https://x", true);
        let now = 1_000_000;
        assert_eq!(
            token_checks(&s, None, now)[0].status,
            Status::Warn,
            "logged out"
        );
        let valid = token_checks(&s, Some(&token(now + 3600, true, now + 86_400 * 30)), now);
        assert_eq!(
            valid.iter().map(|c| c.status).collect::<Vec<_>>(),
            [Status::Ok, Status::Ok]
        );
        let refreshable = token_checks(&s, Some(&token(now - 10, true, now + 100)), now);
        assert_eq!(refreshable[0].status, Status::Ok);
        assert!(refreshable[0].message.contains("refreshed on next use"));
        let dead = token_checks(&s, Some(&token(now - 10, true, now - 5)), now);
        assert_eq!(dead[0].status, Status::Warn);
        assert!(dead[1].message.contains("client registration expired"));
        let no_scope = token_checks(
            &session("corp", "https://x", false),
            Some(&token(now + 10, false, now + 10)),
            now,
        );
        assert_eq!(no_scope[1].status, Status::Warn);
        assert!(
            no_scope[1]
                .fix
                .as_ref()
                .unwrap()
                .contains("sso_registration_scopes")
        );
    }
}
