//! `awsso ls`: every account × role of the sessions, with the profile name `awsso sync` gives each.
use std::collections::BTreeSet;
use std::process::ExitCode;

use serde::Serialize;

use super::{Context, block_id, listing_for, sessions};
use crate::awsconfig::ConfigFile;
use crate::cli::LsArgs;
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

/// The plans for one session, from its listing and settings.
pub fn plans_for(
    config: &ConfigFile,
    session: &SessionConfig,
    listing: &crate::listing::Listing,
    template: Option<&str>,
) -> anyhow::Result<Vec<ProfilePlan>> {
    let mut settings = profiles::load_settings(&profiles::settings_path(), &session.name)?;
    if let Some(t) = template {
        settings.template = t.to_string();
        profiles::validate_template(&settings.template)?;
    }
    Ok(profiles::plan(
        listing,
        &settings,
        &session.region,
        &taken_names(config, session),
    ))
}

pub async fn run(ctx: &Context, args: LsArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions = sessions(&config, args.session.as_deref())?;
    let store = ctx.open_store()?;
    let mut rows = Vec::new();
    for session in &sessions {
        let listing = listing_for(&store, session, args.refresh).await?;
        for plan in plans_for(&config, session, &listing, None)? {
            rows.push(Row {
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
            println!(
                "{}\t{}\t{}\t{}\t{}",
                r.profile,
                r.account_id,
                sanitize(&r.account_name, 200).replace('\t', " "),
                r.role_name,
                r.session
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
    let mut header = format!(
        "{:wp$}  {:12}  {:wn$}  {:wr$}",
        "PROFILE", "ACCOUNT ID", "ACCOUNT NAME", "ROLE"
    );
    if with_session {
        header.push_str("  SESSION");
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
            line.push_str(&r.session);
        }
        println!("{}", line.trim_end());
    }
    eprintln!("{} profiles", rows.len());
}
