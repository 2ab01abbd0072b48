//! `Secret<T>`: a value that must never be printed.
//!
//! Access tokens, refresh tokens, client secrets and role credentials travel wrapped in this type so that a
//! stray `{:?}` in a log line, a panic message or an error renders `REDACTED` instead of the value. Reading the
//! value takes an explicit [`Secret::expose`], which makes every use greppable.
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("REDACTED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("aoa-super-secret".to_string());
        let shown = format!("{s:?} {:?} {:#?}", Some(&s), vec![s.clone()]);
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(shown.contains("REDACTED"));
        assert_eq!(s.expose(), "aoa-super-secret");
    }

    #[test]
    fn serialises_transparently_for_the_store() {
        let s = Secret::new("v".to_string());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"v\"");
    }
}
