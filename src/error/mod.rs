//! Rendering errors for people (`error: …` then `hint: …`) and choosing the documented exit code.
//!
//! Library modules return their own `thiserror` enums; commands add `anyhow` context. Every library error
//! type implements [`Diagnose`] (in [`diagnose`], one exhaustive `match` per enum, so that a new variant
//! does not compile until someone decides its exit code), and [`classify`] walks the chain asking the first
//! cause that is one of the [`diagnose::REGISTRY`] types. The README's exit-code table is [`ExitKind`].
use std::process::ExitCode;

pub mod diagnose;

pub use diagnose::Diagnose;

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LOGIN_REQUIRED: u8 = 3;
pub const EXIT_STORE_UNAVAILABLE: u8 = 4;
pub const EXIT_CONFIG: u8 = 5;
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
pub const EXIT_NOT_FOUND: u8 = 127;
pub const EXIT_INTERRUPTED: u8 = 130;

/// What went wrong, as the README's exit-code table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: anything else (network, server, disk, a bug).
    Failure,
    /// 2: the command line is wrong.
    Usage,
    /// 3: a (new) login would fix it.
    LoginRequired,
    /// 4: the credential store cannot be used (absent, locked, refusing).
    StoreUnavailable,
    /// 5: the AWS config file or awsso's settings are invalid.
    Config,
    /// 126 / 127: `exec` could not run the command.
    CannotExecute,
    NotFound,
    /// 130: the person pressed Ctrl-C.
    Interrupted,
}

impl ExitKind {
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Failure => EXIT_FAILURE,
            ExitKind::Usage => EXIT_USAGE,
            ExitKind::LoginRequired => EXIT_LOGIN_REQUIRED,
            ExitKind::StoreUnavailable => EXIT_STORE_UNAVAILABLE,
            ExitKind::Config => EXIT_CONFIG,
            ExitKind::CannotExecute => EXIT_CANNOT_EXECUTE,
            ExitKind::NotFound => EXIT_NOT_FOUND,
            ExitKind::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

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

    /// A usage error (exit 2): the command line does not say what to do.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UserError {
            code: EXIT_USAGE,
            ..UserError::new(message, hint)
        }
    }
}

/// The exit code `e` calls for: for a command that words a library error its own way (a [`UserError`]
/// with its own message and hint) but must keep the code the cause decides.
pub fn exit_code_of(e: &dyn Diagnose) -> u8 {
    e.exit_kind().code()
}

/// The exit code and hint for an error chain: the first link that is a known error type decides.
pub fn classify(err: &anyhow::Error) -> (u8, Option<String>) {
    err.chain()
        .find_map(diagnose::diagnose)
        .map_or((EXIT_FAILURE, None), |d| (d.exit_kind().code(), d.advice()))
}

/// The error and its causes on one line, each cause once: `#[error(transparent)]` wrappers and variants
/// that display their source would otherwise repeat it.
pub fn message(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
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
    eprintln!("{red}error:{reset} {}", message(err));
    if let Some(hint) = hint {
        eprintln!("{yellow}hint:{reset} {hint}");
    }
    ExitCode::from(code)
}
