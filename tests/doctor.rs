//! `awsso doctor`, end to end: a healthy setup passes every check; each planted problem gets its own
//! warn or fail with a fix; `--json` has a stable shape; `--instances` spots the account-instance trap
//! through the simulator's SigV4-checked sso-admin endpoint.

use std::path::Path;

use crate::common::*;
use serde_json::Value;

/// `doctor --json ARGS` with extra environment variables: (exit code, checks).
fn doctor(user: &User, args: &[&str], vars: &[(&str, &str)]) -> (i32, Vec<Value>, Run) {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let mut c = user.cmd(&all);
    for (k, v) in vars {
        c.env(k, v);
    }
    let r = Run::from(c.output().unwrap());
    let checks: Vec<Value> =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("doctor --json: {e}\n{r}"));
    (r.code, checks, r)
}

/// The checks named `name` that are not ok.
fn problems<'a>(checks: &'a [Value], name: &str) -> Vec<&'a Value> {
    checks
        .iter()
        .filter(|c| c["check"] == name && c["status"] != "ok")
        .collect()
}

#[track_caller]
fn only_problem<'a>(checks: &'a [Value], name: &str, status: &str, needle: &str) -> &'a Value {
    let found = problems(checks, name);
    assert_eq!(found.len(), 1, "{name}: {checks:#?}");
    let c = found[0];
    assert_eq!(c["status"], status, "{c:#}");
    assert!(
        c["message"].as_str().unwrap().contains(needle),
        "{needle:?} not in {c:#}"
    );
    assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "{c:#}");
    c
}

/// Logged in and synced: the setup every planted problem starts from.
fn healthy() -> User {
    let user = User::new(quick());
    user.login().ok();
    user.run(&["sync"]).ok();
    user
}

#[test]
fn a_healthy_setup_passes_every_check() {
    let user = healthy();
    let (code, checks, r) = doctor(&user, &[], &[]);
    assert_eq!(code, 0, "{r}");
    for c in &checks {
        assert_eq!(c["status"], "ok", "{c:#}");
    }
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for expected in [
        "config",
        "sessions",
        "duplicate-sessions",
        "store",
        "token",
        "refresh",
        "clock",
        "mixed-keys",
        "credential-process",
        "managed-blocks",
        "environment",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    let block = checks
        .iter()
        .find(|c| c["check"] == "managed-blocks")
        .unwrap();
    assert!(
        block["message"]
            .as_str()
            .unwrap()
            .contains("matches what `awsso sync` writes"),
        "{block:#}"
    );

    // The same for people: one line per check, a summary, exit 0.
    let r = user.run(&["doctor"]);
    r.ok();
    assert!(r.stdout.contains("ok    config"), "{r}");
    assert!(r.stdout.contains("0 warnings, 0 failures"), "{r}");
    // doctor probes the store but leaves nothing of its own in it, and prints no secret.
    for secret in user.sim.issued_secrets() {
        assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
    }
}

#[test]
fn the_json_has_a_stable_shape() {
    let user = User::new(quick());
    user.write_config("[profile x]\nregion = eu-west-1\n");
    let (code, checks, r) = doctor(&user, &[], &[]);
    assert_eq!(code, 0, "{r}");
    assert!(!checks.is_empty());
    for c in &checks {
        let obj = c.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["check", "fix", "message", "status"], "{c:#}");
        assert!(c["check"].is_string() && c["message"].is_string());
        match c["status"].as_str().unwrap() {
            "ok" => assert!(c["fix"].is_null(), "{c:#}"),
            "warn" | "fail" => assert!(c["fix"].is_string(), "{c:#}"),
            other => panic!("status {other}"),
        }
    }
    // No sso-session: a warning that says how to make one.
    only_problem(&checks, "sessions", "warn", "has no [sso-session]");
}

#[test]
fn each_planted_problem_is_named_with_its_fix() {
    let user = healthy();
    let base = user.read_config();
    let bin = bin();
    let plant = |extra: &str| user.write_config(&format!("{base}\n{extra}"));

    // sso_* keys beside credential_process: the SDKs never run awsso.
    plant(&format!(
        "[profile mixed]\nsso_session = d-test123\nsso_account_id = 100000000001\nsso_role_name = AdministratorAccess\n\
         credential_process = {bin} creds --session d-test123 --account-id 100000000001 --role-name AdministratorAccess\n"
    ));
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 1);
    let c = only_problem(&checks, "mixed-keys", "fail", "profile mixed");
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("delete sso_session, sso_account_id, sso_role_name")
    );

    // A credential_process binary that is gone.
    plant(
        "[profile gone]\ncredential_process = /nonexistent/awsso creds --session d-test123 --account-id 100000000001 \
         --role-name AdministratorAccess\n",
    );
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 1);
    let c = only_problem(&checks, "credential-process", "fail", "/nonexistent/awsso");
    assert!(c["fix"].as_str().unwrap().contains(&format!(
        "at {}",
        Path::new(bin).canonicalize().unwrap().display()
    )));

    // Two sessions for one access portal.
    plant(&format!(
        "[sso-session dup]\nsso_start_url = {START_URL}/\nsso_region = {REGION}\n"
    ));
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 0, "a duplicate is a warning");
    only_problem(&checks, "duplicate-sessions", "warn", "sessions d-test123");
    // … and it shares the token: secrets are keyed by the instance (the trailing `/` is the same portal).
    assert!(checks.iter().any(|c| {
        c["check"] == "token"
            && c["status"] == "ok"
            && c["message"]
                .as_str()
                .unwrap()
                .starts_with("session dup: token valid")
    }));

    // A hand edit inside awsso's block.
    let edited = base.replacen(
        "\nregion = eu-west-1\n",
        "\nregion = eu-west-1\noutput = json\n",
        1,
    );
    assert_ne!(edited, base);
    user.write_config(&edited);
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 0);
    let c = only_problem(
        &checks,
        "managed-blocks",
        "warn",
        "edited by hand: output in [profile",
    );
    assert!(c["fix"].as_str().unwrap().contains("awsso sync"));

    // A value changed inside the block: it no longer matches what sync writes from the cached listing.
    let edited = base.replacen("\nregion = eu-west-1\n", "\nregion = us-east-1\n", 1);
    user.write_config(&edited);
    let (_, checks, _) = doctor(&user, &[], &[]);
    let c = only_problem(&checks, "managed-blocks", "warn", "1 profile differs");
    assert!(c["fix"].as_str().unwrap().contains("--dry-run"));

    // The block of a session that was removed from the config.
    let orphaned = base.replacen("[sso-session d-test123]", "[sso-session renamed]", 1);
    user.write_config(&orphaned);
    let (_, checks, _) = doctor(&user, &[], &[]);
    only_problem(&checks, "managed-blocks", "warn", "no longer in the config");

    // AWS_PROFILE and static keys in the environment.
    user.write_config(&base);
    let profile = base
        .lines()
        .find_map(|l| {
            l.strip_prefix("[profile ")
                .and_then(|l| l.strip_suffix(']'))
        })
        .unwrap()
        .to_string();
    let (code, checks, _) = doctor(&user, &[], &[("AWS_PROFILE", &profile)]);
    assert_eq!(code, 0);
    let c = only_problem(
        &checks,
        "environment",
        "warn",
        &format!("AWS_PROFILE={profile}"),
    );
    assert!(c["fix"].as_str().unwrap().contains("unset AWS_PROFILE"));
    let (code, checks, _) = doctor(&user, &[], &[("AWS_PROFILE", "nope")]);
    assert_eq!(code, 1);
    only_problem(&checks, "environment", "fail", "names no profile");
    let (code, checks, r) = doctor(
        &user,
        &[],
        &[
            ("AWS_PROFILE", &profile),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "do-not-print-me"),
        ],
    );
    assert_eq!(code, 1);
    only_problem(&checks, "environment", "fail", "win over AWS_PROFILE");
    assert!(!r.stdout.contains("do-not-print-me"));
}

#[test]
fn a_logged_out_session_is_a_warning_with_the_login_command() {
    let user = User::new(quick());
    user.write_config(&format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
    ));
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 0);
    let c = only_problem(&checks, "token", "warn", "session corp: not logged in");
    assert_eq!(c["fix"], "run `awsso login --session corp`");
    assert!(problems(&checks, "refresh").is_empty());

    // Logged in then out again: the same.
    let user = healthy();
    user.run(&["logout"]).ok();
    let (_, checks, _) = doctor(&user, &[], &[]);
    only_problem(&checks, "token", "warn", "session d-test123: not logged in");
}

#[test]
fn a_malformed_config_fails_with_its_line_and_the_rest_still_runs() {
    let user = User::new(quick());
    user.write_config("[default]\nregion = eu-west-1\nthis line is not a setting\n");
    let (code, checks, _) = doctor(&user, &[], &[]);
    assert_eq!(code, 1);
    let c = only_problem(&checks, "config", "fail", ":3:");
    assert!(c["fix"].as_str().unwrap().contains("fix line 3"));
    assert!(
        checks
            .iter()
            .any(|c| c["check"] == "store" && c["status"] == "ok")
    );
    assert!(checks.iter().any(|c| c["check"] == "environment"));

    let r = user.run(&["doctor"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("fail  config"), "{r}");
}

fn trap_sim() -> SimConfig {
    SimConfig {
        instances: vec![
            awsso_sim::SimInstance::new("111111111111", "1111111111111111"),
            awsso_sim::SimInstance::new("222222222222", "2222222222222222"),
        ],
        ..quick()
    }
}

#[test]
fn instances_reveal_an_account_instance_beside_the_organization_instance() {
    let user = User::new(trap_sim());
    user.write_config(&format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
    ));
    let sim = user.sim.url();
    let keys = [
        ("AWS_ENDPOINT_URL_SSO_ADMIN", sim.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-do-not-print"),
        ("AWS_ACCOUNT_ID", "222222222222"),
    ];
    let (code, checks, r) = doctor(
        &user,
        &[
            "--instances",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
        ],
        &keys,
    );
    assert_eq!(code, 1, "{r}");
    let trap: Vec<&Value> = problems(&checks, "instances");
    assert_eq!(trap.len(), 2, "{checks:#?}");
    for c in &trap {
        assert_eq!(c["status"], "fail");
        let m = c["message"].as_str().unwrap();
        assert!(
            m.contains(
                "member account 222222222222 holds an account instance ssoins-2222222222222222"
            ),
            "{m}"
        );
        assert!(
            m.contains("ssoins-1111111111111111")
                && m.contains("owned by 111111111111 (the management account)"),
            "{m}"
        );
        assert!(
            m.contains("cannot be merged") && m.contains("delegated administration"),
            "{m}"
        );
    }
    assert!(!r.stdout.contains("wJalrXUtnFEMI"));

    // Both regions were asked, with a SigV4 Authorization header for the environment's key.
    let calls = user.sim.admin_calls();
    let mut regions: Vec<&str> = calls.iter().map(|c| c.region.as_str()).collect();
    regions.sort_unstable();
    assert_eq!(regions, ["eu-west-1", "us-east-1"], "{calls:?}");
    for c in &calls {
        assert_eq!(c.access_key_id, "AKIDEXAMPLE");
        assert_eq!(c.service, "sso");
        assert_eq!(c.target, "SWBExternalService.ListInstances");
        assert!(
            c.signed_headers.iter().any(|h| h == "x-amz-target"),
            "{c:?}"
        );
        assert!(c.security_token.is_none());
    }

    // Without AWS_ACCOUNT_ID the instances cannot be told apart by name, but the trap still shows.
    let (_, checks, _) = doctor(&user, &["--instances", "--region", "eu-west-1"], &keys[..3]);
    let c = only_problem(&checks, "instances", "fail", "111111111111");
    assert!(c["message"].as_str().unwrap().contains("222222222222"));
    assert!(c["fix"].as_str().unwrap().contains("AWS_ACCOUNT_ID"));

    // One owner only: no trap.
    user.sim.update(|c| c.instances.truncate(1));
    let (code, checks, _) = doctor(&user, &["--instances", "--region", "eu-west-1"], &keys);
    assert!(problems(&checks, "instances").is_empty(), "{checks:#?}");
    assert_eq!(code, 0);

    // No credentials at all: a failure that says which to give.
    let (code, checks, _) = doctor(&user, &["--instances"], &keys[..1]);
    assert_eq!(code, 1);
    only_problem(&checks, "instances", "fail", "needs admin credentials");
}

#[test]
fn instances_with_an_admin_profile_use_its_role_credentials() {
    let user = User::new(SimConfig {
        instances: vec![
            awsso_sim::SimInstance::new("111111111111", "1111111111111111"),
            awsso_sim::SimInstance::new("100000000001", "3333333333333333"),
        ],
        ..quick()
    });
    user.login().ok();
    let config = user.read_config();
    user.write_config(&format!(
        "{config}\n[profile admin]\ncredential_process = {} creds --session d-test123 --account-id 100000000001 \
         --role-name AdministratorAccess\n",
        bin()
    ));
    let sim = user.sim.url();
    let (code, checks, r) = doctor(
        &user,
        &["--instances", "--admin-profile", "admin"],
        &[("AWS_ENDPOINT_URL_SSO_ADMIN", sim.as_str())],
    );
    assert_eq!(code, 1, "{r}");
    only_problem(
        &checks,
        "instances",
        "fail",
        "member account 100000000001 holds an account instance ssoins-3333333333333333",
    );
    // The default region is the session's; the request was signed with the role's own credentials.
    let calls = user.sim.admin_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].region, REGION);
    let issued = user.sim.issued_credentials();
    let role = issued
        .iter()
        .find(|c| c.access_key_id == calls[0].access_key_id)
        .expect("signed with credentials the sim issued");
    assert_eq!(
        calls[0].security_token.as_deref(),
        Some(role.session_token.as_str())
    );
    for secret in user.sim.issued_secrets() {
        assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
    }
}
