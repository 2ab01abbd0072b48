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

/// Names shown to the person come from files and servers: one safe line each.
fn show(s: &str) -> String {
    sanitize(s, 100)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
