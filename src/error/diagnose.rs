//! The one way from an error to its exit code and hint: [`Diagnose`], implemented for every error type of
//! the library, and [`REGISTRY`], the one list of those types that [`super::classify`] asks.
//!
//! Each impl matches its enum exhaustively, with no `_ =>` arm: a new variant does not compile until its
//! exit code is decided here. Wrapper variants (`#[error(transparent)]`, or `#[source]` fields) ask the error
//! they wrap, since a transparent wrapper hides it from the `source()` chain. Hints stay with the enums
//! (their modules' `hint()` methods); only the exit codes are decided here. A new error type needs an impl
//! and a line in [`REGISTRY`]; the unit test at the bottom lists the registry so the omission shows in review.
use std::io;

use super::{ExitKind, UserError};
use crate::awsconfig::ConfigError;
use crate::browser::HandoffError;
use crate::console::ConsoleError;
use crate::creds::{CredsError, ProfileError, ServeError, TargetError};
use crate::envfile::EnvFileError;
use crate::listing::ListError;
use crate::lock::LockError;
use crate::login::LoginError;
use crate::picker::PickError;
use crate::profiles::SettingsError;
use crate::profiles::planned::PlanError;
use crate::server::ServerError;
use crate::session::{SessionError, TokenError};
use crate::signin::HttpError;
use crate::sso::SsoError;
use crate::store::StoreError;

/// What an error means for the person: the exit code (the README's table) and one line of advice.
pub trait Diagnose: std::error::Error {
    fn exit_kind(&self) -> ExitKind;
    fn advice(&self) -> Option<String>;
}

/// Every error type [`super::classify`] recognises in an `anyhow` chain, most specific first (a command's
/// own [`UserError`] before the library errors it may wrap).
macro_rules! registry {
    ($($ty:ty),+ $(,)?) => {
        /// The [`Diagnose`] view of one link of an error chain, when it is a type of the registry.
        pub fn diagnose<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Diagnose> {
            $(
                if let Some(e) = cause.downcast_ref::<$ty>() {
                    return Some(e);
                }
            )+
            None
        }

        /// The registered types, by name (for the test that keeps this list honest).
        pub const REGISTRY: &[&str] = &[$(stringify!($ty)),+];
    };
}

registry!(
    UserError,
    ConfigError,
    SettingsError,
    ProfileError,
    TargetError,
    ServeError,
    PlanError,
    SessionError,
    TokenError,
    CredsError,
    StoreError,
    SsoError,
    LoginError,
    LockError,
    ListError,
    ConsoleError,
    HandoffError,
    HttpError,
    ServerError,
    EnvFileError,
    io::Error,
);

impl Diagnose for UserError {
    fn exit_kind(&self) -> ExitKind {
        match self.code {
            super::EXIT_USAGE => ExitKind::Usage,
            super::EXIT_LOGIN_REQUIRED => ExitKind::LoginRequired,
            super::EXIT_STORE_UNAVAILABLE => ExitKind::StoreUnavailable,
            super::EXIT_CONFIG => ExitKind::Config,
            super::EXIT_CANNOT_EXECUTE => ExitKind::CannotExecute,
            super::EXIT_NOT_FOUND => ExitKind::NotFound,
            super::EXIT_INTERRUPTED => ExitKind::Interrupted,
            _ => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// A disk, permission or file-system failure is not an invalid config: exit 1, with what to check.
fn io_advice(e: &io::Error) -> Option<String> {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            Some("free up space on that file system and try again; nothing was changed".into())
        }
        io::ErrorKind::ReadOnlyFilesystem => {
            Some("that file system is read-only: remount it, or point awsso elsewhere (AWS_CONFIG_FILE, AWSSO_CACHE_DIR)".into())
        }
        io::ErrorKind::PermissionDenied => {
            Some("check the ownership and permissions of that file and its directory".into())
        }
        _ => None,
    }
}

impl Diagnose for io::Error {
    fn exit_kind(&self) -> ExitKind {
        ExitKind::Failure
    }
    fn advice(&self) -> Option<String> {
        io_advice(self)
    }
}

impl Diagnose for ConfigError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            // The file is fine; the disk, its permissions or the lock are not. Only a path that cannot
            // be a config file (a directory, not UTF-8) is the config's fault.
            ConfigError::Io { source, .. } => match source.kind() {
                io::ErrorKind::IsADirectory | io::ErrorKind::InvalidData => ExitKind::Config,
                _ => ExitKind::Failure,
            },
            ConfigError::Lock { .. } => ExitKind::Failure,
            // Another program kept writing the file: nothing is wrong with it.
            ConfigError::ConcurrentEdit { .. } => ExitKind::Failure,
            ConfigError::Bom { .. } | ConfigError::AfterBlock { .. } => ExitKind::Config,
            ConfigError::Parse { .. }
            | ConfigError::UnbalancedBlock { .. }
            | ConfigError::UnsafeName { .. }
            | ConfigError::UnsafeValue { .. } => ExitKind::Config,
            // A bug in awsso, caught before writing: not the person's config.
            ConfigError::InvalidBody { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            ConfigError::Io { source, .. } | ConfigError::Lock { source, .. } => {
                self.hint().or_else(|| io_advice(source))
            }
            _ => self.hint(),
        }
    }
}

impl Diagnose for SettingsError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            SettingsError::Read { source, .. } => match source.kind() {
                io::ErrorKind::InvalidData | io::ErrorKind::IsADirectory => ExitKind::Config,
                _ => ExitKind::Failure,
            },
            SettingsError::Invalid { .. } | SettingsError::Template { .. } => ExitKind::Config,
        }
    }
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Diagnose for TargetError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            TargetError::Unnamed => ExitKind::Usage,
            TargetError::Invalid { .. } => ExitKind::Config,
            TargetError::Profile(e) => e.exit_kind(),
            TargetError::Pick(PickError::NoTerminal | PickError::NoProfiles { .. }) => {
                ExitKind::Usage
            }
            TargetError::Pick(PickError::Terminal(_)) => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            TargetError::Profile(e) => e.advice(),
            _ => self.hint(),
        }
    }
}

impl Diagnose for ServeError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            ServeError::Session(e) => e.exit_kind(),
            ServeError::Store(e) => e.exit_kind(),
            ServeError::Login { error, .. } => error.exit_kind(),
            ServeError::Creds { error, .. } => error.exit_kind(),
        }
    }
    fn advice(&self) -> Option<String> {
        // The login and credentials hints are worded with the session's name (`ServeError::hint`).
        match self {
            ServeError::Session(e) => e.advice(),
            ServeError::Store(e) => e.advice(),
            ServeError::Login { .. } | ServeError::Creds { .. } => self.hint(),
        }
    }
}

impl Diagnose for PlanError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            PlanError::Settings(e) => e.exit_kind(),
            PlanError::Pattern(_) => ExitKind::Usage,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            PlanError::Settings(e) => e.advice(),
            PlanError::Pattern(_) => self.hint(),
        }
    }
}

impl Diagnose for ProfileError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            ProfileError::Missing { .. }
            | ProfileError::NotSso { .. }
            | ProfileError::Legacy { .. } => ExitKind::Config,
        }
    }
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Diagnose for SessionError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            SessionError::LoginRequired { .. } => ExitKind::LoginRequired,
            // A profile or the command names an sso-session the config does not have: the config lacks
            // what it refers to (as for a missing key).
            SessionError::MissingKey { .. }
            | SessionError::InvalidValue { .. }
            | SessionError::Unknown { .. } => ExitKind::Config,
            // No sessions, or several: what to pass or create, not a broken file.
            SessionError::NoSessions { .. } | SessionError::Ambiguous { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Diagnose for TokenError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            TokenError::Session(e) => e.exit_kind(),
            TokenError::Store(e) => e.exit_kind(),
            TokenError::Sso(e) => e.exit_kind(),
            TokenError::Lock(e) => e.exit_kind(),
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            TokenError::Session(e) => e.advice(),
            TokenError::Store(e) => e.advice(),
            TokenError::Sso(e) => e.advice(),
            TokenError::Lock(e) => e.advice(),
        }
    }
}

impl Diagnose for CredsError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            CredsError::Token(e) => e.exit_kind(),
            CredsError::Store(e) => e.exit_kind(),
            CredsError::Lock(e) => e.exit_kind(),
            CredsError::Revoked { .. } => ExitKind::LoginRequired,
            CredsError::Fetch { source, .. } => source.exit_kind(),
            // The machine's clock, not the login, is what needs fixing.
            CredsError::ExpiredByLocalClock { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            CredsError::Lock(e) => e.advice(),
            _ => self.hint(),
        }
    }
}

impl Diagnose for StoreError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            // A store that failed an operation (a D-Bus call without reply, a full key quota) is as
            // unusable to the caller as one that is not there: the fix is the same, another store.
            StoreError::Unavailable { .. }
            | StoreError::Unsupported { .. }
            | StoreError::Locked { .. }
            | StoreError::Platform { .. } => ExitKind::StoreUnavailable,
            // Garbage in an entry, which a new login replaces.
            StoreError::Corrupt { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Diagnose for SsoError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            SsoError::Unauthorized => ExitKind::LoginRequired,
            SsoError::Pending
            | SsoError::SlowDown
            | SsoError::InvalidClient
            | SsoError::InvalidGrant
            | SsoError::AccessDenied
            | SsoError::DeviceCodeExpired
            | SsoError::Throttled { .. }
            | SsoError::Network { .. }
            | SsoError::BadAnswer { .. }
            | SsoError::Service { .. } => ExitKind::Failure,
            // The command line is checked by clap and the listing by the SSO client, so a value that
            // cannot be sent came from a profile of the AWS config.
            SsoError::BadRequest { .. } => ExitKind::Config,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            SsoError::Unauthorized => Some("log in again with `awsso login`".into()),
            _ => self.hint(),
        }
    }
}

impl Diagnose for LoginError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            LoginError::Sso(e) => e.exit_kind(),
            LoginError::Store(e) => e.exit_kind(),
            LoginError::Lock(e) => e.exit_kind(),
            LoginError::Cancelled => ExitKind::Interrupted,
            LoginError::Io { .. } | LoginError::TimedOut { .. } | LoginError::Callback { .. } => {
                ExitKind::Failure
            }
        }
    }
    fn advice(&self) -> Option<String> {
        // Commands that know the session word their own hint with `LoginError::hint(session)`; here the
        // session-specific hints are said without the name.
        match self {
            LoginError::Sso(SsoError::DeviceCodeExpired) => {
                Some("run the login again and approve the code before it expires".into())
            }
            LoginError::Sso(SsoError::InvalidClient) => {
                Some("run the login again; awsso registers a new client".into())
            }
            LoginError::Lock(e) => e.advice(),
            LoginError::Io { source, .. } => io_advice(source),
            _ => self.hint(""),
        }
    }
}

impl Diagnose for LockError {
    fn exit_kind(&self) -> ExitKind {
        ExitKind::Failure
    }
    fn advice(&self) -> Option<String> {
        Some(io_advice(&self.source).unwrap_or_else(|| {
            "check that the cache directory is writable (AWSSO_CACHE_DIR moves it)".into()
        }))
    }
}

impl Diagnose for ListError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            ListError::Incomplete { source, .. } => source.exit_kind(),
            ListError::PaginationLoop { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            ListError::Incomplete { source, .. } => source.advice(),
            ListError::PaginationLoop { .. } => None,
        }
    }
}

impl Diagnose for ConsoleError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            ConsoleError::UnknownDestination { .. }
            | ConsoleError::BadDestination { .. }
            | ConsoleError::Network { .. }
            | ConsoleError::Refused { .. }
            | ConsoleError::InvalidResponse { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        Some(self.hint())
    }
}

impl Diagnose for HandoffError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            HandoffError::Listen(_) | HandoffError::TimedOut(_) => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        Some(match self {
            HandoffError::Listen(_) => "pass --print to get the URL instead".into(),
            HandoffError::TimedOut(_) => {
                "the browser must open the link it was given; pass --print to get the URL instead"
                    .into()
            }
        })
    }
}

impl Diagnose for ServerError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            ServerError::Bind { .. } | ServerError::Random(_) => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            ServerError::Bind { source, .. } if source.kind() == io::ErrorKind::AddrInUse => {
                Some("another program listens there: pick another --port".into())
            }
            ServerError::Bind { .. } => Some(
                "check the address and port (--bind, --port); ports below 1024 need root".into(),
            ),
            ServerError::Random(_) => None,
        }
    }
}

impl Diagnose for EnvFileError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            EnvFileError::LineBreak { .. } => ExitKind::Failure,
        }
    }
    fn advice(&self) -> Option<String> {
        match self {
            EnvFileError::LineBreak { .. } => {
                Some("use `--format json` or a shell format, which can carry it".into())
            }
        }
    }
}

impl Diagnose for HttpError {
    fn exit_kind(&self) -> ExitKind {
        match self {
            HttpError::BadUrl | HttpError::Timeout(_) | HttpError::Transport(_) => {
                ExitKind::Failure
            }
        }
    }
    fn advice(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_registered_cause_decides() {
        let locked = StoreError::Locked {
            kind: crate::store::StoreKind::SecretService,
            what: "the token".into(),
            detail: "locked".into(),
        };
        let e = anyhow::Error::new(CredsError::Token(TokenError::Store(locked)))
            .context("no credentials for role R");
        let (code, hint) = super::super::classify(&e);
        assert_eq!(code, 4);
        assert!(hint.unwrap().contains("unlock"));

        let full = io::Error::from(io::ErrorKind::StorageFull);
        let e = anyhow::Error::new(ConfigError::Io {
            path: "/x/config".into(),
            source: full,
        });
        assert_eq!(super::super::classify(&e).0, 1);

        let e = anyhow::Error::new(LoginError::Cancelled).context("login to session s failed");
        assert_eq!(super::super::classify(&e).0, 130);

        // An error of no registered type: a plain failure.
        assert_eq!(super::super::classify(&anyhow::anyhow!("boom")), (1, None));
    }

    #[test]
    fn the_registry_lists_each_type_once() {
        let mut names = REGISTRY.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "{REGISTRY:?}");
        assert_eq!(REGISTRY[0], "UserError", "a command's own words come first");
    }
}
