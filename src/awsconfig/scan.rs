//! The line scanner of the INI-style files awsso reads: the AWS config (`parse`) and awsso's own
//! settings file (`profiles::settings_file`), so that both agree on line numbers, line ends, comments
//! and `key = value`. Structure (sections, continuation lines, duplicates) is each reader's own.

/// `(1-based number, line without its terminator, terminator)` for every line of `text`.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.split_inclusive('\n').enumerate().map(|(i, raw)| {
        let body = raw
            .strip_suffix("\r\n")
            .or_else(|| raw.strip_suffix('\n'))
            .unwrap_or(raw);
        (i + 1, body, &raw[body.len()..])
    })
}

/// Which comments a dialect of INI has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comments {
    /// Only whole lines whose first non-blank character is `#` or `;` (the AWS config: botocore reads
    /// `key = v # x` as `v # x`).
    FullLine,
    /// Also from a `#` or `;` with whitespace before it and whitespace or the end of the line after it,
    /// so that `color = #ff9900` keeps its colour (awsso's settings file).
    Inline,
}

/// One line of an INI-style file, as [`scan`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based.
    pub number: usize,
    /// Leading whitespace, in characters (continuation lines are indented deeper).
    pub indent: usize,
    /// The line trimmed, without its inline comment where the dialect has them.
    pub text: &'a str,
    pub kind: LineKind<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind<'a> {
    Blank,
    Comment,
    /// `text` starts with `[`; each reader checks the rest.
    Header,
    /// `key = value`, split at the first `=`, both sides trimmed; the key may be empty.
    Setting {
        key: &'a str,
        value: &'a str,
    },
    /// Neither: no `=` in it.
    Other,
}

/// The line scanner both INI-style files awsso reads go through (the AWS config here, awsso's own
/// settings in `profiles`), so that they agree on line numbers, line ends, comments and `key = value`:
/// a UTF-8 BOM before the first line is read past, a line ends at LF or CRLF, and a carriage return
/// anywhere else is an error `(line, message)`.
pub(crate) fn scan(
    text: &str,
    comments: Comments,
) -> impl Iterator<Item = Result<Line<'_>, (usize, String)>> {
    lines(text).map(move |(n, raw, terminator)| {
        let mut line = if n == 1 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        if terminator.is_empty() {
            // A CRLF file cut off between its CR and LF.
            line = line.strip_suffix('\r').unwrap_or(line);
        }
        if line.contains('\r') {
            return Err((n, "stray carriage return (\\r) inside the line".to_owned()));
        }
        let indent = line.chars().take_while(|c| c.is_whitespace()).count();
        let mut text = line.trim();
        let kind = if text.is_empty() {
            LineKind::Blank
        } else if text.starts_with('#') || text.starts_with(';') {
            LineKind::Comment
        } else {
            if comments == Comments::Inline {
                text = without_inline_comment(text);
            }
            if text.starts_with('[') {
                LineKind::Header
            } else if let Some((key, value)) = text.split_once('=') {
                LineKind::Setting {
                    key: key.trim(),
                    value: value.trim(),
                }
            } else {
                LineKind::Other
            }
        };
        Ok(Line {
            number: n,
            indent,
            text,
            kind,
        })
    })
}

/// `trimmed` up to its first `#`/`;` that has whitespace before it and whitespace or the end after it.
fn without_inline_comment(trimmed: &str) -> &str {
    let chars: Vec<(usize, char)> = trimmed.char_indices().collect();
    for (w, &(at, c)) in chars.iter().enumerate() {
        let before = w > 0 && chars[w - 1].1.is_whitespace();
        let after = chars.get(w + 1).is_none_or(|(_, n)| n.is_whitespace());
        if (c == '#' || c == ';') && before && after {
            return trimmed[..at].trim_end();
        }
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, comments: Comments) -> Vec<(usize, usize, &str, LineKind<'_>)> {
        scan(text, comments)
            .map(|l| l.unwrap())
            .map(|l| (l.number, l.indent, l.text, l.kind))
            .collect()
    }

    #[test]
    fn lines_are_classified_in_both_dialects() {
        let text = "\u{feff}[a] # x\r\n  k = v # c\n\n ; note\nbare\n";
        use LineKind::*;
        let setting = |key, value| Setting { key, value };
        assert_eq!(
            kinds(text, Comments::FullLine),
            [
                (1, 0, "[a] # x", Header),
                (2, 2, "k = v # c", setting("k", "v # c")),
                (3, 0, "", Blank),
                (4, 1, "; note", Comment),
                (5, 0, "bare", Other),
            ]
        );
        assert_eq!(
            kinds(text, Comments::Inline),
            [
                (1, 0, "[a]", Header),
                (2, 2, "k = v", setting("k", "v")),
                (3, 0, "", Blank),
                (4, 1, "; note", Comment),
                (5, 0, "bare", Other),
            ]
        );
        // Not comments: a `#` without whitespace on both sides.
        assert_eq!(
            kinds("c = #ff9900 a;b #\n", Comments::Inline)[0].3,
            setting("c", "#ff9900 a;b")
        );
        assert_eq!(kinds(" = x", Comments::Inline)[0].3, setting("", "x"));
    }

    #[test]
    fn carriage_returns_inside_a_line_are_errors() {
        let errors: Vec<_> = scan("a = 1\r\nb = 2\rc = 3\nd = 4\r", Comments::FullLine)
            .filter_map(Result::err)
            .collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 2);
        assert!(errors[0].1.contains("carriage return"), "{}", errors[0].1);
    }
}
