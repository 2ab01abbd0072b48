//! The names of awsso's entries in a store, in one type: every module builds its keys here and the store
//! describes them from here, so a key is spelled once. The strings are byte for byte those every earlier
//! release wrote (`token:<scope>`, `creds:<scope>:<account>:<role>`, …), so existing keyrings keep working.
//!
//! A `<scope>` is an instance's `@` + 16 hex digits (`session::instance_scope`); releases up to 0.x put a
//! session name there instead, which is why legacy keys are the same variants. Account ids, role names and
//! flow names hold no `:`, so a key is read back from its right end.
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// One entry's key. Fields borrow where the caller has the parts at hand (the warm path builds three keys
/// per call), and own them when parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key<'a> {
    /// `token:<scope>`: the SSO token of an instance.
    Token { scope: Cow<'a, str> },
    /// `client:<scope>:<flow>`: the OIDC client registration of an instance for a flow (`device`, `pkce`).
    Client {
        scope: Cow<'a, str>,
        flow: Cow<'a, str>,
    },
    /// `creds:<scope>:<account>:<role>`: role credentials in the primary store.
    Creds {
        scope: Cow<'a, str>,
        account_id: Cow<'a, str>,
        role_name: Cow<'a, str>,
    },
    /// `creds-index:<scope>`: which role credentials of an instance are stored (for logout).
    CredsIndex { scope: Cow<'a, str> },
    /// `kc-login:<scope>`: the kernel-keyring cache's marker of an instance's current login.
    CacheLogin { scope: Cow<'a, str> },
    /// `kc-creds:<scope>:<account>:<role>`: role credentials in the kernel-keyring cache.
    CacheCreds {
        scope: Cow<'a, str>,
        account_id: Cow<'a, str>,
        role_name: Cow<'a, str>,
    },
    /// `kc-resolve:<hex>`: the cache's record of which instance a session name means in a config file.
    CacheResolve { digest: Cow<'a, str> },
    /// `store-choice`: why `--store auto` chose the kernel keyring (see the `store` module).
    StoreChoice,
    /// `doctor-probe:<pid>`: the entry `awsso doctor` writes and deletes to test the store.
    Probe { pid: u32 },
}

impl<'a> Key<'a> {
    pub fn token(scope: impl Into<Cow<'a, str>>) -> Key<'a> {
        Key::Token {
            scope: scope.into(),
        }
    }

    pub fn client(scope: impl Into<Cow<'a, str>>, flow: impl Into<Cow<'a, str>>) -> Key<'a> {
        Key::Client {
            scope: scope.into(),
            flow: flow.into(),
        }
    }

    pub fn creds(
        scope: impl Into<Cow<'a, str>>,
        account_id: impl Into<Cow<'a, str>>,
        role_name: impl Into<Cow<'a, str>>,
    ) -> Key<'a> {
        Key::Creds {
            scope: scope.into(),
            account_id: account_id.into(),
            role_name: role_name.into(),
        }
    }

    pub fn creds_index(scope: impl Into<Cow<'a, str>>) -> Key<'a> {
        Key::CredsIndex {
            scope: scope.into(),
        }
    }

    pub fn cache_login(scope: impl Into<Cow<'a, str>>) -> Key<'a> {
        Key::CacheLogin {
            scope: scope.into(),
        }
    }

    pub fn cache_creds(
        scope: impl Into<Cow<'a, str>>,
        account_id: impl Into<Cow<'a, str>>,
        role_name: impl Into<Cow<'a, str>>,
    ) -> Key<'a> {
        Key::CacheCreds {
            scope: scope.into(),
            account_id: account_id.into(),
            role_name: role_name.into(),
        }
    }

    pub fn cache_resolve(digest: impl Into<Cow<'a, str>>) -> Key<'a> {
        Key::CacheResolve {
            digest: digest.into(),
        }
    }

    /// A readable name for messages ("token:corp" → "SSO token of session corp"); never a secret.
    pub fn describe(&self) -> String {
        match self {
            Key::Token { scope } => format!("SSO token of session {scope}"),
            Key::Client { scope, flow } => format!("client registration {scope}:{flow}"),
            Key::Creds {
                scope,
                account_id,
                role_name,
            } => format!("role credentials {scope}:{account_id}:{role_name}"),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Token { scope } => write!(f, "token:{scope}"),
            Key::Client { scope, flow } => write!(f, "client:{scope}:{flow}"),
            Key::Creds {
                scope,
                account_id,
                role_name,
            } => write!(f, "creds:{scope}:{account_id}:{role_name}"),
            Key::CredsIndex { scope } => write!(f, "creds-index:{scope}"),
            Key::CacheLogin { scope } => write!(f, "kc-login:{scope}"),
            Key::CacheCreds {
                scope,
                account_id,
                role_name,
            } => write!(f, "kc-creds:{scope}:{account_id}:{role_name}"),
            Key::CacheResolve { digest } => write!(f, "kc-resolve:{digest}"),
            Key::StoreChoice => f.write_str("store-choice"),
            Key::Probe { pid } => write!(f, "doctor-probe:{pid}"),
        }
    }
}

/// A string that is no key awsso writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an awsso store key")]
pub struct NotAKey;

impl FromStr for Key<'static> {
    type Err = NotAKey;

    fn from_str(s: &str) -> Result<Key<'static>, NotAKey> {
        let own = |p: &str| Cow::Owned(p.to_string());
        // `<scope>:<account>:<role>`, read from the right.
        let triple = |rest: &str| -> Result<[Cow<'static, str>; 3], NotAKey> {
            let (front, role) = rest.rsplit_once(':').ok_or(NotAKey)?;
            let (scope, account) = front.rsplit_once(':').ok_or(NotAKey)?;
            Ok([own(scope), own(account), own(role)])
        };
        if s == "store-choice" {
            return Ok(Key::StoreChoice);
        }
        let (kind, rest) = s.split_once(':').ok_or(NotAKey)?;
        Ok(match kind {
            "token" => Key::token(own(rest)),
            "client" => {
                let (scope, flow) = rest.rsplit_once(':').ok_or(NotAKey)?;
                Key::client(own(scope), own(flow))
            }
            "creds" => {
                let [scope, account_id, role_name] = triple(rest)?;
                Key::creds(scope, account_id, role_name)
            }
            "creds-index" => Key::creds_index(own(rest)),
            "kc-login" => Key::cache_login(own(rest)),
            "kc-creds" => {
                let [scope, account_id, role_name] = triple(rest)?;
                Key::cache_creds(scope, account_id, role_name)
            }
            "kc-resolve" => Key::cache_resolve(own(rest)),
            "doctor-probe" => Key::Probe {
                pid: rest.parse().map_err(|_| NotAKey)?,
            },
            _ => return Err(NotAKey),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, with the string earlier releases wrote for it.
    fn every_key() -> Vec<(Key<'static>, &'static str)> {
        vec![
            (Key::token("@0123456789abcdef"), "token:@0123456789abcdef"),
            (Key::token("corp"), "token:corp"),
            (
                Key::client("@0123456789abcdef", "device"),
                "client:@0123456789abcdef:device",
            ),
            (Key::client("corp", "pkce"), "client:corp:pkce"),
            (
                Key::creds("@0123456789abcdef", "123456789012", "Admin"),
                "creds:@0123456789abcdef:123456789012:Admin",
            ),
            (
                Key::creds("corp", "123456789012", "Read.Only@x+y=z,w-v_u"),
                "creds:corp:123456789012:Read.Only@x+y=z,w-v_u",
            ),
            (
                Key::creds_index("@0123456789abcdef"),
                "creds-index:@0123456789abcdef",
            ),
            (
                Key::cache_login("@0123456789abcdef"),
                "kc-login:@0123456789abcdef",
            ),
            (
                Key::cache_creds("@0123456789abcdef", "123456789012", "Admin"),
                "kc-creds:@0123456789abcdef:123456789012:Admin",
            ),
            (
                Key::cache_resolve("00ff00ff00ff00ff"),
                "kc-resolve:00ff00ff00ff00ff",
            ),
            (Key::StoreChoice, "store-choice"),
            (Key::Probe { pid: 4242 }, "doctor-probe:4242"),
        ]
    }

    #[test]
    fn keys_are_spelled_as_earlier_releases_spelled_them_and_read_back() {
        for (key, text) in every_key() {
            assert_eq!(key.to_string(), text);
            assert_eq!(text.parse::<Key>().as_ref(), Ok(&key), "{text}");
        }
    }

    #[test]
    fn a_legacy_session_name_with_colons_reads_back_from_the_right() {
        let key = Key::creds("a:b", "123456789012", "Admin");
        assert_eq!(key.to_string().parse::<Key>(), Ok(key));
        let key = Key::client("a:b", "device");
        assert_eq!(key.to_string().parse::<Key>(), Ok(key));
    }

    #[test]
    fn other_strings_are_no_keys() {
        for s in [
            "",
            "token",
            "tokens:x",
            "creds:x",
            "creds:x:y",
            "client:x",
            "doctor-probe:me",
        ] {
            assert_eq!(s.parse::<Key>(), Err(NotAKey), "{s:?}");
        }
    }

    #[test]
    fn descriptions_name_what_the_entry_holds() {
        assert_eq!(Key::token("corp").describe(), "SSO token of session corp");
        assert_eq!(
            Key::client("corp", "device").describe(),
            "client registration corp:device"
        );
        assert_eq!(
            Key::creds("corp", "1", "R").describe(),
            "role credentials corp:1:R"
        );
        assert_eq!(Key::creds_index("corp").describe(), "creds-index:corp");
    }
}
