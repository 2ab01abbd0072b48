//! One module per subcommand; this one dispatches and holds what they share (the resolved settings).
pub mod completions;
pub mod console;
pub mod creds;
pub mod doctor;
pub mod env;
pub mod exec;
pub mod export;
pub mod login;
pub mod logout;
pub mod ls;
pub mod migrate;
pub mod prompt;
pub mod serve;
pub mod status;
pub mod sync;
pub mod use_profile;

use std::path::PathBuf;

use std::sync::Arc;

use anyhow::Context as _;

use crate::awsconfig::{self, ConfigFile};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::listing::{self, EnumOptions, ListError, Listing};
use crate::session::{self, SessionConfig};
use crate::sso::{Portal, SsoError};
use crate::store::{Store, StoreKind};

/// Settings every command resolves the same way: flags, then environment, then defaults.
pub struct Context {
    pub config_path: PathBuf,
    pub store_kind: StoreKind,
}

impl Context {
    pub fn from_args(global: &GlobalArgs) -> Context {
        Context {
            config_path: global.config.clone().unwrap_or_else(awsconfig::config_path),
            store_kind: global.store,
        }
    }

    pub fn load_config(&self) -> anyhow::Result<ConfigFile> {
        Ok(ConfigFile::load(&self.config_path)?)
    }

    pub fn open_store(&self) -> anyhow::Result<Store> {
        Store::open(self.store_kind).context("cannot open the credential store")
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let ctx = Context::from_args(&cli.global);
    match cli.command {
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Status(args) => status::run(&ctx, args).await,
        Command::Logout(args) => logout::run(&ctx, args).await,
        Command::Creds(args) => creds::run(&ctx, args).await,
        Command::Exec(args) => exec::run(&ctx, args).await,
        Command::Env(args) => env::run(&ctx, args).await,
        Command::Serve(args) => serve::run(&ctx, args).await,
        Command::Prompt(args) => prompt::run(&ctx, args),
        Command::Console(args) => console::run(&ctx, args).await,
        Command::Doctor(args) => doctor::run(&ctx, args).await,
        Command::Migrate(args) => migrate::run(&ctx, args),
        Command::Ls(args) => ls::run(&ctx, args).await,
        Command::Sync(args) => sync::run(&ctx, args).await,
        Command::Export(args) => export::run(&ctx, args).await,
        Command::Use(args) => use_profile::run(&ctx, args),
        Command::ShellInit(args) => completions::run_shell_init(args),
        Command::Completions(args) => completions::run_completions(args),
        Command::GenerateAssets(args) => completions::run_generate_assets(args),
    }
}

/// The sessions a command applies to: the one named, else every sso-session of the config.
pub fn sessions(config: &ConfigFile, name: Option<&str>) -> anyhow::Result<Vec<SessionConfig>> {
    if let Some(name) = name {
        return Ok(vec![session::resolve(config, Some(name))?]);
    }
    // The implicit sessions of legacy profiles too: `ls` and `sync` work on their instances.
    let all: Vec<SessionConfig> = session::all_with_legacy(config)
        .into_iter()
        .collect::<Result<_, _>>()?;
    if all.is_empty() {
        return Err(session::SessionError::NoSessions {
            path: config.path.display().to_string(),
        }
        .into());
    }
    Ok(all)
}

/// The account listing of a session: the cache while it is fresh (unless `refresh`), else a new scan, which
/// needs a valid token and replaces the cache only when it completed.
pub async fn listing_for(
    store: &Store,
    session: &SessionConfig,
    refresh: bool,
) -> anyhow::Result<Listing> {
    if !refresh
        && let Some(cached) = listing::load_cached(session)
        && cached.is_fresh(listing::ttl())
    {
        tracing::debug!(session = %session.name, "using the cached listing");
        return Ok(cached);
    }
    let token = session::ensure_token(store, session, 60).await?;
    let portal = Arc::new(Portal::without_retries(
        &session.region,
        &session.endpoints(),
    ));
    let bar = listing::progress_bar();
    let result = listing::enumerate(
        portal,
        token.access_token.clone(),
        session,
        &EnumOptions::from_env(),
        bar.as_ref(),
    )
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let listing = match result {
        Ok(l) => l,
        Err(e) => {
            if let ListError::Incomplete {
                source: SsoError::Unauthorized,
                ..
            } = &e
            {
                session::evict_token(store, session)?;
                return Err(anyhow::Error::new(e).context(format!(
                    "Identity Center rejected the token of session {} (revoked or signed out); it was removed",
                    session.name
                )));
            }
            return Err(e.into());
        }
    };
    if let Err(e) = listing::save(&listing) {
        eprintln!("warning: could not cache the account listing: {e}");
    }
    Ok(listing)
}
