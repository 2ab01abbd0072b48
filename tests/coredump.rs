//! No core dump of awsso, ever: with `ulimit -c unlimited`, a `kill -ABRT` of a `sync` that holds the access
//! token (it is waiting on ListAccounts) leaves no core file. The proof is the core file itself: a control
//! process in the same environment (same limits, same `core_pattern`) does leave one, so the absence for
//! awsso is awsso's doing. Where the kernel sends cores to a handler (`core_pattern` starting with `|`,
//! e.g. systemd-coredump or apport) the test cannot see them and says so instead of passing silently.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// `core_pattern` as a file name in the crashing process's directory, or None when cores go elsewhere.
fn core_pattern_in_cwd() -> Option<String> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").ok()?;
    let pattern = pattern.trim().to_string();
    (!pattern.is_empty() && !pattern.starts_with('|') && !pattern.contains('/')).then_some(pattern)
}

/// Runs `argv` under `sh` with `ulimit -c unlimited`, in `dir`, with `env`.
fn spawn_with_cores(dir: &Path, argv: &[&str], env: &Command) -> Child {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -c unlimited && exec \"$@\"")
        .arg("sh")
        .args(argv)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.spawn().expect("sh runs")
}

fn abort(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-ABRT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the process was expected to die of SIGABRT"
    );
}

fn cores_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("core"))
        })
        .collect()
}

#[test]
fn an_aborted_sync_leaves_no_core_with_tokens() {
    let Some(pattern) = core_pattern_in_cwd() else {
        eprintln!(
            "SKIPPED: kernel.core_pattern sends cores to a handler or another directory; \
             this test needs a plain file name such as `core`"
        );
        return;
    };
    assert!(
        pattern.starts_with("core"),
        "this test looks for files named core*; core_pattern is {pattern:?}"
    );
    let user = User::new(SimConfig {
        interval: 1,
        approve_after_polls: 1,
        device_outcome: DeviceOutcome::Approve,
        ..SimConfig::default()
    });
    user.login().ok();
    let env = user.cmd(&[]);

    // The control: the same environment dumps a core for an ordinary process.
    let control_dir = tempfile::tempdir().unwrap();
    let mut control = spawn_with_cores(control_dir.path(), &["sleep", "30"], &env);
    std::thread::sleep(Duration::from_millis(200));
    abort(&mut control);
    if cores_in(control_dir.path()).is_empty() {
        eprintln!("SKIPPED: no core file even for `sleep` here (container limits?)");
        return;
    }

    // awsso, mid-sync, with the access token in memory: the simulator holds ListAccounts for a while.
    user.sim.update(|c| c.latency = Duration::from_secs(20));
    let dir = tempfile::tempdir().unwrap();
    let mut sync = spawn_with_cores(dir.path(), &[bin(), "sync"], &env);
    let deadline = Instant::now() + Duration::from_secs(20);
    while user.sim.count("ListAccounts") == 0 {
        assert!(Instant::now() < deadline, "sync never called ListAccounts");
        std::thread::sleep(Duration::from_millis(20));
    }
    abort(&mut sync);
    user.sim.update(|c| c.latency = Duration::ZERO);
    let cores = cores_in(dir.path());
    let mut leaked = Vec::new();
    for core in &cores {
        let bytes = std::fs::read(core).unwrap();
        for secret in user.sim.issued_secrets() {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaked.push(format!("{}…", &secret[..8.min(secret.len())]));
            }
        }
    }
    assert!(
        cores.is_empty(),
        "awsso left a core file {cores:?}; it holds {} of the simulator's secrets ({leaked:?})",
        leaked.len()
    );
}

#[test]
fn the_command_awsso_exec_runs_gets_the_core_limit_back() {
    let user = User::new(SimConfig {
        interval: 1,
        approve_after_polls: 1,
        device_outcome: DeviceOutcome::Approve,
        ..SimConfig::default()
    });
    user.login().ok();
    let env = user.cmd(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -c unlimited && exec \"$@\"")
        .arg("sh")
        .args([
            bin(),
            "exec",
            "--session",
            "d-test123",
            "--account-id",
            "100000000001",
            "--role-name",
            "ReadOnlyAccess",
            "--",
            "sh",
            "-c",
            "ulimit -c",
        ])
        .current_dir(dir.path())
        .env_clear();
    for (k, v) in env.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.ok().stdout.trim(), "unlimited", "{r}");
}
