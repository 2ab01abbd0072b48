//! The login lifecycle, end to end: the real binary, the simulator on loopback, the real keyring.

use std::time::Duration;

use crate::common::*;

/// Writes an executable "browser" script into the user's HOME; awsso runs it through `$BROWSER`.
fn browser_script(user: &User, name: &str, python: &str) -> std::path::PathBuf {
    let path = user.home.path().join(name);
    write_executable(&path, &format!("#!/usr/bin/env python3\n{python}"));
    path
}

#[test]
fn device_login_creates_the_session_and_keeps_the_token_in_the_store() {
    let user = User::new(quick());
    let r = user.login();
    r.ok()
        .stderr_has("code  ")
        .stderr_has("Added [sso-session d-test123]")
        .stderr_has("Logged in to session d-test123");
    assert!(r.stdout.is_empty(), "login printed on stdout:\n{r}");
    let config = user.read_config();
    assert!(config.contains("[sso-session d-test123]"), "{config}");
    assert!(
        config.contains(&format!("sso_start_url = {START_URL}")),
        "{config}"
    );
    assert!(
        config.contains("sso_registration_scopes = sso:account:access"),
        "{config}"
    );
    assert_eq!(user.sim.count("RegisterClient"), 1);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 1);
    assert!(
        user.sim.count("CreateToken.device_code") >= 2,
        "{:?}",
        user.sim.counts()
    );

    let status = user.status_json();
    assert_eq!(status[0]["session"], "d-test123");
    assert_eq!(status[0]["state"], "valid");
    assert_eq!(status[0]["refreshable"], true);

    // A second login reuses the token: no new sign-in, no network call at all.
    user.sim.reset_counts();
    user.run(&["login"]).ok().stderr_has("Already logged in");
    assert_eq!(
        user.sim.counts().values().sum::<u64>(),
        0,
        "{:?}",
        user.sim.counts()
    );

    // --force signs in again but reuses the client registration.
    user.run(&["login", "--force", "--no-browser"])
        .ok()
        .stderr_has("Logged in");
    assert_eq!(user.sim.count("RegisterClient"), 0);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 1);
}

#[test]
fn an_expired_token_is_refreshed_without_a_new_sign_in() {
    let user = User::new(SimConfig {
        token_ttl: Duration::from_secs(2),
        ..quick()
    });
    user.login().ok();
    std::thread::sleep(Duration::from_millis(2500));
    let status = user.status_json();
    assert_eq!(status[0]["state"], "expired", "{status}");
    assert_eq!(
        status[0]["logged_in"], true,
        "refreshable counts as logged in: {status}"
    );

    user.run(&["login", "--no-browser"])
        .ok()
        .stderr_has("Refreshed the token");
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 1);
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    assert_eq!(user.status_json()[0]["state"], "valid");
}

#[test]
fn a_revoked_session_falls_back_to_a_new_sign_in() {
    let user = User::new(SimConfig {
        token_ttl: Duration::from_secs(1),
        ..quick()
    });
    user.login().ok();
    user.sim.revoke_all();
    std::thread::sleep(Duration::from_millis(1500));
    let r = user.run(&["login", "--no-browser"]);
    r.ok()
        .stderr_has("refresh token was not accepted")
        .stderr_has("Logged in to");
    assert_eq!(user.sim.count("CreateToken.refresh_token"), 1);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 2);
}

#[test]
fn without_refresh_tokens_the_status_says_so() {
    let user = User::new(SimConfig {
        refresh_tokens: false,
        ..quick()
    });
    user.login().ok();
    let status = user.status_json();
    assert_eq!(status[0]["refreshable"], false, "{status}");
}

#[test]
fn an_expired_device_code_fails_cleanly() {
    let user = User::new(SimConfig {
        device_outcome: DeviceOutcome::Expire,
        ..quick()
    });
    let r = user.login();
    r.fails_with(1).stderr_has("expired").stderr_has("hint:");
    assert_eq!(user.status_json()[0]["state"], "none");
    assert_eq!(
        user.run(&["status"]).code,
        3,
        "status exits 3 when not logged in"
    );
}

#[test]
fn a_denied_sign_in_fails_cleanly() {
    let user = User::new(SimConfig {
        device_outcome: DeviceOutcome::Deny,
        ..quick()
    });
    user.login()
        .fails_with(1)
        .stderr_has("denied")
        .stderr_has("hint:");
    assert_eq!(user.status_json()[0]["state"], "none");
}

#[test]
fn an_expired_client_registration_is_replaced() {
    let user = User::new(quick());
    user.login().ok();
    user.sim.expire_clients();
    user.sim.reset_counts();
    user.run(&["login", "--force", "--no-browser"])
        .ok()
        .stderr_has("registering again");
    assert_eq!(user.sim.count("RegisterClient"), 1);
}

#[test]
fn pkce_login_follows_the_browser_back_to_the_loopback_listener() {
    let user = User::new(quick());
    // A "browser" that follows the authorize redirect to awsso's listener, as a real one would.
    let browser = browser_script(
        &user,
        "test-browser",
        "import sys, urllib.request\nurllib.request.urlopen(sys.argv[1], timeout=20).read()\n",
    );
    let r = pkce_login(&user, &browser, 30);
    r.ok().stderr_has("Logged in to session d-test123");
    assert_eq!(user.sim.count("Authorize"), 1);
    assert_eq!(user.sim.count("CreateToken.authorization_code"), 1);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 0);
    let client = user
        .sim
        .clients()
        .into_iter()
        .next()
        .expect("a client registered");
    assert!(
        client.grant_types.iter().any(|g| g == "authorization_code"),
        "{:?}",
        client.grant_types
    );
    assert_eq!(user.status_json()[0]["refreshable"], true);
}

#[test]
fn a_denied_pkce_sign_in_reports_it() {
    let user = User::new(SimConfig {
        device_outcome: DeviceOutcome::Deny,
        ..quick()
    });
    let browser = browser_script(
        &user,
        "test-browser",
        "import sys, urllib.request\ntry:\n    urllib.request.urlopen(sys.argv[1], timeout=20).read()\nexcept Exception:\n    pass\n",
    );
    let r = pkce_login(&user, &browser, 30);
    r.fails_with(1).stderr_has("denied");
}

#[test]
fn twenty_concurrent_logins_make_one_device_authorization() {
    let user = User::new(SimConfig {
        interval: 1,
        approve_after_polls: 2,
        ..SimConfig::default()
    });
    // The session section first, so the twenty processes race only for the login itself.
    user.write_config(&format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = {REGION}\nsso_registration_scopes = sso:account:access\n"
    ));
    let children: Vec<_> = (0..20)
        .map(|_| {
            user.cmd(&["login", "--no-browser"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().unwrap()))
        .collect();
    for r in &runs {
        r.ok();
    }
    assert_eq!(
        user.sim.count("StartDeviceAuthorization"),
        1,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(user.sim.count("RegisterClient"), 1);
    let led = runs
        .iter()
        .filter(|r| r.stderr.contains("Logged in to"))
        .count();
    assert_eq!(led, 1, "exactly one process signed in");
}

#[test]
fn logout_ends_the_session_and_removes_its_secrets() {
    let user = User::new(quick());
    user.login().ok();
    user.run(&["logout"])
        .ok()
        .stderr_has("Logged out of session d-test123");
    assert_eq!(user.sim.count("Logout"), 1);
    assert_eq!(user.status_json()[0]["state"], "none");
    // The next login has to register and sign in from scratch.
    user.sim.reset_counts();
    user.run(&["login", "--no-browser"]).ok();
    assert_eq!(user.sim.count("RegisterClient"), 1);
    assert_eq!(user.sim.count("StartDeviceAuthorization"), 1);
}

#[test]
fn several_sessions_need_a_choice() {
    let user = User::new(quick());
    user.write_config(&format!(
        "[sso-session a]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n\n[sso-session b]\nsso_start_url = https://b.awsapps.com/start\nsso_region = {REGION}\n"
    ));
    user.run(&["login", "--no-browser"])
        .fails_with(1)
        .stderr_has("a, b")
        .stderr_has("--session");
    let r = user.run(&["login", "--session", "a", "--no-browser"]);
    r.ok().stderr_has("no `sso_registration_scopes");
}

#[test]
fn a_session_is_never_repointed_at_another_directory() {
    let user = User::new(quick());
    user.write_config("[sso-session corp]\nsso_start_url = https://other.awsapps.com/start\nsso_region = us-east-1\n");
    let before = user.read_config();
    user.run(&[
        "login",
        "--session",
        "corp",
        "--start-url",
        START_URL,
        "--region",
        REGION,
    ])
    .fails_with(1)
    .stderr_has("already points at");
    assert_eq!(user.read_config(), before);
}

#[test]
fn a_malformed_config_is_reported_and_left_alone() {
    let user = User::new(quick());
    let text = "# mine\n[profile broken\nregion = us-east-1\n";
    user.write_config(text);
    let r = user.login();
    r.fails_with(5).stderr_has("line 2").stderr_has("hint:");
    assert_eq!(user.read_config(), text);
}

#[test]
fn bad_arguments_get_a_hint() {
    let user = User::new(quick());
    // Checked by clap's value parsers (src/ids.rs): usage errors, with a hint.
    user.run(&["login", "--start-url", "ftp://x", "--region", REGION])
        .fails_with(2)
        .stderr_has("hint:");
    user.run(&["login", "--start-url", START_URL, "--region", "Mars 1"])
        .fails_with(2)
        .stderr_has("is not a region");
    assert_eq!(
        user.run(&["login", "--start-url", START_URL]).code,
        2,
        "clap usage error"
    );
    assert!(!user.config_path().exists() || user.read_config().is_empty());
}

#[test]
fn no_secret_reaches_a_file_stdout_or_the_logs() {
    let user = User::new(quick());
    let r = user
        .cmd(&[&login_args()[..], &["-vv"]].concat())
        .env("RUST_LOG", "trace")
        .output()
        .map(Run::from)
        .unwrap();
    r.ok();
    let status = user.run(&["status", "--json", "-vv"]);
    let secrets = user.sim.issued_secrets();
    assert!(
        secrets.len() >= 3,
        "access token, refresh token, client secret: {}",
        secrets.len()
    );
    for secret in &secrets {
        for (path, bytes) in user.home_files() {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(secret.as_str()),
                "a secret is in {}",
                path.display()
            );
        }
        for out in [&r.stdout, &r.stderr, &status.stdout, &status.stderr] {
            assert!(
                !out.contains(secret.as_str()),
                "a secret was printed:\n{out}"
            );
        }
    }
}

// A forged state no longer aborts the login: see tests/pkce.rs.

#[test]
fn without_a_secret_service_auto_falls_back_to_the_kernel_keyring() {
    let user = User::new(quick());
    let no_bus = |c: &mut std::process::Command| {
        c.env_remove("AWSSO_STORE")
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/awsso-test-bus",
            )
            .env("XDG_RUNTIME_DIR", "/nonexistent");
    };
    let mut login = user.cmd(&login_args());
    no_bus(&mut login);
    Run::from(login.output().unwrap())
        .ok()
        .stderr_has("stored in keyutils");
    let mut status = user.cmd(&["status", "--json"]);
    no_bus(&mut status);
    let out = Run::from(status.output().unwrap());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json[0]["store"], "keyutils", "{out}");
    assert_eq!(json[0]["state"], "valid", "{out}");
    let mut logout = user.cmd(&["logout"]);
    no_bus(&mut logout);
    Run::from(logout.output().unwrap()).ok();
}

#[test]
fn a_forced_store_that_is_not_there_fails_with_the_fix() {
    let user = User::new(quick());
    let r = user
        .cmd(&login_args())
        .env("AWSSO_STORE", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/awsso-test-bus",
        )
        .env("XDG_RUNTIME_DIR", "/nonexistent")
        .output()
        .map(Run::from)
        .unwrap();
    r.fails_with(4)
        .stderr_has("hint:")
        .stderr_has("AWSSO_STORE=keyutils");
    assert_eq!(
        user.sim.count("StartDeviceAuthorization"),
        0,
        "fails before any sign-in"
    );
}

/// Issue 8 item 2: two configs using one session name for two Identity Center instances (two HOMEs, one
/// keyring): each login keeps its own token and client registration.
#[test]
fn logging_in_to_a_second_instance_under_the_same_name_keeps_the_first() {
    let url = |id: &str| format!("https://d-{id}.awsapps.com/start");
    let login = |user: &User, id: &str| {
        user.run(&[
            "login",
            "--session",
            "corp",
            "--start-url",
            &url(id),
            "--region",
            REGION,
            "--no-browser",
        ])
    };
    let one = User::new(quick());
    let mut two = User::new(quick());
    two.keyring_service = one.keyring_service.clone();
    login(&one, "one1111111").ok();
    login(&two, "two2222222").ok().stderr_has("Logged in to");

    let status = one.status_json();
    assert_eq!(status[0]["logged_in"], true, "{status}");
    assert_eq!(status[0]["start_url"], url("one1111111").as_str());
    // Logging in again needs no new sign-in or registration at instance one.
    one.sim.reset_counts();
    login(&one, "one1111111")
        .ok()
        .stderr_has("Already logged in");
    assert_eq!(one.sim.count("StartDeviceAuthorization"), 0);
    assert_eq!(one.sim.count("RegisterClient"), 0);
    // Each instance registered its own client.
    assert_eq!(one.sim.clients().len(), 1);
    assert_eq!(two.sim.clients().len(), 1);

    // Logging out of two leaves one logged in.
    two.run(&["logout"]).ok();
    assert_eq!(one.status_json()[0]["logged_in"], true);
    assert_eq!(two.status_json()[0]["logged_in"], false);
}

/// A start URL as pasted from the portal (`…/start#/`) names the same instance as the plain one.
#[test]
fn a_trailing_slash_or_fragment_names_the_same_instance() {
    let user = User::new(quick());
    user.login().ok();
    user.write_config(&format!(
        "[sso-session d-test123]\nsso_start_url = {START_URL}#/\nsso_region = {REGION}\nsso_registration_scopes = sso:account:access\n"
    ));
    let status = user.status_json();
    assert_eq!(status[0]["logged_in"], true, "{status}");
}

/// Issue 9: a legacy profile (what older `aws configure sso` and most guides write), with the `#/` people
/// paste from the portal: login, creds, status and the exported token work as `aws sso login --profile`.
#[test]
fn a_legacy_profile_logs_in_serves_credentials_and_shows_in_status() {
    let user = User::new(quick());
    let start_url = "https://d-legacy0001.awsapps.com/start#/";
    let account = user.sim.accounts()[0].0.clone();
    user.write_config(&format!(
        "[profile team-dev]\nsso_start_url = {start_url}\nsso_region = {REGION}\n\
         sso_account_id = {account}\nsso_role_name = AdministratorAccess\nregion = {REGION}\n"
    ));
    let before = user.read_config();
    user.run(&[
        "login",
        "--profile",
        "team-dev",
        "--no-browser",
        "--export-cli-cache",
    ])
    .ok()
    .stderr_has("legacy SSO profile")
    .stderr_has("Logged in to");
    assert_eq!(user.read_config(), before, "login edited the config");

    // The file the AWS CLI and botocore look for with a legacy profile: sha1 of the start URL as written.
    let file = user
        .home
        .path()
        .join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex(start_url)));
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(
        user.sim
            .issued_secrets()
            .contains(&exported["accessToken"].as_str().unwrap().to_string())
    );

    let r = user.run(&["creds", "--profile", "team-dev"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let issued = user.sim.issued_credentials();
    assert_eq!(issued.len(), 1);
    assert_eq!(v["AccessKeyId"], issued[0].access_key_id.as_str());
    assert_eq!(issued[0].account_id, account);

    let status = user.status_json();
    assert_eq!(status[0]["legacy_profile"], "team-dev", "{status}");
    assert_eq!(status[0]["logged_in"], true);
    assert_eq!(status[0]["refreshable"], false);
    let text = user.run(&["status"]);
    assert!(
        text.stdout.contains("legacy profile team-dev"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("cannot refresh"), "{}", text.stdout);

    user.run(&["logout", "--all"]).ok();
    assert!(!file.exists(), "logout left the exported token");
}

/// Issue 9: doctor names a legacy profile and offers the exact migration as a diff; `awsso migrate
/// --dry-run` writes nothing, `awsso migrate` makes that change and the profile keeps working.
#[test]
fn doctor_offers_the_migration_of_a_legacy_profile_and_migrate_applies_it() {
    let user = User::new(quick());
    let account = user.sim.accounts()[0].0.clone();
    let original = format!(
        "# my team\n[profile team-dev]\nsso_start_url = https://d-legacy0002.awsapps.com/start#/\n\
         sso_region = {REGION}\nsso_account_id = {account}\nsso_role_name = AdministratorAccess\n\
         region = {REGION}\n"
    );
    user.write_config(&original);
    user.run(&["login", "--profile", "team-dev", "--no-browser"])
        .ok();
    let r = user.run(&["doctor", "--json"]);
    let checks: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let legacy: Vec<&serde_json::Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "legacy-profiles")
        .collect();
    assert_eq!(legacy.len(), 1, "{checks:#}");
    assert!(legacy[0]["message"].as_str().unwrap().contains("team-dev"));
    let fix = legacy[0]["fix"].as_str().unwrap();
    assert!(fix.contains("+sso_session = d-legacy0002"), "{fix}");
    assert!(
        fix.contains("-sso_start_url = https://d-legacy0002.awsapps.com/start#/"),
        "{fix}"
    );
    assert!(fix.contains("+[sso-session d-legacy0002]"), "{fix}");
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "refresh"
                && c["message"].as_str().unwrap().contains("legacy profile"))
    );

    let dry = user.run(&["migrate", "--dry-run"]);
    dry.ok();
    assert!(dry.stdout.contains("+sso_session = d-legacy0002"), "{dry}");
    assert_eq!(user.read_config(), original, "--dry-run wrote");

    user.run(&["migrate"]).ok();
    let after = user.read_config();
    assert!(
        after.starts_with("# my team\n[profile team-dev]\nsso_session = d-legacy0002\n"),
        "{after}"
    );
    assert!(after.contains(
        "[sso-session d-legacy0002]\nsso_start_url = https://d-legacy0002.awsapps.com/start\n"
    ));
    assert!(after.contains("sso_registration_scopes = sso:account:access"));
    // The token of the instance carries over: same instance, same key.
    let r = user.run(&["creds", "--profile", "team-dev"]);
    r.ok();
    assert_eq!(user.sim.issued_credentials().len(), 1);
    // Nothing left to migrate; doctor is quiet about it.
    user.run(&["migrate"])
        .ok()
        .stderr_has("No legacy SSO profile");
}

/// Issue 9: `ls` and `sync` work on the instance of a legacy profile (its implicit session), and the
/// profiles sync writes resolve through awsso.
#[test]
fn ls_and_sync_work_on_the_instance_of_a_legacy_profile() {
    let user = User::new(quick());
    let account = user.sim.accounts()[0].0.clone();
    user.write_config(&format!(
        "[profile team-dev]\nsso_start_url = https://d-legacy0003.awsapps.com/start#/\nsso_region = {REGION}\n\
         sso_account_id = {account}\nsso_role_name = AdministratorAccess\n"
    ));
    user.run(&["login", "--profile", "team-dev", "--no-browser"])
        .ok();
    let ls = user.run(&["ls"]);
    ls.ok();
    assert!(ls.stdout.contains(&account), "{ls}");
    user.run(&["sync", "--mode", "native"])
        .fails_with(1)
        .stderr_has("awsso migrate");
    user.run(&["sync"]).ok();
    let config = user.read_config();
    let synced = config
        .lines()
        .find_map(|l| {
            l.strip_prefix("[profile ")
                .and_then(|n| n.strip_suffix(']'))
                .filter(|n| *n != "team-dev")
        })
        .expect("sync wrote profiles")
        .to_string();
    let r = user.run(&["creds", "--profile", &synced]);
    r.ok();
    assert_eq!(user.sim.issued_credentials().len(), 1);
}
