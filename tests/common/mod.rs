//! Shared harness for the integration tests: an isolated user (HOME, AWS config, cache dir, keyring
//! namespace) driving the real `awsso` binary against the Identity Center simulator on the real keyring.
//!
//! The keyring backend is whatever the environment provides: `scripts/test.sh` runs the suite once under a
//! gnome-keyring daemon (`AWSSO_TEST_STORE=secret-service`) and once under `keyctl session -`
//! (`AWSSO_TEST_STORE=keyutils`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use awsso_sim::{DeviceOutcome, SimConfig, SimHandle};

pub const START_URL: &str = "https://d-test123.awsapps.com/start";
pub const REGION: &str = "eu-west-1";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_awsso")
}

/// A simulator that approves a device code on the first poll, polled every second: logins take ~1 s.
pub fn quick() -> SimConfig {
    SimConfig {
        interval: 1,
        approve_after_polls: 1,
        device_outcome: DeviceOutcome::Approve,
        ..SimConfig::default()
    }
}

/// One person's machine: a home directory, a config file, a keyring namespace, a simulator.
pub struct User {
    pub home: tempfile::TempDir,
    pub sim: SimHandle,
    pub keyring_service: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl User {
    pub fn new(cfg: SimConfig) -> User {
        let home = tempfile::tempdir().expect("temp home");
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        User {
            sim: awsso_sim::start(cfg).expect("simulator starts"),
            keyring_service: format!("awsso-test-{}-{n}", std::process::id()),
            home,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.path().join(".aws").join("config")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// `awsso ARGS` as this user, with a clean environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args);
        c.env_clear();
        for var in [
            "PATH",
            "DBUS_SESSION_BUS_ADDRESS",
            "XDG_RUNTIME_DIR",
            "LANG",
        ] {
            if let Some(v) = std::env::var_os(var) {
                c.env(var, v);
            }
        }
        c.env("HOME", self.home.path())
            .env("AWS_CONFIG_FILE", self.config_path())
            .env("AWSSO_CACHE_DIR", self.home.path().join(".cache/awsso"))
            .env("AWSSO_KEYRING_SERVICE", &self.keyring_service)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", self.sim.url())
            .env("AWS_ENDPOINT_URL_SSO", self.sim.url());
        if let Ok(store) = std::env::var("AWSSO_TEST_STORE") {
            c.env("AWSSO_STORE", store);
        }
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("awsso runs"))
    }

    /// Logs in with the device flow to a new session `d-test123` (the simulator approves by itself).
    pub fn login(&self) -> Run {
        self.run(&[
            "login",
            "--start-url",
            START_URL,
            "--region",
            REGION,
            "--no-browser",
        ])
    }

    pub fn status_json(&self) -> serde_json::Value {
        let r = self.run(&["status", "--json"]);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("status --json: {e}\n{r}"))
    }

    /// Every regular file under HOME, with its bytes.
    pub fn home_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    out.push((p, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.home.path(), &mut out);
        out
    }
}

impl Drop for User {
    fn drop(&mut self) {
        // Leave nothing behind in a long-lived keyring (a developer's own login keyring).
        let _ = self.cmd(&["logout", "--all"]).output();
    }
}

/// A finished awsso run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "awsso failed:\n{self}");
        self
    }

    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit:\n{self}");
        assert!(
            self.stderr.contains("error:"),
            "no error line on stderr:\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{self}"
        );
        self
    }
}

/// `2026-01-01T00:00:00Z` for a Unix time (UTC), computed here independently of awsso.
pub fn rfc3339_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// The simulator's role names, in its documented order.
pub fn role_names(n: usize) -> Vec<String> {
    let known = [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "PowerUserAccess",
        "Billing",
    ];
    (0..n)
        .map(|i| {
            known
                .get(i)
                .map(|s| (*s).to_owned())
                .unwrap_or_else(|| format!("Role{}", i + 1))
        })
        .collect()
}
