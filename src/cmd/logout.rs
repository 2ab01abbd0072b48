//! `awsso logout`: end the session at Identity Center (Logout) and delete its secrets from the store.
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::cli::LogoutArgs;
use crate::creds;
use crate::session::{self, SessionConfig, TokenRecord};
use crate::sso::{Flow, Portal, SsoError};
use crate::store::Store;

pub async fn run(ctx: &Context, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions: Vec<SessionConfig> = if args.all {
        session::all_with_legacy(&config)
            .into_iter()
            .collect::<Result<_, _>>()?
    } else {
        vec![session::resolve(&config, args.session.as_deref())?]
    };
    let store = ctx.open_store()?;
    for s in &sessions {
        logout(&store, s).await?;
        crate::credcache::forget_resolution(&ctx.config_path, &s.name);
    }
    Ok(ExitCode::SUCCESS)
}

async fn logout(store: &Store, session: &SessionConfig) -> anyhow::Result<()> {
    // Read the raw record, not only one that matches the config: a token of an edited session is still ours.
    let token: Option<TokenRecord> = store.get_json(&session.token_key())?;
    let Some(token) = token else {
        forget(store, session)?;
        eprintln!("Session {} was not logged in; nothing to do.", session.name);
        return Ok(());
    };
    if token.valid_for(0) {
        let portal = Portal::new(&token.region, &session.endpoints());
        match portal.logout(&token.access_token).await {
            Ok(()) | Err(SsoError::Unauthorized) => {}
            Err(e) => eprintln!(
                "warning: Identity Center did not confirm the logout ({e}); the local secrets are removed anyway."
            ),
        }
    }
    forget(store, session)?;
    eprintln!("Logged out of session {}.", session.name);
    Ok(())
}

/// Deletes every secret kept for the session's instance: token, client registrations, cached role
/// credentials (in the store and in the kernel keyring, whatever `AWSSO_NO_KEYUTILS_CACHE` says), and what
/// older releases kept under the session name alone.
fn forget(store: &Store, session: &SessionConfig) -> anyhow::Result<()> {
    creds::forget_instance(store, &session.scope())?;
    store.delete(&session.token_key())?;
    creds::forget_legacy_keys(store, &session.name)?;
    session::remove_cli_cache(session.cli_cache_key()).with_context(|| {
        format!(
            "cannot remove the AWS CLI token cache copy of session {}",
            session.name
        )
    })?;
    for flow in [Flow::Device, Flow::Pkce] {
        store.delete(&session.client_key(flow))?;
    }
    Ok(())
}
