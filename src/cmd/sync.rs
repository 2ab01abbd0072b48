//! `awsso sync`: write one profile per account × role into the AWS config, inside a block awsso owns per
//! session. Everything outside the block stays byte for byte; a second run changes nothing.
use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context as _;

use super::{Context, listing_for, sessions};
use crate::awsconfig::{self, ConfigFile, Section};
use crate::cli::SyncArgs;
use crate::profiles::planned::{block_id, plans_for};
use crate::profiles::{self, ProfilePlan};

/// What a sync changed (or would change) in one session's block.
#[derive(Debug, Default)]
struct Summary {
    written: usize,
    added: usize,
    removed: usize,
    kept_stale: usize,
    /// Profiles of the block that a filter now leaves out, kept until --prune.
    kept_filtered: usize,
    /// Pairs of the listing that the include/exclude patterns leave out.
    filtered: usize,
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
            let mut planned = plans_for(config, session, &listing, args.template.as_deref())?;
            planned.apply_patterns(&args.filter.include, &args.filter.exclude)?;
            let plans = planned.included();
            let pair = |p: &ProfilePlan| (p.account_id.clone(), p.role_name.clone());
            let wanted: BTreeSet<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            let assigned: BTreeSet<(String, String)> = plans.iter().map(pair).collect();
            // Pairs still assigned that a filter leaves out: their profiles go like vanished ones.
            let filtered_out: BTreeSet<(String, String)> = planned
                .plans
                .iter()
                .filter(|p| !planned.filter.admits(p))
                .map(pair)
                .collect();
            let existing: Vec<&Section> = config
                .profiles()
                .filter(|p| p.managed_by.as_deref() == Some(id.as_str()))
                .collect();
            let existing_names: BTreeSet<&str> = existing.iter().map(|s| s.name.as_str()).collect();
            // A profile whose name is no longer planned is either renamed (its account × role is still
            // assigned and written: a new template or override) and simply replaced, or stale (gone
            // from the portal, or left out by a filter): kept unless --prune.
            let (renamed, stale): (Vec<&Section>, Vec<&Section>) = existing
                .iter()
                .copied()
                .filter(|s| !wanted.contains(s.name.as_str()))
                .partition(|s| pair_of(config, s).is_some_and(|pair| assigned.contains(&pair)));
            let is_filtered =
                |s: &Section| pair_of(config, s).is_some_and(|pair| filtered_out.contains(&pair));
            let mut body = profiles::render_block(
                &plans,
                args.mode,
                planned.settings.hints,
                &session.name,
                &exe,
            )?;
            if !args.prune && !stale.is_empty() {
                body.push_str(&render_stale(&stale, &is_filtered)?);
            }
            let kept_filtered = stale.iter().filter(|s| is_filtered(s)).count();
            summary = Summary {
                written: plans.len(),
                added: wanted
                    .iter()
                    .filter(|n| !existing_names.contains(**n))
                    .count(),
                removed: renamed.len() + if args.prune { stale.len() } else { 0 },
                kept_stale: if args.prune {
                    0
                } else {
                    stale.len() - kept_filtered
                },
                kept_filtered: if args.prune { 0 } else { kept_filtered },
                filtered: planned.plans.len() - plans.len(),
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
                stale_note(&summary)
            );
        } else if changed {
            eprintln!(
                "Session {}: wrote {} profiles to {} ({} new, {} removed){}.",
                session.name,
                summary.written,
                path.display(),
                summary.added,
                summary.removed,
                stale_note(&summary)
            );
        } else {
            eprintln!(
                "Session {}: {} profiles, already up to date{}.",
                session.name,
                summary.written,
                stale_note(&summary)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stale_note(s: &Summary) -> String {
    let mut note = String::new();
    if s.filtered > 0 {
        note.push_str(&format!(
            "; {} left out by include/exclude patterns",
            s.filtered
        ));
    }
    match (s.kept_stale, s.kept_filtered) {
        (0, 0) => {}
        (stale, 0) => note.push_str(&format!(
            "; {stale} no longer assigned, kept (--prune removes them)"
        )),
        (0, filtered) => note.push_str(&format!(
            "; {filtered} filtered out, kept (--prune removes them)"
        )),
        (stale, filtered) => note.push_str(&format!(
            "; {stale} no longer assigned and {filtered} filtered out, kept (--prune removes them)"
        )),
    }
    note
}

/// The account id and role a profile of awsso's block was written for: its `sso_*` keys or its
/// `credential_process` line (what every hint level writes), else the `full` level's hint keys.
fn pair_of(config: &ConfigFile, s: &Section) -> Option<(String, String)> {
    if let Ok((target, _)) = crate::creds::target_of_profile(config, &s.name) {
        return Some((target.account_id, target.role_name));
    }
    let account = s.get("aws_account_id")?;
    let role = s.get("role_name")?;
    Some((account.to_owned(), role.to_owned()))
}

/// Profiles of the block whose account or role disappeared or that a filter leaves out, kept as they were
/// (they were written by awsso, so re-rendering their keys through the checked writer is lossless).
fn render_stale(
    stale: &[&Section],
    is_filtered: &dyn Fn(&Section) -> bool,
) -> anyhow::Result<String> {
    let mut out = String::new();
    for s in stale {
        out.push('\n');
        out.push_str(&awsconfig::render_comment(if is_filtered(s) {
            "left out by an include/exclude pattern; `awsso sync --prune` removes it"
        } else {
            "no longer assigned in the access portal; `awsso sync --prune` removes it"
        })?);
        let entries: Vec<(&str, &str)> = s
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        out.push_str(&awsconfig::render_section(&s.header(), &entries)?);
    }
    Ok(out)
}
