//! `awsso login`: create the sso-session section when asked to, then log in (or reuse / refresh).
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use crate::awsconfig::{self, ConfigFile};
use crate::cli::LoginArgs;
use crate::error::UserError;
use crate::login::{self, LoginOptions, LoginOutcome};
use crate::session::{self, REFRESH_SCOPE};

pub async fn run(ctx: &Context, args: LoginArgs) -> anyhow::Result<ExitCode> {
    if args.export_cli_cache {
        // Refused before signing in: the copy would otherwise land in ./.aws/sso/cache of the cwd.
        crate::paths::home_dir("the AWS CLI token cache (--export-cli-cache)").map_err(|e| {
            UserError::new(
                e.to_string(),
                "run with HOME set to your home directory, or without --export-cli-cache",
            )
        })?;
    }
    if let (Some(url), Some(region)) = (&args.start_url, &args.region) {
        ensure_session_section(ctx, args.session.as_deref(), url, region)?;
    }
    let config = ctx.load_config()?;
    let name = match (&args.session, &args.start_url) {
        (Some(name), _) => Some(name.to_string()),
        (None, Some(url)) => Some(session::implicit_name(url)),
        (None, None) => None,
    };
    let session = match &args.profile {
        Some(profile) => session_of_profile(&config, profile)?,
        None => session::resolve(&config, name.as_deref())?,
    };
    if let Some(legacy) = &session.legacy {
        eprintln!(
            "note: profile {} is a legacy SSO profile (sso_start_url without an sso-session), so Identity \
             Center issues no refresh token and you will sign in again when the token expires; `awsso doctor` \
             shows how to move it to an [sso-session].",
            legacy.profile
        );
    } else if !session.refresh_capable() {
        eprintln!(
            "note: [sso-session {}] has no `sso_registration_scopes = {REFRESH_SCOPE}`, so Identity Center \
             issues no refresh token and you will sign in again when the token expires.",
            session.name
        );
    }
    let store = ctx.open_store()?;
    let options = LoginOptions {
        flow: args.flow,
        force: args.force,
        browser: !args.no_browser,
        timeout: Duration::from_secs(args.timeout),
    };
    let outcome = login::login(&store, &session, &options)
        .await
        .map_err(|e| {
            let hint = e.hint(&session.name);
            let code = match &e {
                login::LoginError::Cancelled => crate::error::EXIT_INTERRUPTED,
                login::LoginError::Store(_) => crate::error::EXIT_STORE_UNAVAILABLE,
                _ => crate::error::EXIT_FAILURE,
            };
            anyhow::Error::new(UserError {
                message: format!("login to session {} failed: {e}", session.name),
                hint,
                code,
            })
        })?;
    if args.export_cli_cache && !outcome.token().export_cli_cache {
        let mut record = outcome.token().clone();
        record.export_cli_cache = true;
        session::save_token(&store, &session, &record)?;
        eprintln!(
            "Exported the token to {} (plaintext, mode 0600; `awsso logout` removes it).",
            session::cli_cache_path(session.cli_cache_key()).display()
        );
    }
    let token = outcome.token();
    let refresh = if token.refresh_token.is_some() {
        "refreshable"
    } else {
        "not refreshable"
    };
    let what = match outcome {
        LoginOutcome::AlreadyValid(_) => "Already logged in to",
        LoginOutcome::Refreshed(_) => "Refreshed the token of",
        LoginOutcome::LoggedIn(_) => "Logged in to",
        LoginOutcome::ByOtherProcess(_) => "Another awsso process logged in to",
    };
    eprintln!(
        "{what} session {} — token {}, {refresh}; stored in {}.",
        session.name,
        token.describe_expiry(),
        store.kind()
    );
    Ok(ExitCode::SUCCESS)
}

/// The session a profile signs in with: its sso-session, or the implicit session of a legacy profile.
fn session_of_profile(
    config: &ConfigFile,
    profile: &str,
) -> anyhow::Result<session::SessionConfig> {
    if let Some(legacy) = session::of_legacy_profile(config, profile) {
        return Ok(legacy?);
    }
    let path = config.path.display().to_string();
    let section = config
        .profile(profile)
        .ok_or_else(|| crate::creds::ProfileError::Missing {
            path: path.clone(),
            name: profile.into(),
        })?;
    match section.get("sso_session") {
        Some(name) => Ok(session::resolve(config, Some(name.trim()))?),
        None => {
            let (target, _) = crate::creds::target_of_profile(config, profile)?;
            Ok(session::resolve(config, Some(&target.session))?)
        }
    }
}

/// Adds `[sso-session NAME]` for the URL when the config has no such section; refuses to repoint an
/// existing one at another directory.
fn ensure_session_section(
    ctx: &Context,
    name: Option<&str>,
    url: &str,
    region: &str,
) -> anyhow::Result<()> {
    let url = url.trim();
    if !session::valid_start_url(url) {
        return Err(UserError::new(
            format!("{url:?} is not an access portal URL"),
            "pass the URL of your AWS access portal, like https://d-1234567890.awsapps.com/start",
        )
        .into());
    }
    if !session::valid_region(region) {
        return Err(UserError::new(
            format!("{region:?} is not an AWS region name"),
            "pass the region of your Identity Center instance, like --region us-east-1",
        )
        .into());
    }
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| session::implicit_name(url));
    if !awsconfig::is_safe_section_name(&name) {
        return Err(UserError::new(
            format!("{name:?} cannot be an sso-session name"),
            "use letters, digits and - _ . only, e.g. --session corp",
        )
        .into());
    }
    let path = ctx.config_path.clone();
    let mut created = false;
    awsconfig::update(
        &path,
        |config: &ConfigFile| -> anyhow::Result<Option<String>> {
            if let Some(section) = config.sso_session(&name) {
                let existing = section.get("sso_start_url").unwrap_or("").trim();
                if existing != url {
                    return Err(UserError::new(
                        format!(
                            "[sso-session {name}] in {} already points at {}",
                            path.display(),
                            crate::output::sanitize(existing, 200)
                        ),
                        "choose another name with --session, or edit that section yourself",
                    )
                    .into());
                }
                return Ok(None);
            }
            created = true;
            Ok(Some(awsconfig::append_section(
                &config.text,
                &format!("sso-session {name}"),
                &[
                    ("sso_start_url", url),
                    ("sso_region", region),
                    ("sso_registration_scopes", REFRESH_SCOPE),
                ],
            )))
        },
    )?;
    if created {
        eprintln!("Added [sso-session {name}] to {}.", path.display());
    }
    Ok(())
}
