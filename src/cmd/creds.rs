//! `awsso creds`: the credential_process helper. stdout carries the JSON and nothing else; every message
//! goes to stderr, it never prompts, and the warm path reads only the kernel keyring.
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use crate::cli::{CredsArgs, TargetArgs};
use crate::credcache;
use crate::creds::{self, Target};
use crate::error::{EXIT_FAILURE, EXIT_LOGIN_REQUIRED, UserError};
use crate::login::{self, LoginOptions};
use crate::session::{self, SessionConfig};
use crate::sso::{Flow, RoleCredentials};

/// The target named on the command line, when it needs no config lookup.
pub fn explicit_target(args: &TargetArgs) -> Option<Target> {
    match (&args.session, &args.account_id, &args.role_name) {
        (Some(s), Some(a), Some(r)) => Some(Target {
            session: s.clone(),
            account_id: a.clone(),
            role_name: r.clone(),
        }),
        _ => None,
    }
}

/// Resolves the target (and the profile's region) from the arguments and the config.
pub fn resolve_target(
    config: &crate::awsconfig::ConfigFile,
    args: &TargetArgs,
) -> anyhow::Result<(Target, Option<String>)> {
    if let Some(t) = explicit_target(args) {
        return Ok((t, None));
    }
    match &args.profile {
        Some(p) => Ok(creds::target_of_profile(config, p)?),
        None => Err(UserError::new(
            "which role?",
            "pass --profile P, or --session S --account-id ID --role-name R",
        )
        .into()),
    }
}

/// Credentials for the target: the cache, else the store, else a fetch (logging in first when allowed).
pub async fn credentials_for(
    ctx: &Context,
    config: &crate::awsconfig::ConfigFile,
    target: &Target,
    auto_login: bool,
) -> anyhow::Result<(RoleCredentials, SessionConfig)> {
    let session = session::resolve(config, Some(&target.session))?;
    let store = ctx.open_store()?;
    let cache = credcache::open(ctx.store_kind);
    let first = creds::get(&store, cache.as_ref(), &session, target).await;
    let result = match first {
        Err(e) if e.needs_login() && auto_login => {
            eprintln!("awsso: {e}; signing in (--auto-login)…");
            let options = LoginOptions {
                flow: Flow::Device,
                force: false,
                browser: true,
                timeout: Duration::from_secs(300),
            };
            login::login(&store, &session, &options)
                .await
                .map_err(|e| UserError {
                    message: format!("login to session {} failed: {e}", session.name),
                    hint: e.hint(&session.name),
                    code: EXIT_FAILURE,
                })?;
            creds::get(&store, cache.as_ref(), &session, target).await
        }
        other => other,
    };
    match result {
        Ok(c) => Ok((c, session)),
        Err(e) => {
            let code = if e.needs_login() {
                EXIT_LOGIN_REQUIRED
            } else {
                EXIT_FAILURE
            };
            let hint = if e.needs_login() {
                Some(format!("run `awsso login --session {}`", session.name))
            } else {
                e.hint()
            };
            Err(UserError {
                message: format!(
                    "no credentials for role {} in account {}: {}",
                    target.role_name,
                    target.account_id,
                    one_line(&e)
                ),
                hint,
                code,
            }
            .into())
        }
    }
}

/// An error and its sources on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

pub async fn run(ctx: &Context, args: CredsArgs) -> anyhow::Result<ExitCode> {
    match serve(ctx, args).await {
        Ok(c) => {
            println!("{}", creds::process_json(&c));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(report_one_line(&e)),
    }
}

/// credential_process callers show the helper's stderr only when it fails, often squeezed into one
/// message ("Error when retrieving credentials from custom-process: …"): the error and its hint go on a
/// single line.
fn report_one_line(e: &anyhow::Error) -> ExitCode {
    let (code, hint) = crate::error::classify(e);
    let mut line = format!("error: {e:#}");
    if let Some(hint) = hint {
        line.push_str("; hint: ");
        line.push_str(&hint);
    }
    eprintln!("{}", line.replace(['\n', '\r'], " "));
    ExitCode::from(code)
}

async fn serve(ctx: &Context, args: CredsArgs) -> anyhow::Result<RoleCredentials> {
    let cache = credcache::open(ctx.store_kind);
    // The config's identity is taken before it is read, so a resolution recorded below can only be stale
    // in the safe direction (a later edit changes the identity and misses).
    let fingerprint = credcache::Fingerprint::of(&ctx.config_path);
    let explicit = explicit_target(&args.target);
    // Warm path: a stat and three kernel-keyring reads; no config parse, no D-Bus.
    if let (Some(cache), Some(t), Some(_)) = (&cache, &explicit, fingerprint)
        && let Some(c) = credcache::warm_explicit(
            cache,
            &ctx.config_path,
            &t.session,
            &t.account_id,
            &t.role_name,
        )
    {
        return Ok(c);
    }
    let config = ctx.load_config()?;
    let (target, _) = resolve_target(&config, &args.target)?;
    let session = session::resolve(&config, Some(&target.session))?;
    if let Some(cache) = &cache {
        let scope = session.scope();
        if explicit.is_some()
            && let Some(fp) = fingerprint
        {
            credcache::remember_resolution(cache, &ctx.config_path, fp, &target.session, &scope);
        }
        // A profile costs a config parse, but a warm one still needs no D-Bus.
        if explicit.is_none()
            && let Some(c) =
                credcache::warm_scoped(cache, &scope, &target.account_id, &target.role_name)
        {
            return Ok(c);
        }
    }
    let (c, _) = credentials_for(ctx, &config, &target, args.auto_login).await?;
    Ok(c)
}
