//! The segment `awsso prompt` prints for a shell prompt: which profile this shell uses, how long its
//! credentials have left, in the profile's colour. It runs before every prompt, so it reads only the
//! environment, the AWS config and the kernel-keyring cache: no network, no D-Bus.
use crate::output::sanitize;

/// Below this, the segment carries a warning mark.
pub const WARN_BELOW: i64 = 10 * 60;
pub const WARNING_MARK: &str = "⚠";

/// How the prompt's shell wants non-printing sequences marked, so that line editing counts widths right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PromptShell {
    /// Raw escape sequences (fish, starship, tmux, a terminal title).
    Plain,
    /// Wrapped in \001…\002, which readline skips when it measures `PS1`.
    Bash,
    /// Wrapped in %{…%}, for PROMPT with `setopt prompt_subst`.
    Zsh,
}

/// Where the active profile was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Active {
    pub name: String,
    /// `AWS_CREDENTIAL_EXPIRATION` of an `awsso env`/`exec` environment, when set.
    pub expiration: Option<i64>,
}

/// The profile this environment uses: `awsso env`/`exec`'s AWSSO_PROFILE, else AWS_PROFILE (which
/// `awsso use` sets and clears AWSSO_PROFILE for).
pub fn active(var: impl Fn(&str) -> Option<String>) -> Option<Active> {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    if let Some(name) = set(crate::vars::PROFILE) {
        // The expiry belongs to the keys `awsso env`/`exec` exported with the marker; next to a bare
        // AWS_PROFILE it could be anyone's.
        let expiration = set("AWS_CREDENTIAL_EXPIRATION").and_then(|v| parse_rfc3339(&v));
        return Some(Active { name, expiration });
    }
    set("AWS_PROFILE").map(|name| Active {
        name,
        expiration: None,
    })
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The lines of `[profile NAME]` (`[default]` for `default`) in a config's text, header included, comments
/// dropped: what the prompt parses instead of the whole file, which costs milliseconds with thousands of
/// profiles. The first such section, as the SDKs read it.
pub fn section_text(text: &str, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            if out.is_some() {
                break;
            }
            let inner = t[1..t.len() - 1].trim();
            let named = inner
                .strip_prefix("profile")
                .filter(|rest| rest.starts_with([' ', '\t']))
                .map(str::trim);
            if named == Some(name) || (name == "default" && inner == "default") {
                out = Some(format!("{t}\n"));
            }
            continue;
        }
        if let Some(o) = out.as_mut()
            && !t.starts_with('#')
            && !t.starts_with(';')
        {
            o.push_str(line);
            o.push('\n');
        }
    }
    out
}

/// `rrggbb` (or `#rrggbb`) to RGB.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.trim().trim_start_matches('#');
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// The segment: `name 42m`, `name ⚠ 7m`, `name ⚠ expired`, or `name` when the time is unknown.
pub fn render(name: &str, left: Option<i64>, color: Option<[u8; 3]>, shell: PromptShell) -> String {
    // The name comes from the environment or a config that may hold server-chosen text.
    let mut text = sanitize(name, 64);
    if shell == PromptShell::Zsh {
        text = text.replace('%', "%%");
    }
    match left {
        Some(s) if s <= 0 => text.push_str(&format!(" {WARNING_MARK} expired")),
        Some(s) if s < WARN_BELOW => text.push_str(&format!(
            " {WARNING_MARK} {}",
            crate::output::format_duration(s)
        )),
        Some(s) => text.push_str(&format!(" {}", crate::output::format_duration(s))),
        None => {}
    }
    let Some([r, g, b]) = color else {
        return text;
    };
    let (open, close) = match shell {
        PromptShell::Plain => ("", ""),
        PromptShell::Bash => ("\x01", "\x02"),
        PromptShell::Zsh => ("%{", "%}"),
    };
    format!("{open}\x1b[38;2;{r};{g};{b}m{close}{text}{open}\x1b[0m{close}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_awsso_environment_wins_over_aws_profile() {
        let a = active(env(&[
            ("AWS_PROFILE", "mine"),
            (crate::vars::PROFILE, "theirs"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:00:00Z"),
        ]))
        .unwrap();
        assert_eq!(a.name, "theirs");
        assert_eq!(a.expiration, Some(1_767_225_600));
        assert_eq!(active(env(&[("AWS_PROFILE", "")])), None);
        let bare = active(env(&[
            ("AWS_PROFILE", "mine"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:00:00Z"),
        ]));
        assert_eq!(bare.unwrap().expiration, None);
    }

    #[test]
    fn only_the_named_section_is_cut_out() {
        let text = "[profile a]\nx = 1\n# BEGIN awsso managed block s\n[profile  b ]\ny = 2\n; note\n  z = 3\n# END awsso managed block s\n[profile c]\nw = 4\n[default]\nd = 5\n";
        assert_eq!(
            section_text(text, "b").unwrap(),
            "[profile  b ]\ny = 2\n  z = 3\n"
        );
        assert_eq!(section_text(text, "default").unwrap(), "[default]\nd = 5\n");
        assert_eq!(section_text(text, "nope"), None);
        assert_eq!(section_text("[profilex]\n", "x"), None);
    }

    #[test]
    fn the_segment_warns_and_colours() {
        assert_eq!(render("p", Some(3600), None, PromptShell::Plain), "p 1h 0m");
        assert_eq!(render("p", Some(300), None, PromptShell::Plain), "p ⚠ 5m");
        assert_eq!(
            render("p", Some(-1), None, PromptShell::Plain),
            "p ⚠ expired"
        );
        assert_eq!(
            render("p", None, Some([204, 0, 0]), PromptShell::Bash),
            "\x01\x1b[38;2;204;0;0m\x02p\x01\x1b[0m\x02"
        );
        assert_eq!(
            render("a\x1b[2J%b", None, None, PromptShell::Zsh),
            "a?[2J%%b"
        );
        assert_eq!(parse_hex("#cc0000"), Some([204, 0, 0]));
        assert_eq!(parse_hex("red"), None);
    }
}
