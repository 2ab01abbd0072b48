//! `awsso exec`: run a command with a role's credentials in its environment. On Unix awsso replaces itself
//! with the command (execve), so signals reach it directly and its exit status is the command's.
//! With `--server` it cannot (it serves the command's credentials while it runs): the command is its
//! child, see [`crate::child`].
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, ExitCode};
use std::rc::Rc;

use super::Context;
use crate::child;
use crate::cli::ExecArgs;
use crate::creds::env::{CLEARED, MARKER, label, variables};
use crate::creds::{credentials_for, fetcher, resolve_or_pick};
use crate::error::UserError;
use crate::server::{self, Endpoint};

pub async fn run(ctx: &Context, mut args: ExecArgs) -> anyhow::Result<ExitCode> {
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
    let Some((target, profile_region)) = resolve_or_pick(&config, &mut args.target, "awsso exec")?
    else {
        return Ok(ExitCode::from(crate::error::EXIT_INTERRUPTED));
    };
    let (c, session) = credentials_for(ctx.store_kind, &config, &target, false).await?;
    let region = args
        .region
        .clone()
        .map(crate::ids::Region::into_string)
        .or(profile_region)
        .unwrap_or(session.region);
    if args.server {
        return run_with_server(ctx, config, target, c, region, &args).await;
    }

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut cmd = Command::new(program);
    cmd.args(rest);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    for (name, value) in variables(&label(&args.target, &target), &c, Some(&region)) {
        cmd.env(name, value);
    }
    let not_run = not_run(program);
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

/// The error for a command that could not start: 127 when it is not found, else 126.
fn not_run(program: &std::ffi::OsStr) -> impl Fn(std::io::Error) -> UserError {
    let name = program.to_string_lossy().into_owned();
    move |e: std::io::Error| {
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
    }
}

/// `exec --server`: the command gets a loopback endpoint instead of keys, served until it ends.
async fn run_with_server(
    ctx: &Context,
    config: crate::awsconfig::ConfigFile,
    target: crate::creds::Target,
    first: crate::sso::RoleCredentials,
    region: String,
    args: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let mut endpoint = Endpoint::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let label = label(&args.target, &target);
    let fetch = fetcher(ctx.store_kind, Rc::new(config), target.clone());
    let access = endpoint.add(&label, None, &target.account_id, fetch, Some(first))?;

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest);
    for name in CLEARED.iter().chain(&server::SHADOWING) {
        cmd.env_remove(name);
    }
    cmd.env(server::FULL_URI, &access.uri)
        .env(server::AUTH_TOKEN, access.token.expose())
        .env("AWS_REGION", &region)
        .env("AWS_DEFAULT_REGION", &region)
        .env(MARKER, &label);
    let serving = endpoint.serve();
    tokio::pin!(serving);
    let status = tokio::select! {
        status = child::run(cmd) => status.map_err(not_run(program))?,
        e = &mut serving => {
            return Err(anyhow::Error::new(e).context("the credentials endpoint stopped"));
        }
    };
    Ok(ExitCode::from(child::exit_code(status)))
}
