//! The Linux kernel keyring backend: awsso's entries as `user` keys, readable by their owner uid only, each
//! with a timeout at the expiry of what it holds.
//!
//! Which keyring holds an entry:
//! - the **session keyring** (`@s`) when the process has one of its own (desktop and SSH logins through
//!   pam_keyinit, `keyctl session -`): entries go with the login session;
//! - the **user keyring** (`@u`) when it has none (containers, cron, services: the kernel then resolves `@s`
//!   to the shared user-session keyring `@us`) or when its session keyring can no longer be used (revoked at
//!   logout while a tmux or nohup process lives on, expired, or not writable);
//! - and in both cases also the user's **persistent keyring** (`keyctl get_persistent`), so that entries
//!   survive a logout and are found by the next login session for as long as that keyring lives (3 days of
//!   disuse by default). Every entry carries its own timeout, so neither keyring can keep an entry alive
//!   past the expiry of the credential in it.
//!
//! Reads search those keyrings in that order (session, user, persistent) and accept only keys owned by this
//! uid: another uid that can write to a shared session keyring (a cron daemon's, for instance) could plant a
//! key under awsso's name, and awsso must not hand out credentials it did not store.
use linux_keyutils::{Key, KeyError, KeyPermissions, KeyRing, KeyRingIdentifier};

use crate::secret::Secret;

/// Owner: everything (view, read, write, search, link, setattr). Possessor, group, other: nothing.
///
/// The kernel ORs the possessor bits into the permissions of *anyone* who possesses the key, whatever their
/// uid: a process of another uid that inherited the session keyring (`runuser -u nobody` in a shell where
/// awsso ran, `su`/`setpriv` without pam_keyinit) possesses every key linked in it. With no possessor bits,
/// such a process can neither find the key (search needs the search bit) nor read it, while the owner's
/// access comes from the user bits alone.
pub const OWNER_ONLY: u32 = 0x003f_0000;

/// A kernel key's payload limit for the `user` type.
const MAX_PAYLOAD: usize = 32_767;

/// The kernel keyring, with entries named `keyring:<key>@<service>` (the naming of the keyring crate's
/// keyutils store, so that entries written by earlier awsso versions are still found).
#[derive(Debug, Clone)]
pub struct Kernel {
    service: String,
}

/// Where new entries are linked, besides the persistent keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    Session,
    User,
}

impl Home {
    pub fn name(self) -> &'static str {
        match self {
            Home::Session => "session keyring",
            Home::User => "user keyring",
        }
    }
}

impl Kernel {
    /// The kernel keyring for `service`; fails only where the process can reach no keyring at all (keyctl
    /// blocked by a seccomp filter, a kernel without keys support).
    pub fn open(service: &str) -> Result<Kernel, KeyError> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true)?;
        Ok(Kernel {
            service: service.to_owned(),
        })
    }

    fn description(&self, key: &str) -> String {
        format!("keyring:{key}@{}", self.service)
    }

    /// The keyring new entries are linked into (see the module comment).
    pub fn home() -> Result<(Home, KeyRing), KeyError> {
        // Without a session keyring of its own, the kernel resolves @s to the user-session keyring @us.
        let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false);
        let user_session = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false);
        if let (Ok(s), Ok(us)) = (session, user_session)
            && s != us
            && s.metadata().is_ok()
        {
            return Ok((Home::Session, s));
        }
        Ok((
            Home::User,
            KeyRing::from_special_id(KeyRingIdentifier::User, true)?,
        ))
    }

    /// The persistent keyring, linked into this process's own keyring (never into the session keyring: a
    /// process of another uid sharing that one would then possess it and could add or unlink keys in it).
    fn persistent() -> Option<KeyRing> {
        KeyRing::get_persistent(KeyRingIdentifier::Process)
            .inspect_err(|e| tracing::debug!("no persistent keyring: {e}"))
            .ok()
    }

    /// Our key named `desc`: the first one owned by this uid in the session, user, then persistent keyring.
    /// The second value tells whether it was found only in the persistent keyring.
    fn find(&self, desc: &str) -> Result<Option<(Key, bool)>, KeyError> {
        let uid = unsafe { libc::geteuid() };
        let mut last_err = None;
        for ring in [KeyRingIdentifier::Session, KeyRingIdentifier::User] {
            let Ok(ring) = KeyRing::from_special_id(ring, false) else {
                continue;
            };
            match search_owned(&ring, desc, uid) {
                Ok(Some(key)) => return Ok(Some((key, false))),
                Ok(None) => {}
                // A keyring this process may not search cannot hold a key it linked there.
                Err(e) if is_absent(e) || e == KeyError::AccessDenied => {}
                Err(e) => last_err = Some(e),
            }
        }
        if let Some(ring) = Self::persistent() {
            match search_owned(&ring, desc, uid) {
                Ok(Some(key)) => return Ok(Some((key, true))),
                Ok(None) => {}
                Err(e) if is_absent(e) => {}
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// The payload under `key`, if there is one.
    pub fn get(&self, key: &str) -> Result<Option<Secret<Vec<u8>>>, KeyError> {
        let desc = self.description(key);
        let Some((found, only_persistent)) = self.find(&desc)? else {
            return Ok(None);
        };
        if only_persistent {
            // A new login session: link it where the next read looks first.
            if let Err(e) = Self::home().and_then(|(_, home)| home.link_key(found)) {
                tracing::debug!("could not link a persistent entry into the home keyring: {e}");
            }
        }
        match found.read_to_vec() {
            Ok(bytes) => Ok(Some(Secret::new(bytes))),
            Err(e) if is_absent(e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores `data` under `key`, replacing any earlier entry everywhere; it expires at `expires_at` (Unix
    /// seconds) when given.
    pub fn set(&self, key: &str, data: &[u8], expires_at: Option<i64>) -> Result<(), KeyError> {
        if data.is_empty() || data.len() > MAX_PAYLOAD {
            return Err(KeyError::InvalidArguments);
        }
        let desc = self.description(key);
        let previous = self.find(&desc).ok().flatten().map(|(k, _)| k);
        // Why the detour through the process keyring: add_key creates the key with the kernel's default
        // permissions (possessor all, 0x3f010000) and they can only be changed once it exists. Created
        // straight in the session keyring, it would be readable for that instant by every process of any
        // uid possessing that keyring. The process keyring is possessed by this process alone (it is not
        // inherited across fork or exec), so the key is private from its first instant; it is linked into
        // the shared keyrings only after its permissions are owner-only and its timeout is set.
        let staging = KeyRing::from_special_id(KeyRingIdentifier::Process, true)?;
        let fresh = staging.add_key(&desc, data)?;
        let linked = finish(fresh, expires_at);
        let _ = staging.unlink_key(fresh);
        if let Err(e) = linked {
            let _ = fresh.invalidate();
            return Err(e);
        }
        // The old key may still be linked in another login session's keyring; it must not outlive us there.
        if let Some(old) = previous
            && old.get_id() != fresh.get_id()
        {
            let _ = old.invalidate();
        }
        Ok(())
    }

    /// Deletes every key of ours named for `key`; returns whether there was one.
    pub fn delete(&self, key: &str) -> Result<bool, KeyError> {
        let desc = self.description(key);
        let mut any = false;
        // Bounded: each round invalidates one key, and an invalidated key is skipped by searches.
        for _ in 0..8 {
            match self.find(&desc)? {
                Some((found, _)) => match found.invalidate() {
                    Ok(()) => any = true,
                    Err(e) if is_absent(e) => {}
                    Err(e) => return Err(e),
                },
                None => break,
            }
        }
        Ok(any)
    }
}

/// Owner-only permissions, the timeout, then the links into the home and persistent keyrings.
fn finish(key: Key, expires_at: Option<i64>) -> Result<(), KeyError> {
    key.set_perms(KeyPermissions::from_u32(OWNER_ONLY))?;
    if let Some(at) = expires_at {
        // A timeout of 0 would mean "none": an entry already expired gets one second.
        let left = (at - crate::sso::now()).max(1);
        key.set_timeout(usize::try_from(left).unwrap_or(usize::MAX))?;
    }
    let (home, ring) = Kernel::home()?;
    match ring.link_key(key) {
        Ok(()) => {}
        Err(e) if home == Home::Session => {
            tracing::debug!("session keyring not usable ({e}); linking into the user keyring");
            KeyRing::from_special_id(KeyRingIdentifier::User, true)?.link_key(key)?;
        }
        Err(e) => return Err(e),
    }
    if let Some(persistent) = Kernel::persistent()
        && let Err(e) = persistent.link_key(key)
    {
        tracing::debug!("could not link into the persistent keyring: {e}");
    }
    Ok(())
}

/// Whether `key` belongs to `uid`, making it owner-only if an earlier awsso version left it readable by
/// possessors.
/// The key named `desc` in `ring` when this uid owns it. A key that vanishes between the search and
/// the look at its owner was replaced by a concurrent writer (each write invalidates the previous
/// version): the search is repeated, a few times at most, rather than taking it for another uid's.
fn search_owned(ring: &KeyRing, desc: &str, uid: u32) -> Result<Option<Key>, KeyError> {
    for _ in 0..4 {
        let key = ring.search(desc)?;
        match owner(&key) {
            Some(owner) if owner == uid => {
                make_owner_only(&key);
                return Ok(Some(key));
            }
            Some(_) => {
                tracing::warn!("ignoring a kernel key named like awsso's that another uid owns");
                return Ok(None);
            }
            None => continue,
        }
    }
    Ok(None)
}

/// The uid owning `key`; `None` when it is gone (invalidated, revoked, expired) by the time we look.
fn owner(key: &Key) -> Option<u32> {
    key.metadata().ok().map(|m| m.get_uid())
}

/// Entries written by an older awsso had the kernel's default permissions: made owner-only on first read.
fn make_owner_only(key: &Key) {
    if let Ok(meta) = key.metadata()
        && meta.get_perms().bits() != OWNER_ONLY
        && let Err(e) = key.set_perms(KeyPermissions::from_u32(OWNER_ONLY))
    {
        tracing::debug!("could not make an old kernel key owner-only: {e}");
    }
}

/// The errors that mean "no such (live) key" here: missing, expired, revoked or invalidated (searches report
/// the last two the same way), or a keyring that has gone.
fn is_absent(e: KeyError) -> bool {
    matches!(
        e,
        KeyError::KeyDoesNotExist
            | KeyError::KeyExpired
            | KeyError::KeyRevoked
            | KeyError::KeyringDoesNotExist
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(tag: &str) -> Kernel {
        Kernel::open(&format!("awsso-unit-{}-{tag}", std::process::id())).expect("kernel keyring")
    }

    #[test]
    fn entries_round_trip_owner_only_and_replace_their_predecessor() {
        let k = kernel("round-trip");
        k.set("token:x", b"first", None).unwrap();
        let desc = k.description("token:x");
        let (first, _) = k.find(&desc).unwrap().expect("stored");
        assert_eq!(first.metadata().unwrap().get_perms().bits(), OWNER_ONLY);

        k.set("token:x", b"second", Some(crate::sso::now() + 600))
            .unwrap();
        assert_eq!(k.get("token:x").unwrap().unwrap().expose(), b"second");
        let (second, _) = k.find(&desc).unwrap().unwrap();
        assert_ne!(first.get_id(), second.get_id());
        // The predecessor is gone everywhere, not merely unlinked from one keyring.
        assert!(first.read_to_vec().is_err());

        assert!(k.delete("token:x").unwrap());
        assert!(k.get("token:x").unwrap().is_none());
        assert!(!k.delete("token:x").unwrap());
    }

    #[test]
    fn an_entry_already_expired_gets_a_short_timeout_not_none() {
        let k = kernel("expired");
        k.set("creds:y", b"old", Some(crate::sso::now() - 60))
            .unwrap();
        let (key, _) = k.find(&k.description("creds:y")).unwrap().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1_600));
        assert!(
            key.read_to_vec().is_err(),
            "still readable after its timeout"
        );
        assert!(k.get("creds:y").unwrap().is_none());
    }

    #[test]
    fn empty_and_oversized_payloads_are_refused() {
        let k = kernel("sizes");
        assert_eq!(k.set("a", b"", None), Err(KeyError::InvalidArguments));
        assert_eq!(
            k.set("a", &vec![b'x'; MAX_PAYLOAD + 1], None),
            Err(KeyError::InvalidArguments)
        );
    }
}
