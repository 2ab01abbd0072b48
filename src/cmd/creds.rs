//! `awsso creds`: the credential_process helper. stdout carries the JSON and nothing else; every message
//! goes to stderr, it never prompts, and the warm path reads only the kernel keyring.
use std::process::ExitCode;

use super::Context;
use crate::cli::CredsArgs;
use crate::credcache;
use crate::creds::{self, credentials_for, explicit_target, resolve_target};
use crate::session;
use crate::sso::RoleCredentials;

pub async fn run(ctx: &Context, args: CredsArgs) -> anyhow::Result<ExitCode> {
    match serve(ctx, args).await {
        Ok((c, account_id)) => {
            println!("{}", creds::process_json(&c, &account_id));
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

/// The credentials and the account id they are for.
async fn serve(ctx: &Context, args: CredsArgs) -> anyhow::Result<(RoleCredentials, String)> {
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
        return Ok((c, t.account_id.clone()));
    }
    let config = ctx.load_config()?;
    let (target, _) = resolve_target(&config, &args.target)?;
    let session = session::resolve(&config, Some(&target.session))?;
    if let Some(cache) = &cache {
        let scope = session.scope();
        // Recorded for a profile too: the entry maps (config file, session name) to the instance, which
        // is what `awsso prompt` reads to find a profile's cached credentials without parsing the config.
        if let Some(fp) = fingerprint {
            credcache::remember_resolution(cache, &ctx.config_path, fp, &target.session, &scope);
        }
        // A profile costs a config parse, but a warm one still needs no D-Bus.
        if explicit.is_none()
            && let Some(c) =
                credcache::warm_scoped(cache, &scope, &target.account_id, &target.role_name)
        {
            return Ok((c, target.account_id));
        }
    }
    let (c, _) = credentials_for(ctx.store_kind, &config, &target, args.auto_login).await?;
    Ok((c, target.account_id))
}
