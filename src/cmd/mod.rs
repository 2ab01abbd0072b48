//! One module per subcommand; this one dispatches and holds what they share (the resolved settings).
pub mod login;
pub mod logout;
pub mod status;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::awsconfig::{self, ConfigFile};
use crate::cli::{Cli, Command, GlobalArgs};
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
    }
}
