//! Where the SSO OIDC, portal and sso-admin APIs live for a region, following the SDK's endpoint-override
//! rules.
//!
//! The SDK's own resolver would find the default hosts, but awsso needs the OIDC URL itself too (the PKCE
//! `/authorize` page is opened in a browser, not called through the SDK), so both are resolved here once.

/// The resolved base URLs (no trailing slash) and whether each came from an override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub oidc: String,
    pub portal: String,
    pub oidc_overridden: bool,
    pub portal_overridden: bool,
}

impl Endpoints {
    /// `AWS_ENDPOINT_URL_SSO_OIDC` / `AWS_ENDPOINT_URL_SSO`, then `AWS_ENDPOINT_URL`, then the region's default;
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the overrides off, as in the SDKs.
    pub fn resolve(region: &str) -> Endpoints {
        Self::resolve_with(region, |k| std::env::var(k).ok())
    }

    pub fn resolve_with(region: &str, env: impl Fn(&str) -> Option<String>) -> Endpoints {
        let suffix = dns_suffix(region);
        let oidc = configured("AWS_ENDPOINT_URL_SSO_OIDC", &env);
        let portal = configured("AWS_ENDPOINT_URL_SSO", &env);
        Endpoints {
            oidc_overridden: oidc.is_some(),
            portal_overridden: portal.is_some(),
            oidc: oidc.unwrap_or_else(|| format!("https://oidc.{region}.{suffix}")),
            portal: portal.unwrap_or_else(|| format!("https://portal.sso.{region}.{suffix}")),
        }
    }
}

/// The endpoint configured for one service: its own variable (`service_var`), else `AWS_ENDPOINT_URL`; none
/// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true (the SDKs' rules).
pub fn configured(service_var: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env(service_var)
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
}

/// The sso-admin endpoint when one is configured (`AWS_ENDPOINT_URL_SSO_ADMIN`, else `AWS_ENDPOINT_URL`);
/// `None` leaves the region's default to the SDK.
pub fn admin_endpoint(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    configured("AWS_ENDPOINT_URL_SSO_ADMIN", env)
}

/// The partition's DNS suffix for a region name.
pub fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_the_region_and_partition() {
        let e = Endpoints::resolve_with("eu-west-1", with(&[]));
        assert_eq!(e.oidc, "https://oidc.eu-west-1.amazonaws.com");
        assert_eq!(e.portal, "https://portal.sso.eu-west-1.amazonaws.com");
        let cn = Endpoints::resolve_with("cn-north-1", with(&[]));
        assert_eq!(cn.oidc, "https://oidc.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn service_variables_beat_the_global_one() {
        let e = Endpoints::resolve_with(
            "us-east-1",
            with(&[
                ("AWS_ENDPOINT_URL", "http://global:1"),
                ("AWS_ENDPOINT_URL_SSO_OIDC", "http://oidc:2/"),
            ]),
        );
        assert_eq!(e.oidc, "http://oidc:2");
        assert_eq!(e.portal, "http://global:1");
        assert!(e.oidc_overridden && e.portal_overridden);
    }

    #[test]
    fn overrides_can_be_ignored() {
        let e = Endpoints::resolve_with(
            "us-east-1",
            with(&[
                ("AWS_ENDPOINT_URL_SSO", "http://x"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ]),
        );
        assert_eq!(e.portal, "https://portal.sso.us-east-1.amazonaws.com");
        assert!(!e.portal_overridden);
    }

    #[test]
    fn admin_endpoint_follows_the_sdk_rules() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://global/".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&env).as_deref(), Some("http://global"));
        let ignore = |k: &str| match k {
            "AWS_ENDPOINT_URL_SSO_ADMIN" => Some("http://x".to_string()),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" => Some("true".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&ignore), None);
    }
}
