//! Legacy SSO profiles (`sso_start_url` and `sso_region` in the profile, no `sso_session`): the implicit
//! session awsso makes of each instance they name, so every command works on them as on an sso-session.
use crate::awsconfig::{ConfigFile, Section};

use super::{
    LegacyOrigin, SessionConfig, SessionError, all, normalize_start_url, valid_region,
    valid_start_url,
};

impl SessionConfig {
    /// The implicit session of a legacy profile (`sso_start_url` and `sso_region` in the profile itself),
    /// named after the portal's host like `awsso login --start-url` names a session. Such a session has no
    /// registration scopes, so Identity Center issues no refresh token.
    pub fn from_legacy_profile(
        path: &str,
        section: &Section,
    ) -> Result<SessionConfig, SessionError> {
        let line = section.header_line;
        let profile = section.name.clone();
        let get = |key: &'static str| -> Result<String, SessionError> {
            match section.get(key).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => Err(SessionError::MissingKey {
                    path: path.into(),
                    name: format!("profile {profile}"),
                    line,
                    key,
                }),
            }
        };
        let start_url = get("sso_start_url")?;
        let region = get("sso_region")?;
        let invalid = |key: &'static str, value: &str| SessionError::InvalidValue {
            path: path.into(),
            name: format!("profile {profile}"),
            line,
            key,
            value: crate::output::sanitize(value, 120),
        };
        if !valid_start_url(&start_url) {
            return Err(invalid("sso_start_url", &start_url));
        }
        if !valid_region(&region) {
            return Err(invalid("sso_region", &region));
        }
        Ok(SessionConfig {
            name: implicit_name(&start_url),
            start_url: normalize_start_url(&start_url),
            region,
            scopes: Vec::new(),
            legacy: Some(LegacyOrigin {
                profile,
                start_url_as_written: start_url,
                line,
            }),
        })
    }
}

/// `https://d-1234567890.awsapps.com/start#/` → `d-1234567890`.
pub fn implicit_name(start_url: &str) -> String {
    let host = start_url
        .split("://")
        .nth(1)
        .unwrap_or(start_url)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("");
    let name: String = host
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if name.is_empty() {
        "default".into()
    } else {
        name
    }
}

/// Whether a profile is a legacy SSO profile: `sso_start_url` in the profile, no `sso_session`.
pub fn is_legacy_profile(section: &Section) -> bool {
    section.get("sso_start_url").is_some() && section.get("sso_session").is_none()
}

/// The implicit sessions of the config's legacy profiles, one per instance (the first profile names it),
/// leaving out instances an [sso-session] of the same name already covers.
pub fn legacy_sessions(config: &ConfigFile) -> Vec<Result<SessionConfig, SessionError>> {
    let path = config.path.display().to_string();
    let mut out: Vec<Result<SessionConfig, SessionError>> = Vec::new();
    for section in config.profiles().filter(|s| is_legacy_profile(s)) {
        let s = SessionConfig::from_legacy_profile(&path, section);
        if let Ok(new) = &s {
            let seen = out
                .iter()
                .flatten()
                .any(|o| o.scope() == new.scope() || o.name == new.name);
            let covered = config.sso_session(&new.name).is_some();
            if seen || covered {
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// The sso-sessions and the implicit sessions of legacy profiles.
pub fn all_with_legacy(config: &ConfigFile) -> Vec<Result<SessionConfig, SessionError>> {
    let mut v = all(config);
    v.extend(legacy_sessions(config));
    v
}

/// The session of a legacy profile named `profile`, if it is one.
pub fn of_legacy_profile(
    config: &ConfigFile,
    profile: &str,
) -> Option<Result<SessionConfig, SessionError>> {
    let section = config.profile(profile).filter(|s| is_legacy_profile(s))?;
    let path = config.path.display().to_string();
    Some(
        SessionConfig::from_legacy_profile(&path, section).map(|mut s| {
            // The profile asked for names the session in messages about it.
            if let Some(l) = s.legacy.as_mut() {
                l.profile = profile.to_string();
            }
            s
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::implicit_name;

    #[test]
    fn session_names_come_from_the_portal_host() {
        assert_eq!(
            implicit_name("https://d-1234567890.awsapps.com/start"),
            "d-1234567890"
        );
        assert_eq!(
            implicit_name("https://my-corp.awsapps.com/start#/"),
            "my-corp"
        );
        assert_eq!(implicit_name("https://[bad"), "bad");
        assert_eq!(implicit_name("nonsense"), "nonsense");
        assert_eq!(implicit_name("https:///x"), "default");
    }
}
