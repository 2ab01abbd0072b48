//! `awsso sync`: write one profile per account × role into the AWS config, inside a block awsso owns per
//! session. Everything outside the block stays byte for byte; a second run changes nothing.
use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context as _;

use super::ls::plans_for;
use super::{Context, block_id, listing_for, sessions};
use crate::awsconfig::{self, ConfigFile, Section};
use crate::cli::SyncArgs;
use crate::profiles;

/// What a sync changed (or would change) in one session's block.
#[derive(Debug, Default)]
struct Summary {
    written: usize,
    added: usize,
    removed: usize,
    kept_stale: usize,
}

pub async fn run(ctx: &Context, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions = sessions(&config, args.session.as_deref())?;
    let store = ctx.open_store()?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the path of the awsso executable for credential_process")?;

    for session in &sessions {
        if let (Some(legacy), crate::profiles::Mode::Native) = (&session.legacy, args.mode) {
            // Native profiles name an [sso-session]; a legacy profile's implicit session has none.
            return Err(crate::error::UserError::new(
                format!(
                    "session {} is the implicit session of legacy profile {}: native profiles need an [sso-session]",
                    session.name, legacy.profile
                ),
                "run `awsso migrate` first, or sync without --mode native (credential_process profiles work)",
            )
            .into());
        }
        let listing = listing_for(&store, session, args.refresh).await?;
        let id = block_id(&session.name);
        let mut summary = Summary::default();
        let mut diff = String::new();
        let path = ctx.config_path.clone();
        let mut edit = |config: &ConfigFile| -> anyhow::Result<Option<String>> {
            let plans = plans_for(config, session, &listing, args.template.as_deref())?;
            let wanted: BTreeSet<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            let assigned: BTreeSet<(&str, &str)> = plans
                .iter()
                .map(|p| (p.account_id.as_str(), p.role_name.as_str()))
                .collect();
            let existing: Vec<&Section> = config
                .profiles()
                .filter(|p| p.managed_by.as_deref() == Some(id.as_str()))
                .collect();
            let existing_names: BTreeSet<&str> = existing.iter().map(|s| s.name.as_str()).collect();
            // A profile whose name is no longer planned is either renamed (its account × role is still
            // assigned: a new template or override) and simply replaced, or stale: kept unless --prune.
            let (renamed, stale): (Vec<&Section>, Vec<&Section>) = existing
                .iter()
                .copied()
                .filter(|s| !wanted.contains(s.name.as_str()))
                .partition(|s| pair_of(s).is_some_and(|pair| assigned.contains(&pair)));
            let mut body = profiles::render_block(&plans, args.mode, &session.name, &exe)?;
            if !args.prune && !stale.is_empty() {
                body.push_str(&render_stale(&stale)?);
            }
            summary = Summary {
                written: plans.len(),
                added: wanted
                    .iter()
                    .filter(|n| !existing_names.contains(**n))
                    .count(),
                removed: renamed.len() + if args.prune { stale.len() } else { 0 },
                kept_stale: if args.prune { 0 } else { stale.len() },
            };
            let new_text = config.splice_block(&id, Some(&body))?;
            if new_text == config.text {
                return Ok(None);
            }
            if args.dry_run {
                diff = similar::TextDiff::from_lines(&config.text, &new_text)
                    .unified_diff()
                    .context_radius(2)
                    .header(&config.path.display().to_string(), "(after awsso sync)")
                    .to_string();
                return Ok(None);
            }
            Ok(Some(new_text))
        };
        let changed = if args.dry_run {
            edit(&ConfigFile::load(&path)?)?;
            false
        } else {
            awsconfig::update(&path, edit)?
        };
        if args.dry_run {
            print!("{diff}");
            eprintln!(
                "Dry run: session {} would have {} profiles ({} new, {} removed){}; nothing was written.",
                session.name,
                summary.written,
                summary.added,
                summary.removed,
                stale_note(summary.kept_stale)
            );
        } else if changed {
            eprintln!(
                "Session {}: wrote {} profiles to {} ({} new, {} removed){}.",
                session.name,
                summary.written,
                path.display(),
                summary.added,
                summary.removed,
                stale_note(summary.kept_stale)
            );
        } else {
            eprintln!(
                "Session {}: {} profiles, already up to date{}.",
                session.name,
                summary.written,
                stale_note(summary.kept_stale)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stale_note(kept: usize) -> String {
    if kept == 0 {
        String::new()
    } else {
        format!("; {kept} no longer assigned, kept (--prune removes them)")
    }
}

/// The account id and role a profile of awsso's block was written for (both modes write
/// `aws_account_id` and `role_name`; the `sso_*` keys are a fallback for hand-edited blocks).
fn pair_of(s: &Section) -> Option<(&str, &str)> {
    let account = s
        .get("aws_account_id")
        .or_else(|| s.get("sso_account_id"))?;
    let role = s.get("role_name").or_else(|| s.get("sso_role_name"))?;
    Some((account, role))
}

/// Profiles of the block whose account or role disappeared, kept as they were (they were written by awsso,
/// so re-rendering their keys through the checked writer is lossless).
fn render_stale(stale: &[&Section]) -> anyhow::Result<String> {
    let mut out = String::new();
    for s in stale {
        out.push('\n');
        out.push_str(&awsconfig::render_comment(
            "no longer assigned in the access portal; `awsso sync --prune` removes it",
        )?);
        let entries: Vec<(&str, &str)> = s
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        out.push_str(&awsconfig::render_section(&s.header(), &entries)?);
    }
    Ok(out)
}
