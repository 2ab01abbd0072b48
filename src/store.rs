//! The credential store: which OS keyring holds awsso's secrets, and typed access to its entries.
//!
//! Everything secret (SSO tokens, client registrations, role credentials) lives here and nowhere else. The
//! keyring crates do the platform work; this module picks the backend (Secret Service first on Linux, the
//! kernel keyring when no Secret Service answers, or what `AWSSO_STORE` forces), keys the entries, stores
//! records as JSON, and turns keyring errors into messages that never carry secret bytes.
use std::sync::Arc;
use std::time::Instant;

use keyring_core::api::CredentialStoreApi as _;
use keyring_core::{CredentialStore, Error as KeyringError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::Secret;

/// Default keyring "service" under which every awsso entry is filed.
pub const DEFAULT_SERVICE: &str = "awsso";

/// The credential stores awsso can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// Secret Service where one answers (Linux), else the kernel keyring; the native store elsewhere.
    Auto,
    /// The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus.
    SecretService,
    /// The Linux kernel key retention service (session keyring, linked to the persistent keyring).
    Keyutils,
    /// The macOS Keychain.
    Keychain,
    /// The Windows Credential Manager.
    Windows,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Auto => "auto",
            StoreKind::SecretService => "secret-service",
            StoreKind::Keyutils => "keyutils",
            StoreKind::Keychain => "keychain",
            StoreKind::Windows => "windows",
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no credential store is available ({detail})")]
    Unavailable { detail: String },
    #[error("the {kind} credential store does not exist on this platform")]
    Unsupported { kind: StoreKind },
    #[error("the {kind} credential store refused access to {what} ({detail})")]
    Locked {
        kind: StoreKind,
        what: String,
        detail: String,
    },
    #[error("the {kind} credential store failed on {what} ({detail})")]
    Platform {
        kind: StoreKind,
        what: String,
        detail: String,
    },
    #[error("the stored {what} is not valid awsso data and was ignored")]
    Corrupt { what: String },
}

impl StoreError {
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::Unavailable { .. } => Some(
                "start a Secret Service (e.g. gnome-keyring-daemon) or use the kernel keyring with \
                 `AWSSO_STORE=keyutils` (Linux); see `awsso status` for the store in use"
                    .into(),
            ),
            StoreError::Unsupported { .. } => {
                Some("pick a store this platform has with --store or AWSSO_STORE".into())
            }
            StoreError::Locked {
                kind: StoreKind::SecretService,
                ..
            } => Some(
                "unlock your login keyring (e.g. log in to the desktop session), or use \
                 `AWSSO_STORE=keyutils`"
                    .into(),
            ),
            StoreError::Locked { .. } => Some("unlock the keyring and try again".into()),
            StoreError::Platform { .. } => {
                Some("run with -v for details, or pick another store with AWSSO_STORE".into())
            }
            StoreError::Corrupt { .. } => Some("log in again: `awsso login`".into()),
        }
    }
}

/// An opened credential store.
pub struct Store {
    kind: StoreKind,
    inner: Arc<CredentialStore>,
    service: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .finish()
    }
}

impl Store {
    /// Opens the store `kind` asks for; `Auto` probes in order of preference.
    pub fn open(kind: StoreKind) -> Result<Store, StoreError> {
        let service =
            std::env::var("AWSSO_KEYRING_SERVICE").unwrap_or_else(|_| DEFAULT_SERVICE.into());
        let started = Instant::now();
        let (kind, inner) = open_backend(kind)?;
        tracing::debug!(store = %kind, elapsed = ?started.elapsed(), "credential store opened");
        Ok(Store {
            kind,
            inner,
            service,
        })
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The kernel keyring as a fast cache in front of a slower primary store (Linux, Secret Service): a read
    /// is a system call, not a D-Bus round trip. `None` where there is no usable session keyring, when the
    /// primary already is the kernel keyring, or when `AWSSO_NO_KEYUTILS_CACHE` is set.
    pub fn keyutils_cache(primary: StoreKind) -> Option<Store> {
        if std::env::var_os("AWSSO_NO_KEYUTILS_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
            return None;
        }
        if !matches!(primary, StoreKind::Auto | StoreKind::SecretService) {
            return None;
        }
        #[cfg(target_os = "linux")]
        {
            let service =
                std::env::var("AWSSO_KEYRING_SERVICE").unwrap_or_else(|_| DEFAULT_SERVICE.into());
            match open_keyutils() {
                Ok(inner) => Some(Store {
                    kind: StoreKind::Keyutils,
                    inner,
                    service,
                }),
                Err(e) => {
                    tracing::debug!("no kernel keyring cache: {e}");
                    None
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    fn entry(&self, key: &str) -> Result<keyring_core::Entry, StoreError> {
        self.inner
            .build(&self.service, key, None)
            .map_err(|e| self.map_err(key, e))
    }

    /// Reads the record under `key`; `None` when there is none.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let raw = match self.entry(key)?.get_password() {
            Ok(raw) => Secret::new(raw),
            Err(KeyringError::NoEntry) => return Ok(None),
            Err(e) => return Err(self.map_err(key, e)),
        };
        // The error of serde_json can quote the input; it must not reach a message.
        serde_json::from_str(raw.expose())
            .map(Some)
            .map_err(|_| StoreError::Corrupt {
                what: describe(key),
            })
    }

    pub fn set_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let raw = Secret::new(
            serde_json::to_string(value).map_err(|_| StoreError::Corrupt {
                what: describe(key),
            })?,
        );
        self.entry(key)?
            .set_password(raw.expose())
            .map_err(|e| self.map_err(key, e))
    }

    /// Deletes the entry under `key`; returns whether there was one.
    pub fn delete(&self, key: &str) -> Result<bool, StoreError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(self.map_err(key, e)),
        }
    }

    fn map_err(&self, key: &str, e: KeyringError) -> StoreError {
        let what = describe(key);
        let kind = self.kind;
        match e {
            KeyringError::NoStorageAccess(inner) => StoreError::Locked {
                kind,
                what,
                detail: inner.to_string(),
            },
            // These two carry the raw stored bytes: never format them.
            KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
                StoreError::Corrupt { what }
            }
            KeyringError::PlatformFailure(inner) => StoreError::Platform {
                kind,
                what,
                detail: inner.to_string(),
            },
            other => StoreError::Platform {
                kind,
                what,
                detail: other.to_string(),
            },
        }
    }
}

/// A readable name for an entry key, for messages ("token:corp" → "SSO token of session corp").
fn describe(key: &str) -> String {
    let mut parts = key.splitn(2, ':');
    match (parts.next(), parts.next()) {
        (Some("token"), Some(s)) => format!("SSO token of session {s}"),
        (Some("client"), Some(s)) => format!("client registration {s}"),
        (Some("creds"), Some(s)) => format!("role credentials {s}"),
        _ => key.to_string(),
    }
}

#[cfg(target_os = "linux")]
fn open_backend(kind: StoreKind) -> Result<(StoreKind, Arc<CredentialStore>), StoreError> {
    match kind {
        StoreKind::SecretService => open_secret_service().map(|s| (kind, s)),
        StoreKind::Keyutils => open_keyutils().map(|s| (kind, s)),
        StoreKind::Auto => match open_secret_service() {
            Ok(s) => Ok((StoreKind::SecretService, s)),
            Err(ss_err) => {
                tracing::debug!(error = %ss_err, "no Secret Service, falling back to the kernel keyring");
                open_keyutils()
                    .map(|s| (StoreKind::Keyutils, s))
                    .map_err(|ku_err| StoreError::Unavailable {
                        detail: format!("Secret Service: {ss_err}; kernel keyring: {ku_err}"),
                    })
            }
        },
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

#[cfg(target_os = "linux")]
fn open_secret_service() -> Result<Arc<CredentialStore>, StoreError> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR").is_none()
    {
        // Without either, libdbus would try X11 autolaunch, which can hang on a headless box.
        return Err(StoreError::Unavailable {
            detail: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into(),
        });
    }
    let store =
        dbus_secret_service_keyring_store::Store::new().map_err(|e| StoreError::Unavailable {
            detail: format!("Secret Service: {e}"),
        })?;
    Ok(store)
}

#[cfg(target_os = "linux")]
fn open_keyutils() -> Result<Arc<CredentialStore>, StoreError> {
    let store =
        linux_keyutils_keyring_store::Store::new().map_err(|e| StoreError::Unavailable {
            detail: format!("kernel keyring: {e}"),
        })?;
    // Building an entry touches the session keyring, so this fails here, not later, where there is none.
    store
        .build(DEFAULT_SERVICE, "probe", None)
        .map_err(|e| StoreError::Unavailable {
            detail: format!("kernel keyring: {e}"),
        })?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn open_backend(kind: StoreKind) -> Result<(StoreKind, Arc<CredentialStore>), StoreError> {
    match kind {
        StoreKind::Auto | StoreKind::Keychain => apple_native_keyring_store::keychain::Store::new()
            .map(|s| (StoreKind::Keychain, s as Arc<CredentialStore>))
            .map_err(|e| StoreError::Unavailable {
                detail: format!("Keychain: {e}"),
            }),
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

#[cfg(target_os = "windows")]
fn open_backend(kind: StoreKind) -> Result<(StoreKind, Arc<CredentialStore>), StoreError> {
    match kind {
        StoreKind::Auto | StoreKind::Windows => windows_native_keyring_store::Store::new()
            .map(|s| (StoreKind::Windows, s as Arc<CredentialStore>))
            .map_err(|e| StoreError::Unavailable {
                detail: format!("Windows Credential Manager: {e}"),
            }),
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn open_backend(kind: StoreKind) -> Result<(StoreKind, Arc<CredentialStore>), StoreError> {
    Err(StoreError::Unsupported { kind })
}
