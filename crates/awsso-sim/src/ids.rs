//! Opaque identifiers (client ids, secrets, codes, tokens, access keys).
//!
//! They only need to be unguessable enough that tests cannot accidentally rely on their shape,
//! so a SHA-256 counter stream over a per-process seed does the job without pulling in an RNG crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// RFC 8628 §6.1 suggests consonants only, so user codes never spell words or confuse 0/O.
pub(crate) const USER_CODE: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

pub(crate) struct IdGen {
    seed: [u8; 32],
    counter: AtomicU64,
}

impl IdGen {
    pub(crate) fn new() -> Self {
        let mut h = Sha256::new();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        h.update(nanos.to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        // RandomState is seeded from the OS: it makes two simulators started in the same
        // nanosecond (parallel tests) still differ.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        h.update(hasher.finish().to_le_bytes());
        Self {
            seed: h.finalize().into(),
            counter: AtomicU64::new(0),
        }
    }

    pub(crate) fn bytes(&self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 32);
        while out.len() < n {
            let c = self.counter.fetch_add(1, Ordering::Relaxed);
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(c.to_le_bytes());
            out.extend_from_slice(&h.finalize());
        }
        out.truncate(n);
        out
    }

    /// `n` characters drawn from `alphabet` (the modulo bias is irrelevant here).
    pub(crate) fn chars(&self, n: usize, alphabet: &[u8]) -> String {
        self.bytes(n)
            .into_iter()
            .map(|b| alphabet[b as usize % alphabet.len()] as char)
            .collect()
    }

    pub(crate) fn b64url(&self, nbytes: usize) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes(nbytes))
    }

    pub(crate) fn b64(&self, nbytes: usize) -> String {
        STANDARD.encode(self.bytes(nbytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_use_the_alphabet() {
        let g = IdGen::new();
        let a = g.chars(16, UPPER_ALNUM);
        let b = g.chars(16, UPPER_ALNUM);
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| UPPER_ALNUM.contains(&c)));
        assert_ne!(IdGen::new().b64url(16), IdGen::new().b64url(16));
    }
}
