//! `awsso exec`: run a command with a role's credentials in its environment. On Unix awsso replaces itself
//! with the command (execve), so signals reach it directly and its exit status is the command's.
use std::process::{Command, ExitCode};

use super::Context;
use super::creds::{credentials_for, resolve_target};
use super::env::{CLEARED, MARKER, label, variables};
use crate::cli::ExecArgs;
use crate::error::UserError;

pub async fn run(ctx: &Context, args: ExecArgs) -> anyhow::Result<ExitCode> {
    if let Some(current) = std::env::var_os(MARKER).filter(|v| !v.is_empty())
        && !args.force
    {
        return Err(UserError::new(
            format!(
                "already inside `awsso exec` for {} ({MARKER} is set)",
                current.to_string_lossy()
            ),
            "leave that environment first, or pass --force to nest",
        )
        .into());
    }
    let config = ctx.load_config()?;
    let (target, profile_region) = resolve_target(&config, &args.target)?;
    let (c, session) = credentials_for(ctx, &config, &target, false).await?;
    let region = args
        .region
        .map(crate::ids::Region::into_string)
        .or(profile_region)
        .unwrap_or(session.region);

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut cmd = Command::new(program);
    cmd.args(rest);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    for (name, value) in variables(&label(&args.target, &target), &c, Some(&region)) {
        cmd.env(name, value);
    }
    let name = program.to_string_lossy().into_owned();
    let not_run = |e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            "check the command name and your PATH"
        } else {
            "check that the command is executable"
        };
        UserError {
            message: format!("cannot run {name}: {e}"),
            hint: Some(hint.into()),
            code: if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            },
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // The command gets the person's own core-size limit back, not awsso's 0.
        crate::hardening::restore_core_limit();
        // Only returns on failure.
        let e = cmd.exec();
        Err(not_run(e).into())
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(not_run)?;
        Ok(ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8
        ))
    }
}
