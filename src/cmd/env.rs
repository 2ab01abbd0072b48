//! `awsso env`: shell code exporting a role's credentials, for `eval`. The variables themselves are
//! [`crate::creds::env`]'s, shared with `exec`.
use std::process::ExitCode;

use super::Context;
use crate::cli::{EnvArgs, EnvFormat, ShellKind};
use crate::creds::env::{CLEARED, label, variables};
use crate::creds::{credentials_for, resolve_or_pick};
use crate::shell::detect_shell;

/// The code that clears [`CLEARED`] and sets `vars`.
pub fn render(shell: ShellKind, vars: &[(&str, String)]) -> String {
    let mut out = crate::shell::unset(shell, &CLEARED);
    for (name, value) in vars {
        out.push_str(&crate::shell::export(shell, name, value));
    }
    out
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
    let (c, session) = credentials_for(ctx.store_kind, &config, &target, false).await?;
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
