//! `awsso console`: open (or print) the AWS console for a role. By default the access portal's shortcut
//! link, which needs no credentials here; with `--federated`, a sign-in URL made from the role's
//! credentials, which is itself a credential and is therefore printed only when `--print` asks for it, and
//! handed to the browser only through a one-shot loopback redirect (never on its command line).
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use super::Context;
use super::creds::{credentials_for, resolve_or_pick};
use crate::browser::Handoff;
use crate::cli::ConsoleArgs;
use crate::console;
use crate::error::UserError;
use crate::output::sanitize;
use crate::secret::Secret;
use crate::session;

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

    if !args.federated {
        let url = console::shortcut_url(
            &session.start_url,
            &target.account_id,
            &target.role_name,
            destination.as_deref(),
        );
        if args.print || !crate::browser::available() {
            if !args.print {
                eprintln!("No browser here; open this link to reach the console as {what}:");
            }
            println!("{url}");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("Opening the console as {what} through the access portal:\n  {url}");
        if !open_and_wait(&url) {
            eprintln!("Could not start a browser; open the link above yourself.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if !args.print && !crate::browser::available() {
        return Err(UserError::new(
            "no browser here to open the federated sign-in URL in",
            "pass --print to get the URL (it holds a sign-in token: whoever opens it is signed in as the role), \
             or drop --federated to get the access portal link",
        )
        .into());
    }
    let (creds, session) = credentials_for(ctx, &config, &target, false).await?;
    let endpoint = console::signin_endpoint(&session.region);
    let landing = destination.unwrap_or_else(|| console::home(&region));
    let url: Secret<String> = console::federated_url(&endpoint, &creds, &landing).await?;
    if args.print {
        println!("{}", url.expose());
        eprintln!(
            "This URL signs in whoever opens it as {what} for about 15 minutes: do not share it."
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The browser's argv is world-readable (/proc/PID/cmdline): it gets a one-shot loopback link, and the
    // sign-in URL only travels over that connection, as a redirect.
    let handoff = Handoff::bind().await?;
    let launched = launch(handoff.url());
    tokio::select! {
        served = handoff.serve(&url, HANDOFF_WAIT) => {
            served?;
            eprintln!("Opened the console as {what}.");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) = launched => Err(UserError::new(
            "could not start a browser for the federated sign-in URL",
            "pass --print to get the URL, or set BROWSER",
        )
        .into()),
    }
}

/// Starts the browser in a thread; the answer says whether the launcher ran. Text browsers only return
/// when closed, so nobody waits on it while the handoff needs serving.
fn launch(url: &str) -> tokio::sync::oneshot::Receiver<bool> {
    let url = url.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let options = webbrowser::BrowserOptions::new()
            .with_suppress_output(true)
            .clone();
        let opened =
            webbrowser::open_browser_with_options(webbrowser::Browser::Default, &url, &options);
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
fn open_and_wait(url: &str) -> bool {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return false;
    }
    let url = url.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let options = webbrowser::BrowserOptions::new()
            .with_suppress_output(true)
            .clone();
        let opened =
            webbrowser::open_browser_with_options(webbrowser::Browser::Default, &url, &options);
        if let Err(e) = &opened {
            tracing::debug!("could not open a browser: {e}");
        }
        let _ = tx.send(opened.is_ok());
    });
    rx.recv_timeout(BROWSER_WAIT).unwrap_or(true)
}
