//! `awsso exec` and `awsso env` end to end: the real binary, the simulator, the real keyring, real shells.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use awsso_sim::IssuedCredentials;

/// A logged-in user with `[profile p]` (an awsso credential_process profile in us-west-2).
fn user_with_profile() -> User {
    let user = with_profile(SimConfig::default(), |acct| {
        format!(
            "[profile p]\ncredential_process = '{}' creds --session {SESSION} --account-id {acct} --role-name {ADMIN}\nregion = us-west-2\n",
            bin()
        )
    });
    user.sim.reset_counts();
    user
}

/// `env` output (NAME=value lines) as a map.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The environment awsso must give: the role's four variables, the region, the profile marker, and none of
/// the variables that would make an SDK look elsewhere.
#[track_caller]
fn assert_role_env(
    env: &BTreeMap<String, String>,
    issued: &IssuedCredentials,
    region: &str,
    label: &str,
) {
    let get = |k: &str| env.get(k).map(String::as_str);
    assert_eq!(
        get("AWS_ACCESS_KEY_ID"),
        Some(issued.access_key_id.as_str())
    );
    assert_eq!(
        get("AWS_SECRET_ACCESS_KEY"),
        Some(issued.secret_access_key.as_str())
    );
    assert_eq!(
        get("AWS_SESSION_TOKEN"),
        Some(issued.session_token.as_str())
    );
    assert_eq!(
        get("AWS_CREDENTIAL_EXPIRATION"),
        Some(rfc3339_utc(issued.expiration_ms.div_euclid(1000)).as_str())
    );
    assert_eq!(get("AWS_REGION"), Some(region));
    assert_eq!(get("AWSSO_PROFILE"), Some(label));
    for gone in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"] {
        assert_eq!(get(gone), None, "{gone} was left set");
    }
}

/// Variables a parent shell might hold that must not reach (or must be overridden in) the child.
fn with_conflicts(c: &mut Command) -> &mut Command {
    c.env("AWS_PROFILE", "someone-else")
        .env("AWS_DEFAULT_PROFILE", "someone-else")
        .env("AWS_ACCESS_KEY_ID", "AKIASTATICSTATIC0000")
        .env("AWS_SECRET_ACCESS_KEY", "static-secret")
        .env("AWS_SECURITY_TOKEN", "legacy-token")
}

#[test]
fn exec_runs_the_command_with_the_role_and_exits_with_its_status() {
    let user = user_with_profile();
    let mut c = user.cmd(&["exec", "--profile", "p", "--", "sh", "-c", "env; exit 7"]);
    with_conflicts(&mut c);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 7, "{r}");
    assert!(r.stderr.is_empty(), "{r}");
    assert_role_env(&parse_env(&r.stdout), &last_issued(&user), "us-west-2", "p");
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);

    // An explicit target, the session's region, and the cache: no upstream call.
    user.sim.reset_counts();
    let acct = user.sim.accounts()[0].0.clone();
    let r = user.run(&[
        "exec",
        "--session",
        SESSION,
        "--account-id",
        &acct,
        "--role-name",
        ADMIN,
        "--",
        "env",
    ]);
    r.ok();
    assert_role_env(
        &parse_env(&r.stdout),
        &last_issued(&user),
        REGION,
        &format!("{SESSION}/{acct}/{ADMIN}"),
    );
    let r = user.run(&[
        "exec",
        "--profile",
        "p",
        "--region",
        "ap-south-1",
        "--",
        "env",
    ]);
    assert_eq!(parse_env(&r.ok().stdout)["AWS_REGION"], "ap-south-1");
    assert_eq!(
        user.sim.counts().values().sum::<u64>(),
        0,
        "{:?}",
        user.sim.counts()
    );
}

#[test]
fn exec_refuses_to_nest_unless_forced() {
    let user = user_with_profile();
    let r = Run::from(
        user.cmd(&["exec", "--profile", "p", "--", "sh", "-c", "echo ran"])
            .env("AWSSO_PROFILE", "outer")
            .output()
            .unwrap(),
    );
    r.fails_with(1).stderr_has("outer").stderr_has("--force");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(user.sim.counts().values().sum::<u64>(), 0);

    let r = Run::from(
        user.cmd(&["exec", "--profile", "p", "--force", "--", "env"])
            .env("AWSSO_PROFILE", "outer")
            .output()
            .unwrap(),
    );
    assert_eq!(parse_env(&r.ok().stdout)["AWSSO_PROFILE"], "p");
}

/// awsso replaces itself with the command: the pid the caller holds is the command's, so a signal sent to
/// it reaches the command, whose own handling decides the exit status.
#[test]
fn exec_hands_signals_to_the_command() {
    let user = user_with_profile();
    let ready = user.home.path().join("ready");
    let script = "trap 'kill $! 2>/dev/null; exit 42' TERM; sleep 30 >/dev/null 2>&1 & echo $$ > \"$0\"; wait";
    let mut child = user
        .cmd(&["exec", "--profile", "p", "--", "sh", "-c", script])
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exec ended early: {status:?}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        pid,
        child.id(),
        "awsso did not replace itself with the command"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the command ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(42), "{status:?}");
}

#[test]
fn exec_of_a_missing_command_exits_127() {
    let user = user_with_profile();
    let r = user.run(&[
        "exec",
        "--profile",
        "p",
        "--",
        "/nonexistent/awsso-no-such-command",
        "x",
    ]);
    r.fails_with(127)
        .stderr_has("cannot run /nonexistent/awsso-no-such-command")
        .stderr_has("hint:");
    assert!(r.stdout.is_empty(), "{r}");
}

/// Runs `awsso env --shell SHELL` output through the real shell (`eval`) and returns its environment.
fn evaluated(user: &User, shell: &str, program: &str, script: &str) -> BTreeMap<String, String> {
    let r = user.run(&["env", "--profile", "p", "--shell", shell]);
    r.ok();
    assert!(r.stderr.is_empty(), "{r}");
    let mut c = Command::new(program);
    c.args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", user.home.path())
        .env("AWSSO_ENV_OUT", &r.stdout)
        .stdin(Stdio::null());
    with_conflicts(&mut c);
    let out = Run::from(c.output().unwrap());
    out.ok();
    parse_env(&out.stdout)
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", "command -v \"$1\" >/dev/null", "sh", program])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn env_output_evaluates_in_bash() {
    let user = user_with_profile();
    let env = evaluated(&user, "bash", "bash", "eval \"$AWSSO_ENV_OUT\" && env");
    assert_role_env(&env, &last_issued(&user), "us-west-2", "p");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-west-2");
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
}

#[test]
fn env_output_evaluates_in_zsh() {
    if !installed("zsh") {
        eprintln!("SKIP: zsh is not installed (apt-get install zsh)");
        return;
    }
    let user = user_with_profile();
    let env = evaluated(&user, "zsh", "zsh", "eval \"$AWSSO_ENV_OUT\" && env");
    assert_role_env(&env, &last_issued(&user), "us-west-2", "p");
}

#[test]
fn env_output_evaluates_in_fish() {
    if !installed("fish") {
        eprintln!("SKIP: fish is not installed (apt-get install fish)");
        return;
    }
    let user = user_with_profile();
    let env = evaluated(
        &user,
        "fish",
        "fish",
        "printf '%s' \"$AWSSO_ENV_OUT\" | source; and env",
    );
    assert_role_env(&env, &last_issued(&user), "us-west-2", "p");
}

#[test]
fn env_output_evaluates_in_powershell() {
    if !installed("pwsh") {
        eprintln!("SKIP: pwsh is not installed");
        return;
    }
    let user = user_with_profile();
    let env = evaluated(
        &user,
        "powershell",
        "pwsh",
        "Invoke-Expression $Env:AWSSO_ENV_OUT; Get-ChildItem Env: | ForEach-Object { \"$($_.Name)=$($_.Value)\" }",
    );
    assert_role_env(&env, &last_issued(&user), "us-west-2", "p");
}

#[test]
fn env_picks_the_shell_from_shell_and_fails_cleanly_without_a_login() {
    let user = user_with_profile();
    let r = Run::from(
        user.cmd(&["env", "--profile", "p"])
            .env("SHELL", "/usr/bin/fish")
            .output()
            .unwrap(),
    );
    assert!(r.ok().stdout.contains("set -gx AWS_ACCESS_KEY_ID '"), "{r}");

    user.run(&["logout"]).ok();
    let r = user.run(&["env", "--profile", "p", "--shell", "bash"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.is_empty(), "nothing to eval on failure:\n{r}");
    r.stderr_has(&format!("awsso login --session {SESSION}"));
}
