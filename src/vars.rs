//! Every `AWSSO_*` environment variable awsso reads or sets: its name (one constant each), what it does and
//! its default ([`TABLE`], which README's environment table is generated from and checked against), and
//! the values they resolve to ([`Env`], read once per process by [`env()`]).
//!
//! Code names a variable only through these constants, and reads a setting's value only through [`env()`]
//! (or through clap, whose `env = vars::X` attributes name the same constants), so the README, `--help` and
//! the code cannot drift apart: the unit tests below fail when any of them names a variable the table does
//! not hold, or when README's table differs from [`markdown_table`].
//!
//! Precedence, as in uv: a command-line flag, then the variable, then awsso's settings file where it has a
//! key for the same thing, then the default.
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The credential store (`--store`).
pub const STORE: &str = "AWSSO_STORE";
/// The keyring service name.
pub const KEYRING_SERVICE: &str = "AWSSO_KEYRING_SERVICE";
/// No kernel-keyring cache in front of the Secret Service.
pub const NO_KEYUTILS_CACHE: &str = "AWSSO_NO_KEYUTILS_CACHE";
/// The browser of `awsso console` (`--browser`).
pub const BROWSER: &str = "AWSSO_BROWSER";
/// The federation sign-in endpoint of `awsso console --federated`.
pub const SIGNIN_ENDPOINT: &str = "AWSSO_SIGNIN_ENDPOINT";
/// The cache directory (listings, locks, frecency).
pub const CACHE_DIR: &str = "AWSSO_CACHE_DIR";
/// How long a cached listing is used, in seconds.
pub const LISTING_TTL: &str = "AWSSO_LISTING_TTL";
/// Portal calls in flight while enumerating.
pub const CONCURRENCY: &str = "AWSSO_CONCURRENCY";
/// awsso's own settings file (not the AWS config file, which is `--config`/`AWS_CONFIG_FILE`).
pub const SETTINGS: &str = "AWSSO_SETTINGS";
/// The old name of [`SETTINGS`], still honoured when [`SETTINGS`] is not set.
pub const SETTINGS_DEPRECATED: &str = "AWSSO_CONFIG";
/// Set by `awsso env`/`exec` in the environment they make: the profile it holds.
pub const PROFILE: &str = "AWSSO_PROFILE";
/// Set by the completion scripts: turns a run into a completion request.
pub const COMPLETE: &str = "AWSSO_COMPLETE";
/// Test hook (debug builds): delay of each AWS config write, in milliseconds.
pub const TEST_WRITE_DELAY_MS: &str = "AWSSO_TEST_WRITE_DELAY_MS";
/// Test hook (debug builds): delay of each AWS config write after its new file is swapped in and before
/// the last check of the file it displaced, in milliseconds.
pub const TEST_SWAP_DELAY_MS: &str = "AWSSO_TEST_SWAP_DELAY_MS";
/// Test hook (debug builds): delay between starting a supervised child and recording its pid, in ms.
pub const TEST_SPAWN_DELAY_MS: &str = "AWSSO_TEST_SPAWN_DELAY_MS";
/// Benchmark hook: where the picker appends its timings.
pub const PICKER_TRACE: &str = "AWSSO_PICKER_TRACE";
/// Unit tests only: the config file a re-executed test writer edits.
pub const TEST_CHILD_CONFIG: &str = "AWSSO_TEST_CHILD_CONFIG";
/// Unit tests only: the number of a re-executed test writer.
pub const TEST_CHILD_N: &str = "AWSSO_TEST_CHILD_N";
/// Unit tests only: rewrite generated text in the source tree instead of failing on a difference.
pub const BLESS: &str = "AWSSO_BLESS";

/// Who a variable is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A user's setting.
    Setting,
    /// An old name still honoured.
    Deprecated,
    /// awsso sets it for the programs it starts; users read it (or leave it alone).
    SetByAwsso,
    /// Read by the binary for tests and benchmarks only.
    TestHook,
    /// Read by cargo's unit-test binaries only, never by awsso; not in README.
    UnitTest,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub kind: Kind,
    /// What it does, in README's words (Markdown).
    pub effect: &'static str,
    /// The value without it (Markdown), when there is one to say.
    pub default: Option<&'static str>,
}

/// Every `AWSSO_*` variable, in README's order.
pub const TABLE: &[Var] = &[
    Var {
        name: STORE,
        kind: Kind::Setting,
        effect: "the credential store: `auto`, `secret-service`, `keyutils`, `keychain`, `windows` (as `--store`)",
        default: Some("`auto`"),
    },
    Var {
        name: KEYRING_SERVICE,
        kind: Kind::Setting,
        effect: "the keyring service name; keeps separate identities apart",
        default: Some("`awsso`"),
    },
    Var {
        name: NO_KEYUTILS_CACHE,
        kind: Kind::Setting,
        effect: "set (to anything but empty or `0`): don't use the kernel keyring as a cache in front of the \
                 Secret Service",
        default: None,
    },
    Var {
        name: BROWSER,
        kind: Kind::Setting,
        effect: "the browser program for `awsso console` (as `--browser`)",
        default: Some("the desktop's default browser, or `$BROWSER`"),
    },
    Var {
        name: SIGNIN_ENDPOINT,
        kind: Kind::Setting,
        effect: "the federation sign-in endpoint of `awsso console --federated`",
        default: Some("the partition's, e.g. `https://signin.aws.amazon.com`"),
    },
    Var {
        name: CACHE_DIR,
        kind: Kind::Setting,
        effect: "listing cache and lock files (without it and without a home directory, awsso refuses)",
        default: Some("`~/.cache/awsso`"),
    },
    Var {
        name: LISTING_TTL,
        kind: Kind::Setting,
        effect: "how long a cached listing is used before a new scan, in seconds",
        default: Some("`3600`"),
    },
    Var {
        name: CONCURRENCY,
        kind: Kind::Setting,
        effect: "portal calls in flight while `ls`/`sync` enumerate (1 to 256)",
        default: Some("`16`"),
    },
    Var {
        name: SETTINGS,
        kind: Kind::Setting,
        effect: "awsso's settings file (naming, regions, colours, hints, filters; not the AWS config file)",
        default: Some("`~/.config/awsso/config`"),
    },
    Var {
        name: SETTINGS_DEPRECATED,
        kind: Kind::Deprecated,
        effect: "deprecated name of `AWSSO_SETTINGS`, still honoured; when both are set, `AWSSO_SETTINGS` wins",
        default: None,
    },
    Var {
        name: PROFILE,
        kind: Kind::SetByAwsso,
        effect: "`awsso env`/`exec` export it with the profile of their credentials; `awsso prompt` shows \
                 it, `exec` refuses to nest inside it",
        default: None,
    },
    Var {
        name: COMPLETE,
        kind: Kind::SetByAwsso,
        effect: "the completion scripts (`shell-init`, `completions`) set it to ask awsso for candidates",
        default: None,
    },
    Var {
        name: TEST_WRITE_DELAY_MS,
        kind: Kind::TestHook,
        effect: "in debug builds, hold each config write N ms before its check and rename (fault injection \
                 for the tests)",
        default: None,
    },
    Var {
        name: TEST_SWAP_DELAY_MS,
        kind: Kind::TestHook,
        effect: "in debug builds, hold each config write N ms after swapping its new file in, before the \
                 last check of the file it displaced (fault injection for the tests)",
        default: None,
    },
    Var {
        name: TEST_SPAWN_DELAY_MS,
        kind: Kind::TestHook,
        effect: "in debug builds, hold `exec --server` N ms between starting the command and recording its \
                 pid (fault injection for the tests)",
        default: None,
    },
    Var {
        name: PICKER_TRACE,
        kind: Kind::TestHook,
        effect: "a file the picker appends its opening and keystroke timings to (`scripts/bench-picker.sh`)",
        default: None,
    },
    Var {
        name: TEST_CHILD_CONFIG,
        kind: Kind::UnitTest,
        effect: "the config file a re-executed unit-test writer edits",
        default: None,
    },
    Var {
        name: TEST_CHILD_N,
        kind: Kind::UnitTest,
        effect: "the number of a re-executed unit-test writer",
        default: None,
    },
    Var {
        name: BLESS,
        kind: Kind::UnitTest,
        effect: "`1`: unit tests rewrite generated text (README's environment table) instead of failing",
        default: None,
    },
];

/// The variables README documents: all but the unit tests' own.
pub fn documented() -> impl Iterator<Item = &'static Var> {
    TABLE.iter().filter(|v| v.kind != Kind::UnitTest)
}

/// README's environment table, generated from [`TABLE`].
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | effect | default |\n|---|---|---|\n");
    for v in documented() {
        let tag = match v.kind {
            Kind::TestHook => "test hook: ",
            _ => "",
        };
        let default = v.default.unwrap_or("");
        out.push_str(&format!(
            "| `{}` | {tag}{} | {default} |\n",
            v.name, v.effect
        ));
    }
    out
}

/// The values of the settings variables, resolved once: what the rest of awsso reads instead of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// [`KEYRING_SERVICE`], else `awsso`.
    pub keyring_service: String,
    /// [`NO_KEYUTILS_CACHE`] set to anything but empty or `0`.
    pub no_keyutils_cache: bool,
    /// [`SIGNIN_ENDPOINT`], trimmed and without a trailing `/`; `None` when unset or blank.
    pub signin_endpoint: Option<String>,
    /// [`CACHE_DIR`] when set and not empty.
    pub cache_dir: Option<PathBuf>,
    /// [`LISTING_TTL`] when it is a number, else 3600.
    pub listing_ttl: i64,
    /// [`CONCURRENCY`] when it is a number from 1 to 256.
    pub concurrency: Option<usize>,
    /// [`SETTINGS`], else [`SETTINGS_DEPRECATED`], each only when not empty.
    pub settings: Option<PathBuf>,
    /// [`PICKER_TRACE`] when set.
    pub picker_trace: Option<PathBuf>,
}

/// The keyring service name without [`KEYRING_SERVICE`].
pub const DEFAULT_KEYRING_SERVICE: &str = "awsso";
/// The listing lifetime without [`LISTING_TTL`], in seconds.
pub const DEFAULT_LISTING_TTL: i64 = 3600;

impl Env {
    /// Resolves every variable through `var` (the process environment in [`env()`], a map in tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<OsString>) -> Env {
        let text = |k: &str| var(k).and_then(|v| v.into_string().ok());
        let path = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        Env {
            keyring_service: text(KEYRING_SERVICE)
                .unwrap_or_else(|| DEFAULT_KEYRING_SERVICE.into()),
            no_keyutils_cache: var(NO_KEYUTILS_CACHE).is_some_and(|v| !v.is_empty() && v != "0"),
            signin_endpoint: text(SIGNIN_ENDPOINT)
                .map(|v| v.trim().trim_end_matches('/').to_string())
                .filter(|v| !v.is_empty()),
            cache_dir: path(CACHE_DIR),
            listing_ttl: text(LISTING_TTL)
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_LISTING_TTL),
            concurrency: text(CONCURRENCY)
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| (1..=256).contains(n)),
            settings: path(SETTINGS).or_else(|| path(SETTINGS_DEPRECATED)),
            picker_trace: var(PICKER_TRACE).map(PathBuf::from),
        }
    }
}

/// The process's [`Env`], read on first use and kept: awsso never changes its own environment, so every
/// module sees the same values however often it asks.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| Env::from_lookup(|k| std::env::var_os(k)))
}

#[cfg(test)]
mod tests;
