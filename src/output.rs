//! Output conventions: stdout carries only what a command is asked for (tables, JSON, shell code); every
//! message for the person goes to stderr. Also the rendering of times (untrusted text: `text`).
use std::io::IsTerminal;

/// The terminal-line rendering of untrusted text, defined with the other text rules in [`crate::text`].
pub use crate::text::sanitize;

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// `2026-11-23 19:34:05 UTC` for a Unix time.
pub fn format_time(unix: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// RFC 3339 (`2026-11-23T19:34:05Z`) for a Unix time, for JSON output.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// A short human duration: `7h 59m`, `12m`, `45s`, `3d 4h`.
pub fn format_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(12 * 60 + 5), "12m");
        assert_eq!(format_duration(7 * 3600 + 59 * 60), "7h 59m");
        assert_eq!(format_duration(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(format_duration(-5), "0s");
    }

    #[test]
    fn times_render_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(rfc3339(86_400), "1970-01-02T00:00:00Z");
    }
}
