//! `awsso migrate`: moves legacy SSO profiles to an [sso-session] (see [`crate::migrate`]), atomically and
//! under the config lock like `sync`; `--dry-run` prints the diff and writes nothing.
use std::process::ExitCode;

use super::Context;
use crate::awsconfig::{self, ConfigFile};
use crate::cli::MigrateArgs;
use crate::migrate;

pub fn run(ctx: &Context, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let path = ctx.config_path.clone();
    if args.dry_run {
        let config = ConfigFile::load(&path)?;
        match migrate::plan(&config)? {
            None => eprintln!("No legacy SSO profile to migrate in {}.", path.display()),
            Some(plan) => {
                print!("{}", migrate::diff(&config, &plan));
                eprintln!("Dry run: {}; nothing was written.", describe(&plan));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut done = None;
    awsconfig::update(
        &path,
        |config: &ConfigFile| -> anyhow::Result<Option<String>> {
            let plan = migrate::plan(config)?;
            let text = plan.as_ref().map(|p| p.new_text.clone());
            done = plan;
            Ok(text)
        },
    )?;
    match done {
        None => eprintln!("No legacy SSO profile to migrate in {}.", path.display()),
        Some(plan) => eprintln!(
            "Migrated {}: {}. Log in once more (`awsso login --session NAME`) to get a refreshable token.",
            path.display(),
            describe(&plan)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(plan: &migrate::Plan) -> String {
    plan.moves
        .iter()
        .map(|(session, profiles)| format!("[sso-session {session}] for {}", profiles.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}
