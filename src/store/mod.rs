//! The credential store: which OS keyring holds awsso's secrets, and typed access to its entries.
//!
//! Everything secret (SSO tokens, client registrations, role credentials) lives here and nowhere else. This
//! module picks the backend, keys the entries, stores records as JSON, and turns keyring errors into
//! messages that never carry secret bytes. The keyring crates do the platform work for the Secret Service,
//! the macOS Keychain and the Windows Credential Manager; the Linux kernel keyring has a backend of its own
//! ([`kernel`]) because its entries must be readable by their owner uid only and expire with what they hold.
//!
//! `--store auto` on Linux: the Secret Service when it can store (a default collection, unlocked); the kernel
//! keyring when none answers (SSH sessions, servers, containers). When one answers but cannot store (no
//! login collection, or a locked one with no display for the unlock prompt), awsso says so once on stderr,
//! uses the kernel keyring, and records that choice in the kernel keyring itself, beside the entries it
//! points to: later commands then go straight to the kernel keyring without asking D-Bus, so a login stored
//! there is always found again, even after the Secret Service becomes usable. The record expires with the
//! longest-lived entry stored under it (and goes with a reboot, like them); after that, `auto` asks the
//! Secret Service again. Until then a person who wants the Secret Service back forces it with
//! `--store secret-service` and logs in again.
#[cfg(target_os = "linux")]
pub mod kernel;
pub mod key;
#[cfg(target_os = "linux")]
mod secret_service;

use std::sync::Arc;
use std::time::Instant;

use keyring_core::{CredentialStore, Error as KeyringError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::Secret;

pub use key::Key;

/// Default keyring "service" under which every awsso entry is filed.
pub const DEFAULT_SERVICE: &str = crate::vars::DEFAULT_KEYRING_SERVICE;

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

/// A store failure. Every variant but [`StoreError::Corrupt`] means "the credential store is unavailable"
/// and exits 4 ([`StoreError::store_unavailable`]); `Corrupt` exits 1 (the store works; an entry in it is
/// not awsso's data, and logging in again replaces it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No store can be opened: no Secret Service and no kernel keyring, or the forced one is not there.
    #[error("no credential store is available ({detail})")]
    Unavailable { detail: String },
    /// The store named by `--store`/`AWSSO_STORE` does not exist on this platform.
    #[error("the {kind} credential store does not exist on this platform")]
    Unsupported { kind: StoreKind },
    /// The store is there but refuses access: a locked collection whose unlock prompt was dismissed or
    /// could not appear, a kernel keyring this process may not use.
    #[error("the {kind} credential store refused access to {what} ({detail})")]
    Locked {
        kind: StoreKind,
        what: String,
        detail: String,
    },
    /// The store failed while serving a request (D-Bus error, key quota full, ...).
    #[error("the {kind} credential store failed on {what} ({detail})")]
    Platform {
        kind: StoreKind,
        what: String,
        detail: String,
    },
    /// An entry that does not parse as what awsso stores there. The message never quotes its bytes.
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
            StoreError::Locked {
                kind: StoreKind::Keyutils,
                ..
            } => Some(
                "this process may not use its session keyring (one of another user?); start a fresh \
                 one with `keyctl session -`, or use the Secret Service with `AWSSO_STORE=secret-service`"
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

/// The recorded choice. It expires with the longest-lived entry stored under it (`until`, extended by each
/// write that outlives it), so it holds exactly as long as there may be a login to find in the kernel
/// keyring, and no longer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Choice {
    reason: String,
    until: i64,
}

/// What `--store auto` recorded, in a store opened through that record.
#[derive(Debug)]
struct Fallback {
    reason: String,
    until: std::sync::atomic::AtomicI64,
}

enum Backend {
    Keyring(Arc<CredentialStore>),
    #[cfg(target_os = "linux")]
    Kernel(kernel::Kernel),
}

/// An opened credential store.
pub struct Store {
    kind: StoreKind,
    backend: Backend,
    service: String,
    fallback: Option<Fallback>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .field("fallback", &self.fallback)
            .finish()
    }
}

fn service_name() -> String {
    crate::vars::env().keyring_service.clone()
}

impl Store {
    /// Opens the store `kind` asks for; `Auto` probes in order of preference.
    pub fn open(kind: StoreKind) -> Result<Store, StoreError> {
        let service = service_name();
        let started = Instant::now();
        let store = open_backend(kind, &service)?;
        tracing::debug!(store = %store.kind, elapsed = ?started.elapsed(), "credential store opened");
        Ok(store)
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// Why `--store auto` uses the kernel keyring although a Secret Service answers, when it does.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_ref().map(|f| f.reason.as_str())
    }

    /// `AWSSO_NO_KEYUTILS_CACHE` set (to anything but empty or `0`): no kernel-keyring cache.
    pub fn cache_disabled() -> bool {
        crate::vars::env().no_keyutils_cache
    }

    /// The kernel keyring as a fast cache in front of a slower primary store (Linux, Secret Service): a read
    /// is a system call, not a D-Bus round trip. `None` where no kernel keyring is reachable, when the
    /// primary already is the kernel keyring, or when `AWSSO_NO_KEYUTILS_CACHE` is set.
    pub fn keyutils_cache(primary: StoreKind) -> Option<Store> {
        if Store::cache_disabled() {
            return None;
        }
        if !matches!(primary, StoreKind::Auto | StoreKind::SecretService) {
            return None;
        }
        #[cfg(target_os = "linux")]
        {
            let service = service_name();
            match open_kernel(&service) {
                Ok(store) => Some(store),
                Err(e) => {
                    tracing::debug!("no kernel keyring cache: {e}");
                    None
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    fn entry(
        &self,
        inner: &Arc<CredentialStore>,
        key: &Key<'_>,
    ) -> Result<keyring_core::Entry, StoreError> {
        inner
            .build(&self.service, &key.to_string(), None)
            .map_err(|e| self.map_err(key, e))
    }

    /// Reads the record under `key`; `None` when there is none.
    pub fn get_json<T: DeserializeOwned>(&self, key: &Key<'_>) -> Result<Option<T>, StoreError> {
        let raw = match &self.backend {
            Backend::Keyring(inner) => match self.entry(inner, key)?.get_password() {
                Ok(raw) => Secret::new(raw),
                Err(KeyringError::NoEntry) => return Ok(None),
                Err(e) => return Err(self.map_err(key, e)),
            },
            #[cfg(target_os = "linux")]
            Backend::Kernel(k) => match k.get(&key.to_string()).map_err(|e| kernel_err(key, e))? {
                None => return Ok(None),
                Some(bytes) => {
                    Secret::new(String::from_utf8(bytes.into_inner()).map_err(|_| {
                        StoreError::Corrupt {
                            what: key.describe(),
                        }
                    })?)
                }
            },
        };
        // The error of serde_json can quote the input; it must not reach a message.
        serde_json::from_str(raw.expose())
            .map(Some)
            .map_err(|_| StoreError::Corrupt {
                what: key.describe(),
            })
    }

    /// Stores `value` under `key`, with no expiry known (the kernel keyring keeps it without a timeout).
    pub fn set_json<T: Serialize>(&self, key: &Key<'_>, value: &T) -> Result<(), StoreError> {
        self.set(key, value, None)
    }

    /// Stores `value` under `key`, valid until `expires_at` (Unix seconds): the kernel keyring gives the
    /// entry a timeout then (it disappears, whatever keyring links it); other stores keep it as
    /// `set_json` does.
    pub fn set_json_until<T: Serialize>(
        &self,
        key: &Key<'_>,
        value: &T,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.set(key, value, Some(expires_at))
    }

    fn set<T: Serialize>(
        &self,
        key: &Key<'_>,
        value: &T,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let raw = Secret::new(
            serde_json::to_string(value).map_err(|_| StoreError::Corrupt {
                what: key.describe(),
            })?,
        );
        match &self.backend {
            Backend::Keyring(inner) => {
                let _ = expires_at;
                self.entry(inner, key)?
                    .set_password(raw.expose())
                    .map_err(|e| self.map_err(key, e))
            }
            #[cfg(target_os = "linux")]
            Backend::Kernel(k) => {
                k.set(&key.to_string(), raw.expose().as_bytes(), expires_at)
                    .map_err(|e| kernel_err(key, e))?;
                if let (Some(f), Some(at)) = (&self.fallback, expires_at) {
                    self.extend_choice(f, at);
                }
                Ok(())
            }
        }
    }

    /// Keeps the recorded store choice alive as long as the entry just stored.
    #[cfg(target_os = "linux")]
    fn extend_choice(&self, f: &Fallback, at: i64) {
        use std::sync::atomic::Ordering;
        if f.until.fetch_max(at, Ordering::SeqCst) >= at {
            return;
        }
        let choice = Choice {
            reason: f.reason.clone(),
            until: at,
        };
        if let Err(e) = self.set(&Key::StoreChoice, &choice, Some(at)) {
            tracing::debug!("could not extend the store choice: {e}");
        }
    }

    /// Deletes the entry under `key`; returns whether there was one.
    pub fn delete(&self, key: &Key<'_>) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Keyring(inner) => match self.entry(inner, key)?.delete_credential() {
                Ok(()) => Ok(true),
                Err(KeyringError::NoEntry) => Ok(false),
                Err(e) => Err(self.map_err(key, e)),
            },
            #[cfg(target_os = "linux")]
            Backend::Kernel(k) => k.delete(&key.to_string()).map_err(|e| kernel_err(key, e)),
        }
    }

    fn map_err(&self, key: &Key<'_>, e: KeyringError) -> StoreError {
        let what = key.describe();
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

/// A kernel keyring error as a store error (a `KeyError` names the errno, never the payload).
#[cfg(target_os = "linux")]
fn kernel_err(key: &Key<'_>, e: linux_keyutils::KeyError) -> StoreError {
    use linux_keyutils::KeyError as K;
    let what = key.describe();
    let kind = StoreKind::Keyutils;
    match e {
        K::AccessDenied | K::PermissionDenied => StoreError::Locked {
            kind,
            what,
            detail: "the kernel refused access to the keyring".into(),
        },
        K::KeyRevoked | K::KeyExpired | K::KeyringDoesNotExist | K::OperationNotSupported => {
            StoreError::Unavailable {
                detail: format!("kernel keyring: {e:?} on {what}"),
            }
        }
        K::QuotaExceeded => StoreError::Platform {
            kind,
            what,
            detail: "the kernel key quota of this user is full (see /proc/key-users)".into(),
        },
        other => StoreError::Platform {
            kind,
            what,
            detail: format!("{other:?}"),
        },
    }
}

#[cfg(target_os = "linux")]
fn open_backend(kind: StoreKind, service: &str) -> Result<Store, StoreError> {
    match kind {
        StoreKind::SecretService => open_secret_service(service),
        StoreKind::Keyutils => open_kernel(service),
        StoreKind::Auto => open_auto(service),
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

/// `--store auto` on Linux; see the module comment.
#[cfg(target_os = "linux")]
fn open_auto(service: &str) -> Result<Store, StoreError> {
    use secret_service::Probe;
    let kernel = open_kernel(service);
    // The recorded choice: a system call, no D-Bus.
    if let Ok(k) = &kernel
        && let Ok(Some(choice)) = k.get_json::<Choice>(&Key::StoreChoice)
    {
        tracing::debug!("using the kernel keyring as recorded: {}", choice.reason);
        return kernel.map(|k| Store {
            fallback: Some(Fallback {
                reason: choice.reason,
                until: choice.until.into(),
            }),
            ..k
        });
    }
    let probe = if dbus_reachable() {
        secret_service::probe()
    } else {
        Probe::Absent("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into())
    };
    match probe {
        Probe::Usable => open_secret_service(service),
        Probe::Absent(ss_err) => {
            tracing::debug!(error = %ss_err, "no Secret Service, falling back to the kernel keyring");
            kernel.map_err(|ku_err| StoreError::Unavailable {
                detail: format!("Secret Service: {ss_err}; {ku_err}"),
            })
        }
        Probe::CannotStore(reason) => {
            let k = kernel.map_err(|ku_err| StoreError::Unavailable {
                detail: format!("the Secret Service cannot store secrets ({reason}); {ku_err}"),
            })?;
            let note = format!("the Secret Service cannot store secrets ({reason})");
            // A day, until the first entry stored under the choice extends it.
            let choice = Choice {
                reason: note.clone(),
                until: crate::sso::now() + 24 * 3600,
            };
            if let Err(e) = k.set(&Key::StoreChoice, &choice, Some(choice.until)) {
                tracing::debug!("could not record the store choice: {e}");
            }
            eprintln!("awsso: {note}; using the kernel keyring");
            Ok(Store {
                fallback: Some(Fallback {
                    reason: note,
                    until: choice.until.into(),
                }),
                ..k
            })
        }
    }
}

/// Without either variable, libdbus would try X11 autolaunch, which can hang on a headless box.
#[cfg(target_os = "linux")]
fn dbus_reachable() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some()
}

#[cfg(target_os = "linux")]
fn open_secret_service(service: &str) -> Result<Store, StoreError> {
    if !dbus_reachable() {
        return Err(StoreError::Unavailable {
            detail: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into(),
        });
    }
    let inner =
        dbus_secret_service_keyring_store::Store::new().map_err(|e| StoreError::Unavailable {
            detail: format!("Secret Service: {e}"),
        })?;
    Ok(Store {
        kind: StoreKind::SecretService,
        backend: Backend::Keyring(inner),
        service: service.to_owned(),
        fallback: None,
    })
}

#[cfg(target_os = "linux")]
fn open_kernel(service: &str) -> Result<Store, StoreError> {
    let k = kernel::Kernel::open(service).map_err(|e| StoreError::Unavailable {
        detail: format!("kernel keyring: {e:?}"),
    })?;
    Ok(Store {
        kind: StoreKind::Keyutils,
        backend: Backend::Kernel(k),
        service: service.to_owned(),
        fallback: None,
    })
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
fn native(kind: StoreKind, service: &str, inner: Arc<CredentialStore>) -> Store {
    Store {
        kind,
        backend: Backend::Keyring(inner),
        service: service.to_owned(),
        fallback: None,
    }
}

#[cfg(target_os = "macos")]
fn open_backend(kind: StoreKind, service: &str) -> Result<Store, StoreError> {
    match kind {
        StoreKind::Auto | StoreKind::Keychain => apple_native_keyring_store::keychain::Store::new()
            .map(|s| native(StoreKind::Keychain, service, s as Arc<CredentialStore>))
            .map_err(|e| StoreError::Unavailable {
                detail: format!("Keychain: {e}"),
            }),
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

#[cfg(target_os = "windows")]
fn open_backend(kind: StoreKind, service: &str) -> Result<Store, StoreError> {
    match kind {
        StoreKind::Auto | StoreKind::Windows => windows_native_keyring_store::Store::new()
            .map(|s| native(StoreKind::Windows, service, s as Arc<CredentialStore>))
            .map_err(|e| StoreError::Unavailable {
                detail: format!("Windows Credential Manager: {e}"),
            }),
        other => Err(StoreError::Unsupported { kind: other }),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn open_backend(kind: StoreKind, _service: &str) -> Result<Store, StoreError> {
    Err(StoreError::Unsupported { kind })
}
