//! The credential stores on the machines people really use, driven through the real binary: kernel keyring
//! entries that another uid cannot read even when it shares the session keyring, their timeouts, a session
//! keyring that is gone (revoked at logout under a surviving tmux), and `--store auto` with a real
//! gnome-keyring that answers but cannot store (no login collection; a locked one without a display).
//!
//! These need the kernel keyring (`keyctl`), and some a second uid (root running `setpriv`) or
//! gnome-keyring-daemon + dbus-run-session; where one is missing the test says so on stderr and returns.

use std::path::Path;
use std::process::Command;

use crate::common::*;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `program pre_args… awsso awsso_args…` with the user's environment and `AWSSO_STORE=store`.
fn wrapped(user: &User, program: &str, pre: &[&str], args: &[&str], store: &str) -> Run {
    let inner = user.cmd(args);
    let mut c = Command::new(program);
    c.args(pre).arg(bin()).args(args).env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("AWSSO_STORE", store)
        .stdin(std::process::Stdio::null());
    Run::from(c.output().expect("runs"))
}

fn run_with_store(user: &User, args: &[&str], store: &str) -> Run {
    Run::from(
        user.cmd(args)
            .env("AWSSO_STORE", store)
            .output()
            .expect("awsso runs"),
    )
}

fn keyctl(args: &[&str]) -> std::process::Output {
    Command::new("keyctl")
        .args(args)
        .output()
        .expect("keyctl runs")
}

/// `keyctl ARGS` as uid/gid 65534 with no groups, keeping this process's keyrings (setpriv does not go
/// through PAM, so no pam_keyinit gives it a session keyring of its own: it inherits ours, as
/// `runuser -u nobody` from a shell without pam_keyinit does).
fn keyctl_as_nobody(args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "keyctl"])
        .args(args)
        .output()
        .expect("setpriv runs")
}

/// A kernel key as `/proc/keys` shows it to its owner.
#[derive(Debug)]
struct ProcKey {
    id: i64,
    timeout: String,
    perm: u32,
    description: String,
}

/// The live keys whose description names the user's keyring service.
fn proc_keys(service: &str) -> Vec<ProcKey> {
    let text = std::fs::read_to_string("/proc/keys").expect("/proc/keys");
    text.lines()
        .filter(|l| l.contains(service))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // id flags usage timeout perm uid gid type description…
            (f.len() >= 9 && !f[1].contains('i')).then(|| ProcKey {
                id: i64::from_str_radix(f[0], 16).unwrap(),
                timeout: f[3].to_string(),
                perm: u32::from_str_radix(f[4], 16).unwrap(),
                description: f[8].trim_end_matches(':').to_string(),
            })
        })
        .collect()
}

/// Whether this process shares a session keyring with a process of another uid in a way that lets the
/// other uid read a key created with the kernel's default permissions: the situation to defend against.
/// `None` (with the reason) where it cannot be set up here.
fn second_uid_possesses_our_keyring() -> Result<(), String> {
    if !have("keyctl") || !have("setpriv") {
        return Err("keyctl or setpriv is not installed".into());
    }
    let name = format!("awsso-test-control-{}", std::process::id());
    let out = keyctl(&["add", "user", &name, "control-payload", "@s"]);
    if !out.status.success() {
        return Err(format!(
            "no kernel session keyring here: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let seen = keyctl_as_nobody(&["print", &id]);
    let _ = keyctl(&["invalidate", &id]);
    if seen.status.success() && String::from_utf8_lossy(&seen.stdout).contains("control-payload") {
        Ok(())
    } else {
        Err(format!(
            "uid 65534 cannot read even a default-permission key of our session keyring (not root? no \
             shared session keyring?): {}",
            String::from_utf8_lossy(&seen.stderr).trim()
        ))
    }
}

#[test]
fn kernel_entries_are_readable_by_their_owner_only_and_expire() {
    if let Err(why) = second_uid_possesses_our_keyring() {
        eprintln!("SKIPPED kernel_entries_are_readable_by_their_owner_only_and_expire: {why}");
        return;
    }
    let user = User::new(SimConfig::default());
    let login: Vec<&str> = login_args();
    run_with_store(&user, &login, "keyutils").ok();
    let account = user.sim.accounts()[0].0.clone();
    let args = creds_args(&account, ADMIN);
    let r = run_with_store(&user, &args, "keyutils");
    r.ok();
    let issued = user.sim.issued_credentials();
    let secret = issued
        .last()
        .expect("credentials issued")
        .secret_access_key
        .clone();

    let keys = proc_keys(&user.keyring_service);
    assert!(
        keys.len() >= 3,
        "expected the token, the client registration and the role credentials in the kernel keyring: {keys:#?}"
    );
    let (mut saw_creds, mut saw_token) = (false, false);
    for k in &keys {
        let id = k.id.to_string();
        let own = keyctl(&["pipe", &id]);
        assert!(
            own.status.success(),
            "the owner cannot read {}: {}",
            k.description,
            String::from_utf8_lossy(&own.stderr)
        );
        let payload = String::from_utf8_lossy(&own.stdout).into_owned();
        let other = keyctl_as_nobody(&["pipe", &id]);
        assert!(
            !other.status.success() && other.stdout.is_empty(),
            "uid 65534 read {} ({} bytes)",
            k.description,
            other.stdout.len()
        );
        // The issue's own repro: runuser goes through PAM, whose pam_keyinit (without `force`) keeps the
        // session keyring it inherits.
        if have("runuser") {
            let other = Command::new("runuser")
                .args(["-u", "nobody", "--", "keyctl", "pipe", &id])
                .output()
                .unwrap();
            assert!(
                !other.status.success() && other.stdout.is_empty(),
                "runuser -u nobody read {} ({} bytes)",
                k.description,
                other.stdout.len()
            );
        }
        let other = keyctl_as_nobody(&["search", "@s", "user", &k.description]);
        assert!(
            !other.status.success(),
            "uid 65534 found {} by searching the session keyring",
            k.description
        );
        assert_eq!(
            k.perm >> 24,
            0,
            "{}: possessor permissions {:08x} grant any uid sharing the keyring access",
            k.description,
            k.perm
        );
        if payload.contains(&secret) {
            saw_creds = true;
            assert_ne!(
                k.timeout, "perm",
                "role credentials without a timeout: {k:?}"
            );
        }
        if payload.contains("refresh_token") {
            saw_token = true;
            assert_ne!(k.timeout, "perm", "the SSO token without a timeout: {k:?}");
        }
    }
    assert!(
        saw_creds && saw_token,
        "role credentials or token not found: {keys:#?}"
    );
    run_with_store(&user, &["logout", "--all"], "keyutils").ok();
    assert!(
        proc_keys(&user.keyring_service).is_empty(),
        "logout left kernel entries: {:#?}",
        proc_keys(&user.keyring_service)
    );
}

/// `keyctl session - sh -c 'keyctl revoke @s; exec awsso …'`: the state of a tmux or nohup process after the
/// SSH login that started it ended and pam_keyinit revoked its session keyring.
const REVOKED: [&str; 5] = [
    "session",
    "-",
    "sh",
    "-c",
    "keyctl revoke @s >/dev/null 2>&1 && exec \"$0\" \"$@\"",
];

#[test]
fn a_revoked_session_keyring_falls_back_to_the_user_keyring() {
    if !have("keyctl") || !keyctl(&["show", "@u"]).status.success() {
        eprintln!(
            "SKIPPED a_revoked_session_keyring_falls_back_to_the_user_keyring: no keyctl / user keyring"
        );
        return;
    }
    let user = User::new(SimConfig::default());
    // The state is real: nothing can be added to that session keyring.
    let probe = Command::new("keyctl")
        .args(REVOKED)
        .args(["keyctl", "add", "user", "awsso-test-revoked", "x", "@s"])
        .output()
        .unwrap();
    assert!(
        !probe.status.success(),
        "the session keyring is not revoked"
    );

    let login = login_args();
    wrapped(&user, "keyctl", &REVOKED, &login, "keyutils").ok();
    let status = wrapped(&user, "keyctl", &REVOKED, &["status"], "keyutils");
    status.ok();
    assert!(status.stdout.contains("state:    logged in"), "{status}");
    let account = user.sim.accounts()[0].0.clone();
    let args = creds_args(&account, ADMIN);
    user.sim.reset_counts();
    let first = wrapped(&user, "keyctl", &REVOKED, &args, "keyutils");
    first.ok();
    let second = wrapped(&user, "keyctl", &REVOKED, &args, "keyutils");
    second.ok();
    assert_eq!(
        first.stdout, second.stdout,
        "the second call was not served from the keyring"
    );
    assert_eq!(user.sim.count("GetRoleCredentials"), 1);
    // Not a leftover of the test's own session keyring: the entries are in the user keyring.
    let in_user: Vec<ProcKey> = proc_keys(&user.keyring_service)
        .into_iter()
        .filter(|k| {
            keyctl(&["search", "@u", "user", &k.description])
                .status
                .success()
        })
        .collect();
    assert!(
        in_user.len() >= 3,
        "entries not in the user keyring: {in_user:#?}"
    );

    wrapped(&user, "keyctl", &REVOKED, &["logout", "--all"], "keyutils").ok();
    wrapped(&user, "keyctl", &REVOKED, &args, "keyutils").fails_with(3);
}

/// One run of `--store auto` commands inside `scripts/lib/with-secret-service.sh` with `AWSSO_SS_MODE=mode`,
/// all against the same daemon; each command's stdout, stderr and exit code end up in `out/NAME.*`.
fn in_secret_service_state(user: &User, mode: &str, commands: &[(&str, Vec<String>)], out: &Path) {
    let mut script = String::from("set -u\nout=\"$1\"\n");
    for (name, args) in commands {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        script.push_str(&format!(
            "\"$AWSSO_TEST_BIN\" {} >\"$out/{name}.out\" 2>\"$out/{name}.err\"; echo $? >\"$out/{name}.rc\"\n",
            quoted.join(" ")
        ));
    }
    let helper = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/lib/with-secret-service.sh"
    );
    let inner = user.cmd(&[]);
    let mut c = Command::new("bash");
    c.args([helper, "bash", "-c", &script, "inner"])
        .arg(out)
        .env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let o = c
        .env("AWSSO_STORE", "auto")
        .env("AWSSO_SS_MODE", mode)
        .env("AWSSO_TEST_BIN", bin())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "with-secret-service.sh ({mode}) failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn result(out: &Path, name: &str) -> Run {
    let read = |ext: &str| std::fs::read_to_string(out.join(format!("{name}.{ext}"))).unwrap();
    Run {
        code: read("rc").trim().parse().unwrap(),
        stdout: read("out"),
        stderr: read("err"),
    }
}

fn auto_falls_back(mode: &str, reason: &str) {
    if !(have("dbus-run-session") && have("gnome-keyring-daemon") && have("keyctl")) {
        eprintln!(
            "SKIPPED auto fallback ({mode}): dbus-run-session, gnome-keyring-daemon or keyctl missing"
        );
        return;
    }
    let user = User::new(SimConfig::default());
    let account = user.sim.accounts()[0].0.clone();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let creds = strings(&creds_args(&account, ADMIN));
    let out = tempfile::tempdir().unwrap();
    in_secret_service_state(
        &user,
        mode,
        &[
            ("login", strings(&login_args())),
            ("status", strings(&["status"])),
            ("creds", creds.clone()),
            ("creds2", creds.clone()),
        ],
        out.path(),
    );
    let note = format!(
        "awsso: the Secret Service cannot store secrets ({reason}); using the kernel keyring"
    );
    let login = result(out.path(), "login");
    login.ok();
    assert_eq!(
        login
            .stderr
            .lines()
            .filter(|l| l.starts_with("awsso: "))
            .collect::<Vec<_>>(),
        vec![note.as_str()],
        "{login}"
    );
    let status = result(out.path(), "status");
    status.ok();
    assert!(status.stdout.contains("store:    keyutils"), "{status}");
    for name in ["status", "creds", "creds2"] {
        let r = result(out.path(), name);
        r.ok();
        assert!(
            !r.stderr.contains("Secret Service"),
            "the note again in {name}:\n{r}"
        );
    }
    let creds1 = result(out.path(), "creds");
    assert!(creds1.stdout.contains("\"AccessKeyId\""), "{creds1}");
    assert_eq!(creds1.stdout, result(out.path(), "creds2").stdout);

    // The Secret Service works again (a fresh, unlocked daemon): the login stored in the kernel keyring is
    // still the one in use, nothing is lost, and nothing is said.
    let later = tempfile::tempdir().unwrap();
    in_secret_service_state(
        &user,
        "unlocked",
        &[
            ("status", strings(&["status"])),
            ("logout", strings(&["logout", "--all"])),
        ],
        later.path(),
    );
    let status = result(later.path(), "status");
    status.ok();
    assert!(
        status.stdout.contains("state:    logged in")
            && status.stdout.contains("store:    keyutils"),
        "{status}"
    );
    assert!(status.stderr.is_empty(), "{status}");
    result(later.path(), "logout").ok();
    // The recorded choice would otherwise outlive the test by its timeout.
    let desc = format!("keyring:store-choice@{}", user.keyring_service);
    for ring in ["@s", "@u"] {
        let found = keyctl(&["search", ring, "user", &desc]);
        if found.status.success() {
            let id = String::from_utf8_lossy(&found.stdout).trim().to_string();
            let _ = keyctl(&["invalidate", &id]);
        }
    }
}

#[test]
fn auto_uses_the_kernel_keyring_when_the_secret_service_has_no_collection() {
    auto_falls_back("nocollection", "no default collection");
}

#[test]
fn auto_uses_the_kernel_keyring_when_the_secret_service_is_locked() {
    auto_falls_back(
        "locked",
        "the default collection is locked and there is no display for the unlock prompt",
    );
}
