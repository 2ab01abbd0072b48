//! The container-credentials endpoint of `awsso exec --server` and `awsso serve`, at the protocol level:
//! what the command's environment holds, who gets an answer (path, token), that the answer is the role's
//! credentials, and that signals and the exit status pass through. The SDK clients that consume it are in
//! tests/python/test_server_clients.py.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A logged-in user with `[profile p]` and `[profile q]` (two accounts), counts reset.
fn user_with_profiles() -> User {
    let user = User::new(SimConfig::default());
    user.login().ok();
    let accounts = user.sim.accounts();
    let mut config = user.read_config();
    for (name, (acct, _)) in ["p", "q"].iter().zip(&accounts) {
        config.push_str(&format!(
            "\n[profile {name}]\nsso_session = {SESSION}\nsso_account_id = {acct}\nsso_role_name = {ADMIN}\nregion = us-west-2\n"
        ));
    }
    user.write_config(&config);
    user.sim.reset_counts();
    user
}

/// A GET with an optional Authorization header; (status, body).
fn get(uri: &str, token: Option<&str>) -> (u16, String) {
    let rest = uri.strip_prefix("http://").expect("http URI");
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(authority).expect("endpoint accepts");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {raw:?}"));
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn wait_for_file(path: &Path, child: &mut Child) -> String {
    let started = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && s.ends_with('\n')
        {
            return s;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(e) = child.stderr.as_mut() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("awsso ended early: {status:?}\n{err}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command's environment holds an endpoint and no keys; the endpoint answers only the right path and
/// token, with the role's credentials, from one upstream call; it goes away with the command.
#[test]
fn exec_server_gives_the_command_an_endpoint_instead_of_keys() {
    let user = user_with_profiles();
    let dir = user.home.path();
    let env_file = dir.join("env");
    let done = dir.join("done");
    let script =
        r#"env > "$0.tmp"; mv "$0.tmp" "$0"; while [ ! -e "$1" ]; do sleep 0.05; done; exit 7"#;
    let mut child = exec_server(&user, script)
        .arg(&env_file)
        .arg(&done)
        .env("AWS_ACCESS_KEY_ID", "AKIASTALE")
        .env("AWS_SECRET_ACCESS_KEY", "stale")
        .env("AWS_SESSION_TOKEN", "stale")
        .env("AWS_PROFILE", "elsewhere")
        .env(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/x",
        )
        .spawn()
        .unwrap();
    let text = wait_for_file(&env_file, &mut child);
    let env: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    for absent in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        assert!(!env.contains_key(absent), "{absent} is set:\n{text}");
    }
    assert_eq!(env.get("AWSSO_PROFILE"), Some(&"p"));
    assert_eq!(env.get("AWS_REGION"), Some(&"us-west-2"));
    let uri = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
    let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    let path = uri
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split_once('/'))
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("not a loopback URI: {uri}"));
    assert!(path.len() >= 20, "the path is guessable: {uri}");
    assert!(token.len() >= 40, "the token is short: {token}");

    assert_eq!(get(uri, None).0, 401);
    assert_eq!(get(uri, Some("wrong")).0, 403);
    let mut near = token.to_string();
    near.pop();
    assert_eq!(get(uri, Some(&near)).0, 403);
    let base = &uri[..uri.len() - path.len()];
    assert_eq!(get(&format!("{base}other"), Some(token)).0, 404);

    let issued = last_issued(&user);
    for _ in 0..3 {
        let (status, body) = get(uri, Some(token));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["AccessKeyId"], issued.access_key_id.as_str());
        assert_eq!(v["SecretAccessKey"], issued.secret_access_key.as_str());
        assert_eq!(v["Token"], issued.session_token.as_str());
        assert_eq!(
            v["Expiration"],
            rfc3339_utc(issued.expiration_ms / 1000).as_str()
        );
        assert_eq!(v["AccountId"], issued.account_id.as_str());
    }
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        1,
        "one upstream call serves every request while the credentials are fresh"
    );

    std::fs::write(&done, "").unwrap();
    let status = wait_or_kill(&mut child, Duration::from_secs(30), "awsso");
    assert_eq!(status.code(), Some(7), "the command's exit status");
    let authority = &base["http://".len()..base.len() - 1];
    assert!(
        TcpStream::connect(authority).is_err(),
        "the endpoint outlived the command"
    );
}

/// `awsso exec --server --profile p -- sh -c SCRIPT`, its stdout dropped and its stderr kept (arguments
/// after the script become `$0`, `$1`, …).
fn exec_server(user: &User, script: &str) -> Command {
    let mut cmd = user.cmd(&[
        "exec",
        "--server",
        "--profile",
        "p",
        "--",
        "sh",
        "-c",
        script,
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

fn spawn_with_pid_file(user: &User, script: &str, pid_file: &Path) -> (Child, u32) {
    let mut child = exec_server(user, script).arg(pid_file).spawn().unwrap();
    let pid = wait_for_file(pid_file, &mut child).trim().parse().unwrap();
    (child, pid)
}

/// A signal sent to awsso reaches the command; its handling decides awsso's status, and a command killed
/// by the signal makes awsso exit 128 + signal, as a shell reports it.
#[test]
fn exec_server_forwards_signals_and_reports_the_status() {
    let user = user_with_profiles();
    let dir = user.home.path();

    let trapping = r#"trap 'exit 42' TERM; echo $$ > "$0"; while :; do sleep 0.05; done"#;
    let (mut child, pid) = spawn_with_pid_file(&user, trapping, &dir.join("a"));
    assert_ne!(pid, child.id(), "awsso must stay to serve");
    let kill = |sig: &str, pid: u32| {
        assert!(
            Command::new("kill")
                .args([sig, &pid.to_string()])
                .status()
                .unwrap()
                .success()
        )
    };
    kill("-TERM", child.id());
    assert_eq!(
        wait_or_kill(&mut child, Duration::from_secs(30), "awsso").code(),
        Some(42)
    );

    for (sig, code) in [("-TERM", 143), ("-INT", 130), ("-HUP", 129)] {
        let file = dir.join(format!("pid{code}"));
        let (mut child, _) = spawn_with_pid_file(&user, r#"echo $$ > "$0"; exec sleep 30"#, &file);
        kill(sig, child.id());
        assert_eq!(
            wait_or_kill(&mut child, Duration::from_secs(30), "awsso").code(),
            Some(code),
            "{sig}"
        );
    }
}

/// A signal that reaches awsso after its command started but before awsso recorded the command's pid
/// is kept and delivered, not swallowed (seen under load: the command had written its pid, the test's
/// `kill -HUP` found no pid to forward to, and the command kept running). The test hook widens that
/// window to 2 s; the command writes its pid file at once, inside it.
#[test]
fn exec_server_delivers_a_signal_sent_before_the_command_pid_is_recorded() {
    let user = user_with_profiles();
    let file = user.home.path().join("early");
    let mut child = exec_server(&user, r#"echo $$ > "$0"; exec sleep 30"#)
        .arg(&file)
        .env("AWSSO_TEST_SPAWN_DELAY_MS", "2000")
        .spawn()
        .unwrap();
    wait_for_file(&file, &mut child);
    assert!(
        Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        wait_or_kill(&mut child, Duration::from_secs(30), "awsso").code(),
        Some(129)
    );
}

#[test]
fn exec_server_of_a_missing_command_exits_127() {
    let user = user_with_profiles();
    let r = user.run(&[
        "exec",
        "--server",
        "--profile",
        "p",
        "--",
        "/nonexistent/awsso-no-such-command",
    ]);
    r.fails_with(127).stderr_has("hint:");
}

/// `serve` prints, per profile, the two variables; each profile answers with its own account's
/// credentials and only to its own token.
#[test]
fn serve_gives_each_profile_its_own_path_and_token() {
    let user = user_with_profiles();
    let mut child = user
        .cmd(&["serve", "--profile", "p", "--profile", "q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut routes = Vec::new();
    while routes.len() < 2 {
        let comment = lines.next().expect("serve printed").unwrap();
        let uri = lines.next().unwrap().unwrap();
        let token = lines.next().unwrap().unwrap();
        let uri = uri
            .strip_prefix("AWS_CONTAINER_CREDENTIALS_FULL_URI=")
            .expect(&uri)
            .to_string();
        let token = token
            .strip_prefix("AWS_CONTAINER_AUTHORIZATION_TOKEN=")
            .expect(&token)
            .to_string();
        routes.push((comment, uri, token));
    }
    assert_eq!(routes[0].0, "# profile p");
    assert!(
        routes[0].1.starts_with("http://127.0.0.1:"),
        "{}",
        routes[0].1
    );
    assert!(routes[0].1.ends_with("/creds/p"), "{}", routes[0].1);
    assert_ne!(routes[0].2, routes[1].2);
    assert_eq!(get(&routes[0].1, Some(&routes[1].2)).0, 403);
    let accounts = user.sim.accounts();
    for ((_, uri, token), (acct, _)) in routes.iter().zip(&accounts) {
        let (status, body) = get(uri, Some(token));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["AccountId"], acct.as_str());
        let issued = user
            .sim
            .issued_credentials()
            .into_iter()
            .find(|c| &c.account_id == acct)
            .unwrap();
        assert_eq!(v["AccessKeyId"], issued.access_key_id.as_str());
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn serve_refuses_a_non_loopback_address_without_the_explicit_flag() {
    let user = user_with_profiles();
    let r = user.run(&["serve", "--profile", "p", "--bind", "0.0.0.0"]);
    r.fails_with(2)
        .stderr_has("--i-know-this-exposes-credentials");
    assert!(r.stdout.is_empty());
}

/// Without --profile, `serve` offers every SSO profile of the config and fetches only what is asked for.
#[test]
fn serve_without_profiles_serves_every_sso_profile_lazily() {
    let user = user_with_profiles();
    let mut child = user
        .cmd(&["serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while printed.len() < 6 {
        printed.push(lines.next().expect("serve printed").unwrap());
    }
    assert_eq!(printed[0], "# profile p");
    assert_eq!(printed[3], "# profile q");
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        0,
        "nothing fetched up front"
    );
    let uri = printed[4].split_once('=').unwrap().1;
    let token = printed[5].split_once('=').unwrap().1;
    let (status, body) = get(uri, Some(token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
    let _ = child.kill();
    let _ = child.wait();
}
