//! `awsso console`: open (or print) the AWS console for a role. By default the access portal's shortcut
//! link, which needs no credentials here; with `--federated`, a sign-in URL made from the role's
//! credentials, which is itself a credential and is therefore printed only when `--print` asks for it, and
//! handed to the browser only through a one-shot loopback redirect (never on its command line).
//!
//! `--browser-profile` and `--container` choose where the browser opens the link (a Chromium profile, a
//! Firefox container); they change the wrapping, never what is wrapped: the portal link or the one-shot
//! loopback link.
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use super::Context;
use crate::browser::{Handoff, Launcher};
use crate::cli::ConsoleArgs;
use crate::console;
use crate::creds::{credentials_for, resolve_or_pick};
use crate::error::UserError;
use crate::output::sanitize;
use crate::secret::Secret;
use crate::{session, signin};

/// How long to wait for the browser launcher; GUI browsers are spawned and return at once, text browsers
/// only return when closed.
const BROWSER_WAIT: Duration = Duration::from_secs(15);
/// How long the one-shot link for a federated sign-in waits for the browser to open it.
const HANDOFF_WAIT: Duration = Duration::from_secs(60);

pub async fn run(ctx: &Context, mut args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.load_config()?;
    let Some((target, profile_region)) =
        resolve_or_pick(&config, &mut args.target, "awsso console")?
    else {
        return Ok(ExitCode::from(crate::error::EXIT_INTERRUPTED));
    };
    let session = session::resolve(&config, Some(&target.session))?;
    let region = args
        .region
        .clone()
        .or(profile_region)
        .unwrap_or_else(|| session.region.clone());
    if !session::valid_region(&region) {
        return Err(UserError::new(
            format!("{:?} is not a region name", sanitize(&region, 40)),
            "pass --region like eu-west-1, or fix the profile's region",
        )
        .into());
    }
    let destination = args
        .destination
        .as_deref()
        .map(|d| console::destination(d, &region))
        .transpose()?;
    let what = format!(
        "role {} in account {}",
        sanitize(&target.role_name, 64),
        sanitize(&target.account_id, 20)
    );
    let launcher = launcher(&args)?;
    let container = args
        .container
        .then(|| container(&args, &config, &session, &target))
        .transpose()?;
    // What the browser is handed for a link: the link itself, or a container link wrapping it.
    let wrap = |url: &str| match &container {
        Some((name, color)) => console::container_url(name, color, url),
        None => url.to_string(),
    };

    if !args.federated {
        let portal = console::shortcut_url(
            &session.start_url,
            &target.account_id,
            &target.role_name,
            destination.as_deref(),
        );
        let url = wrap(&portal);
        if args.print || !launcher.available() {
            if !args.print {
                eprintln!("No browser here; open this link to reach the console as {what}:");
            }
            println!("{url}");
            return Ok(ExitCode::SUCCESS);
        }
        let place = match (&container, &args.browser_profile) {
            (Some((name, _)), _) => format!(" in the container {:?}", sanitize(name, 100)),
            (None, Some(p)) => format!(" in the browser profile {:?}", sanitize(p, 100)),
            (None, None) => String::new(),
        };
        eprintln!("Opening the console as {what} through the access portal{place}:\n  {portal}");
        if !open_and_wait(&launcher, &url) {
            eprintln!("Could not start a browser; open the link above yourself.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if !args.print && !launcher.available() {
        return Err(UserError::new(
            "no browser here to open the federated sign-in URL in",
            "pass --print to get the URL (it holds a sign-in token: whoever opens it is signed in as the role), \
             or drop --federated to get the access portal link",
        )
        .into());
    }
    let (creds, session) = credentials_for(ctx.store_kind, &config, &target, false).await?;
    let endpoint = signin::signin_endpoint(&session.region);
    let landing = destination.unwrap_or_else(|| console::home(&region));
    let url: Secret<String> = signin::federated_url(&endpoint, &creds, &landing).await?;
    if args.print {
        // With --container too, the printed link wraps the sign-in URL: it is as much a secret.
        println!("{}", wrap(url.expose()));
        eprintln!(
            "This URL signs in whoever opens it as {what} for about 15 minutes: do not share it."
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The browser's argv is world-readable (/proc/PID/cmdline): it gets a one-shot loopback link, and the
    // sign-in URL only travels over that connection, as a redirect.
    let handoff = Handoff::bind().await?;
    let launched = launch(launcher, wrap(handoff.url()));
    tokio::select! {
        served = handoff.serve(&url, HANDOFF_WAIT) => {
            served?;
            eprintln!("Opened the console as {what}.");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) = launched => Err(UserError::new(
            "could not start a browser for the federated sign-in URL",
            "pass --print to get the URL, or set BROWSER or --browser",
        )
        .into()),
    }
}

/// The browser program for the options: a Chromium-family browser for --browser-profile, --browser when
/// given, else the desktop's default (or $BROWSER).
fn launcher(args: &ConsoleArgs) -> anyhow::Result<Launcher> {
    match (&args.browser_profile, &args.browser) {
        (Some(name), program) => {
            Launcher::chromium_profile(program.as_deref(), name).map_err(|e| {
                let hint = e.hint();
                match e {
                    crate::browser::BrowserError::BadProfileDirectory(_) => {
                        UserError::usage(e.to_string(), hint).into()
                    }
                    crate::browser::BrowserError::NoChromium => {
                        UserError::new(e.to_string(), hint).into()
                    }
                }
            })
        }
        (None, Some(program)) => Ok(Launcher::Program {
            program: program.clone(),
            args: Vec::new(),
        }),
        (None, None) => Ok(Launcher::Default),
    }
}

/// The container's name and colour: --container-name or ACCOUNT/ROLE, and the profile's colour. The
/// account name comes from the profile (`awsso_account_name`, written by `awsso sync`), else the cached
/// account listing; both are untrusted text, which [`console::container_name`] cleans.
fn container(
    args: &ConsoleArgs,
    config: &crate::awsconfig::ConfigFile,
    session: &session::SessionConfig,
    target: &crate::creds::Target,
) -> anyhow::Result<(String, &'static str)> {
    let profile = args
        .target
        .profile
        .as_deref()
        .and_then(|p| config.profile(p));
    let key = |k: &str| profile.and_then(|p| p.get(k)).map(str::to_string);
    let account_name = key("awsso_account_name").or_else(|| {
        crate::listing::load_cached(session)?
            .accounts
            .into_iter()
            .find(|a| a.id == target.account_id)
            .map(|a| a.name)
    });
    let name = match &args.container_name {
        Some(n) if console::is_valid_container_name(n) => n.clone(),
        Some(n) => {
            return Err(UserError::usage(
                format!("{:?} is not a container name", sanitize(n, 60)),
                format!(
                    "pass at most {} characters without control characters, or drop --container-name \
                     to get ACCOUNT/ROLE",
                    console::MAX_CONTAINER_NAME
                ),
            )
            .into());
        }
        None => console::container_name(
            account_name.as_deref(),
            &target.account_id,
            &target.role_name,
        ),
    };
    let color = console::container_color(
        key("granted_color").as_deref(),
        key("color").as_deref(),
        account_name.as_deref(),
        &target.account_id,
    );
    Ok((name, color))
}

/// Starts the browser in a thread; the answer says whether the launcher ran. Text browsers only return
/// when closed, so nobody waits on it while the handoff needs serving.
fn launch(launcher: Launcher, url: String) -> tokio::sync::oneshot::Receiver<bool> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let opened = launcher.open(&url);
        if let Err(e) = &opened {
            tracing::debug!("could not open a browser: {e}");
        }
        let _ = tx.send(opened.is_ok());
    });
    rx
}

/// Starts the browser and waits until the launcher has run, so that the process does not exit (and take
/// the launching thread with it) before the browser got the URL. [`crate::browser::open`] returns at once,
/// which suits `login`, where the process lives on.
fn open_and_wait(launcher: &Launcher, url: &str) -> bool {
    let (launcher, url) = (launcher.clone(), url.to_string());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let opened = launcher.open(&url);
        if let Err(e) = &opened {
            tracing::debug!("could not open a browser: {e}");
        }
        let _ = tx.send(opened.is_ok());
    });
    rx.recv_timeout(BROWSER_WAIT).unwrap_or(true)
}
