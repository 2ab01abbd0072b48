//! `awsso env`: shell code exporting a role's credentials, for `eval`. Also the environment that `exec`
//! gives its command, so both agree on what is set and what is cleared.
use std::process::ExitCode;

use super::Context;
use super::creds::{credentials_for, resolve_or_pick};
use crate::cli::{EnvArgs, EnvFormat, ShellKind, TargetArgs};
use crate::creds::Target;
use crate::output::rfc3339;
use crate::sso::RoleCredentials;

/// Set by awsso in the environments it makes: which profile is in use (and a guard against nesting).
pub const MARKER: &str = crate::vars::PROFILE;
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

/// The code that clears [`CLEARED`] and sets `vars`.
pub fn render(shell: ShellKind, vars: &[(&str, String)]) -> String {
    let mut out = crate::shell::unset(shell, &CLEARED);
    for (name, value) in vars {
        out.push_str(&crate::shell::export(shell, name, value));
    }
    out
}

/// The shell to print for: `$SHELL`'s name when it is one we know, else bash.
pub fn detect_shell() -> ShellKind {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or("") {
        "zsh" => ShellKind::Zsh,
        "fish" => ShellKind::Fish,
        "pwsh" | "powershell" => ShellKind::Powershell,
        _ => ShellKind::Bash,
    }
}

pub async fn run(ctx: &Context, mut args: EnvArgs) -> anyhow::Result<ExitCode> {
    if args.format != EnvFormat::Shell && args.shell.is_some() {
        return Err(crate::error::UserError {
            message: "--shell applies to --format shell only".into(),
            hint: Some("drop --shell, or --format".into()),
            code: crate::error::EXIT_USAGE,
        }
        .into());
    }
    let config = ctx.load_config()?;
    let Some((target, profile_region)) = resolve_or_pick(&config, &mut args.target, "awsso env")?
    else {
        return Ok(ExitCode::from(crate::error::EXIT_INTERRUPTED));
    };
    let (c, session) = credentials_for(ctx, &config, &target, false).await?;
    let region = args
        .region
        .map(crate::ids::Region::into_string)
        .or(profile_region)
        .unwrap_or(session.region);
    let vars = variables(&label(&args.target, &target), &c, Some(&region));
    let text = match args.format {
        EnvFormat::Shell => render(args.shell.unwrap_or_else(detect_shell), &vars),
        EnvFormat::Dotenv => crate::envfile::dotenv(&vars)?,
        EnvFormat::Json => crate::envfile::json(&vars),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_each_shell() {
        let vars = vec![("X", "a'b $c\\".to_string())];
        assert!(render(ShellKind::Bash, &vars).contains(r"export X='a'\''b $c\'"));
        assert!(render(ShellKind::Fish, &vars).contains(r"set -gx X 'a\'b $c\\'"));
        assert!(render(ShellKind::Powershell, &vars).contains("$Env:X = 'a''b $c\\'"));
        assert!(render(ShellKind::Zsh, &vars).starts_with("unset AWS_PROFILE\n"));
    }
}
