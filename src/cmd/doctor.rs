//! `awsso doctor`: gathers what the checks of [`crate::doctor`] look at (the config, the store, each
//! session's token, a server's clock, the cached listings, the environment, and with `--instances` the
//! Identity Center instances), then prints one line per finding. Exit 0 when nothing failed, 1 otherwise.
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use crate::awsconfig::{ConfigFile, SectionKind};
use crate::cli::{DoctorArgs, TargetArgs};
use crate::creds::{credentials_for, resolve_target};
use crate::doctor::{self, Check, ExpectedProfile, Status};
use crate::output::{sanitize, stdout_is_terminal};
use crate::profiles::planned::{block_id, plans_for};
use crate::session::{self, SessionConfig};
use crate::store::Store;
use crate::{listing, profiles, sso};

/// The key of the store probe; the pid keeps two doctors from tripping over each other.
fn probe_key() -> crate::store::Key<'static> {
    crate::store::Key::Probe {
        pid: std::process::id(),
    }
}

pub async fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let env = |k: &str| std::env::var(k).ok();
    let mut checks: Vec<Check> = Vec::new();

    let loaded = ConfigFile::load(&ctx.config_path);
    checks.push(doctor::config_check(&ctx.config_path, &loaded));
    if let Ok(c) = &loaded {
        checks.extend(doctor::config_shape_checks(c));
    }
    let config = loaded.ok();
    let sessions = match &config {
        Some(c) => {
            let (found, valid) = doctor::session_checks(c);
            checks.extend(found);
            checks.extend(doctor::duplicate_sessions(c, &valid));
            checks.extend(doctor::legacy_checks(c));
            // The implicit sessions of legacy profiles get the token checks too.
            let mut valid = valid;
            valid.extend(session::legacy_sessions(c).into_iter().flatten());
            valid
        }
        None => Vec::new(),
    };

    let store = store_check(ctx, &mut checks);
    for s in &sessions {
        match &store {
            Some(store) => match session::load_token(store, s) {
                Ok(token) => checks.extend(doctor::token_checks(s, token.as_ref(), sso::now())),
                Err(e) => checks.push(Check::fail(
                    "token",
                    format!("session {}: {e}", sanitize(&s.name, 100)),
                    e.hint()
                        .unwrap_or_else(|| format!("run `awsso login --session {}`", s.name)),
                )),
            },
            None => checks.push(Check::warn(
                "token",
                format!(
                    "session {}: not checked, the credential store is unavailable",
                    sanitize(&s.name, 100)
                ),
                "fix the store first (see above)",
            )),
        }
    }
    checks.extend(clock_checks(&sessions).await);

    if let Some(config) = &config {
        let exe = std::env::current_exe().and_then(|p| p.canonicalize()).ok();
        let path_var = std::env::var_os("PATH");
        checks.extend(doctor::profile_checks(
            config,
            path_var.as_deref(),
            exe.as_deref(),
        ));
        let expected = |s: &SessionConfig| expected_block(config, s, exe.as_deref());
        checks.extend(doctor::block_checks(config, &expected));
    }
    checks.extend(doctor::environment_checks(&env, config.as_ref()));

    if args.instances {
        checks.extend(instance_checks(ctx, config.as_ref(), &sessions, &args).await);
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        print_human(&checks);
    }
    Ok(if checks.iter().any(|c| c.status == Status::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Opens the store and proves it works with a write, a read-back and a delete of a probe entry.
fn store_check(ctx: &Context, checks: &mut Vec<Check>) -> Option<Store> {
    let store = match Store::open(ctx.store_kind) {
        Ok(s) => s,
        Err(e) => {
            checks.push(Check::fail(
                "store",
                format!("cannot open the credential store ({}): {e}", ctx.store_kind),
                e.hint()
                    .unwrap_or_else(|| "pick another store with AWSSO_STORE".into()),
            ));
            return None;
        }
    };
    let key = probe_key();
    let nonce = format!("{}-{}", std::process::id(), session::now_ms());
    let round_trip = store
        .set_json(&key, &nonce)
        .and_then(|()| store.get_json::<String>(&key))
        .and_then(|back| store.delete(&key).map(|_| back));
    let chosen = if ctx.store_kind == crate::store::StoreKind::Auto {
        "chosen automatically"
    } else {
        "forced by --store or AWSSO_STORE"
    };
    match round_trip {
        Ok(Some(back)) if back == nonce => {
            let cache = if Store::keyutils_cache(ctx.store_kind).is_some() {
                ", with the kernel keyring as a cache in front"
            } else {
                ""
            };
            checks.push(Check::ok(
                "store",
                format!(
                    "the {} store ({chosen}{cache}) works: a probe entry was written, read back and deleted",
                    store.kind()
                ),
            ));
            Some(store)
        }
        Ok(_) => {
            let _ = store.delete(&key);
            checks.push(Check::fail(
                "store",
                format!(
                    "the {} store ({chosen}) did not give back the probe entry it was given",
                    store.kind()
                ),
                "pick another store with AWSSO_STORE (e.g. keyutils on Linux)",
            ));
            None
        }
        Err(e) => {
            let _ = store.delete(&key);
            checks.push(Check::fail(
                "store",
                format!("the {} store ({chosen}) failed a probe: {e}", store.kind()),
                e.hint()
                    .unwrap_or_else(|| "pick another store with AWSSO_STORE".into()),
            ));
            None
        }
    }
}

/// One clock comparison per distinct OIDC endpoint: the `Date` of a plain GET (any answer carries one;
/// it costs the service nothing and starts no flow).
async fn clock_checks(sessions: &[SessionConfig]) -> Vec<Check> {
    let endpoints: BTreeSet<String> = sessions.iter().map(|s| s.endpoints().oidc).collect();
    let mut checks = Vec::new();
    for endpoint in endpoints {
        let before = session::now_ms();
        let reply = crate::signin::http_get(&format!("{endpoint}/"), Duration::from_secs(10)).await;
        let after = session::now_ms();
        checks.push(match reply {
            Ok(r) => {
                doctor::clock_check(&endpoint, r.date.as_deref(), before + (after - before) / 2)
            }
            Err(e) => Check::warn(
                "clock",
                format!("could not reach {endpoint} to compare clocks: {e}"),
                "check the network; the other checks do not need it",
            ),
        });
    }
    checks
}

/// What `awsso sync` would write into the block of `session` from its cached listing, in the block's
/// current mode; `None` without a cached listing or when planning fails (the settings file is checked by
/// sync itself).
fn expected_block(
    config: &ConfigFile,
    session: &SessionConfig,
    exe: Option<&std::path::Path>,
) -> Option<Vec<ExpectedProfile>> {
    let listing = listing::load_cached(session)?;
    let planned = plans_for(config, session, &listing, None).ok()?;
    let id = block_id(&session.name);
    let native = config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Profile && s.managed_by.as_deref() == Some(id.as_str()))
        .any(|s| s.get("sso_session").is_some());
    let mode = if native {
        profiles::Mode::Native
    } else {
        profiles::Mode::Process
    };
    let exe = exe.unwrap_or(std::path::Path::new("awsso"));
    let body = profiles::render_block(
        &planned.included(),
        mode,
        planned.settings.hints,
        &session.name,
        exe,
    )
    .ok()?;
    doctor::expected_profiles(&body).ok()
}

/// `--instances`: ListInstances in each region with the admin credentials, and the trap check.
async fn instance_checks(
    ctx: &Context,
    config: Option<&ConfigFile>,
    sessions: &[SessionConfig],
    args: &DoctorArgs,
) -> Vec<Check> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (credentials, caller) = match admin_credentials(ctx, config, args).await {
        Ok(found) => found,
        Err(check) => return vec![check],
    };
    let caller = caller.or_else(|| env("AWS_ACCOUNT_ID"));
    let regions: BTreeSet<String> = if args.regions.is_empty() {
        sessions.iter().map(|s| s.region.clone()).collect()
    } else {
        args.regions.iter().cloned().collect()
    };
    if regions.is_empty() {
        return vec![Check::fail(
            "instances",
            "no region to list Identity Center instances in (no sso-session, no --region)",
            "pass --region REGION (repeatable)",
        )];
    }
    let endpoint = sso::endpoints::admin_endpoint(&env);
    let mut checks = Vec::new();
    for region in regions {
        if !session::valid_region(&region) {
            checks.push(Check::fail(
                "instances",
                format!("{:?} is not a region name", sanitize(&region, 40)),
                "pass --region like eu-west-1",
            ));
            continue;
        }
        let admin = sso::Admin::new(&region, credentials.clone(), endpoint.as_deref());
        match admin.list_instances().await {
            Ok(instances) => checks.push(doctor::instances_check(
                &region,
                &instances,
                caller.as_deref(),
            )),
            Err(e) => checks.push(Check::fail(
                "instances",
                format!("ListInstances in {region} failed: {e}"),
                "use credentials allowed sso:ListInstances (the management account, or the delegated \
                 administrator); AWS_ENDPOINT_URL_SSO_ADMIN overrides the endpoint",
            )),
        }
    }
    checks
}

/// The credentials for ListInstances and, when known, the account they belong to: an awsso profile's
/// role (`--admin-profile`), else the static keys of the environment.
async fn admin_credentials(
    ctx: &Context,
    config: Option<&ConfigFile>,
    args: &DoctorArgs,
) -> Result<(aws_credential_types::Credentials, Option<String>), Check> {
    if let Some(profile) = &args.admin_profile {
        let failed = |e: anyhow::Error| {
            let (_, hint) = crate::error::classify(&e);
            Check::fail(
                "instances",
                format!(
                    "no credentials from --admin-profile {}: {e:#}",
                    sanitize(profile, 100)
                ),
                hint.unwrap_or_else(|| "check the profile with `awsso creds --profile P`".into()),
            )
        };
        let Some(config) = config else {
            return Err(Check::fail(
                "instances",
                "--admin-profile needs a readable AWS config",
                "fix the config first (see above)",
            ));
        };
        let target_args = TargetArgs {
            profile: Some(profile.clone()),
            session: None,
            account_id: None,
            role_name: None,
        };
        let (target, _) = resolve_target(config, &target_args).map_err(|e| failed(e.into()))?;
        let (c, _) = credentials_for(ctx.store_kind, config, &target, false)
            .await
            .map_err(|e| failed(e.into()))?;
        let expiry = std::time::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(c.expiration).unwrap_or_default());
        return Ok((
            aws_credential_types::Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.expose().clone(),
                Some(c.session_token.expose().clone()),
                Some(expiry),
                "awsso-admin-profile",
            ),
            Some(target.account_id),
        ));
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok((
            aws_credential_types::Credentials::new(
                id,
                secret,
                var("AWS_SESSION_TOKEN"),
                None,
                "environment",
            ),
            None,
        )),
        _ => Err(Check::fail(
            "instances",
            "--instances needs admin credentials, and none were given",
            "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) of an account allowed \
             sso:ListInstances, or pass --admin-profile PROFILE",
        )),
    }
}

fn print_human(checks: &[Check]) {
    let color = stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", doctor::report(checks, color));
}
