//! `awsso creds`: the credential_process helper. stdout carries the JSON and nothing else; every message
//! goes to stderr, it never prompts, and the warm path reads only the kernel keyring.
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use crate::cli::{CredsArgs, TargetArgs};
use crate::credcache;
use crate::creds::{self, Target};
use crate::error::{UserError, exit_code_of};
use crate::login::{self, LoginOptions};
use crate::session::{self, SessionConfig};
use crate::sso::{Flow, RoleCredentials};

/// The target named on the command line, when it needs no config lookup.
pub fn explicit_target(args: &TargetArgs) -> Option<Target> {
    match (&args.session, &args.account_id, &args.role_name) {
        (Some(s), Some(a), Some(r)) => Some(Target {
            session: s.to_string(),
            account_id: a.to_string(),
            role_name: r.to_string(),
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
        Some(p) => {
            let (target, region) = creds::target_of_profile(config, p)?;
            check_profile_target(config, p, &target)?;
            Ok((target, region))
        }
        None => Err(UserError::usage(
            "which role?",
            "pass --profile P, or --session S --account-id ID --role-name R",
        )
        .into()),
    }
}

/// A profile's session, account id and role name are checked like command-line arguments before anything
/// uses them (a hand-edited 66,000-digit `sso_account_id` would otherwise reach the SDK's URI builder).
fn check_profile_target(
    config: &crate::awsconfig::ConfigFile,
    profile: &str,
    t: &Target,
) -> Result<(), UserError> {
    use crate::ids::{AccountId, RoleName, SessionName};
    let problem = t
        .session
        .parse::<SessionName>()
        .err()
        .map(|e| ("session", e))
        .or_else(|| {
            t.account_id
                .parse::<AccountId>()
                .err()
                .map(|e| ("account id", e))
        })
        .or_else(|| {
            t.role_name
                .parse::<RoleName>()
                .err()
                .map(|e| ("role name", e))
        });
    match problem {
        None => Ok(()),
        Some((what, e)) => Err(UserError {
            message: format!(
                "profile {} in {} has an invalid {what}: {e}",
                crate::output::sanitize(profile, 100),
                config.path.display()
            ),
            hint: Some("fix the profile, or write it again with `awsso sync`".into()),
            code: crate::error::EXIT_CONFIG,
        }),
    }
}

/// [`resolve_target`], except that with no role named, on a terminal, the picker chooses a profile (and
/// `args.profile` is set to it). `Ok(None)`: the user cancelled.
pub fn resolve_or_pick(
    config: &crate::awsconfig::ConfigFile,
    args: &mut TargetArgs,
    title: &str,
) -> anyhow::Result<Option<(Target, Option<String>)>> {
    if args.profile.is_none() && explicit_target(args).is_none() {
        match pick_profile(config, title)? {
            Some(p) => args.profile = Some(p),
            None => return Ok(None),
        }
    }
    resolve_target(config, args).map(Some)
}

/// The picker, its errors as the user sees them: no terminal is a usage error naming --profile.
pub fn pick_profile(
    config: &crate::awsconfig::ConfigFile,
    title: &str,
) -> anyhow::Result<Option<String>> {
    use crate::picker::PickError;
    crate::picker::choose(config, title).map_err(|e| {
        let (hint, code) = match &e {
            PickError::NoTerminal => (
                "pass --profile P (or run it on a terminal to pick one)",
                crate::error::EXIT_USAGE,
            ),
            PickError::NoProfiles { .. } => (
                "run `awsso sync`, or pass --profile P",
                crate::error::EXIT_USAGE,
            ),
            PickError::Terminal(_) => ("pass --profile P", crate::error::EXIT_FAILURE),
        };
        UserError {
            message: e.to_string(),
            hint: Some(hint.into()),
            code,
        }
        .into()
    })
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
                    code: exit_code_of(&e),
                })?;
            creds::get(&store, cache.as_ref(), &session, target).await
        }
        other => other,
    };
    match result {
        Ok(c) => Ok((c, session)),
        Err(e) => {
            let code = exit_code_of(&e);
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
    let (c, _) = credentials_for(ctx, &config, &target, args.auto_login).await?;
    Ok((c, target.account_id))
}

/// The source of a credentials endpoint's route (`exec --server`, `serve`): what `awsso creds` would
/// answer for the target, the error as one line with its hint.
pub fn fetcher(
    ctx: &Context,
    config: std::rc::Rc<crate::awsconfig::ConfigFile>,
    target: Target,
) -> crate::server::Fetch {
    let ctx = std::rc::Rc::new(Context {
        config_path: ctx.config_path.clone(),
        store_kind: ctx.store_kind,
    });
    std::rc::Rc::new(move || {
        let (ctx, config, target) = (ctx.clone(), config.clone(), target.clone());
        Box::pin(async move {
            credentials_for(&ctx, &config, &target, false)
                .await
                .map(|(c, _)| c)
                .map_err(|e| {
                    let (_, hint) = crate::error::classify(&e);
                    match hint {
                        Some(h) => format!("{e:#} ({h})"),
                        None => format!("{e:#}"),
                    }
                })
        })
    })
}
