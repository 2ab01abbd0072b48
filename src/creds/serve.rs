//! Credentials as a command hands them out: the kernel-keyring cache, else the primary store, else a fetch,
//! with an optional device-code login first when the session needs one. Every command that serves a role
//! (`creds`, `env`, `exec`, `serve`, `console`, doctor's admin profile) comes through here, so they word a
//! failure the same way.
use std::rc::Rc;
use std::time::Duration;

use crate::awsconfig::ConfigFile;
use crate::credcache;
use crate::login::{self, LoginError, LoginOptions};
use crate::session::{self, SessionConfig, SessionError};
use crate::sso::{Flow, RoleCredentials};
use crate::store::{Store, StoreError, StoreKind};

use super::{CredsError, Target};

/// Why no credentials could be served. The messages are the commands' (`no credentials for role …`); the
/// exit code is the cause's, decided in `error::diagnose`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("cannot open the credential store")]
    Store(#[source] StoreError),
    /// `--auto-login` tried and failed. The login error is in the text, not the source chain, so it is
    /// said once.
    #[error("login to session {session} failed: {error}")]
    Login { session: String, error: LoginError },
    #[error(
        "no credentials for role {role} in account {account}: {}",
        one_line(error)
    )]
    Creds {
        session: String,
        account: String,
        role: String,
        error: CredsError,
    },
}

impl ServeError {
    /// One line of advice for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::Session(e) => e.hint(),
            ServeError::Store(e) => e.hint(),
            ServeError::Login { session, error } => error.hint(session),
            ServeError::Creds { session, error, .. } => {
                if error.needs_login() {
                    Some(format!("run `awsso login --session {session}`"))
                } else {
                    error.hint()
                }
            }
        }
    }
}

/// Credentials for the target: the cache, else the store, else a fetch (logging in first when allowed).
pub async fn credentials_for(
    store_kind: StoreKind,
    config: &ConfigFile,
    target: &Target,
    auto_login: bool,
) -> Result<(RoleCredentials, SessionConfig), ServeError> {
    let session = session::resolve(config, Some(&target.session))?;
    let store = Store::open(store_kind).map_err(ServeError::Store)?;
    let cache = credcache::open(store_kind);
    let first = super::get(&store, cache.as_ref(), &session, target).await;
    let result = match first {
        Err(e) if e.needs_login() && auto_login => {
            eprintln!("awsso: {e}; signing in (--auto-login)…");
            let options = LoginOptions {
                flow: Flow::Device,
                force: false,
                browser: true,
                timeout: Duration::from_secs(300),
            };
            if let Err(error) = login::login(&store, &session, &options).await {
                return Err(ServeError::Login {
                    session: session.name.clone(),
                    error,
                });
            }
            super::get(&store, cache.as_ref(), &session, target).await
        }
        other => other,
    };
    match result {
        Ok(c) => Ok((c, session)),
        Err(error) => Err(ServeError::Creds {
            session: session.name.clone(),
            account: target.account_id.clone(),
            role: target.role_name.clone(),
            error,
        }),
    }
}

/// An error and its sources on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// The source of a credentials endpoint's route (`exec --server`, `serve`): what `awsso creds` would
/// answer for the target, the error as one line with its hint.
pub fn fetcher(
    store_kind: StoreKind,
    config: Rc<ConfigFile>,
    target: Target,
) -> crate::server::Fetch {
    Rc::new(move || {
        let (config, target) = (config.clone(), target.clone());
        Box::pin(async move {
            credentials_for(store_kind, &config, &target, false)
                .await
                .map(|(c, _)| c)
                .map_err(|e| {
                    // What `{:#}` of the error as a command reports it shows: the chain, joined by ": ".
                    let mut text = e.to_string();
                    let mut source = std::error::Error::source(&e);
                    while let Some(inner) = source {
                        text.push_str(": ");
                        text.push_str(&inner.to_string());
                        source = inner.source();
                    }
                    match e.hint() {
                        Some(h) => format!("{text} ({h})"),
                        None => text,
                    }
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{classify, message};

    #[test]
    fn a_revoked_session_is_worded_as_the_commands_always_did_and_asks_for_a_login() {
        let e = anyhow::Error::new(ServeError::Creds {
            session: "corp".into(),
            account: "123456789012".into(),
            role: "Admin".into(),
            error: CredsError::Revoked {
                session: "corp".into(),
            },
        });
        assert_eq!(
            message(&e),
            "no credentials for role Admin in account 123456789012: Identity Center rejected the token \
             of session corp (revoked, or signed out elsewhere); it was removed"
        );
        assert_eq!(
            classify(&e),
            (3, Some("run `awsso login --session corp`".into()))
        );
    }

    #[test]
    fn a_store_that_cannot_open_keeps_the_stores_exit_code_and_hint() {
        let cause = || StoreError::Unavailable {
            detail: "no D-Bus".into(),
        };
        let e = anyhow::Error::new(ServeError::Store(cause()));
        assert_eq!(
            message(&e),
            format!("cannot open the credential store: {}", cause())
        );
        assert_eq!(classify(&e), (4, cause().hint()));
    }

    #[test]
    fn a_session_error_passes_through_unchanged() {
        let cause = || SessionError::Unknown {
            path: "/h/.aws/config".into(),
            name: "corp".into(),
        };
        let e = anyhow::Error::new(ServeError::from(cause()));
        assert_eq!(message(&e), cause().to_string());
        assert_eq!(classify(&e), (5, cause().hint()));
    }
}
