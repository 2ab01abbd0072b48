//! `awsso prompt`: the shell-prompt segment (see [`crate::prompt`]). It never fails a prompt: with no
//! active profile it prints nothing, and what it cannot read (a broken config, no cache) it leaves out.
use std::process::ExitCode;

use super::Context;
use crate::awsconfig::ConfigFile;
use crate::cli::PromptArgs;
use crate::creds::{self, Target};
use crate::prompt;

pub fn run(ctx: &Context, args: PromptArgs) -> anyhow::Result<ExitCode> {
    let Some(active) = prompt::active(|k| std::env::var(k).ok()) else {
        return Ok(ExitCode::SUCCESS);
    };
    // Only the active profile's section is parsed: a synced config can hold thousands.
    let config = std::fs::read_to_string(&ctx.config_path)
        .ok()
        .and_then(|text| prompt::section_text(&text, &active.name))
        .and_then(|text| ConfigFile::parse(&ctx.config_path, text).ok());
    let section = config.as_ref().and_then(|c| c.profile(&active.name));
    let target = config
        .as_ref()
        .and_then(|c| creds::target_of_profile(c, &active.name).ok())
        .map(|(t, _)| t);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = if no_color {
        None
    } else {
        section
            .and_then(|s| s.get("color"))
            .and_then(prompt::parse_hex)
            .or_else(|| {
                let t = target.as_ref()?;
                prompt::parse_hex(crate::profiles::hashed_color(&t.account_id))
            })
    };
    let expiration = active
        .expiration
        .or_else(|| cached_expiration(ctx, target.as_ref()?));
    let left = expiration.map(|e| e - crate::sso::now());
    println!("{}", prompt::render(&active.name, left, color, args.shell));
    Ok(ExitCode::SUCCESS)
}

/// The expiry of the role's credentials in the kernel-keyring cache (scoped to the instance and the
/// login, as the warm `creds` path reads it); never the Secret Service, which would cost a D-Bus round trip
/// per prompt.
fn cached_expiration(ctx: &Context, target: &Target) -> Option<i64> {
    let cache = crate::credcache::open(ctx.store_kind)?;
    crate::credcache::cached_expiration(
        &cache,
        &ctx.config_path,
        &target.session,
        &target.account_id,
        &target.role_name,
    )
}
