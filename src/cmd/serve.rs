//! `awsso serve`: the container-credentials endpoint of `exec --server` as a standing process, for
//! containers and other shells. One route per profile (`/creds/<profile, percent-encoded>`), each with its
//! own token, so a client handed one profile cannot read another.
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Context;
use crate::cli::ServeArgs;
use crate::creds::{self, Target, credentials_for, fetcher};
use crate::error::{EXIT_USAGE, UserError};
use crate::server::{self, AUTH_TOKEN, Endpoint, FULL_URI};

/// What stays literal in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !server::is_loopback(args.bind) && !args.i_know_this_exposes_credentials {
        return Err(UserError {
            message: format!(
                "--bind {} would let other hosts ask for role credentials",
                args.bind
            ),
            hint: Some(
                "keep the default 127.0.0.1 (containers: `docker run --network host`; remote hosts: \
                 `ssh -R`), or add --i-know-this-exposes-credentials"
                    .into(),
            ),
            code: EXIT_USAGE,
        }
        .into());
    }
    let config = ctx.load_config()?;
    let explicit = !args.profiles.is_empty();
    let targets = if explicit {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for name in &args.profiles {
            if seen.insert(name.clone()) {
                out.push((name.clone(), creds::target_of_profile(&config, name)?.0));
            }
        }
        out
    } else {
        sso_profiles(&config)
    };
    if targets.is_empty() {
        return Err(UserError::new(
            format!("no SSO profile in {}", config.path.display()),
            "run `awsso sync`, or name one with --profile",
        )
        .into());
    }
    let mut endpoint = Endpoint::bind(SocketAddr::new(args.bind, args.port)).await?;
    let config = Rc::new(config);
    let mut printed = String::new();
    for (name, target) in &targets {
        // Profiles named on the command line are checked now, so a missing login fails here and not in
        // the container.
        let first = if explicit {
            Some(
                credentials_for(ctx.store_kind, &config, target, false)
                    .await?
                    .0,
            )
        } else {
            None
        };
        let path = format!("/creds/{}", utf8_percent_encode(name, SEGMENT));
        let fetch = fetcher(ctx.store_kind, config.clone(), target.clone());
        let access = endpoint.add(name, Some(path), &target.account_id, fetch, first)?;
        printed.push_str(&format!(
            "# profile {}\n{FULL_URI}={}\n{AUTH_TOKEN}={}\n",
            crate::output::sanitize(name, 200),
            access.uri,
            access.token.expose()
        ));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(printed.as_bytes())?;
    out.flush()?;
    drop(out);
    eprintln!(
        "awsso: serving {} profile{} on {}; Ctrl-C stops",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        endpoint.local_addr()
    );
    let e = endpoint.serve().await;
    Err(anyhow::Error::new(e).context("the credentials endpoint stopped"))
}

/// Every profile of the config that names an SSO role, in file order.
fn sso_profiles(config: &crate::awsconfig::ConfigFile) -> Vec<(String, Target)> {
    config
        .profiles()
        .filter_map(|s| {
            creds::target_of_profile(config, &s.name)
                .ok()
                .map(|(t, _)| (s.name.clone(), t))
        })
        .collect()
}
