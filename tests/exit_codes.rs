//! Exit codes mean what the README's table says, for every command that can produce each one: 2 usage,
//! 3 login required, 4 credential store unavailable (absent, or a real gnome-keyring whose collection is
//! locked), 5 invalid AWS config, 1 with a hint for a full or read-only file system, 126/127 for `exec`,
//! 130 for Ctrl-C. Table-driven: each row is a real `awsso` run as a user would type it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const ACCOUNT: &str = "100000000001";
const ROLE: &str = "ReadOnlyAccess";

/// The login's session and an awsso profile `dev` for it.
fn write_config(user: &User) {
    user.write_config(&format!(
        "[sso-session d-test123]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile dev]\ncredential_process = {} creds --session d-test123 --account-id {ACCOUNT} \
         --role-name {ROLE}\nregion = us-east-2\n",
        bin()
    ));
}

/// One command line per command, each needing a role's credentials, a token or the config.
fn every_command() -> Vec<Vec<&'static str>> {
    vec![
        vec!["creds", "--profile", "dev"],
        vec!["env", "--profile", "dev"],
        vec!["exec", "--profile", "dev", "--", "true"],
        vec!["console", "--profile", "dev", "--federated", "--print"],
        vec!["status"],
        vec!["ls"],
        vec!["sync"],
        login_args(),
    ]
}

#[track_caller]
fn expect(r: &Run, args: &[&str], code: i32) {
    assert_eq!(
        r.code,
        code,
        "`awsso {}` should exit {code}:\n{r}",
        args.join(" ")
    );
    assert!(
        r.stderr.contains("error:"),
        "`awsso {}`: no error line:\n{r}",
        args.join(" ")
    );
    assert!(
        r.stderr.contains("hint:"),
        "`awsso {}`: no hint:\n{r}",
        args.join(" ")
    );
}

#[test]
fn usage_errors_exit_2() {
    let user = User::new(quick());
    write_config(&user);
    let rows: &[&[&str]] = &[
        // No role named: the command line does not say what to do.
        &["creds"],
        &["env"],
        &["exec", "--", "true"],
        &["console", "--print"],
        // Options that do not exist (clap).
        &["creds", "--profile", "dev", "--bogus"],
        &["status", "--bogus"],
        &["ls", "--bogus"],
        &["sync", "--bogus"],
        &["login", "--bogus"],
        &["console", "--bogus"],
    ];
    for args in rows {
        let r = user.run(args);
        assert_eq!(r.code, 2, "`awsso {}`:\n{r}", args.join(" "));
        assert!(r.stdout.is_empty(), "{r}");
    }
    assert_eq!(user.sim.counts().values().sum::<u64>(), 0);
}

#[test]
fn a_missing_login_exits_3() {
    let user = User::new(quick());
    write_config(&user);
    for args in every_command() {
        if args[0] == "login" {
            continue; // login is the fix
        }
        let r = user.run(&args);
        assert_eq!(r.code, 3, "`awsso {}`:\n{r}", args.join(" "));
        // status reports the state on stdout, not as an error.
        if args[0] != "status" {
            assert!(r.stderr.contains("awsso login"), "{r}");
        }
    }
}

#[test]
fn an_absent_credential_store_exits_4() {
    let user = User::new(quick());
    write_config(&user);
    for args in every_command() {
        let r = Run::from(
            user.cmd(&args)
                .env("AWSSO_STORE", "secret-service")
                .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
                .output()
                .unwrap(),
        );
        expect(&r, &args, 4);
    }
}

/// Runs `script` (sh) inside a private D-Bus session with a real, unlocked gnome-keyring
/// (`scripts/lib/with-secret-service.sh`), with this user's environment and the Secret Service forced.
fn in_private_keyring(user: &User, script: &str) -> Run {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib/with-secret-service.sh");
    let base = user.cmd(&[]);
    let mut c = Command::new("bash");
    c.arg(helper)
        .args(["sh", "-c", script, "sh", bin()])
        .env_clear()
        .stdin(Stdio::null());
    for (k, v) in base.get_envs() {
        if let (Some(v), false) = (v, k == "DBUS_SESSION_BUS_ADDRESS") {
            c.env(k, v);
        }
    }
    c.env("AWSSO_STORE", "secret-service");
    Run::from(c.output().unwrap())
}

#[test]
fn a_locked_secret_service_exits_4() {
    let user = User::new(quick());
    write_config(&user);
    // Log in (the token goes into the private keyring), lock the login collection over D-Bus as a
    // screen locker does, then run every command once, printing its exit code and stderr.
    let mut script = String::from(
        r#"set -u
awsso="$1"
"$awsso" login --start-url "$START_URL" --region "$REGION" --no-browser >/dev/null 2>&1 || { echo "login failed"; exit 1; }
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null || exit 1
locked=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/collection/login \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked)
echo "locked: $locked"
run() {
  "$awsso" "$@" >/dev/null 2>"$HOME/err"
  echo "=> $? $*"
  sed 's/^/   /' "$HOME/err"
}
"#,
    );
    for args in every_command() {
        if args[0] == "login" {
            // A login would try to store its token in the locked collection.
            script.push_str(&format!("run {} --force\n", args.join(" ")));
        } else {
            script.push_str(&format!("run {}\n", args.join(" ")));
        }
    }
    let r = in_private_keyring(
        &user,
        &script
            .replace("$START_URL", START_URL)
            .replace("$REGION", REGION),
    );
    assert!(r.stdout.contains("locked: (<true>,)"), "{r}");
    let results: Vec<(i32, String)> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("=> "))
        .map(|l| {
            let (code, cmd) = l.split_once(' ').unwrap();
            (code.parse().unwrap(), cmd.to_string())
        })
        .collect();
    assert_eq!(results.len(), every_command().len(), "{r}");
    for (code, cmd) in &results {
        assert_eq!(*code, 4, "`awsso {cmd}` with a locked keyring:\n{r}");
    }
    assert!(r.stdout.contains("unlock"), "the hint says to unlock:\n{r}");
}

#[test]
fn an_invalid_config_exits_5() {
    let user = User::new(quick());
    user.write_config("[sso-session d-test123\nsso_start_url = x\n");
    for args in every_command() {
        let r = user.run(&args);
        expect(&r, &args, 5);
    }
    // A valid file without the profile asked for.
    write_config(&user);
    for args in [
        ["creds", "--profile", "nope"],
        ["env", "--profile", "nope"],
        ["console", "--profile", "nope"],
    ] {
        expect(&user.run(&args), &args, 5);
    }
}

/// Runs awsso with `~/.aws` on a private tmpfs (a mount namespace of its own), prepared by `setup`
/// (sh, run with the directory as `$1`) after the current config was copied in.
fn on_private_tmpfs(user: &User, args: &[&str], setup: &str) -> Option<Run> {
    let probe = Command::new("unshare").args(["-m", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: no mount namespaces here (unshare -m needs root)");
        return None;
    }
    let dir = user.home.path().join(".aws");
    let saved = user.home.path().join("config.saved");
    std::fs::copy(user.config_path(), &saved).unwrap();
    let script = format!(
        r#"set -e
d="$1"; shift
mount -t tmpfs -o size=512k tmpfs "$d"
cp '{saved}' "$d/config"
{setup}
exec "$@""#,
        saved = saved.display()
    );
    let base = user.cmd(args);
    let mut c = Command::new("unshare");
    c.args(["-m", "sh", "-c", &script, "sh"])
        .arg(&dir)
        .arg(bin())
        .args(args)
        .env_clear()
        .stdin(Stdio::null());
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    Some(Run::from(c.output().unwrap()))
}

#[test]
fn a_full_or_read_only_disk_exits_1_with_a_hint() {
    let user = User::new(quick());
    write_config(&user);
    user.login().ok();
    let before = user.read_config();
    let cases = [
        ("mount -o remount,ro \"$d\"", "read-only", &["sync"][..]),
        (
            "dd if=/dev/zero of=\"$d/fill\" bs=4k 2>/dev/null || true",
            "space",
            &["sync"][..],
        ),
        (
            "mount -o remount,ro \"$d\"",
            "read-only",
            &[
                "login",
                "--session",
                "other",
                "--start-url",
                "https://d-other.awsapps.com/start",
                "--region",
                REGION,
                "--no-browser",
            ][..],
        ),
    ];
    for (setup, needle, args) in cases {
        let Some(r) = on_private_tmpfs(&user, args, setup) else {
            return;
        };
        expect(&r, args, 1);
        assert!(
            r.stderr.to_lowercase().contains(needle),
            "`awsso {}` ({setup}): the hint names the cause:\n{r}",
            args.join(" ")
        );
        assert!(!r.stderr.contains("invalid"), "{r}");
    }
    // The real config was on the real disk all along, untouched.
    assert_eq!(user.read_config(), before);
}

/// Starts `args`, waits until the simulator saw the device authorization, then sends SIGINT.
fn interrupted(user: &User, args: &[&str]) -> Run {
    let child = user
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while user.sim.count("StartDeviceAuthorization") == 0 {
        assert!(
            Instant::now() < deadline,
            "awsso never started the device flow"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn ctrl_c_exits_130() {
    for args in [
        &[
            "creds",
            "--auto-login",
            "--session",
            "d-test123",
            "--account-id",
            ACCOUNT,
            "--role-name",
            ROLE,
        ][..],
        &["login", "--session", "d-test123", "--no-browser"][..],
    ] {
        // The device code is never approved: awsso waits until interrupted.
        let user = User::new(SimConfig {
            approve_after_polls: 0,
            ..quick()
        });
        write_config(&user);
        let r = interrupted(&user, args);
        assert_eq!(r.code, 130, "`awsso {}`:\n{r}", args.join(" "));
    }
}

#[test]
fn exec_exits_127_and_126_when_the_command_cannot_run() {
    let user = User::new(quick());
    write_config(&user);
    user.login().ok();
    let not_executable = user.home.path().join("script.txt");
    std::fs::write(&not_executable, "echo hi\n").unwrap();
    let not_executable = not_executable.to_str().unwrap();
    for (command, code) in [("no-such-command-awsso", 127), (not_executable, 126)] {
        let args = ["exec", "--profile", "dev", "--", command];
        expect(&user.run(&args), &args, code);
    }
}
