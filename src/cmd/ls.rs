//! `awsso ls`: every account × role of the sessions, with the profile name `awsso sync` gives each.
use std::process::ExitCode;

use serde::Serialize;

use super::{Context, listing_for, sessions};
use crate::cli::LsArgs;
use crate::output::{sanitize, stdout_is_terminal};
use crate::profiles::planned::plans_for;

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

pub async fn run(ctx: &Context, args: LsArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions = sessions(&config, args.session.as_deref())?;
    let store = ctx.open_store()?;
    let mut rows = Vec::new();
    for session in &sessions {
        let listing = listing_for(&store, session, args.refresh).await?;
        let mut planned = plans_for(&config, session, &listing, None)?;
        planned.apply_patterns(&args.filter.include, &args.filter.exclude)?;
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
