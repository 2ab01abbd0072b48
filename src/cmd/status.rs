//! `awsso status`: each session's login state, from the credential store alone (no network, no refresh).
use std::process::ExitCode;

use serde::Serialize;

use super::Context;
use crate::cli::StatusArgs;
use crate::error::EXIT_LOGIN_REQUIRED;
use crate::output::{format_duration, format_time, rfc3339};
use crate::session::{self, SessionConfig, TokenRecord};
use crate::sso;
use crate::store::Store;

#[derive(Debug, Serialize)]
pub struct SessionStatus {
    pub session: String,
    pub start_url: String,
    pub region: String,
    /// `valid`, `expired` (refreshable or not), or `none`.
    pub state: &'static str,
    pub logged_in: bool,
    pub expires_at: Option<String>,
    pub refreshable: bool,
    pub registration_expires_at: Option<String>,
    pub refresh_capable_config: bool,
    /// For the implicit session of legacy profiles: the profile that names it.
    pub legacy_profile: Option<String>,
    pub store: String,
}

fn status_of(session: &SessionConfig, token: Option<&TokenRecord>, store: &Store) -> SessionStatus {
    let now = sso::now();
    let refreshable = token.is_some_and(|t| t.refreshable());
    let valid = token.is_some_and(|t| t.expires_at > now);
    SessionStatus {
        session: session.name.clone(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        state: match token {
            None => "none",
            Some(_) if valid => "valid",
            Some(_) => "expired",
        },
        logged_in: valid || refreshable,
        expires_at: token.map(|t| rfc3339(t.expires_at)),
        refreshable,
        registration_expires_at: token.map(|t| rfc3339(t.client.expires_at)),
        refresh_capable_config: session.refresh_capable(),
        legacy_profile: session.legacy.as_ref().map(|l| l.profile.clone()),
        store: store.kind().to_string(),
    }
}

pub async fn run(ctx: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let sessions: Vec<SessionConfig> = match &args.session {
        Some(name) => vec![session::resolve(&config, Some(name))?],
        None => session::all_with_legacy(&config)
            .into_iter()
            .collect::<Result<_, _>>()?,
    };
    if sessions.is_empty() {
        return Err(session::SessionError::NoSessions {
            path: config.path.display().to_string(),
        }
        .into());
    }
    let store = ctx.open_store()?;
    let mut statuses = Vec::new();
    let mut tokens = Vec::new();
    for s in &sessions {
        let token = session::load_token(&store, s)?;
        statuses.push(status_of(s, token.as_ref(), &store));
        tokens.push(token);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
    } else {
        for ((s, st), token) in sessions.iter().zip(&statuses).zip(&tokens) {
            let state = match token {
                None => "not logged in".to_string(),
                Some(t) if st.state == "valid" => format!(
                    "logged in, token valid until {} ({} left)",
                    format_time(t.expires_at),
                    format_duration(t.expires_at - sso::now())
                ),
                Some(t) if st.refreshable => format!(
                    "token expired at {}; refreshes on next use",
                    format_time(t.expires_at)
                ),
                Some(t) => format!("token expired at {}", format_time(t.expires_at)),
            };
            match &s.legacy {
                Some(l) => println!(
                    "{}  {}  ({})  legacy profile {}",
                    s.name, s.start_url, s.region, l.profile
                ),
                None => println!("{}  {}  ({})", s.name, s.start_url, s.region),
            }
            println!("  state:    {state}");
            if let Some(t) = token {
                let refresh = match (t.refreshable(), t.refresh_token.is_some()) {
                    (true, _) => format!(
                        "yes (client registration valid until {})",
                        format_time(t.client.expires_at)
                    ),
                    (false, true) => "no (the client registration expired)".into(),
                    (false, false) if s.legacy.is_some() => {
                        "no (a legacy profile cannot refresh: Identity Center issues refresh tokens only to \
                         an [sso-session] with sso_registration_scopes; see `awsso doctor`)"
                            .into()
                    }
                    (false, false) if !s.refresh_capable() => {
                        "no (add sso_registration_scopes = sso:account:access to the session)"
                            .into()
                    }
                    (false, false) => "no".into(),
                };
                println!("  refresh:  {refresh}");
            } else if s.legacy.is_some() {
                println!(
                    "  refresh:  no (a legacy profile cannot refresh; `awsso migrate` moves it to an [sso-session])"
                );
            }
            println!("  store:    {}", st.store);
        }
    }
    let all_in = statuses.iter().all(|s| s.logged_in);
    Ok(if all_in {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_LOGIN_REQUIRED)
    })
}
