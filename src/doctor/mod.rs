//! The checks behind `awsso doctor`. Each looks at one thing and says ok, warn or fail, in one line, with
//! the fix. The checks are plain functions over what they inspect (the parsed config, a token record, an
//! environment lookup, a `Date` header), so the unit tests below reach every verdict without a keyring or a
//! network; `cmd::doctor` gathers those inputs and runs them.
//!
//! The Identity Center instance check (`--instances`) is the one that calls AWS: sso-admin ListInstances,
//! signed with SigV4 by the SDK.
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::awsconfig::{ConfigError, ConfigFile, Section, SectionKind};
use crate::creds::shell_split;
use crate::output::{format_duration, format_time, sanitize};
use crate::session::{SessionConfig, TokenRecord};

/// A verdict; a single `Fail` makes `doctor` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One finding: which check, its verdict, one line of explanation, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub message: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(check: &'static str, message: impl Into<String>) -> Check {
        Check {
            check,
            status: Status::Ok,
            message: message.into(),
            fix: None,
        }
    }

    pub fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            check,
            status: Status::Warn,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            check,
            status: Status::Fail,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Names shown to the person come from files and servers: one safe line each.
fn show(s: &str) -> String {
    sanitize(s, 100)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ---- the config file ----

/// Whether the config parses; on failure, where and why.
pub fn config_check(path: &Path, loaded: &Result<ConfigFile, ConfigError>) -> Check {
    match loaded {
        Ok(config) if config.text.is_empty() && !path.exists() => Check::warn(
            "config",
            format!("there is no AWS config file at {}", path.display()),
            "create it with `awsso login --start-url https://<id>.awsapps.com/start --region <region>`",
        ),
        Ok(config) => Check::ok(
            "config",
            format!(
                "{} parses: {}, {}, {}",
                path.display(),
                plural(config.profiles().count(), "profile", "profiles"),
                plural(config.sso_sessions().count(), "sso-session", "sso-sessions"),
                plural(config.managed_blocks().len(), "awsso block", "awsso blocks"),
            ),
        ),
        Err(e) => Check::fail(
            "config",
            format!("the AWS config does not parse: {e}"),
            e.hint()
                .unwrap_or_else(|| format!("check {} and its permissions", path.display())),
        ),
    }
}

/// What in a config that parses will still trip someone up: a UTF-8 BOM (botocore and the Rust SDK
/// cannot read the file; awsso refuses to write it), settings after one of awsso's blocks (they belong to
/// the block's last profile; sync refuses), and what botocore accepts but other SDKs reject or skip.
pub fn config_shape_checks(config: &ConfigFile) -> Vec<Check> {
    let path = config.path.display();
    let mut checks = Vec::new();
    if config.text.starts_with('\u{feff}') {
        let e = ConfigError::Bom {
            path: config.path.clone(),
        };
        checks.push(Check::fail(
            "config",
            e.to_string(),
            e.hint().unwrap_or_default(),
        ));
    }
    for (block, line, setting) in config.settings_after_blocks() {
        let e = ConfigError::AfterBlock {
            path: config.path.clone(),
            line,
            end_line: block.end_line,
            id: block.id.clone(),
            setting: show(&setting),
        };
        checks.push(Check::warn(
            "config",
            format!("{e}; awsso refuses to rewrite the block until it moves"),
            e.hint().unwrap_or_default(),
        ));
    }
    for note in config.compat_notes() {
        checks.push(Check::warn(
            "config",
            format!("{path}:{}: {}", note.line, show(&note.message)),
            "botocore and the AWS CLI accept it; rewrite that line in the plain form if other SDKs \
             (Rust, Java, Go, JavaScript) must read this file",
        ));
    }
    checks
}

/// Every `[sso-session]` valid; returns the valid ones for the other checks.
pub fn session_checks(config: &ConfigFile) -> (Vec<Check>, Vec<SessionConfig>) {
    let mut checks = Vec::new();
    let mut valid = Vec::new();
    for result in crate::session::all(config) {
        match result {
            Ok(s) => valid.push(s),
            Err(e) => checks.push(Check::fail(
                "sessions",
                e.to_string(),
                e.hint().unwrap_or_else(|| "fix that section".into()),
            )),
        }
    }
    if checks.is_empty() {
        checks.push(if valid.is_empty() {
            Check::warn(
                "sessions",
                format!("{} has no [sso-session] section", config.path.display()),
                "add one with `awsso login --start-url https://<id>.awsapps.com/start --region <region>`",
            )
        } else {
            Check::ok(
                "sessions",
                format!(
                    "{}: {}",
                    plural(valid.len(), "sso-session", "sso-sessions"),
                    valid
                        .iter()
                        .map(|s| show(&s.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        });
    }
    (checks, valid)
}

/// The start URL as a portal identity: scheme and host case-folded, trailing `/`, `#/` and `#` dropped.
fn portal_identity(url: &str) -> String {
    let mut u = url.trim();
    loop {
        let before = u;
        u = u.trim_end_matches('/');
        u = u.strip_suffix('#').unwrap_or(u);
        if u == before {
            break;
        }
    }
    match u.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => u.to_string(),
    }
}

/// Two sessions on one access portal mean two logins, two tokens, and profiles split between them.
pub fn duplicate_sessions(config: &ConfigFile, sessions: &[SessionConfig]) -> Vec<Check> {
    let mut groups: BTreeMap<String, Vec<&SessionConfig>> = BTreeMap::new();
    for s in sessions {
        groups
            .entry(portal_identity(&s.start_url))
            .or_default()
            .push(s);
    }
    let line = |name: &str| config.sso_session(name).map_or(0, |s| s.header_line);
    let mut checks: Vec<Check> = groups
        .values()
        .filter(|g| g.len() > 1)
        .map(|g| {
            let keep = &g[0].name;
            let others: Vec<String> = g[1..]
                .iter()
                .map(|s| format!("{} (line {})", show(&s.name), line(&s.name)))
                .collect();
            Check::warn(
                "duplicate-sessions",
                format!(
                    "sessions {} (line {}) and {} sign in to the same access portal {}: two logins, two tokens, \
                     and profiles split between them",
                    show(keep),
                    line(keep),
                    others.join(", "),
                    show(&g[0].start_url)
                ),
                format!(
                    "keep [sso-session {}]: point the profiles of the others at it (sso_session = {}), delete \
                     the other sections and their awsso blocks, then run `awsso sync`",
                    show(keep),
                    show(keep)
                ),
            )
        })
        .collect();
    if checks.is_empty() && !sessions.is_empty() {
        checks.push(Check::ok(
            "duplicate-sessions",
            "each access portal has one sso-session",
        ));
    }
    checks
}

// ---- tokens ----

/// The session's token: valid, expired but refreshable, expired for good, or none; and what refreshing
/// it depends on (a refresh token and an unexpired client registration).
pub fn token_checks(session: &SessionConfig, token: Option<&TokenRecord>, now: i64) -> Vec<Check> {
    let name = show(&session.name);
    let login = format!("`awsso login --session {name}`");
    let Some(t) = token else {
        return vec![Check::warn(
            "token",
            format!("session {name}: not logged in (no token in the credential store)"),
            format!("run {login}"),
        )];
    };
    let mut checks = Vec::new();
    let refreshable = t.refresh_token.is_some() && t.client.expires_at > now;
    checks.push(if t.expires_at > now {
        Check::ok(
            "token",
            format!(
                "session {name}: token valid until {} ({} left)",
                format_time(t.expires_at),
                format_duration(t.expires_at - now)
            ),
        )
    } else if refreshable {
        Check::ok(
            "token",
            format!(
                "session {name}: token expired at {}; it is refreshed on next use",
                format_time(t.expires_at)
            ),
        )
    } else {
        Check::warn(
            "token",
            format!(
                "session {name}: token expired at {} and cannot be refreshed",
                format_time(t.expires_at)
            ),
            format!("run {login}"),
        )
    });
    checks.push(match (&t.refresh_token, t.client.expires_at > now) {
        (Some(_), true) => Check::ok(
            "refresh",
            format!(
                "session {name}: refresh token present; client registration valid until {} ({} left)",
                format_time(t.client.expires_at),
                format_duration(t.client.expires_at - now)
            ),
        ),
        (Some(_), false) => Check::warn(
            "refresh",
            format!(
                "session {name}: the client registration expired at {}, and the refresh token with it",
                format_time(t.client.expires_at)
            ),
            format!("run {login} (awsso registers a new client)"),
        ),
        (None, _) if session.legacy.is_some() => Check::warn(
            "refresh",
            format!(
                "session {name} (legacy profile): no refresh token; Identity Center issues them only to an \
                 [sso-session] with sso_registration_scopes, so every token expiry means a new sign-in"
            ),
            "move the profile to an [sso-session]: `awsso migrate --dry-run`, then `awsso migrate`",
        ),
        (None, _) if !session.refresh_capable() => Check::warn(
            "refresh",
            format!(
                "session {name}: no refresh token, because the session lacks sso_registration_scopes = \
                 sso:account:access; every token expiry means a new sign-in"
            ),
            format!(
                "add `sso_registration_scopes = sso:account:access` to [sso-session {name}], then run \
                 `awsso login --session {name} --force`"
            ),
        ),
        (None, _) => Check::warn(
            "refresh",
            format!(
                "session {name}: no refresh token (Identity Center did not issue one, or rejected it); \
                 the token cannot be renewed without a sign-in"
            ),
            format!("run `awsso login --session {name} --force`"),
        ),
    });
    checks
}

// ---- clock ----

/// Legacy SSO profiles: awsso uses them (an implicit session per instance), but their tokens cannot refresh;
/// the fix is the exact migration, as a diff, that `awsso migrate` would make.
pub fn legacy_checks(config: &ConfigFile) -> Vec<Check> {
    let Ok(Some(plan)) = crate::migrate::plan(config) else {
        return Vec::new();
    };
    let diff = crate::migrate::diff(config, &plan);
    plan.moves
        .iter()
        .map(|(session, profiles)| {
            Check::warn(
                "legacy-profiles",
                format!(
                    "{} {} the legacy sso_start_url form (no sso-session): awsso serves {} as session {}, \
                     but its token cannot refresh",
                    if profiles.len() == 1 { "profile" } else { "profiles" },
                    sanitize(&profiles.join(", "), 200),
                    if profiles.len() == 1 { "it" } else { "them" },
                    sanitize(session, 100),
                ),
                format!(
                    "run `awsso migrate --dry-run` to review, then `awsso migrate`, which makes this change:\n{diff}"
                ),
            )
        })
        .collect()
}

/// Parses an HTTP `Date` header (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
pub fn parse_http_date(value: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Beyond this, awsso's expiry arithmetic goes wrong by minutes: warn.
pub const SKEW_WARN: i64 = 5 * 60;
/// Beyond this, AWS rejects SigV4-signed requests (RequestTimeTooSkewed): fail.
pub const SKEW_FAIL: i64 = 15 * 60;

/// Compares the local clock with a server's `Date` header; `local_ms` is the local time (Unix
/// milliseconds) halfway through the request.
pub fn clock_check(endpoint: &str, date: Option<&str>, local_ms: i64) -> Check {
    let Some(server) = date.and_then(parse_http_date) else {
        return Check::warn(
            "clock",
            format!("{endpoint} sent no usable Date header, so the clock could not be compared"),
            "compare the clock with a time server yourself (e.g. `timedatectl status`)",
        );
    };
    // The header has whole seconds: half a second either way is noise.
    let skew_ms = local_ms - server * 1000 - 500;
    let skew = (skew_ms as f64 / 1000.0).round() as i64;
    let how = if skew > 0 { "ahead of" } else { "behind" };
    let fix = "synchronise the system clock (e.g. `sudo timedatectl set-ntp true`, or `sudo chronyc makestep`)";
    let message = format!(
        "the local clock is {} {how} {endpoint}",
        format_duration(skew.abs())
    );
    if skew.abs() > SKEW_FAIL {
        Check::fail(
            "clock",
            format!("{message}: AWS rejects signed requests and awsso misjudges token expiry"),
            fix,
        )
    } else if skew.abs() > SKEW_WARN {
        Check::warn(
            "clock",
            format!("{message}: token and credential expiry are misjudged by as much"),
            fix,
        )
    } else {
        Check::ok(
            "clock",
            format!(
                "the local clock is within {skew_abs} s of {endpoint}",
                skew_abs = skew.abs()
            ),
        )
    }
}

// ---- profiles ----

/// The words of an awsso `credential_process` (`<awsso> creds --session …`), or `None` for other commands.
pub fn awsso_command(section: &Section) -> Option<Vec<String>> {
    let words = shell_split(section.get("credential_process")?)?;
    let (exe, rest) = words.split_first()?;
    let base = exe.rsplit(['/', '\\']).next().unwrap_or(exe);
    let creds = rest.iter().any(|w| w == "creds");
    let flags = ["--session", "--account-id", "--role-name"]
        .iter()
        .all(|f| crate::shell::flag_value(rest, f).is_some());
    (creds && (base.starts_with("awsso") || flags)).then_some(words)
}

/// Whether `exe` names a file that can be run: a path as given, or a bare name looked up in `path_var`.
pub fn executable_exists(exe: &str, path_var: Option<&std::ffi::OsStr>) -> bool {
    fn runnable(p: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(p) else {
            return false;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        {
            meta.is_file()
        }
    }
    if exe.contains('/') || exe.contains('\\') {
        return runnable(Path::new(exe));
    }
    path_var.is_some_and(|p| std::env::split_paths(p).any(|dir| runnable(&dir.join(exe))))
}

/// Profiles the SDKs would misread: `sso_*` keys beside `credential_process` (the SDKs take the SSO
/// route and never run the helper), and awsso profiles whose `credential_process` names a binary that
/// is gone.
pub fn profile_checks(
    config: &ConfigFile,
    path_var: Option<&std::ffi::OsStr>,
    current_exe: Option<&Path>,
) -> Vec<Check> {
    let mut mixed = Vec::new();
    let mut missing = Vec::new();
    let mut awsso_profiles = 0;
    let rewrite = |s: &Section| match (&s.managed_by, current_exe) {
        (Some(_), _) => "run `awsso sync` to rewrite the block with this awsso's path".to_string(),
        (None, Some(exe)) => format!(
            "point credential_process of [{}] at {}",
            show(&s.header()),
            exe.display()
        ),
        (None, None) => format!(
            "point credential_process of [{}] at the installed awsso",
            show(&s.header())
        ),
    };
    for s in config.profiles() {
        let has_process = s.get("credential_process").is_some();
        let sso_keys: Vec<&str> = s
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .filter(|k| k.to_ascii_lowercase().starts_with("sso_"))
            .collect();
        let command = awsso_command(s);
        if has_process && !sso_keys.is_empty() {
            let fix = if command.is_some() {
                format!(
                    "delete {} from [{}]: awsso's credential_process needs none of them",
                    sso_keys.join(", "),
                    show(&s.header())
                )
            } else {
                format!(
                    "keep one of the two in [{}]: the sso_* keys or credential_process",
                    show(&s.header())
                )
            };
            mixed.push(Check::fail(
                "mixed-keys",
                format!(
                    "profile {} (line {}) has credential_process and {}: the SDKs use the sso_* keys and \
                     never run credential_process",
                    show(&s.name),
                    s.header_line,
                    sso_keys.join(", ")
                ),
                fix,
            ));
        }
        if let Some(words) = command {
            awsso_profiles += 1;
            if !executable_exists(&words[0], path_var) {
                let line = s
                    .entries
                    .iter()
                    .find(|e| e.key.eq_ignore_ascii_case("credential_process"))
                    .map_or(s.header_line, |e| e.line);
                missing.push(Check::fail(
                    "credential-process",
                    format!(
                        "profile {} (line {line}) runs {}, which does not exist or is not executable: every \
                         AWS command with this profile fails",
                        show(&s.name),
                        show(&words[0])
                    ),
                    rewrite(s),
                ));
            }
        }
    }
    if mixed.is_empty() {
        mixed.push(Check::ok(
            "mixed-keys",
            "no profile mixes sso_* keys with credential_process",
        ));
    }
    if missing.is_empty() {
        missing.push(Check::ok(
            "credential-process",
            format!(
                "the awsso binary of every awsso profile exists ({})",
                plural(awsso_profiles, "profile", "profiles")
            ),
        ));
    }
    mixed.extend(missing);
    mixed
}

// ---- managed blocks ----

/// One profile as `awsso sync` would write it now: its name and its `(key, value)` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedProfile {
    pub name: String,
    pub entries: Vec<(String, String)>,
}

/// Reads the profiles out of a rendered block body.
pub fn expected_profiles(body: &str) -> Result<Vec<ExpectedProfile>, ConfigError> {
    let parsed = ConfigFile::parse(Path::new(""), body.to_string())?;
    Ok(parsed
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Profile)
        .map(|s| ExpectedProfile {
            name: s.name.clone(),
            entries: s
                .entries
                .iter()
                .map(|e| (e.key.to_ascii_lowercase(), e.value.clone()))
                .collect(),
        })
        .collect())
}

/// A value as compared: the awsso binary's path in credential_process is left out (`awsso sync` writes
/// wherever this awsso runs from; a missing binary is its own check).
fn comparable(key: &str, value: &str) -> String {
    if key.eq_ignore_ascii_case("credential_process")
        && let Some(words) = shell_split(value)
        && words.len() > 1
    {
        return words[1..].join("\u{1f}");
    }
    value.trim().to_string()
}

/// awsso's blocks: hand edits (keys awsso does not write, sections that are not profiles, profiles of
/// another session), blocks of sessions gone from the config, and blocks that differ from what `awsso
/// sync` would write from the cached listing (`expected` gives that, when there is a listing).
pub fn block_checks(
    config: &ConfigFile,
    expected: &dyn Fn(&SessionConfig) -> Option<Vec<ExpectedProfile>>,
) -> Vec<Check> {
    let path = config.path.display().to_string();
    let mut checks = Vec::new();
    let move_out = "move your changes out of the block (awsso's settings file sets names, regions and colours; \
                    other keys belong in a profile of your own), then run `awsso sync`";
    for block in config.managed_blocks() {
        let Some(name) = block.id.strip_prefix("session ") else {
            continue;
        };
        let lines = format!("lines {}-{}", block.begin_line, block.end_line);
        let sections: Vec<&Section> = config
            .sections
            .iter()
            .filter(|s| s.managed_by.as_deref() == Some(block.id.as_str()))
            .collect();
        let Some(section) = config.sso_session(name) else {
            checks.push(Check::warn(
                "managed-blocks",
                format!(
                    "the awsso block of session {} ({lines} of {path}) belongs to a session that is no longer in \
                     the config: its {} cannot get credentials",
                    show(name),
                    plural(sections.len(), "profile", "profiles")
                ),
                format!(
                    "delete {lines} (the block and its two marker lines), or add [sso-session {}] back and run \
                     `awsso sync`",
                    show(name)
                ),
            ));
            continue;
        };
        let mut edits = Vec::new();
        for s in &sections {
            if s.kind != SectionKind::Profile {
                edits.push(format!("[{}] (line {})", show(&s.header()), s.header_line));
                continue;
            }
            for e in &s.entries {
                if !crate::profiles::WRITTEN_KEYS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(e.key.trim()))
                {
                    edits.push(format!(
                        "{} in [profile {}] (line {})",
                        show(&e.key),
                        show(&s.name),
                        e.line
                    ));
                }
            }
            let session_of = s
                .get("sso_session")
                .map(|v| v.trim().to_string())
                .or_else(|| {
                    awsso_command(s).and_then(|w| crate::shell::flag_value(&w, "--session"))
                });
            if let Some(other) = session_of.filter(|o| o != name) {
                edits.push(format!(
                    "[profile {}] (line {}) uses session {}",
                    show(&s.name),
                    s.header_line,
                    show(&other)
                ));
            }
        }
        if !edits.is_empty() {
            let more = if edits.len() > 3 {
                format!(" and {} more", edits.len() - 3)
            } else {
                String::new()
            };
            edits.truncate(3);
            checks.push(Check::warn(
                "managed-blocks",
                format!(
                    "the awsso block of session {} ({lines}) was edited by hand: {}{more}; the next `awsso sync` \
                     overwrites it",
                    show(name),
                    edits.join("; ")
                ),
                move_out,
            ));
        }
        let Ok(session) = SessionConfig::from_section(&path, section) else {
            continue;
        };
        let Some(wanted) = expected(&session) else {
            if edits.is_empty() {
                checks.push(Check::ok(
                    "managed-blocks",
                    format!(
                        "the awsso block of session {} ({lines}) holds {} and no hand edits (no cached listing to \
                         compare it with)",
                        show(name),
                        plural(sections.len(), "profile", "profiles")
                    ),
                ));
            }
            continue;
        };
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|w| {
                !sections
                    .iter()
                    .any(|s| s.kind == SectionKind::Profile && s.name == w.name)
            })
            .map(|w| w.name.as_str())
            .collect();
        let mut changed = Vec::new();
        for w in &wanted {
            let Some(s) = sections
                .iter()
                .find(|s| s.kind == SectionKind::Profile && s.name == w.name)
            else {
                continue;
            };
            let differs: Vec<&str> = w
                .entries
                .iter()
                .filter(|(k, v)| s.get(k).map(|have| comparable(k, have)) != Some(comparable(k, v)))
                .map(|(k, _)| k.as_str())
                .collect();
            if !differs.is_empty() {
                changed.push(format!("{} ({})", show(&w.name), differs.join(", ")));
            }
        }
        if missing.is_empty() && changed.is_empty() {
            if edits.is_empty() {
                checks.push(Check::ok(
                    "managed-blocks",
                    format!(
                        "the awsso block of session {} ({lines}) matches what `awsso sync` writes from the cached \
                         listing ({})",
                        show(name),
                        plural(wanted.len(), "profile", "profiles")
                    ),
                ));
            }
            continue;
        }
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "{} missing (e.g. {})",
                plural(missing.len(), "profile", "profiles"),
                show(missing[0])
            ));
        }
        if !changed.is_empty() {
            parts.push(format!(
                "{} (e.g. {})",
                plural(changed.len(), "profile differs", "profiles differ"),
                changed[0]
            ));
        }
        checks.push(Check::warn(
            "managed-blocks",
            format!(
                "the awsso block of session {} ({lines}) is not what `awsso sync` writes from the cached listing: {}",
                show(name),
                parts.join("; ")
            ),
            format!(
                "see the change with `awsso sync --session {} --dry-run`, then run `awsso sync --session {}`",
                show(name),
                show(name)
            ),
        ));
    }
    checks
}

// ---- environment ----

/// Variables that make the AWS tools ignore profiles: static keys (which beat `AWS_PROFILE` and every
/// profile), and `AWS_PROFILE` itself (which beats `[default]`, and breaks everything when it names no
/// profile). Values are never shown, except the profile name.
pub fn environment_checks(
    env: &dyn Fn(&str) -> Option<String>,
    config: Option<&ConfigFile>,
) -> Vec<Check> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(label) = set(crate::cmd::env::MARKER) {
        return vec![Check::ok(
            "environment",
            format!(
                "inside `awsso exec`/`awsso env` for {}: the exported keys are that role's",
                show(&label)
            ),
        )];
    }
    let keys: Vec<&str> = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ]
    .into_iter()
    .filter(|k| set(k).is_some())
    .collect();
    let profile = set("AWS_PROFILE")
        .map(|p| ("AWS_PROFILE", p))
        .or_else(|| set("AWS_DEFAULT_PROFILE").map(|p| ("AWS_DEFAULT_PROFILE", p)));
    let unset_keys = format!("`unset {}`", keys.join(" "));
    let mut checks = Vec::new();
    match (&profile, keys.is_empty()) {
        (Some((var, p)), false) => checks.push(Check::fail(
            "environment",
            format!(
                "{} {} set and win over {var}={}: AWS commands run as those keys, not as profile {}",
                keys.join(", "),
                if keys.len() == 1 { "is" } else { "are" },
                show(p),
                show(p)
            ),
            format!("{unset_keys} to use profile {}", show(p)),
        )),
        (None, false) => checks.push(Check::warn(
            "environment",
            format!(
                "{} {} set: AWS commands use these keys instead of any profile's credentials, awsso's included",
                keys.join(", "),
                if keys.len() == 1 { "is" } else { "are" }
            ),
            format!("{unset_keys} unless you meant to use them"),
        )),
        _ => {}
    }
    if let Some((var, p)) = &profile {
        let exists = config.is_none_or(|c| c.profile(p).is_some());
        if !exists {
            checks.push(Check::fail(
                "environment",
                format!(
                    "{var}={} names no profile in the AWS config: every AWS command in this shell fails",
                    show(p)
                ),
                format!(
                    "`unset {var}`, or choose an existing profile (`awsso ls` lists awsso's)"
                ),
            ));
        } else if keys.is_empty() {
            checks.push(Check::warn(
                "environment",
                format!(
                    "{var}={} is set: every AWS command in this shell uses that profile instead of [default] \
                     unless given --profile",
                    show(p)
                ),
                format!("`unset {var}` when you mean another profile"),
            ));
        }
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "environment",
            "no AWS_PROFILE or static AWS keys in the environment",
        ));
    }
    checks
}

// ---- Identity Center instances ----

/// One instance as ListInstances describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: Option<String>,
    pub status: String,
}

impl Instance {
    fn describe(&self) -> String {
        let id = self.arn.rsplit('/').next().unwrap_or(&self.arn);
        let mut s = format!(
            "{} (identity store {}, {}",
            show(id),
            show(&self.identity_store_id),
            show(&self.status)
        );
        if let Some(n) = self.name.as_deref().filter(|n| !n.is_empty()) {
            s.push_str(&format!(", named {}", show(n)));
        }
        s.push(')');
        s
    }
}

/// The trap: one region showing instances of different owners. ListInstances has no field saying
/// "organization" or "account" instance; what tells them apart is the owner. A member account sees the
/// organization instance only as its delegated administrator, and that instance is owned by the
/// management account; an account instance is owned by the account that created it. So, seen from one
/// account, two owners in one region mean one organization instance and one account instance, and the one
/// owned by the calling account (`caller`, when known) is the account instance.
pub fn instances_check(region: &str, instances: &[Instance], caller: Option<&str>) -> Check {
    let region = show(region);
    let mut owners: Vec<&str> = instances
        .iter()
        .map(|i| i.owner_account_id.as_str())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    if owners.len() < 2 {
        return Check::ok(
            "instances",
            if instances.is_empty() {
                format!("{region}: no Identity Center instance is visible to these credentials")
            } else {
                format!(
                    "{region}: {}, all owned by {}: {}",
                    plural(instances.len(), "instance", "instances"),
                    show(owners[0]),
                    instances
                        .iter()
                        .map(Instance::describe)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        );
    }
    let consequence = "they cannot be merged, and delegated administration from that account silently \
                       operates on its account instance, not on the organization's";
    if let Some(caller) = caller.filter(|c| owners.contains(c)) {
        let account: Vec<String> = instances
            .iter()
            .filter(|i| i.owner_account_id == caller)
            .map(Instance::describe)
            .collect();
        let org: Vec<String> = instances
            .iter()
            .filter(|i| i.owner_account_id != caller)
            .map(|i| {
                format!(
                    "{} owned by {} (the management account)",
                    i.describe(),
                    show(&i.owner_account_id)
                )
            })
            .collect();
        return Check::fail(
            "instances",
            format!(
                "{region}: member account {} holds an account instance {} next to the organization instance {}; \
                 {consequence}",
                show(caller),
                account.join(", "),
                org.join(", ")
            ),
            format!(
                "administer the organization's users and assignments in the organization instance (from the \
                 management account, or by its ARN); delete the account instance in {} if nothing uses it \
                 (`aws sso-admin delete-instance --instance-arn <its ARN>`)",
                show(caller)
            ),
        );
    }
    let all: Vec<String> = instances
        .iter()
        .map(|i| format!("{} owned by {}", i.describe(), show(&i.owner_account_id)))
        .collect();
    Check::fail(
        "instances",
        format!(
            "{region}: instances of {} different owners are visible ({}): the one owned by the management \
             account is the organization instance, the one owned by the account you called from is an account \
             instance; {consequence}",
            owners.len(),
            all.join("; ")
        ),
        "set AWS_ACCOUNT_ID to the calling account (or use --admin-profile) so that doctor names each instance; \
         then administer through the organization instance and delete the account instance if nothing uses it",
    )
}

/// Lists the instances visible in `region` with static credentials, through sso-admin (SigV4-signed by the
/// SDK). `endpoint` overrides the service URL (`AWS_ENDPOINT_URL_SSO_ADMIN`).
pub async fn list_instances(
    region: &str,
    credentials: aws_credential_types::Credentials,
    endpoint: Option<&str>,
) -> Result<Vec<Instance>, String> {
    use aws_sdk_ssoadmin::config::{BehaviorVersion, Region};
    use aws_sdk_ssoadmin::error::{DisplayErrorContext, ProvideErrorMetadata};
    use aws_smithy_runtime_api::client::result::SdkError;

    let mut conf = aws_sdk_ssoadmin::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .operation_attempt_timeout(std::time::Duration::from_secs(30))
                .build(),
        );
    if let Some(url) = endpoint {
        conf = conf.endpoint_url(url);
    }
    let client = aws_sdk_ssoadmin::Client::from_conf(conf.build());
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    // A page holds up to 100 instances; an account has a handful. The cap only guards against a loop.
    for _ in 0..50 {
        let page = client
            .list_instances()
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(se) => format!(
                    "{}: {}",
                    sanitize(se.err().code().unwrap_or("UnknownError"), 80),
                    sanitize(se.err().message().unwrap_or("no message"), 300)
                ),
                _ => sanitize(&DisplayErrorContext(&e).to_string(), 300),
            })?;
        for i in page.instances() {
            out.push(Instance {
                arn: i.instance_arn().unwrap_or_default().to_string(),
                identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
                owner_account_id: i.owner_account_id().unwrap_or_default().to_string(),
                name: i.name().map(str::to_string),
                status: i
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Ok(out)
}

/// `AWS_ENDPOINT_URL_SSO_ADMIN`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
/// is true (the SDKs' rules).
pub fn admin_endpoint(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env("AWS_ENDPOINT_URL_SSO_ADMIN")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::sso::{ClientRegistration, Flow};

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("/c"), text.into()).unwrap()
    }

    fn session(name: &str, url: &str, scopes: bool) -> SessionConfig {
        SessionConfig {
            name: name.into(),
            start_url: url.into(),
            region: "eu-west-1".into(),
            scopes: if scopes {
                vec!["sso:account:access".into()]
            } else {
                vec![]
            },
            legacy: None,
        }
    }

    fn token(expires_at: i64, refresh: bool, client_expires_at: i64) -> TokenRecord {
        TokenRecord {
            start_url: "u".into(),
            region: "eu-west-1".into(),
            access_token: Secret::new("a".into()),
            expires_at,
            refresh_token: refresh.then(|| Secret::new("r".into())),
            issued_at_ms: 0,
            client: ClientRegistration {
                client_id: "c".into(),
                client_secret: Secret::new("s".into()),
                expires_at: client_expires_at,
                flow: Flow::Device,
                scopes: vec![],
                start_url: "u".into(),
                region: "eu-west-1".into(),
            },
            export_cli_cache: false,
            login_id: "l".into(),
        }
    }

    fn statuses(checks: &[Check], name: &str) -> Vec<Status> {
        checks
            .iter()
            .filter(|c| c.check == name)
            .map(|c| c.status)
            .collect()
    }

    #[test]
    fn config_errors_carry_the_line() {
        let path = Path::new("/c");
        let loaded = ConfigFile::parse(path, "[default]\nregion = x\nnot a setting\n".into());
        let c = config_check(path, &loaded);
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("/c:3"), "{}", c.message);
        assert!(c.fix.unwrap().contains("line 3"));
        let ok = config_check(path, &Ok(parse("[profile a]\nregion = x\n")));
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.message.contains("1 profile,"), "{}", ok.message);
    }

    #[test]
    fn token_states() {
        let s = session("corp", "https://x", true);
        let now = 1_000_000;
        assert_eq!(
            token_checks(&s, None, now)[0].status,
            Status::Warn,
            "logged out"
        );
        let valid = token_checks(&s, Some(&token(now + 3600, true, now + 86_400 * 30)), now);
        assert_eq!(
            valid.iter().map(|c| c.status).collect::<Vec<_>>(),
            [Status::Ok, Status::Ok]
        );
        let refreshable = token_checks(&s, Some(&token(now - 10, true, now + 100)), now);
        assert_eq!(refreshable[0].status, Status::Ok);
        assert!(refreshable[0].message.contains("refreshed on next use"));
        let dead = token_checks(&s, Some(&token(now - 10, true, now - 5)), now);
        assert_eq!(dead[0].status, Status::Warn);
        assert!(dead[1].message.contains("client registration expired"));
        let no_scope = token_checks(
            &session("corp", "https://x", false),
            Some(&token(now + 10, false, now + 10)),
            now,
        );
        assert_eq!(no_scope[1].status, Status::Warn);
        assert!(
            no_scope[1]
                .fix
                .as_ref()
                .unwrap()
                .contains("sso_registration_scopes")
        );
    }

    #[test]
    fn clock_skew_thresholds() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let server = parse_http_date(date).unwrap();
        assert_eq!(server, 784_111_777);
        let at = |skew_s: i64| server * 1000 + 500 + skew_s * 1000;
        assert_eq!(clock_check("e", Some(date), at(2)).status, Status::Ok);
        let warn = clock_check("e", Some(date), at(-400));
        assert_eq!(warn.status, Status::Warn);
        assert!(warn.message.contains("6m behind"), "{}", warn.message);
        let fail = clock_check("e", Some(date), at(3600));
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.message.contains("ahead of"));
        assert_eq!(clock_check("e", None, 0).status, Status::Warn);
        assert_eq!(clock_check("e", Some("yesterday"), 0).status, Status::Warn);
    }

    #[test]
    fn duplicate_sessions_by_portal() {
        let config = parse(
            "[sso-session a]\nsso_start_url = https://D-1.awsapps.com/start\nsso_region = eu-west-1\n\
             [sso-session b]\nsso_start_url = https://d-1.awsapps.com/start/#/\nsso_region = eu-west-1\n\
             [sso-session c]\nsso_start_url = https://d-2.awsapps.com/start\nsso_region = eu-west-1\n",
        );
        let (_, sessions) = session_checks(&config);
        let checks = duplicate_sessions(&config, &sessions);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Warn);
        assert!(
            checks[0]
                .message
                .contains("sessions a (line 1) and b (line 4)")
        );
    }

    #[test]
    fn mixed_keys_and_missing_binaries() {
        let exe = std::env::current_exe().unwrap();
        let config = parse(&format!(
            "[profile mixed]\nsso_session = corp\ncredential_process = {exe} creds --session corp --account-id 1 --role-name R\n\
             [profile gone]\ncredential_process = /nonexistent/awsso creds --session corp --account-id 1 --role-name R\n\
             [profile fine]\ncredential_process = {exe} creds --session corp --account-id 1 --role-name R\n\
             [profile other]\ncredential_process = /nonexistent/other-tool\n",
            exe = exe.display()
        ));
        let checks = profile_checks(&config, None, Some(&exe));
        assert_eq!(statuses(&checks, "mixed-keys"), [Status::Fail]);
        assert_eq!(statuses(&checks, "credential-process"), [Status::Fail]);
        let gone = checks
            .iter()
            .find(|c| c.check == "credential-process")
            .unwrap();
        assert!(
            gone.message.contains("profile gone (line 5)")
                && gone.message.contains("/nonexistent/awsso"),
            "{}",
            gone.message
        );
        assert!(executable_exists(
            "sh",
            Some(std::ffi::OsStr::new("/bin:/usr/bin"))
        ));
        assert!(!executable_exists(
            "no-such-tool-xyz",
            Some(std::ffi::OsStr::new("/bin"))
        ));
    }

    #[test]
    fn hand_edits_and_orphans_in_blocks() {
        let text = "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n\
            # BEGIN awsso managed block session corp\n\
            [profile a]\ncredential_process = /x/awsso creds --session corp --account-id 1 --role-name R\nregion = eu-west-1\noutput = json\n\
            [profile b]\ncredential_process = /x/awsso creds --session other --account-id 1 --role-name R\n\
            # END awsso managed block session corp\n\
            # BEGIN awsso managed block session gone\n[profile c]\nregion = x\n# END awsso managed block session gone\n";
        let config = parse(text);
        let none = |_: &SessionConfig| None;
        let checks = block_checks(&config, &none);
        assert_eq!(checks.len(), 2, "{checks:#?}");
        assert!(checks[0].message.contains("edited by hand"));
        assert!(checks[0].message.contains("output in [profile a] (line 8)"));
        assert!(
            checks[0]
                .message
                .contains("[profile b] (line 9) uses session other")
        );
        assert!(checks[1].message.contains("no longer in the config"));

        // Against what sync would write: one value changed, one profile missing.
        let expected = |_: &SessionConfig| {
            Some(vec![
                ExpectedProfile {
                    name: "a".into(),
                    entries: vec![
                        (
                            "credential_process".into(),
                            "/elsewhere/awsso creds --session corp --account-id 1 --role-name R"
                                .into(),
                        ),
                        ("region".into(), "us-east-1".into()),
                    ],
                },
                ExpectedProfile {
                    name: "z".into(),
                    entries: vec![],
                },
            ])
        };
        let checks = block_checks(&config, &expected);
        let stale = checks
            .iter()
            .find(|c| c.message.contains("not what `awsso sync` writes"))
            .unwrap();
        assert!(
            stale.message.contains("1 profile missing (e.g. z)"),
            "{}",
            stale.message
        );
        assert!(stale.message.contains("a (region)"), "{}", stale.message);
    }

    #[test]
    fn environment_shadows() {
        let config = parse("[profile dev]\nregion = x\n");
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let clean = environment_checks(&env(&[]), Some(&config));
        assert_eq!(statuses(&clean, "environment"), [Status::Ok]);
        let profile = environment_checks(&env(&[("AWS_PROFILE", "dev")]), Some(&config));
        assert_eq!(statuses(&profile, "environment"), [Status::Warn]);
        let unknown = environment_checks(&env(&[("AWS_PROFILE", "nope")]), Some(&config));
        assert_eq!(statuses(&unknown, "environment"), [Status::Fail]);
        let keys = environment_checks(
            &env(&[
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ]),
            Some(&config),
        );
        assert_eq!(statuses(&keys, "environment"), [Status::Warn]);
        assert!(!format!("{keys:?}").contains("very-secret"));
        let both = environment_checks(
            &env(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWS_PROFILE", "dev")]),
            Some(&config),
        );
        assert_eq!(statuses(&both, "environment"), [Status::Fail]);
        let inside = environment_checks(
            &env(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWSSO_PROFILE", "dev")]),
            Some(&config),
        );
        assert_eq!(statuses(&inside, "environment"), [Status::Ok]);
    }

    #[test]
    fn the_instance_trap() {
        let org = Instance {
            arn: "arn:aws:sso:::instance/ssoins-1111111111111111".into(),
            identity_store_id: "d-1111111111".into(),
            owner_account_id: "111111111111".into(),
            name: None,
            status: "ACTIVE".into(),
        };
        let account = Instance {
            arn: "arn:aws:sso:::instance/ssoins-2222222222222222".into(),
            identity_store_id: "d-2222222222".into(),
            owner_account_id: "222222222222".into(),
            name: Some("team".into()),
            status: "ACTIVE".into(),
        };
        assert_eq!(
            instances_check("eu-west-1", std::slice::from_ref(&org), None).status,
            Status::Ok
        );
        let named = instances_check(
            "eu-west-1",
            &[org.clone(), account.clone()],
            Some("222222222222"),
        );
        assert_eq!(named.status, Status::Fail);
        assert!(
            named.message.contains(
                "member account 222222222222 holds an account instance ssoins-2222222222222222"
            ),
            "{}",
            named.message
        );
        assert!(
            named
                .message
                .contains("owned by 111111111111 (the management account)")
        );
        assert!(named.message.contains("cannot be merged"));
        let unnamed = instances_check("eu-west-1", &[org, account], None);
        assert_eq!(unnamed.status, Status::Fail);
        assert!(
            unnamed.message.contains("111111111111") && unnamed.message.contains("222222222222")
        );
        assert!(unnamed.fix.unwrap().contains("AWS_ACCOUNT_ID"));
    }

    #[test]
    fn admin_endpoint_follows_the_sdk_rules() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://global/".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&env).as_deref(), Some("http://global"));
        let ignore = |k: &str| match k {
            "AWS_ENDPOINT_URL_SSO_ADMIN" => Some("http://x".to_string()),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" => Some("true".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&ignore), None);
    }
}
