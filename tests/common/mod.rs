//! Shared harness for the integration tests: an isolated user (HOME, AWS config, cache dir, keyring
//! namespace) driving the real `awsso` binary against the Identity Center simulator on the real keyring.
//!
//! The keyring backend is whatever the environment provides: `scripts/test.sh` runs the suite once under a
//! gnome-keyring daemon (`AWSSO_TEST_STORE=secret-service`) and once under `keyctl session -`
//! (`AWSSO_TEST_STORE=keyutils`).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use awsso::awsconfig::{ConfigFile, Section};
pub use awsso_sim::{DeviceOutcome, IssuedCredentials, SimConfig, SimHandle};

pub const START_URL: &str = "https://d-test123.awsapps.com/start";
pub const REGION: &str = "eu-west-1";
/// The session [`User::login`] creates.
pub const SESSION: &str = "d-test123";
/// The simulator's first role name.
pub const ADMIN: &str = "AdministratorAccess";
/// The session section as `login` writes it for [`SESSION`].
pub const SESSION_SECTION: &str = "[sso-session d-test123]\nsso_start_url = https://d-test123.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n";
/// The markers of the block `sync` writes for [`SESSION`].
pub const BEGIN: &str = "# BEGIN awsso managed block session d-test123";
pub const END: &str = "# END awsso managed block session d-test123";

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

/// A [`quick`] simulator serving `accounts` accounts with `roles` roles each.
pub fn sim(accounts: usize, roles: usize) -> SimConfig {
    SimConfig {
        accounts,
        roles_per_account: roles,
        ..quick()
    }
}

/// A user logged in to [`SESSION`] on a simulator with `cfg`, its call counters reset.
pub fn logged_in(cfg: SimConfig) -> User {
    let user = User::new(cfg);
    user.login().ok();
    user.sim.reset_counts();
    user
}

/// A user logged in to [`SESSION`] whose config has `profile(first account's id)` appended.
pub fn with_profile(cfg: SimConfig, profile: impl FnOnce(&str) -> String) -> User {
    let user = User::new(cfg);
    user.login().ok();
    let account = user.sim.accounts()[0].0.clone();
    append_config(&user, &profile(&account));
    user
}

/// `awsso login` for a new session `d-test123` with the device flow, no browser.
pub fn login_args() -> Vec<&'static str> {
    vec![
        "login",
        "--start-url",
        START_URL,
        "--region",
        REGION,
        "--no-browser",
    ]
}

/// `awsso creds` (credential_process) for a role of [`SESSION`].
pub fn creds_args<'a>(account: &'a str, role: &'a str) -> [&'a str; 7] {
    [
        "creds",
        "--session",
        SESSION,
        "--account-id",
        account,
        "--role-name",
        role,
    ]
}

pub fn creds(user: &User, account: &str, role: &str) -> Run {
    user.run(&creds_args(account, role))
}

/// The role credentials the simulator issued last.
pub fn last_issued(user: &User) -> IssuedCredentials {
    user.sim
        .issued_credentials()
        .last()
        .cloned()
        .expect("the simulator issued credentials")
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
        self.run(&login_args())
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

/// `awsso ARGS` as `user`, with extra environment variables.
pub fn run_with<V: AsRef<OsStr>>(user: &User, args: &[&str], vars: &[(&str, V)]) -> Run {
    let mut c = user.cmd(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::from(c.output().expect("awsso runs"))
}

/// `awsso login --flow pkce` for a new session, with `browser` as the browser.
pub fn pkce_login(user: &User, browser: &Path, timeout_secs: u32) -> Run {
    user.cmd(&[
        "login",
        "--start-url",
        START_URL,
        "--region",
        REGION,
        "--flow",
        "pkce",
        "--timeout",
        &timeout_secs.to_string(),
    ])
    .env("BROWSER", browser)
    .output()
    .map(Run::from)
    .unwrap()
}

/// Appends `text` to the user's AWS config, after a line break.
pub fn append_config(user: &User, text: &str) {
    let mut config = user.read_config();
    config.push('\n');
    config.push_str(text);
    user.write_config(&config);
}

/// Writes an executable script (a test "browser", a wrapper) to `path`.
pub fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits for a child, killing it (and failing the test) if it is still running after `limit`: a guard
/// against hangs, not a timing assertion.
pub fn wait_or_kill(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Percent-encoding as awsso writes query values (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The SHA-1 of `s` in hex, computed by `sha1sum` (independently of awsso): the AWS CLI's cache file names.
pub fn sha1_hex(s: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", "printf %s \"$1\" | sha1sum", "sh", s])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The AWS config `text` as awsso reads it; fails the test when it does not parse.
pub fn parse(text: &str) -> ConfigFile {
    ConfigFile::parse(Path::new("config"), text.to_owned())
        .unwrap_or_else(|e| panic!("the written config does not parse: {e}\n{text}"))
}

/// A section's keys, in file order.
pub fn keys(s: &Section) -> Vec<&str> {
    s.entries.iter().map(|e| e.key.as_str()).collect()
}
