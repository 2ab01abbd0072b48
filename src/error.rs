//! Rendering errors for people (`error: …` then `hint: …`) and choosing the documented exit code.
//!
//! Library modules return their own `thiserror` enums; commands add `anyhow` context. Here the chain is
//! walked to find the most specific hint and exit code.
use std::process::ExitCode;

use crate::awsconfig::ConfigError;
use crate::creds::{CredsError, ProfileError};
use crate::lock::LockError;
use crate::login::LoginError;
use crate::profiles::SettingsError;
use crate::session::{SessionError, TokenError};
use crate::sso::SsoError;
use crate::store::StoreError;

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LOGIN_REQUIRED: u8 = 3;
pub const EXIT_STORE_UNAVAILABLE: u8 = 4;
pub const EXIT_CONFIG: u8 = 5;
pub const EXIT_INTERRUPTED: u8 = 130;

/// An error a command reports itself, with its hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl UserError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: Some(hint.into()),
            code: EXIT_FAILURE,
        }
    }
}

fn classify_sso(e: &SsoError) -> (u8, Option<String>) {
    match e {
        SsoError::Unauthorized => (
            EXIT_LOGIN_REQUIRED,
            Some("log in again with `awsso login`".into()),
        ),
        other => (EXIT_FAILURE, other.hint()),
    }
}

fn classify_store(e: &StoreError) -> (u8, Option<String>) {
    let code = match e {
        StoreError::Unavailable { .. }
        | StoreError::Unsupported { .. }
        | StoreError::Locked { .. } => EXIT_STORE_UNAVAILABLE,
        _ => EXIT_FAILURE,
    };
    (code, e.hint())
}

fn classify_session(e: &SessionError) -> (u8, Option<String>) {
    let code = match e {
        SessionError::LoginRequired { .. } => EXIT_LOGIN_REQUIRED,
        SessionError::MissingKey { .. }
        | SessionError::InvalidValue { .. }
        | SessionError::Unknown { .. } => EXIT_CONFIG,
        _ => EXIT_FAILURE,
    };
    (code, e.hint())
}

/// The exit code and hint for an error chain: the first link that knows wins.
pub fn classify(err: &anyhow::Error) -> (u8, Option<String>) {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<UserError>() {
            return (e.code, e.hint.clone());
        }
        if let Some(e) = cause.downcast_ref::<ConfigError>() {
            return (EXIT_CONFIG, e.hint());
        }
        if let Some(e) = cause.downcast_ref::<SettingsError>() {
            return (EXIT_CONFIG, e.hint());
        }
        if let Some(e) = cause.downcast_ref::<CredsError>() {
            return (
                if e.needs_login() {
                    EXIT_LOGIN_REQUIRED
                } else {
                    EXIT_FAILURE
                },
                e.hint(),
            );
        }
        if let Some(e) = cause.downcast_ref::<ProfileError>() {
            return (EXIT_CONFIG, e.hint());
        }
        if let Some(e) = cause.downcast_ref::<SessionError>() {
            return classify_session(e);
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return classify_store(e);
        }
        if let Some(e) = cause.downcast_ref::<SsoError>() {
            return classify_sso(e);
        }
        if let Some(e) = cause.downcast_ref::<TokenError>() {
            return match e {
                TokenError::Session(e) => classify_session(e),
                TokenError::Store(e) => classify_store(e),
                TokenError::Sso(e) => classify_sso(e),
                TokenError::Lock(_) => (EXIT_FAILURE, None),
            };
        }
        if let Some(e) = cause.downcast_ref::<LoginError>() {
            return match e {
                LoginError::Cancelled => (EXIT_INTERRUPTED, None),
                LoginError::Store(s) => classify_store(s),
                // Commands turn other login errors into a UserError with the session's own hint.
                _ => (EXIT_FAILURE, None),
            };
        }
        if cause.downcast_ref::<LockError>().is_some() {
            return (
                EXIT_FAILURE,
                Some(
                    "check that the cache directory is writable (AWSSO_CACHE_DIR moves it)".into(),
                ),
            );
        }
    }
    (EXIT_FAILURE, None)
}

/// Prints `error: …` (the whole context chain on one line) and `hint: …` to stderr.
pub fn report(err: &anyhow::Error) -> ExitCode {
    let (code, hint) = classify(err);
    let color = crate::output::stderr_is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (red, yellow, reset) = if color {
        ("\x1b[1;31m", "\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    eprintln!("{red}error:{reset} {err:#}");
    if let Some(hint) = hint {
        eprintln!("{yellow}hint:{reset} {hint}");
    }
    ExitCode::from(code)
}
