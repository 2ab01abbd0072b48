//! Untrusted text (server names and messages, the user's files) made safe to show or to write: the one
//! definition of the characters that hide or reorder text, and the terminal-line rendering every message
//! uses. Config values built from such text (`profiles::naming::value_text`) blank the same characters.

/// Characters that show nothing but can make a name look like another one, or reorder what a terminal
/// or an editor shows after them: the soft hyphen, the Arabic letter mark, the Mongolian vowel separator,
/// zero-width spaces and joiners, the left-to-right/right-to-left marks, embeddings, overrides and
/// isolates, the word joiner and invisible operators, the byte-order mark (zero-width no-break space),
/// and the interlinear annotation marks. Control characters are apart: `char::is_control`.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Makes untrusted text (server messages, account names) safe to show on one terminal line: control
/// characters, including ESC and newlines, and [invisible](is_invisible) ones become `?`, and the text is
/// cut at `max` characters.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || is_invisible(c) {
                '?'
            } else {
                c
            }
        })
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_neutralises_control_characters() {
        assert_eq!(sanitize("a\nb\x1b[31mc\t", 100), "a?b?[31mc?");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("日本🚀", 10), "日本🚀");
        assert_eq!(
            sanitize("evil\u{202E}gpj.exe\u{200B}", 100),
            "evil?gpj.exe?"
        );
    }

    /// Every character either of the two former sets (terminal output, config values) held: the
    /// terminal's lacked the soft hyphen, U+180E, U+206A-206F and U+FFF9-FFFB; the values' lacked U+2065.
    #[test]
    fn one_set_of_invisible_characters() {
        let expected: Vec<char> = [
            0x00ad..=0x00ad,
            0x061c..=0x061c,
            0x180e..=0x180e,
            0x200b..=0x200f,
            0x202a..=0x202e,
            0x2060..=0x206f,
            0xfeff..=0xfeff,
            0xfff9..=0xfffb,
        ]
        .into_iter()
        .flatten()
        .filter_map(char::from_u32)
        .collect();
        let found: Vec<char> = ('\0'..=char::MAX).filter(|c| is_invisible(*c)).collect();
        assert_eq!(found, expected);
        for c in expected {
            assert_eq!(sanitize(&format!("a{c}b"), 10), "a?b", "U+{:04X}", c as u32);
        }
        for visible in ['a', ' ', '-', 'é', '日', '\u{2028}', '\u{00a0}'] {
            assert!(!is_invisible(visible), "U+{:04X}", visible as u32);
        }
    }
}
