//! The checks behind `awsso doctor`: the verdict types ([`Status`], [`Check`]) here, one file per concern
//! beside them (`config`, `tokens`, `clock`, `profiles`, `blocks`, `environment`, `instances`). Each check
//! looks at one thing and says ok, warn or fail, in one line, with the fix. The checks are plain functions
//! over what they inspect (the parsed config, a token record, an environment lookup, a `Date` header), so
//! their unit tests reach every verdict without a keyring or a network; `cmd::doctor` gathers those inputs
//! and runs them.
//!
//! The Identity Center instance check (`--instances`) is the one that calls AWS: sso-admin ListInstances,
//! signed with SigV4 by the SDK.
mod blocks;
mod clock;
mod config;
mod environment;
mod instances;
mod profiles;
mod tokens;

use serde::Serialize;

pub use blocks::{ExpectedProfile, block_checks, expected_profiles};
pub use clock::{SKEW_FAIL, SKEW_WARN, clock_check, parse_http_date};
pub use config::{config_check, config_shape_checks, duplicate_sessions, session_checks};
pub use environment::environment_checks;
pub use instances::{Instance, instances_check};
pub use profiles::{awsso_command, executable_exists, legacy_checks, profile_checks};
pub use tokens::token_checks;

use crate::output::sanitize;

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

/// The findings as `awsso doctor` prints them: one line per finding (its fix indented below), the
/// verdicts coloured when `color`, then the tally.
pub fn report(checks: &[Check], color: bool) -> String {
    use std::fmt::Write;

    let paint = |status: Status| -> (&'static str, &'static str) {
        if !color {
            return ("", "");
        }
        match status {
            Status::Ok => ("\x1b[32m", "\x1b[0m"),
            Status::Warn => ("\x1b[1;33m", "\x1b[0m"),
            Status::Fail => ("\x1b[1;31m", "\x1b[0m"),
        }
    };
    let mut out = String::new();
    let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for c in checks {
        let (on, off) = paint(c.status);
        let _ = writeln!(
            out,
            "{on}{:<4}{off}  {:<width$}  {}",
            c.status.name(),
            c.check,
            c.message
        );
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "{:<4}  {:<width$}  fix: {fix}", "", "");
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "\n{} ok, {} warning{}, {} failure{}",
        count(Status::Ok),
        count(Status::Warn),
        if count(Status::Warn) == 1 { "" } else { "s" },
        count(Status::Fail),
        if count(Status::Fail) == 1 { "" } else { "s" },
    );
    out
}

/// Names shown to the person come from files and servers: one safe line each.
fn show(s: &str) -> String {
    sanitize(s, 100)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_aligns_findings_and_counts_them() {
        let checks = [
            Check::ok("store", "works"),
            Check::warn("environment", "AWS_PROFILE is set", "unset it"),
            Check::fail("config", "does not parse", "fix line 3"),
        ];
        let plain = report(&checks, false);
        // Status (4) and the widest check name (11) padded, two spaces after each: fixes line up under
        // the messages.
        let under = " ".repeat(4 + 2 + 11 + 2);
        assert_eq!(
            plain,
            format!(
                "ok    store        works\n\
                 warn  environment  AWS_PROFILE is set\n\
                 {under}fix: unset it\n\
                 fail  config       does not parse\n\
                 {under}fix: fix line 3\n\
                 \n1 ok, 1 warning, 1 failure\n"
            )
        );
        assert!(!plain.contains('\x1b'));
        let coloured = report(&checks, true);
        assert!(
            coloured.starts_with("\x1b[32mok  \x1b[0m  store"),
            "{coloured:?}"
        );
        assert!(report(&[], false).ends_with("0 ok, 0 warnings, 0 failures\n"));
    }
}

#[cfg(test)]
mod test_support {
    use std::path::Path;

    use super::{Check, Status};
    use crate::awsconfig::ConfigFile;

    pub fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("/c"), text.into()).unwrap()
    }

    pub fn statuses(checks: &[Check], name: &str) -> Vec<Status> {
        checks
            .iter()
            .filter(|c| c.check == name)
            .map(|c| c.status)
            .collect()
    }
}
