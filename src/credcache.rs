//! The kernel-keyring cache in front of the primary store: its key layout, the per-instance login marker,
//! the config-resolution entries, and the warm path of `awsso creds` that reads them.
//!
//! The cache holds three kinds of entries, all under `kc-` prefixes that never collide with the primary
//! store's keys (which may live in the same kernel keyring):
//! - `kc-login:<scope>`: the id of the current login of an instance, its token's expiry and whether the token
//!   is exported for the SDKs. Login replaces it and logout deletes it, whatever the environment says.
//! - `kc-creds:<scope>:<account>:<role>`: role credentials, tagged with the login id that fetched them.
//! - `kc-resolve:<hash of config path + session name>`: which instance that session name meant in that
//!   config file, valid while the file's identity (device, inode, size, mtime) is unchanged.
//!
//! The warm path is therefore one `stat` and three keyring reads, with no D-Bus and no config parse; any miss
//! or mismatch falls back to the slow path, which parses the config, reads the token from the primary store
//! and refills these entries.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::session::{EXPORT_WINDOW, TokenRecord};
use crate::sso::{self, RoleCredentials};
use crate::store::{Key, Store, StoreKind};

/// Credentials with less than this left are fetched again (the `creds` module says why that much).
pub const REFRESH_MARGIN: i64 = 15 * 60 + 60;

/// Whether credentials are worth handing out: more than [`REFRESH_MARGIN`] left.
pub fn usable(c: &RoleCredentials) -> bool {
    c.expiration > sso::now() + REFRESH_MARGIN
}

/// The login marker of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMarker {
    pub id: String,
    /// Unix seconds: when the token expires.
    pub exp: i64,
    /// The token is exported to the AWS CLI cache and must be re-exported before the SDKs' windows.
    pub export: bool,
}

impl LoginMarker {
    pub fn of(token: &TokenRecord) -> LoginMarker {
        LoginMarker {
            id: token.login_id.clone(),
            exp: token.expires_at,
            export: token.export_cli_cache,
        }
    }

    /// Whether a warm call may answer from the cache at `now`: not when an exported token is inside
    /// [`EXPORT_WINDOW`], which the slow path refreshes and re-exports.
    pub fn lets_warm_path_serve(&self, now: i64) -> bool {
        !self.export || self.exp > now + EXPORT_WINDOW
    }
}

/// Role credentials and the login that fetched them (the primary store keeps the same form).
#[derive(Debug, Serialize, Deserialize)]
pub struct Tagged {
    pub login: String,
    pub creds: RoleCredentials,
}

/// The identity of the config file, as `stat` gives it; `None` when it does not exist (then there is no
/// warm path: nothing says which instance a session name means).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Fingerprint {
    #[cfg(unix)]
    pub fn of(path: &Path) -> Option<Fingerprint> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(Fingerprint {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        })
    }

    #[cfg(not(unix))]
    pub fn of(_path: &Path) -> Option<Fingerprint> {
        None
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Resolution {
    fp: Fingerprint,
    scope: String,
}

pub fn login_key(scope: &str) -> Key<'_> {
    Key::cache_login(scope)
}

pub fn creds_key<'a>(scope: &'a str, account_id: &'a str, role_name: &'a str) -> Key<'a> {
    Key::cache_creds(scope, account_id, role_name)
}

fn resolve_key(config_path: &Path, session: &str) -> Key<'static> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(config_path.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(session.as_bytes());
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Key::cache_resolve(hex)
}

/// The cache the warm path reads, when there is one (see [`Store::keyutils_cache`]). With the kernel
/// keyring as the primary store the cache is the same keyring under its `kc-` keys: the warm path (and
/// `awsso prompt`) then works the same way whichever store holds the token.
pub fn open(primary: StoreKind) -> Option<Store> {
    if primary == StoreKind::Keyutils && !Store::cache_disabled() {
        return Store::open(StoreKind::Keyutils).ok();
    }
    Store::keyutils_cache(primary)
}

/// The kernel keyring whatever `AWSSO_NO_KEYUTILS_CACHE` or the primary store say: login and logout must
/// invalidate entries that an earlier run (with other settings) may have left there.
pub fn open_for_invalidation() -> Option<Store> {
    if cfg!(target_os = "linux") {
        Store::open(StoreKind::Keyutils).ok()
    } else {
        None
    }
}

/// Credentials the cache may serve: usable, fetched by the instance's current login.
fn serve(cache: &Store, scope: &str, account_id: &str, role_name: &str) -> Option<RoleCredentials> {
    let marker: LoginMarker = cache.get_json(&login_key(scope)).ok()??;
    if !marker.lets_warm_path_serve(sso::now()) {
        return None;
    }
    current(cache, &marker, scope, account_id, role_name).filter(usable)
}

/// The cached credentials of the instance's current login, however little time they have left.
fn current(
    cache: &Store,
    marker: &LoginMarker,
    scope: &str,
    account_id: &str,
    role_name: &str,
) -> Option<RoleCredentials> {
    let entry: Tagged = cache
        .get_json(&creds_key(scope, account_id, role_name))
        .ok()??;
    (entry.login == marker.id).then_some(entry.creds)
}

/// When the cached credentials of an explicit target expire, even inside the refresh margin (for
/// `awsso prompt`, which warns in the last minutes): the same `stat` and reads as [`warm_explicit`].
pub fn cached_expiration(
    cache: &Store,
    config_path: &Path,
    session: &str,
    account_id: &str,
    role_name: &str,
) -> Option<i64> {
    let fp = Fingerprint::of(config_path)?;
    let r: Resolution = cache.get_json(&resolve_key(config_path, session)).ok()??;
    if r.fp != fp {
        return None;
    }
    let marker: LoginMarker = cache.get_json(&login_key(&r.scope)).ok()??;
    current(cache, &marker, &r.scope, account_id, role_name).map(|c| c.expiration)
}

/// The warm path for an explicit `--session S --account-id A --role-name R`: `stat` of the config, then
/// the resolution entry, the login marker and the credentials.
pub fn warm_explicit(
    cache: &Store,
    config_path: &Path,
    session: &str,
    account_id: &str,
    role_name: &str,
) -> Option<RoleCredentials> {
    let fp = Fingerprint::of(config_path)?;
    let r: Resolution = cache.get_json(&resolve_key(config_path, session)).ok()??;
    if r.fp != fp {
        return None;
    }
    serve(cache, &r.scope, account_id, role_name)
}

/// The warm path once the config is parsed (a profile): the instance is known, two keyring reads remain.
pub fn warm_scoped(
    cache: &Store,
    scope: &str,
    account_id: &str,
    role_name: &str,
) -> Option<RoleCredentials> {
    serve(cache, scope, account_id, role_name)
}

/// Records which instance `session` meant in the config file whose identity was `fp` before it was read.
pub fn remember_resolution(
    cache: &Store,
    config_path: &Path,
    fp: Fingerprint,
    session: &str,
    scope: &str,
) {
    let r = Resolution {
        fp,
        scope: scope.to_string(),
    };
    // Not secret, and cheap to record again on the next slow call: bounded so that nothing awsso leaves in
    // the kernel keyring lives forever.
    let until = sso::now() + RESOLUTION_LIFETIME;
    if let Err(e) = cache.set_json_until(&resolve_key(config_path, session), &r, until) {
        tracing::debug!("could not record the session resolution in the kernel keyring: {e}");
    }
}

/// How long a recorded resolution is trusted before the config is parsed again.
const RESOLUTION_LIFETIME: i64 = 12 * 3600;

/// Forgets which instance `session` meant in `config_path` (logout), whatever the store settings.
pub fn forget_resolution(config_path: &Path, session: &str) {
    if let Some(kernel) = open_for_invalidation() {
        let _ = kernel.delete(&resolve_key(config_path, session));
    }
}

/// Writes the instance's login marker and the credentials fetched by that login.
pub fn fill(
    cache: &Store,
    scope: &str,
    token: &TokenRecord,
    account_id: &str,
    role_name: &str,
    creds: &RoleCredentials,
) {
    let entry = Tagged {
        login: token.login_id.clone(),
        creds: creds.clone(),
    };
    let result = cache
        .set_json_until(
            &login_key(scope),
            &LoginMarker::of(token),
            token.keep_until(),
        )
        .and_then(|()| {
            cache.set_json_until(
                &creds_key(scope, account_id, role_name),
                &entry,
                creds.expiration,
            )
        });
    if let Err(e) = result {
        tracing::debug!("could not fill the kernel keyring cache: {e}");
    }
}

/// Forgets the instance's current login in the kernel keyring (login, logout, revocation): every cached
/// credential of the instance stops being served. Failures are ignored: without a kernel keyring there is
/// nothing to invalidate.
pub fn invalidate(scope: &str, entries: &[(String, String)]) {
    let Some(kernel) = open_for_invalidation() else {
        return;
    };
    let _ = kernel.delete(&login_key(scope));
    for (account, role) in entries {
        let _ = kernel.delete(&creds_key(scope, account, role));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_token_near_expiry_sends_the_warm_path_to_the_slow_one() {
        let now = 1_000_000;
        let m = |exp, export| LoginMarker {
            id: "x".into(),
            exp,
            export,
        };
        assert!(m(now + EXPORT_WINDOW + 60, true).lets_warm_path_serve(now));
        assert!(!m(now + EXPORT_WINDOW - 60, true).lets_warm_path_serve(now));
        // A token that is not exported does not matter to the warm path: the credentials outlive it.
        assert!(m(now - 60, false).lets_warm_path_serve(now));
    }

    #[test]
    fn resolution_keys_depend_on_path_and_session() {
        let a = resolve_key(Path::new("/h1/.aws/config"), "corp");
        assert_ne!(a, resolve_key(Path::new("/h2/.aws/config"), "corp"));
        assert_ne!(a, resolve_key(Path::new("/h1/.aws/config"), "corp2"));
        assert!(a.to_string().starts_with("kc-resolve:"));
    }
}
