//! `awsso ls`: every account × role of the sessions, with the profile name `awsso sync` gives each.
use std::collections::BTreeSet;
use std::process::ExitCode;

use serde::Serialize;

use super::{Context, block_id, listing_for, sessions};
use crate::awsconfig::ConfigFile;
use crate::cli::{FilterArgs, LsArgs};
use crate::error::{EXIT_USAGE, UserError};
use crate::output::{sanitize, stdout_is_terminal};
use crate::profiles::{self, ProfilePlan};
use crate::session::SessionConfig;

#[derive(Debug, Serialize)]
struct Row {
    session: String,
    account_id: String,
    account_name: String,
    role_name: String,
    profile: String,
    /// Left out of `sync` by an include/exclude pattern.
    filtered: bool,
}

/// Profile names that `sync` must not take for `session`: the user's own and other sessions' profiles.
pub fn taken_names(config: &ConfigFile, session: &SessionConfig) -> BTreeSet<String> {
    let own = block_id(&session.name);
    config
        .profiles()
        .filter(|p| p.managed_by.as_deref() != Some(own.as_str()))
        .map(|p| p.name.clone())
        .collect()
}

/// One session's plans and the settings they were made with.
pub struct Planned {
    /// Every pair of the listing (names are planned for all, so a filter never renames a profile).
    pub plans: Vec<ProfilePlan>,
    pub settings: profiles::Settings,
    /// Which of `plans` sync writes: the settings file's patterns, or the command line's.
    pub filter: profiles::Filter,
}

impl Planned {
    /// `--include`/`--exclude` replace the settings file's patterns of the same kind.
    pub fn apply_flags(&mut self, flags: &FilterArgs) -> anyhow::Result<()> {
        if flags.include.is_empty() && flags.exclude.is_empty() {
            return Ok(());
        }
        let include = if flags.include.is_empty() {
            self.filter.include_patterns().to_vec()
        } else {
            flags.include.clone()
        };
        let exclude = if flags.exclude.is_empty() {
            self.filter.exclude_patterns().to_vec()
        } else {
            flags.exclude.clone()
        };
        self.filter = profiles::Filter::new(&include, &exclude).map_err(|e| UserError {
            message: e.to_string(),
            hint: Some(
                "patterns are globs (* ? [abc] {a,b}, \\ escapes), e.g. --include 'prod-*' \
                 --exclude '*/ReadOnly*'"
                    .into(),
            ),
            code: EXIT_USAGE,
        })?;
        Ok(())
    }

    /// The plans sync writes.
    pub fn included(&self) -> Vec<ProfilePlan> {
        self.plans
            .iter()
            .filter(|p| self.filter.admits(p))
            .cloned()
            .collect()
    }
}

/// The plans for one session, from its listing and settings.
pub fn plans_for(
    config: &ConfigFile,
    session: &SessionConfig,
    listing: &crate::listing::Listing,
    template: Option<&str>,
) -> anyhow::Result<Planned> {
    let mut settings = profiles::load_settings(&crate::paths::settings_file(), &session.name)?;
    if let Some(t) = template {
        settings.template = t.to_string();
        profiles::validate_template(&settings.template)?;
    }
    let plans = profiles::plan(
        listing,
        &settings,
        &session.region,
        &taken_names(config, session),
    );
    // Validated when the settings file was read.
    let filter = profiles::Filter::new(&settings.include, &settings.exclude)?;
    Ok(Planned {
        plans,
        settings,
        filter,
    })
}

pub async fn run(ctx: &Context, args: LsArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions = sessions(&config, args.session.as_deref())?;
    let store = ctx.open_store()?;
    let mut rows = Vec::new();
    for session in &sessions {
        let listing = listing_for(&store, session, args.refresh).await?;
        let mut planned = plans_for(&config, session, &listing, None)?;
        planned.apply_flags(&args.filter)?;
        for plan in planned.plans {
            rows.push(Row {
                filtered: !planned.filter.admits(&plan),
                session: session.name.clone(),
                account_id: plan.account_id,
                account_name: plan.account_name,
                role_name: plan.role_name,
                profile: plan.name,
            });
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if stdout_is_terminal() {
        print_table(&rows, sessions.len() > 1);
    } else {
        for r in &rows {
            // A sixth field only on the rows a filter leaves out: the five-field lines stay as they were.
            println!(
                "{}\t{}\t{}\t{}\t{}{}",
                r.profile,
                r.account_id,
                sanitize(&r.account_name, 200).replace('\t', " "),
                r.role_name,
                r.session,
                if r.filtered { "\tfiltered" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row], with_session: bool) {
    let name = |r: &Row| sanitize(&r.account_name, 40);
    let w = |f: &dyn Fn(&Row) -> usize, title: &str| {
        rows.iter()
            .map(f)
            .max()
            .unwrap_or(0)
            .max(title.chars().count())
    };
    let wp = w(&|r| r.profile.chars().count(), "PROFILE");
    let wn = w(&|r| name(r).chars().count(), "ACCOUNT NAME");
    let wr = w(&|r| r.role_name.chars().count(), "ROLE");
    let ws = w(&|r| r.session.chars().count(), "SESSION");
    let any_filtered = rows.iter().any(|r| r.filtered);
    let mut header = format!(
        "{:wp$}  {:12}  {:wn$}  {:wr$}",
        "PROFILE", "ACCOUNT ID", "ACCOUNT NAME", "ROLE"
    );
    if with_session {
        header.push_str("  SESSION");
    }
    if any_filtered {
        header.push_str("  SYNC");
    }
    println!("{}", header.trim_end());
    for r in rows {
        let mut line = format!(
            "{:wp$}  {:12}  {:wn$}  {:wr$}",
            r.profile,
            r.account_id,
            name(r),
            r.role_name
        );
        if with_session {
            line.push_str("  ");
            line.push_str(&format!("{:ws$}", r.session));
        }
        if r.filtered {
            line.push_str("  filtered out");
        }
        println!("{}", line.trim_end());
    }
    let filtered = rows.iter().filter(|r| r.filtered).count();
    if any_filtered {
        eprintln!(
            "{} profiles ({} filtered out: `awsso sync` leaves them out)",
            rows.len(),
            filtered
        );
    } else {
        eprintln!("{} profiles", rows.len());
    }
}
