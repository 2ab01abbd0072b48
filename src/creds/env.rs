//! Role credentials as environment variables: what `awsso env` exports and `awsso exec` gives its command,
//! so both agree on what is set and what is cleared.
use crate::cli::TargetArgs;
use crate::output::rfc3339;
use crate::sso::RoleCredentials;

use super::Target;

pub use crate::envfile::MARKER;
/// Cleared: they would make the SDKs ignore the exported keys or pick another profile.
pub const CLEARED: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

/// The variables to set, in order.
pub fn variables(
    label: &str,
    c: &RoleCredentials,
    region: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            c.secret_access_key.expose().clone(),
        ),
        ("AWS_SESSION_TOKEN", c.session_token.expose().clone()),
        ("AWS_CREDENTIAL_EXPIRATION", rfc3339(c.expiration)),
    ];
    if let Some(r) = region {
        vars.push(("AWS_REGION", r.to_string()));
        vars.push(("AWS_DEFAULT_REGION", r.to_string()));
    }
    vars.push((MARKER, label.to_string()));
    vars
}

/// What the environment is labelled with: the profile name, else session/account/role.
pub fn label(args: &TargetArgs, target: &Target) -> String {
    args.profile.clone().unwrap_or_else(|| {
        format!(
            "{}/{}/{}",
            target.session, target.account_id, target.role_name
        )
    })
}
