//! Untrusted input, from the command line and from the server (issue 8, items 7, 8, 10 and 13), through
//! the real binary against a simulator told to answer as a broken or hostile Identity Center would
//! (`SimConfig::hostile`): absurd arguments exit 2 with one line, nonsensical answers are refused with the
//! operation and the reason, nothing panics, memory stays bounded, and awsso never writes where it should
//! not when there is no home directory.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    DeviceOutcome, REGION, Run, SESSION, START_URL, SimConfig, User, creds, logged_in, login_args,
};
use awsso_sim::{Hostile, Spoil};
use serde_json::{Value, json};

fn spoil(op: &str, s: Spoil) -> Hostile {
    Hostile {
        role_names: None,
        answers: BTreeMap::from([(op.to_owned(), s)]),
    }
}

fn set(op: &str, pointer: &str, value: Value) -> Hostile {
    spoil(op, Spoil::Set(vec![(pointer.to_owned(), value)]))
}

fn first_account(user: &User) -> String {
    user.sim.accounts()[0].0.clone()
}

#[track_caller]
fn no_panic(r: &Run) {
    assert!(
        !r.stderr.contains("panicked") && r.code != 101 && r.code != 134 && r.code >= 0,
        "awsso crashed:\n{r}"
    );
}

// ---- item 7: no panic, ever ----

#[test]
fn a_huge_account_id_argument_is_a_usage_error_not_a_panic() {
    let user = logged_in(SimConfig::default());
    let huge = "1".repeat(66_000);
    let r = creds(&user, &huge, "AdministratorAccess");
    no_panic(&r);
    r.fails_with(2).stderr_has("--account-id");
    assert!(r.stderr.contains("66000 characters"), "{r}");
    assert!(r.stderr.len() < 2_000, "the error should be short:\n{r}");
    for (flag, bad) in [
        ("--role-name", "Adm$(touch x)".to_string()),
        ("--role-name", "r".repeat(70_000)),
        ("--session", "a]b".to_string()),
    ] {
        let mut args = vec![
            "creds",
            "--session",
            SESSION,
            "--account-id",
            "111122223333",
        ];
        args.extend(["--role-name", "AdministratorAccess"]);
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = &bad;
        let r = user.run(&args);
        no_panic(&r);
        r.fails_with(2).stderr_has(flag);
    }
}

#[test]
fn a_huge_account_id_in_a_profile_is_refused_not_a_panic() {
    let user = logged_in(SimConfig::default());
    let mut config = user.read_config();
    config.push_str(&format!(
        "\n[profile huge]\nsso_session = {SESSION}\nsso_account_id = {}\nsso_role_name = AdministratorAccess\n",
        "1".repeat(66_000)
    ));
    user.write_config(&config);
    let r = user.run(&["creds", "--profile", "huge"]);
    no_panic(&r);
    r.fails_with(5).stderr_has("invalid account id");
}

#[test]
fn a_huge_account_id_from_list_accounts_is_skipped_with_a_warning() {
    let user = logged_in(SimConfig {
        accounts: 3,
        hostile: set(
            "ListAccounts",
            "/accountList/0/accountId",
            json!("1".repeat(70_000)),
        ),
        ..Default::default()
    });
    let r = user.run(&["ls", "--json"]);
    no_panic(&r);
    r.ok().stderr_has(
        "warning: ListAccounts returned 1 entry with an account id that is not 12 digits; skipped",
    );
    let ids: Vec<String> = user.sim.accounts().into_iter().map(|a| a.0).collect();
    assert!(
        !r.stdout.contains(&ids[0]) && !r.stdout.contains("1111111111111"),
        "{r}"
    );
    assert!(
        r.stdout.contains(&ids[1]) && r.stdout.contains(&ids[2]),
        "{r}"
    );
}

#[test]
fn impossible_role_names_from_list_account_roles_are_skipped_with_a_warning() {
    let user = logged_in(SimConfig {
        accounts: 1,
        hostile: Hostile {
            role_names: Some(vec![
                "Adm$(touch x)".into(),
                "r".repeat(70_000),
                "ReadOnlyAccess".into(),
            ]),
            answers: BTreeMap::new(),
        },
        ..Default::default()
    });
    let r = user.run(&["ls", "--json"]);
    no_panic(&r);
    r.ok()
        .stderr_has("ListAccountRoles returned 2 entries with a name AWS does not allow");
    assert!(
        r.stdout.contains("ReadOnlyAccess") && !r.stdout.contains("Adm$"),
        "{r}"
    );
}

/// Max RSS in KiB of `cmd`, measured by GNU time.
fn max_rss_kib(user: &User, args: &[&str]) -> (Run, u64) {
    let base = user.cmd(args);
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("MAXRSS=%M")
        .arg(base.get_program())
        .args(base.get_args());
    c.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.stdin(Stdio::null());
    let r = Run::from(c.output().expect("GNU time runs (apt-get install time)"));
    let rss = r
        .stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("MAXRSS="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no MAXRSS line:\n{r}"));
    (r, rss)
}

#[test]
fn a_300_mb_credentials_answer_is_refused_with_bounded_memory() {
    let user = logged_in(SimConfig {
        hostile: spoil("GetRoleCredentials", Spoil::Huge(300 << 20)),
        ..Default::default()
    });
    let acct = first_account(&user);
    let (r, rss) = max_rss_kib(
        &user,
        &[
            "creds",
            "--session",
            SESSION,
            "--account-id",
            &acct,
            "--role-name",
            "AdministratorAccess",
        ],
    );
    no_panic(&r);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("GetRoleCredentials") && r.stderr.contains("larger than 64 KiB"),
        "{r}"
    );
    // The answer is 300 MiB; awsso must not have held more than a small part of it.
    assert!(
        rss < 100 * 1024,
        "awsso grew to {rss} KiB reading a 300 MiB answer"
    );
}

// ---- item 8: answers that make no sense ----

#[test]
fn a_token_with_expires_in_zero_or_an_empty_access_token_is_not_a_login() {
    for (hostile, why) in [
        (set("CreateToken", "/expiresIn", json!(0)), "expiresIn is 0"),
        (
            set("CreateToken", "/expiresIn", json!(-5)),
            "expiresIn is -5",
        ),
        (
            set("CreateToken", "/accessToken", json!("")),
            "accessToken is empty",
        ),
    ] {
        let user = User::new(SimConfig {
            hostile,
            ..Default::default()
        });
        let r = user.login();
        no_panic(&r);
        r.fails_with(1).stderr_has("CreateToken").stderr_has(why);
        assert!(!r.stderr.contains("Logged in"), "{r}");
        assert_eq!(user.status_json()[0]["logged_in"], json!(false), "{r}");
    }
}

#[test]
fn a_poll_interval_longer_than_the_code_lifetime_does_not_hang_past_expiry() {
    let user = User::new(SimConfig {
        interval: 3600,
        device_code_ttl: Duration::from_secs(2),
        approve_after_polls: 0,
        device_outcome: DeviceOutcome::Approve,
        ..Default::default()
    });
    let mut child = user
        .cmd(&login_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Generous against a loaded machine; the code lives 2 s, the interval is an hour.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("login still waiting 60 s after a 2 s code expired");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = Run::from(child.wait_with_output().unwrap());
    r.fails_with(1).stderr_has("expired");
}

#[test]
fn credentials_with_an_absurd_or_past_expiration_are_refused() {
    for (value, why) in [
        (json!(9_223_372_036_854_775i64), "more than a year away"),
        (json!(1000), "not in the future"),
        (json!(-1), "not in the future"),
    ] {
        let user = logged_in(SimConfig {
            hostile: set("GetRoleCredentials", "/roleCredentials/expiration", value),
            ..Default::default()
        });
        let r = creds(&user, &first_account(&user), "AdministratorAccess");
        no_panic(&r);
        r.fails_with(1)
            .stderr_has("GetRoleCredentials")
            .stderr_has(why);
        assert!(r.stdout.is_empty(), "{r}");
    }
}

#[test]
fn malformed_non_utf8_and_redirected_answers_are_named() {
    let cases: [(&str, Spoil, &str); 5] = [
        (
            "GetRoleCredentials",
            Spoil::Raw(b"{\"roleCredentials\": ".to_vec()),
            "not valid JSON",
        ),
        (
            "GetRoleCredentials",
            Spoil::Raw(vec![0xff, 0xfe, b'{', b'}']),
            "not UTF-8",
        ),
        (
            "GetRoleCredentials",
            Spoil::Redirect("http://127.0.0.1:9/elsewhere".into()),
            "redirect (HTTP 302 to http://127.0.0.1:9/elsewhere)",
        ),
        (
            "GetRoleCredentials",
            Spoil::Set(vec![("/roleCredentials/accessKeyId".into(), json!(""))]),
            "accessKeyId",
        ),
        (
            "GetRoleCredentials",
            Spoil::Set(vec![("/roleCredentials/sessionToken".into(), json!(""))]),
            "sessionToken is empty",
        ),
    ];
    for (op, s, why) in cases {
        let user = logged_in(SimConfig {
            hostile: spoil(op, s),
            ..Default::default()
        });
        let r = creds(&user, &first_account(&user), "AdministratorAccess");
        no_panic(&r);
        r.fails_with(1).stderr_has(op).stderr_has(why);
        assert!(!r.stderr.contains("UnknownError"), "{r}");
        assert!(r.stdout.is_empty(), "{r}");
    }
    // The same during login: the operation is named.
    let user = User::new(SimConfig {
        hostile: spoil("RegisterClient", Spoil::Raw(b"<html>proxy</html>".to_vec())),
        ..Default::default()
    });
    user.login()
        .fails_with(1)
        .stderr_has("RegisterClient")
        .stderr_has("not valid JSON");
}

// ---- item 10: names starting with `-` ----

#[test]
fn a_session_and_a_role_starting_with_a_dash_make_working_profiles() {
    let user = User::new(SimConfig {
        accounts: 1,
        hostile: Hostile {
            role_names: Some(vec!["-Admin".into()]),
            answers: BTreeMap::new(),
        },
        ..Default::default()
    });
    user.write_config(&format!(
        "[sso-session -x]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n\
         sso_registration_scopes = sso:account:access\n"
    ));
    user.run(&["login", "--session=-x", "--no-browser"]).ok();
    user.run(&["sync", "--session=-x"]).ok();
    let config = user.read_config();
    let line = config
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap_or_else(|| panic!("no credential_process:\n{config}"));
    assert!(
        line.contains("--session=-x") && line.contains("--role-name=-Admin"),
        "{line}"
    );
    // Run the line as the Rust SDK does (`sh -c`), in this user's environment.
    let mut sh = user.cmd(&[]);
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> = sh
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    sh = Command::new("sh");
    sh.arg("-c")
        .arg(line)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null());
    let r = Run::from(sh.output().unwrap());
    r.ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["Version"], 1, "{r}");
    // And the profile itself, as awsso reads it back.
    let profile = config
        .lines()
        .find_map(|l| l.strip_prefix("[profile "))
        .and_then(|l| l.strip_suffix(']'))
        .unwrap()
        .to_owned();
    user.run(&["creds", "--profile", &profile]).ok();
}

// ---- item 13: environment ----

/// The awsso binary as a uid with no passwd entry and no HOME, in `cwd`, with `extra` variables.
fn as_homeless(user: &User, cwd: &std::path::Path, args: &[&str], extra: &[(&str, &str)]) -> Run {
    let base = user.cmd(args);
    let mut c = Command::new("setpriv");
    c.args(["--reuid=54321", "--regid=54321", "--clear-groups", "--"])
        .arg(base.get_program())
        .args(args)
        .env_clear()
        .current_dir(cwd)
        .stdin(Stdio::null());
    for (k, v) in base.get_envs() {
        if let Some(v) = v
            && k != "HOME"
            && k != "AWSSO_CACHE_DIR"
        {
            c.env(k, v);
        }
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    Run::from(c.output().expect("setpriv runs"))
}

fn open_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

#[test]
fn without_a_home_nothing_is_written_to_the_working_directory_or_a_shared_tmp() {
    assert!(
        unsafe { libc_geteuid() } == 0,
        "this test switches to a uid without a passwd entry: run it as root (scripts/test.sh does)"
    );
    let user = User::new(SimConfig::default());
    user.login().ok();
    use std::os::unix::fs::PermissionsExt;
    for p in [
        user.home.path().to_path_buf(),
        user.home.path().join(".aws"),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(user.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let cwd = open_dir();
    let tmp = open_dir();
    let tmpdir = tmp.path().to_str().unwrap();

    let r = as_homeless(
        &user,
        cwd.path(),
        &["login", "--export-cli-cache", "--no-browser", "--force"],
        &[("TMPDIR", tmpdir), ("AWSSO_STORE", "keyutils")],
    );
    r.fails_with(1)
        .stderr_has("no home directory")
        .stderr_has("HOME");
    assert!(
        !cwd.path().join(".aws").exists(),
        "a token went into the cwd:\n{r}"
    );

    let acct = first_account(&user);
    let r = as_homeless(
        &user,
        cwd.path(),
        &[
            "creds",
            "--session",
            SESSION,
            "--account-id",
            &acct,
            "--role-name",
            "AdministratorAccess",
        ],
        &[("TMPDIR", tmpdir), ("AWSSO_STORE", "keyutils")],
    );
    no_panic(&r);
    assert_ne!(r.code, 0, "{r}");
    // This uid has no login of its own (its kernel keyring is empty, as `login` was refused above), so
    // `creds` may stop there (exit 3) before it needs a cache directory; either way nothing is written to
    // a shared place.
    if r.code != 3 {
        r.stderr_has("no home directory");
    }
    assert!(
        !tmp.path().join("awsso").exists(),
        "caches or locks went to a shared temp dir:\n{r}"
    );
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn a_plain_http_or_huge_start_url_is_refused() {
    let user = User::new(SimConfig::default());
    for url in [
        "http://d-test123.awsapps.com/start".to_string(),
        "http://127.0.0.1.evil.example/start".to_string(),
        format!("https://d-test123.awsapps.com/{}", "a".repeat(3000)),
    ] {
        let r = user.run(&[
            "login",
            "--start-url",
            &url,
            "--region",
            REGION,
            "--no-browser",
        ]);
        no_panic(&r);
        r.fails_with(2).stderr_has("--start-url");
        assert!(user.read_config().is_empty(), "written to the config:\n{r}");
    }
    // One already in the config is reported as invalid config.
    user.write_config(
        "[sso-session plain]\nsso_start_url = http://d-test123.awsapps.com/start\nsso_region = eu-west-1\n",
    );
    user.run(&["login", "--session", "plain", "--no-browser"])
        .fails_with(5)
        .stderr_has("plain http");
    // Loopback http stays allowed (the simulator's own URL).
    let local = format!("{}/start", user.sim.url());
    user.write_config("");
    user.run(&[
        "login",
        "--start-url",
        &local,
        "--region",
        REGION,
        "--session",
        "local",
        "--no-browser",
    ])
    .ok();
}

#[test]
fn an_sso_session_name_with_an_escape_or_a_quote_is_invalid_config() {
    let user = User::new(SimConfig::default());
    // (A name with an unbalanced quote, `it's`, is no sso-session at all: botocore's shell-split of the
    // header fails, so the SDKs skip the section, and so does awsso's reader.)
    let long = "s".repeat(200);
    for name in ["ev\u{1b}[31mil", long.as_str()] {
        user.write_config(&format!(
            "[sso-session {name}]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
        ));
        let r = user.run(&["login", "--no-browser"]);
        no_panic(&r);
        r.fails_with(5).stderr_has("invalid name");
        assert!(!r.stderr.contains('\u{1b}'), "{r}");
    }
}
