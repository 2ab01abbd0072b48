//! The local clock against a server's: the `Date` header of an answer, compared with the local time halfway
//! through the request. awsso's expiry arithmetic and AWS's SigV4 both depend on it.
use super::Check;
use crate::output::format_duration;

/// Parses an HTTP `Date` header (IMF-fixdate) to Unix seconds; the one parser, shared with the SSO client.
pub use crate::sso::clock::parse_http_date;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

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
}
