//! `awsso creds` (credential_process) end to end: the real binary, the simulator on loopback, the real
//! keyring (Secret Service, keyutils, or the Secret Service with the kernel-keyring cache in front of it).
//!
//! The layering assertions (a warm call never touches D-Bus) run only where both stores exist: under
//! `scripts/lib/with-secret-service.sh keyctl session - …`, which is how `scripts/test.sh` runs the
//! Secret Service pass. Elsewhere those tests assert what each store alone must do.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use awsso_sim::IssuedCredentials;

const READ_ONLY: &str = "ReadOnlyAccess";

fn account(user: &User, i: usize) -> String {
    user.sim.accounts()[i].0.clone()
}

/// Every upstream call the simulator saw (any operation, errors and throttling included).
fn upstream_calls(user: &User) -> u64 {
    user.sim.counts().values().sum()
}

/// The one credential_process object of a successful run: exit 0, nothing on stderr, one line on stdout
/// holding exactly the six documented fields.
#[track_caller]
fn process_json(r: &Run) -> serde_json::Map<String, serde_json::Value> {
    r.ok();
    assert!(r.stderr.is_empty(), "creds wrote on stderr:\n{r}");
    assert!(
        r.stdout.ends_with('\n') && r.stdout.lines().count() == 1,
        "stdout is not exactly one line:\n{r}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{r}"));
    let obj = v.as_object().expect("a JSON object").clone();
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "AccessKeyId",
            "AccountId",
            "Expiration",
            "SecretAccessKey",
            "SessionToken",
            "Version"
        ]),
        "{r}"
    );
    assert_eq!(obj["Version"], 1);
    obj
}

#[track_caller]
fn assert_is(obj: &serde_json::Map<String, serde_json::Value>, issued: &IssuedCredentials) {
    assert_eq!(obj["AccessKeyId"], issued.access_key_id.as_str());
    assert_eq!(obj["AccountId"], issued.account_id.as_str());
    assert_eq!(obj["SecretAccessKey"], issued.secret_access_key.as_str());
    assert_eq!(obj["SessionToken"], issued.session_token.as_str());
    assert_eq!(
        obj["Expiration"],
        rfc3339_utc(issued.expiration_ms.div_euclid(1000)).as_str()
    );
}

/// Polls `cond` until it holds; fails the test if it never does within `limit`.
fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether this process can use a kernel session keyring (as awsso's cache would).
fn kernel_keyring_usable() -> bool {
    let name = format!("awsso-test-probe-{}", std::process::id());
    let Ok(out) = Command::new("keyctl")
        .args(["add", "user", &name, "x", "@s"])
        .output()
    else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let _ = Command::new("keyctl").args(["unlink", &id, "@s"]).output();
    true
}

/// The Secret Service is the store and the kernel keyring caches in front of it.
fn layered(user: &User) -> bool {
    user.status_json()[0]["store"] == "secret-service"
        && kernel_keyring_usable()
        && std::env::var_os("AWSSO_NO_KEYUTILS_CACHE").is_none()
}

/// The command with a D-Bus that leads nowhere: the Secret Service cannot be reached.
fn without_dbus(mut c: Command) -> Run {
    c.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/awsso-test-bus",
    )
    .env("XDG_RUNTIME_DIR", "/nonexistent");
    Run::from(c.output().unwrap())
}

/// `sh -c LINE` with the user's environment (as the Rust SDK runs a credential_process).
fn shell(user: &User, line: &str) -> Command {
    let harness = user.cmd(&[]);
    let mut c = Command::new("sh");
    c.args(["-c", line]).env_clear().stdin(Stdio::null());
    for (k, v) in harness.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c
}

/// A native SSO profile and a credential_process profile, written by hand.
fn write_profiles(user: &User, native: (&str, &str), process: (&str, &str)) {
    append_config(
        user,
        &format!(
            "[profile native]\nsso_session = {SESSION}\nsso_account_id = {}\nsso_role_name = {}\nregion = us-west-2\n\n\
             [profile proc]\ncredential_process = '{}' creds --session {SESSION} --account-id {} --role-name {}\nregion = us-west-2\n",
            native.0,
            native.1,
            bin(),
            process.0,
            process.1
        ),
    );
}

/// The single-line error contract of credential_process: nothing on stdout, one line on stderr.
#[track_caller]
fn fails_quietly(r: &Run, code: i32) -> &str {
    assert_eq!(r.code, code, "unexpected exit:\n{r}");
    assert!(r.stdout.is_empty(), "stdout is not empty:\n{r}");
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "stderr is not exactly one line:\n{r}"
    );
    r.stderr.trim_end()
}

#[test]
fn creds_prints_exactly_the_issued_credentials() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    let r = creds(&user, &acct, ADMIN);
    let obj = process_json(&r);
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
    let issued = last_issued(&user);
    assert_eq!(
        (issued.account_id.as_str(), issued.role_name.as_str()),
        (acct.as_str(), ADMIN)
    );
    assert_is(&obj, &issued);
}

#[test]
fn profiles_resolve_in_both_forms_and_as_synced() {
    let user = logged_in(SimConfig::default());
    let (a0, a1, a2) = (account(&user, 0), account(&user, 1), account(&user, 2));
    write_profiles(&user, (&a0, ADMIN), (&a1, READ_ONLY));

    let obj = process_json(&user.run(&["creds", "--profile", "native"]));
    let issued = last_issued(&user);
    assert_eq!(
        (issued.account_id.as_str(), issued.role_name.as_str()),
        (a0.as_str(), ADMIN)
    );
    assert_is(&obj, &issued);

    let obj = process_json(&user.run(&["creds", "--profile", "proc"]));
    let issued = last_issued(&user);
    assert_eq!(
        (issued.account_id.as_str(), issued.role_name.as_str()),
        (a1.as_str(), READ_ONLY)
    );
    assert_is(&obj, &issued);
    assert_eq!(user.sim.count("GetRoleCredentials"), 2);

    // A profile written by `awsso sync`, run the way the Rust SDK runs it (`sh -c LINE`).
    user.run(&["sync"]).ok();
    let config = user.read_config();
    let wanted = format!("--account-id {a2} --role-name {ADMIN}");
    let line = config
        .lines()
        .filter_map(|l| l.strip_prefix("credential_process = "))
        .find(|l| l.ends_with(&wanted))
        .unwrap_or_else(|| panic!("no synced profile for {a2}/{ADMIN}:\n{config}"))
        .to_string();
    let mut c = shell(&user, &line);
    let obj = process_json(&Run::from(c.output().unwrap()));
    let issued = last_issued(&user);
    assert_eq!(
        (issued.account_id.as_str(), issued.role_name.as_str()),
        (a2.as_str(), ADMIN)
    );
    assert_is(&obj, &issued);
    assert_eq!(user.sim.count("GetRoleCredentials"), 3);
}

#[test]
fn a_warm_call_makes_no_upstream_call() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    write_profiles(&user, (&acct, ADMIN), (&acct, ADMIN));
    let first = process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);

    user.sim.reset_counts();
    for args in [
        &creds_args(&acct, ADMIN)[..],
        &["creds", "--profile", "native"][..],
        &["creds", "--profile", "proc"][..],
    ] {
        let again = process_json(&user.run(args));
        assert_eq!(again, first, "{args:?} served other credentials");
    }
    assert_eq!(
        upstream_calls(&user),
        0,
        "a warm call went upstream: {:?}",
        user.sim.counts()
    );
}

/// Credentials are served until REFRESH_MARGIN (16 min) before they expire. The simulator first issues
/// credentials that live 16 min + 2 s; 3 s later they are inside the margin whatever the rounding
/// (awsso floors the expiry to the second: floor(t0 + 962) <= floor(now) + 960 once now >= t0 + 3). The
/// refetch then gets one-hour credentials, so the calls after it are plain cache hits: exactly one
/// refetch, however many calls follow.
#[test]
fn credentials_near_expiry_are_fetched_again_exactly_once() {
    let user = logged_in(SimConfig {
        credentials_ttl: Duration::from_secs(16 * 60 + 2),
        ..SimConfig::default()
    });
    let acct = account(&user, 0);
    let first = process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);

    std::thread::sleep(Duration::from_secs(3));
    user.sim
        .update(|c| c.credentials_ttl = Duration::from_secs(3600));
    let second = process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("GetRoleCredentials"), 2);
    assert_ne!(second["AccessKeyId"], first["AccessKeyId"]);
    assert_is(&second, &last_issued(&user));

    for _ in 0..3 {
        assert_eq!(process_json(&creds(&user, &acct, ADMIN)), second);
    }
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        2,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(user.sim.count("CreateToken"), 0, "the token was still good");
}

/// Terraform starts many providers at once: 50 processes for one cold role share one upstream call.
#[test]
fn fifty_concurrent_cold_calls_make_one_upstream_call() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    // Latency widens the window in which the 50 processes race for the fetch.
    user.sim.update(|c| c.latency = Duration::from_millis(200));
    let children: Vec<Child> = (0..50)
        .map(|_| {
            user.cmd(&creds_args(&acct, ADMIN))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| process_json(&Run::from(c.wait_with_output().unwrap())))
        .collect();
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        1,
        "{:?}",
        user.sim.counts()
    );
    let issued = last_issued(&user);
    for obj in &outputs {
        assert_is(obj, &issued);
    }
}

/// The morning after: the SSO token expired overnight (refreshable) and Terraform asks for two roles at
/// once. One refresh for the session, one fetch per role.
#[test]
fn fifty_concurrent_calls_with_an_expired_token_refresh_it_once() {
    let user = logged_in(SimConfig {
        token_ttl: Duration::from_secs(2),
        ..SimConfig::default()
    });
    let acct = account(&user, 0);
    std::thread::sleep(Duration::from_millis(2500));
    user.sim.update(|c| {
        c.token_ttl = Duration::from_secs(8 * 3600);
        c.latency = Duration::from_millis(200);
    });
    let children: Vec<(&str, Child)> = (0..50)
        .map(|i| {
            let role = if i % 2 == 0 { ADMIN } else { READ_ONLY };
            let child = user
                .cmd(&creds_args(&acct, role))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (role, child)
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|(role, c)| {
            (
                role,
                process_json(&Run::from(c.wait_with_output().unwrap())),
            )
        })
        .collect();
    assert_eq!(
        user.sim.count("CreateToken.refresh_token"),
        1,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        2,
        "{:?}",
        user.sim.counts()
    );
    let issued = user.sim.issued_credentials();
    for (role, obj) in &outputs {
        let want = issued.iter().find(|c| c.role_name == *role).unwrap();
        assert_is(obj, want);
    }
}

/// A process killed with SIGKILL while it holds the per-role lock (its fetch is in flight) leaves
/// nothing that blocks the next one.
#[test]
fn a_process_killed_mid_fetch_does_not_hold_the_lock() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    user.sim.update(|c| c.latency = Duration::from_secs(3));
    let mut victim = user
        .cmd(&creds_args(&acct, ADMIN))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // GetRoleCredentials is counted when it arrives, before the 3 s latency: the victim is in flight, so it
    // holds the lock.
    wait_until(
        Duration::from_secs(30),
        "the first fetch reaches the simulator",
        || user.sim.count("GetRoleCredentials") == 1,
    );
    victim.kill().unwrap(); // SIGKILL
    let status = victim.wait().unwrap();
    assert!(!status.success());

    user.sim.update(|c| c.latency = Duration::ZERO);
    let mut next = user
        .cmd(&creds_args(&acct, ADMIN))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_kill(&mut next, Duration::from_secs(30), "creds after a kill -9");
    let obj = process_json(&Run::from(next.wait_with_output().unwrap()));
    assert_eq!(user.sim.count("GetRoleCredentials"), 2);
    assert_is(&obj, &last_issued(&user));
}

#[test]
fn without_a_token_creds_fails_at_once_naming_the_login() {
    let user = User::new(SimConfig::default());
    user.write_config(&format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = {REGION}\nsso_registration_scopes = sso:account:access\n\n\
         [profile p]\nsso_session = corp\nsso_account_id = 100000000001\nsso_role_name = {ADMIN}\n"
    ));
    for args in [
        &[
            "creds",
            "--session",
            "corp",
            "--account-id",
            "100000000001",
            "--role-name",
            ADMIN,
        ][..],
        &["creds", "--profile", "p"][..],
    ] {
        // stdin is /dev/null and there is no terminal (the harness): a prompt would read EOF or hang.
        let r = user.run(args);
        let line = fails_quietly(&r, 3);
        assert!(line.contains("awsso login --session corp"), "{r}");
    }
    assert_eq!(upstream_calls(&user), 0, "{:?}", user.sim.counts());
}

#[test]
fn a_revoked_token_is_evicted_and_reported() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    user.sim.revoke_all();
    let r = creds(&user, &acct, ADMIN);
    let line = fails_quietly(&r, 3);
    assert!(line.contains("revoked") && line.contains("removed"), "{r}");
    assert!(
        line.contains(&format!("awsso login --session {SESSION}")),
        "{r}"
    );
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
    assert_eq!(user.status_json()[0]["state"], "none");

    // The dead token is gone: the next call fails without asking Identity Center again.
    user.sim.reset_counts();
    fails_quietly(&creds(&user, &acct, READ_ONLY), 3);
    assert_eq!(upstream_calls(&user), 0, "{:?}", user.sim.counts());
}

#[test]
fn an_expired_token_is_refreshed_by_creds() {
    let user = logged_in(SimConfig {
        token_ttl: Duration::from_secs(2),
        ..SimConfig::default()
    });
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(user.status_json()[0]["state"], "expired");
    // The refreshed token lives long, so nothing races its expiry.
    user.sim
        .update(|c| c.token_ttl = Duration::from_secs(8 * 3600));
    let obj = process_json(&creds(&user, &account(&user, 0), ADMIN));
    assert_is(&obj, &last_issued(&user));
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 0);
    assert_eq!(user.status_json()[0]["state"], "valid");
}

/// Sends one faultable API call straight to the simulator; returns its HTTP status.
fn raw_portal_call(user: &User) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", user.sim.port())).unwrap();
    write!(
        s,
        "GET /assignment/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-sso_bearer_token: not-a-token\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = String::new();
    s.read_to_string(&mut head).unwrap();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"))
}

#[test]
fn server_errors_get_a_bounded_retry_then_a_clean_error() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);

    // Every 2nd admitted call fails. Line the counter up (a call that is not failed) so that awsso's first
    // attempt is the one that fails and its retry the one that succeeds.
    user.sim.update(|c| c.error_every = Some(2));
    while raw_portal_call(&user) == 500 {}
    user.sim.reset_counts();
    let obj = process_json(&creds(&user, &acct, ADMIN));
    assert_is(&obj, &last_issued(&user));
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        2,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(user.sim.count("InjectedError"), 1);

    // Every call fails: three attempts (the portal client's bound), then one clean line.
    user.sim.update(|c| c.error_every = Some(1));
    user.sim.reset_counts();
    let r = creds(&user, &acct, READ_ONLY);
    let line = fails_quietly(&r, 1);
    assert!(line.contains("InternalServerException"), "{r}");
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        3,
        "{:?}",
        user.sim.counts()
    );

    // Nobody listening: the same bounded retry, then one line that says where it tried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut c = user.cmd(&creds_args(&acct, READ_ONLY));
    c.env("AWS_ENDPOINT_URL_SSO", &dead);
    let r = Run::from(c.output().unwrap());
    let line = fails_quietly(&r, 1);
    assert!(
        line.contains("could not reach Identity Center") && line.contains(&dead),
        "{r}"
    );
}

/// The SSO token, refresh token and client secret never leave the keyring; role secrets appear only on the
/// stdout of `creds`/`env` (their purpose), never in a file, on stderr or in the most verbose logs.
#[test]
fn no_secret_reaches_a_file_stderr_or_the_logs() {
    let user = logged_in(SimConfig::default());
    let (a0, a1) = (account(&user, 0), account(&user, 1));
    write_profiles(&user, (&a0, ADMIN), (&a1, READ_ONLY));
    let traced = |args: &[&str]| {
        let mut full = args.to_vec();
        full.push("-vv");
        Run::from(user.cmd(&full).env("RUST_LOG", "trace").output().unwrap())
    };
    let mut runs = vec![
        traced(&creds_args(&a0, ADMIN)),
        traced(&creds_args(&a0, ADMIN)),
        traced(&["creds", "--profile", "native"]),
        traced(&["creds", "--profile", "proc"]),
        traced(&["env", "--profile", "proc", "--shell", "bash"]),
        traced(&["exec", "--profile", "native", "--", "true"]),
    ];
    // Error paths too: 5xx, then a revoked token.
    user.sim.update(|c| c.error_every = Some(1));
    runs.push(traced(&creds_args(&a0, READ_ONLY)));
    user.sim.update(|c| c.error_every = None);
    user.sim.revoke_all();
    runs.push(traced(&creds_args(&a1, ADMIN)));
    assert!(runs[0].code == 0 && runs[5].code == 0 && runs[7].code == 3);
    // The logs are there to be searched: the cold fetch logged its HTTP exchange.
    assert!(
        runs[0].stderr.contains("GetRoleCredentials") || runs[0].stderr.contains("federation"),
        "no trace output to check:\n{}",
        runs[0]
    );

    let role_secrets: BTreeSet<String> = user
        .sim
        .issued_credentials()
        .iter()
        .flat_map(|c| [c.secret_access_key.clone(), c.session_token.clone()])
        .collect();
    let secrets = user.sim.issued_secrets();
    assert!(
        secrets.len() > role_secrets.len() + 2,
        "token, refresh token, client secret and role secrets: {}",
        secrets.len()
    );
    let files = user.home_files();
    for secret in &secrets {
        for (path, bytes) in &files {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret.as_str()),
                "a secret is in {}",
                path.display()
            );
        }
        for r in &runs {
            assert!(
                !r.stderr.contains(secret.as_str()),
                "a secret was logged:\n{r}"
            );
            if !role_secrets.contains(secret) {
                assert!(
                    !r.stdout.contains(secret.as_str()),
                    "a token was printed:\n{r}"
                );
            }
        }
    }
}

/// Logout deletes the role credentials it cached, from the store and from the kernel-keyring cache. Where
/// the Secret Service has the kernel keyring in front of it, a warm call is served without D-Bus at all.
#[test]
fn the_warm_path_reads_only_the_kernel_keyring_and_logout_clears_it() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    write_profiles(&user, (&acct, ADMIN), (&acct, READ_ONLY));
    let warm = process_json(&creds(&user, &acct, ADMIN));
    let layered = layered(&user);
    eprintln!(
        "store {}; kernel-keyring cache layer: {layered}",
        user.status_json()[0]["store"]
    );
    if layered {
        // No D-Bus: still served, by the explicit target and by a profile.
        for args in [
            &creds_args(&acct, ADMIN)[..],
            &["creds", "--profile", "native"][..],
        ] {
            let r = without_dbus(user.cmd(args));
            assert_eq!(process_json(&r), warm, "{args:?}");
        }
        // The same without the cache layer must reach for the Secret Service, and fail.
        let mut c = user.cmd(&creds_args(&acct, ADMIN));
        c.env("AWSSO_NO_KEYUTILS_CACHE", "1");
        let r = without_dbus(c);
        fails_quietly(&r, 4);
    }
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);

    user.run(&["logout"]).ok();
    let r = creds(&user, &acct, ADMIN);
    fails_quietly(&r, 3);
    if layered {
        // The kernel-keyring copy is gone too: the warm path misses and reaches for the Secret Service.
        fails_quietly(&without_dbus(user.cmd(&creds_args(&acct, ADMIN))), 4);
    }
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
}

/// The opt-in plaintext copy for the AWS CLI and the SDKs: absent by default, 0600 with the documented
/// fields when asked for, rewritten on refresh, deleted by logout.
#[test]
fn the_aws_cli_token_cache_is_written_only_when_asked() {
    let user = logged_in(SimConfig::default());
    let cache_dir = user.home.path().join(".aws/sso/cache");
    let file = cache_dir.join(format!("{}.json", sha1_hex(SESSION)));
    assert!(!cache_dir.exists() || std::fs::read_dir(&cache_dir).unwrap().next().is_none());
    process_json(&creds(&user, &account(&user, 0), ADMIN));
    assert!(!file.exists(), "written without opting in");

    user.run(&["login", "--export-cli-cache", "--no-browser"])
        .ok()
        .stderr_has("plaintext");
    let read =
        || -> serde_json::Value { serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap() };
    let cached = read();
    let keys: BTreeSet<&str> = cached
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "accessToken",
            "clientId",
            "expiresAt",
            "region",
            "registrationExpiresAt",
            "startUrl"
        ])
    );
    assert_eq!(cached["startUrl"], START_URL);
    assert_eq!(cached["region"], REGION);
    let token = cached["accessToken"].as_str().unwrap().to_string();
    assert!(user.sim.issued_secrets().contains(&token));
    for key in ["expiresAt", "registrationExpiresAt"] {
        let v = cached[key].as_str().unwrap();
        assert!(
            v.len() == 20 && v.ends_with('Z') && v.as_bytes()[10] == b'T',
            "{key} = {v}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    // A refresh by `creds` rewrites the copy with the new token.
    user.sim.update(|c| c.token_ttl = Duration::from_secs(60));
    user.run(&["login", "--force", "--no-browser"]).ok();
    let short = read()["accessToken"].as_str().unwrap().to_string();
    assert_ne!(short, token, "a new sign-in rewrites the copy");
    user.sim
        .update(|c| c.token_ttl = Duration::from_secs(8 * 3600));
    user.sim.reset_counts();
    process_json(&creds(&user, &account(&user, 1), ADMIN));
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    let refreshed = read()["accessToken"].as_str().unwrap().to_string();
    assert_ne!(refreshed, short, "the refresh did not rewrite the copy");

    user.run(&["logout"]).ok();
    assert!(!file.exists(), "logout left the plaintext copy");
}

/// `--auto-login` is the one opt-in exception to "never signs in": the device flow runs with its prompt
/// on stderr, and stdout still carries the JSON only.
#[test]
fn auto_login_signs_in_on_stderr_and_keeps_stdout_clean() {
    let user = User::new(SimConfig::default());
    user.write_config(&format!(
        "[sso-session {SESSION}]\nsso_start_url = {START_URL}\nsso_region = {REGION}\nsso_registration_scopes = sso:account:access\n"
    ));
    let acct = account(&user, 0);
    let mut args = creds_args(&acct, ADMIN).to_vec();
    args.push("--auto-login");
    let r = user.run(&args);
    r.ok().stderr_has("--auto-login");
    assert_eq!(r.stdout.lines().count(), 1, "{r}");
    let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_is(&obj, &last_issued(&user));
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 1);
    assert_eq!(user.status_json()[0]["state"], "valid");
}

// ---- Issue 8 item 2: credentials, tokens and registrations are scoped to the instance and the login ----

const URL_ONE: &str = "https://d-one1111111.awsapps.com/start";
const URL_TWO: &str = "https://d-two2222222.awsapps.com/start";

/// Logs `user` in to the portal `start_url` under the session name `corp`.
fn login_as_corp(user: &User, start_url: &str) {
    user.run(&[
        "login",
        "--session",
        "corp",
        "--start-url",
        start_url,
        "--region",
        REGION,
        "--no-browser",
    ])
    .ok();
}

fn corp_creds(user: &User, account: &str) -> Run {
    user.run(&[
        "creds",
        "--session",
        "corp",
        "--account-id",
        account,
        "--role-name",
        ADMIN,
    ])
}

/// A second user of the same machine: its own HOME, config and simulator (another Identity Center
/// instance), but the same keyring namespace (and kernel session keyring) as `first`.
fn neighbour(first: &User) -> User {
    let mut other = User::new(SimConfig::default());
    other.keyring_service = first.keyring_service.clone();
    other
}

#[test]
fn two_instances_under_one_session_name_each_get_their_own_credentials() {
    let one = User::new(SimConfig::default());
    let two = neighbour(&one);
    login_as_corp(&one, URL_ONE);
    let acct = account(&one, 0);
    let first = process_json(&corp_creds(&one, &acct));
    assert_is(&first, &last_issued(&one));

    // Same session name, same keyring, same kernel session keyring: another directory.
    login_as_corp(&two, URL_TWO);
    let theirs = process_json(&corp_creds(&two, &account(&two, 0)));
    assert_is(&theirs, &last_issued(&two));
    assert_eq!(
        two.sim.count("GetRoleCredentials"),
        1,
        "two was served one's credentials"
    );
    assert_ne!(theirs["AccessKeyId"], first["AccessKeyId"]);

    // And instance one is neither logged out nor served instance two's credentials.
    let again = process_json(&corp_creds(&one, &acct));
    assert_eq!(again["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(one.sim.count("GetRoleCredentials"), 1);
}

#[test]
fn a_run_without_a_config_gets_nothing_from_the_cache() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    process_json(&creds(&user, &acct, ADMIN));
    process_json(&creds(&user, &acct, ADMIN));

    let bare = neighbour(&user);
    assert!(!bare.config_path().exists());
    let r = bare.run(&creds_args(&acct, ADMIN));
    let line = fails_quietly(&r, 5);
    assert!(line.contains(&format!("[sso-session {SESSION}]")), "{line}");

    // A config naming the same session for another directory gets nothing either.
    bare.write_config(&format!(
        "[sso-session {SESSION}]\nsso_start_url = {URL_TWO}\nsso_region = {REGION}\n"
    ));
    let r = bare.run(&creds_args(&acct, ADMIN));
    let line = fails_quietly(&r, 3);
    assert!(line.contains("awsso login"), "{line}");
}

#[test]
fn logout_with_the_cache_turned_off_still_ends_the_cached_credentials() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    process_json(&creds(&user, &acct, ADMIN));
    process_json(&creds(&user, &acct, ADMIN));
    let mut logout = user.cmd(&["logout"]);
    logout.env("AWSSO_NO_KEYUTILS_CACHE", "1");
    Run::from(logout.output().unwrap()).ok();
    fails_quietly(&creds(&user, &acct, ADMIN), 3);
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
}

#[test]
fn a_new_login_ends_the_credentials_of_the_previous_one() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    let before = process_json(&creds(&user, &acct, ADMIN));
    process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);

    let mut login = user.cmd(&["login", "--force", "--no-browser"]);
    login.env("AWSSO_NO_KEYUTILS_CACHE", "1");
    Run::from(login.output().unwrap()).ok();
    let after = process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        2,
        "served the old login's credentials"
    );
    assert_ne!(after["AccessKeyId"], before["AccessKeyId"]);
    assert_is(&after, &last_issued(&user));
    // The profile path (config parsed, cache read) agrees.
    write_profiles(&user, (&acct, ADMIN), (&acct, ADMIN));
    let by_profile = process_json(&user.run(&["creds", "--profile", "native"]));
    assert_eq!(by_profile["AccessKeyId"], after["AccessKeyId"]);
    assert_eq!(user.sim.count("GetRoleCredentials"), 2);
}

#[test]
fn an_edited_start_url_is_not_served_the_old_directory_s_credentials() {
    let user = logged_in(SimConfig::default());
    let acct = account(&user, 0);
    process_json(&creds(&user, &acct, ADMIN));
    // Same session name, now another directory (the same length, so only the content changes).
    let text = user
        .read_config()
        .replace("d-test123.awsapps", "d-test999.awsapps");
    user.write_config(&text);
    fails_quietly(&creds(&user, &acct, ADMIN), 3);
}

// ---- Issue 8 item 12: the clock ----

#[test]
fn credentials_expired_by_the_local_clock_are_refused_naming_the_skew() {
    let user = logged_in(SimConfig::default());
    // The server is two hours behind this machine: as if the local clock were two hours ahead. The
    // one-hour credentials it issues are already an hour past by the local clock.
    user.sim.update(|c| c.clock_offset_secs = -2 * 3600);
    let acct = account(&user, 0);
    let line = fails_quietly(&creds(&user, &acct, ADMIN), 1).to_string();
    assert!(line.contains("clock"), "{line}");
    assert!(line.contains("2h") || line.contains("ahead"), "{line}");
    assert!(line.contains("timedatectl set-ntp true"), "{line}");
    // No expired credentials on any later run either.
    fails_quietly(&creds(&user, &acct, ADMIN), 1);

    // A small skew is no reason to refuse.
    user.sim.update(|c| c.clock_offset_secs = 30);
    process_json(&creds(&user, &acct, ADMIN));
}

// ---- Issue 9: the exported token stays outside the SDKs' refresh windows ----

#[test]
fn an_exported_token_is_re_exported_before_the_sdks_window() {
    // 19 min 50 s: outside awsso's own 15-minute refresh window, inside the 20 minutes an exported token
    // is kept fresh for (botocore refuses under 15 minutes without a refresh token, the JS SDK under 5).
    let user = User::new(SimConfig {
        token_ttl: Duration::from_secs(19 * 60 + 50),
        ..SimConfig::default()
    });
    user.run(&[&login_args()[..], &["--export-cli-cache"]].concat())
        .ok();
    let file = user
        .home
        .path()
        .join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex(SESSION)));
    let read =
        || -> serde_json::Value { serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap() };
    let exported = read();
    user.sim
        .update(|c| c.token_ttl = Duration::from_secs(8 * 3600));
    user.sim.reset_counts();

    let acct = account(&user, 0);
    process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    let now = read();
    assert_ne!(now["accessToken"], exported["accessToken"]);
    assert!(
        now["expiresAt"].as_str().unwrap() > exported["expiresAt"].as_str().unwrap(),
        "{now} vs {exported}"
    );
    // Once fresh, warm calls neither refresh nor fetch.
    process_json(&creds(&user, &acct, ADMIN));
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
}
