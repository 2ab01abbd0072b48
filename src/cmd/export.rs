//! `awsso export peacock|aesr`: the browser extensions' configurations, planned exactly as `awsso sync`
//! plans the profiles (settings file, colour rules, filters), from the cached listing.
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use super::{Context, listing_for, sessions};
use crate::cli::{ExportArgs, ExportCommand};
use crate::profiles;
use crate::profiles::planned::plans_for;

pub async fn run(ctx: &Context, command: ExportCommand) -> anyhow::Result<ExitCode> {
    let (args, peacock) = match command {
        ExportCommand::Peacock(args) => (args, true),
        ExportCommand::Aesr(args) => (args, false),
    };
    let ExportArgs {
        session,
        output,
        refresh,
        filter,
    } = args;
    let config = ctx.load_config()?;
    let sessions = sessions(&config, session.as_deref())?;
    let store = ctx.open_store()?;
    let mut plans = Vec::new();
    for session in &sessions {
        let listing = listing_for(&store, session, refresh).await?;
        let mut planned = plans_for(&config, session, &listing, None)?;
        planned.apply_patterns(&filter.include, &filter.exclude)?;
        plans.extend(planned.included());
    }
    let text = if peacock {
        profiles::peacock_json(&plans)
    } else {
        profiles::aesr(&plans)?
    };
    match output {
        None => print!("{text}"),
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            tmp.write_all(text.as_bytes())
                .and_then(|()| tmp.as_file().sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tmp.persist(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "Wrote the {} configuration for {} profiles to {}.",
                if peacock {
                    "AWS Peacock Management Console"
                } else {
                    "AWS Extend Switch Roles"
                },
                plans.len(),
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
