//! Validated identifiers: the account ids, role names, regions, sso-session names and start URLs that come
//! from the command line, the AWS config or Identity Center's answers.
//!
//! Each type can only hold a value that passed its rule, so code that takes one never has to wonder
//! whether it could break out of a config line, a shell word, a URL, a file name or a keyring key. Data is
//! checked once where it enters (clap's `value_parser`, the SSO client's answers, the config) and carried
//! as these types after that. The rules are AWS's own where AWS publishes one.
use std::fmt;
use std::str::FromStr;

/// Longest start URL accepted: far above any real access-portal URL, far below what breaks a URI parser.
pub const MAX_START_URL: usize = 2048;
/// Longest sso-session name accepted (the AWS CLI sets none; this keeps names usable as words and keys).
pub const MAX_SESSION_NAME: usize = 128;
/// Longest role name: IAM's limit for role names (permission-set names are at most 32).
pub const MAX_ROLE_NAME: usize = 64;
/// Longest region name accepted (the longest real one today is 14 characters).
pub const MAX_REGION: usize = 32;

/// Why a value was refused: the rule it broke, and the start of the value (sanitised when shown: it may
/// be a 70,000-character answer, or hold terminal escapes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {rule}", self.shown())]
pub struct InvalidId {
    /// The first characters of the value, never a huge copy.
    pub value: String,
    /// How many characters the value had.
    pub chars: usize,
    pub rule: &'static str,
}

impl InvalidId {
    fn shown(&self) -> String {
        let cut = crate::output::sanitize(&self.value, 40);
        if self.chars > 40 {
            format!("{cut:?} ({} characters)", self.chars)
        } else {
            format!("{cut:?}")
        }
    }
}

fn invalid(value: &str, rule: &'static str) -> InvalidId {
    InvalidId {
        value: value.chars().take(64).collect(),
        chars: value.chars().count(),
        rule,
    }
}

/// What to do about a refused value of a type, shown as clap's `hint:` line.
pub trait Hint {
    const HINT: &'static str;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $check:ident, $hint:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Hint for $name {
            const HINT: &'static str = $hint;
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                $check(s).map(|()| $name(s.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidId;
            fn try_from(s: &str) -> Result<Self, InvalidId> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                $check(&s).map(|()| $name(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Deref to str: a validated value goes wherever a `&str` does, so callers keep `as_deref()`.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

id_type!(
    /// An AWS account id: exactly 12 ASCII digits.
    AccountId,
    check_account_id,
    "an account id is 12 digits; `awsso ls` lists yours"
);
id_type!(
    /// A role (permission set) name as AWS allows it: 1–64 characters of `[A-Za-z0-9+=,.@_-]`.
    RoleName,
    check_role_name,
    "`awsso ls` lists the roles you can use"
);
id_type!(
    /// An AWS region name such as `eu-west-1`: lowercase letters, digits and inner hyphens.
    Region,
    check_region,
    "pass a region code, like --region us-east-1"
);
id_type!(
    /// The name of an `[sso-session NAME]`: one line, no `]`, no quote or control character, bounded.
    SessionName,
    check_session_name,
    "`awsso status` lists the sessions of your config"
);
id_type!(
    /// An access-portal start URL: https (http only for a loopback host), a host, no whitespace, bounded.
    StartUrl,
    check_start_url,
    "pass the URL of your AWS access portal, like https://d-1234567890.awsapps.com/start"
);

fn check_account_id(s: &str) -> Result<(), InvalidId> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(s, "is not an AWS account id (exactly 12 digits)"))
    }
}

/// The characters AWS allows in IAM role and permission-set names (`[\w+=,.@-]`).
pub fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn check_role_name(s: &str) -> Result<(), InvalidId> {
    if (1..=MAX_ROLE_NAME).contains(&s.len()) && s.chars().all(is_role_name_char) {
        Ok(())
    } else {
        Err(invalid(
            s,
            "is not a role name (1 to 64 characters of letters, digits and + = , . @ _ -)",
        ))
    }
}

fn check_region(s: &str) -> Result<(), InvalidId> {
    let ok = (1..=MAX_REGION).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.contains('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            s,
            "is not a region (lowercase letters, digits and -, such as eu-west-1)",
        ))
    }
}

fn check_session_name(s: &str) -> Result<(), InvalidId> {
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_SESSION_NAME
        && s.trim() == s
        && !s
            .chars()
            .any(|c| c.is_control() || matches!(c, '[' | ']' | '"' | '\'' | '`' | '\\'))
        && crate::output::sanitize(s, MAX_SESSION_NAME) == s;
    if ok {
        Ok(())
    } else {
        Err(invalid(
            s,
            "is not an sso-session name (1 to 128 printable characters, no brackets, quotes, \
             backslashes or surrounding spaces)",
        ))
    }
}

fn check_start_url(s: &str) -> Result<(), InvalidId> {
    if s.len() > MAX_START_URL {
        return Err(invalid(
            s,
            "is too long for a start URL (at most 2048 characters)",
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            s,
            "is not a URL (it holds spaces or control characters)",
        ));
    }
    let (https, rest) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return Err(invalid(s, "is not an https:// URL")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_of(authority);
    if host.is_empty() {
        return Err(invalid(s, "has no host"));
    }
    if !https && !is_loopback_host(host) {
        return Err(invalid(
            s,
            "is plain http: a start URL must be https:// (http is accepted for 127.0.0.1, [::1] and localhost only)",
        ));
    }
    Ok(())
}

/// The host of `user@host:port` (IPv6 literals keep their brackets).
fn host_of(authority: &str) -> &str {
    let hostport = authority.rsplit('@').next().unwrap_or("");
    if hostport.starts_with('[') {
        return hostport.split_inclusive(']').next().unwrap_or("");
    }
    hostport.split(':').next().unwrap_or("")
}

/// `127.0.0.0/8`, `[::1]` and `localhost`: where plain http never leaves the machine.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl StartUrl {
    /// Whether the URL is plain http (to a loopback host, or it would not have been accepted).
    pub fn is_plain_http(&self) -> bool {
        self.0.starts_with("http://")
    }
}

/// clap's value parser for the types above: a bad argument exits 2 with one line naming the flag and the
/// rule, then a hint, never echoing a huge value whole (clap's own message would print all 66,000 digits).
pub struct Parser<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Parser<T> {
    pub const fn new() -> Self {
        Parser(std::marker::PhantomData)
    }
}

impl<T> Default for Parser<T> {
    fn default() -> Self {
        Parser::new()
    }
}

impl<T> Clone for Parser<T> {
    fn clone(&self) -> Self {
        Parser::new()
    }
}

impl<T> clap::builder::TypedValueParser for Parser<T>
where
    T: FromStr<Err = InvalidId> + Hint + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        use clap::error::ErrorKind;
        let name = arg.map_or_else(|| "value".to_owned(), ToString::to_string);
        let fail = |kind, msg: String| clap::Error::raw(kind, format!("{msg}\n")).with_cmd(cmd);
        let text = value.to_str().ok_or_else(|| {
            fail(
                ErrorKind::InvalidUtf8,
                format!("invalid value for '{name}': not UTF-8"),
            )
        })?;
        text.parse::<T>().map_err(|e| {
            fail(
                ErrorKind::ValueValidation,
                format!("invalid value for '{name}': {e}\nhint: {}", T::HINT),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!("111122223333".parse::<AccountId>().is_ok());
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333x",
            "١١١١٢٢٢٢٣٣٣٣",
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
        let e = "1".repeat(66_000).parse::<AccountId>().unwrap_err();
        let text = e.to_string();
        assert!(text.len() < 200, "{text}");
        assert!(text.contains("66000 characters"), "{text}");
    }

    #[test]
    fn role_names() {
        for ok in [
            "AdministratorAccess",
            "a",
            "Fine_Role+=,.@-1",
            "-x",
            &"r".repeat(64),
        ] {
            assert!(ok.parse::<RoleName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Adm$(touch x)",
            "a b",
            "a'b",
            "é",
            &"r".repeat(65),
            "a\nb",
        ] {
            assert!(bad.parse::<RoleName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn regions() {
        for ok in ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"] {
            assert!(ok.parse::<Region>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "EU-west-1",
            "eu west",
            "eu-",
            "-eu",
            "euwest1",
            &"a-".repeat(20),
        ] {
            assert!(bad.parse::<Region>().is_err(), "{bad}");
        }
    }

    #[test]
    fn session_names() {
        for ok in ["corp", "-x", "my session", "d-1234567890", "prod.eu"] {
            assert!(ok.parse::<SessionName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a]b",
            "a\nb",
            " a",
            "a'b",
            "a\u{202e}b",
            &"s".repeat(129),
        ] {
            assert!(bad.parse::<SessionName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn start_urls() {
        for ok in [
            "https://d-1234567890.awsapps.com/start",
            "http://127.0.0.1:8080/start",
            "http://127.5.6.7/start",
            "http://localhost:1/x",
            "http://[::1]:9/start",
        ] {
            assert!(ok.parse::<StartUrl>().is_ok(), "{ok}");
        }
        for bad in [
            "http://d-1234567890.awsapps.com/start",
            "http://127.0.0.1.evil.com/start",
            "http://localhost.evil.com/",
            "ftp://x",
            "https://",
            "https://a b",
            &format!("https://x/{}", "a".repeat(2048)),
        ] {
            assert!(bad.parse::<StartUrl>().is_err(), "{bad}");
        }
        assert!(
            "http://evil.com/"
                .parse::<StartUrl>()
                .unwrap_err()
                .to_string()
                .contains("https")
        );
    }
}
