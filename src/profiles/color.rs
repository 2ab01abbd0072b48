//! Profile colours: the user's `pattern=color` rules or the built-in ones (red for production, orange for
//! staging-like, green for development-like accounts), a stable hashed colour for everything else, and
//! the translation to the eight colours Firefox containers (and so Granted) know.
use sha2::{Digest, Sha256};

use super::settings::ColorRule;

pub const RED: &str = "cc0000";
pub const ORANGE: &str = "ff9900";
pub const GREEN: &str = "2e8b57";

/// Colours for accounts no rule matches: mutually distinguishable, and far enough from red, orange and
/// green that a hashed colour is never mistaken for a warning.
pub const PALETTE: [&str; 12] = [
    "1f77b4", // blue
    "9467bd", // purple
    "8c564b", // brown
    "e377c2", // pink
    "7f7f7f", // grey
    "17becf", // cyan
    "bcbd22", // olive
    "393b79", // indigo
    "7b4173", // plum
    "0f766e", // teal
    "6baed6", // sky blue
    "5254a3", // slate blue
];

/// The colour of an account: the first matching user rule, or (when the user has none) the first
/// matching built-in rule, else a palette colour chosen by the account id.
pub fn color_for(name: &str, account_id: &str, rules: &[ColorRule]) -> String {
    let matched = if rules.is_empty() {
        builtin_color(name).map(str::to_owned)
    } else {
        let lower = name.to_lowercase();
        rules
            .iter()
            .find(|r| lower.contains(&r.pattern.to_lowercase()))
            .map(|r| r.color.clone())
    };
    matched.unwrap_or_else(|| hashed_color(account_id).to_owned())
}

/// The built-in rules. "preprod" and "non-prod" contain "prod" but are not production, so they are
/// tested first; "qa" and "uat" must be whole words ("aqua", "graduate" are not test accounts).
pub fn builtin_color(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let words = words(&lower);
    let word = |w: &str| words.iter().any(|x| x == w);
    if squashed.contains("preprod") || squashed.contains("nonprod") {
        Some(ORANGE)
    } else if lower.contains("prod") {
        Some(RED)
    } else if lower.contains("stag") || word("uat") || word("qa") {
        Some(ORANGE)
    } else if lower.contains("dev") || lower.contains("sandbox") || lower.contains("test") {
        Some(GREEN)
    } else {
        None
    }
}

/// Lowercase words: runs of letters or of digits (`qa2-eu` → `qa`, `2`, `eu`).
fn words(lower: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<bool> = None;
    for c in lower.chars() {
        let class = if c.is_alphabetic() {
            Some(true)
        } else if c.is_numeric() {
            Some(false)
        } else {
            None
        };
        match class {
            Some(k) if prev == Some(k) => out.last_mut().expect("open word").push(c),
            Some(_) => out.push(c.to_string()),
            None => {}
        }
        prev = class;
    }
    out
}

/// A palette colour picked by SHA-256 of the account id: the same on every run and machine.
pub fn hashed_color(account_id: &str) -> &'static str {
    let digest = Sha256::digest(account_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    PALETTE[(u64::from_be_bytes(first) % PALETTE.len() as u64) as usize]
}

/// Firefox container colours with the RGB values Firefox draws them in.
const CONTAINER_COLORS: [(&str, [u8; 3]); 8] = [
    ("blue", [0x37, 0xad, 0xff]),
    ("turquoise", [0x00, 0xc7, 0x9a]),
    ("green", [0x51, 0xcd, 0x00]),
    ("yellow", [0xff, 0xcb, 0x00]),
    ("orange", [0xff, 0x9f, 0x00]),
    ("red", [0xff, 0x61, 0x3d]),
    ("pink", [0xff, 0x4b, 0xda]),
    ("purple", [0xaf, 0x51, 0xf5]),
];

/// The Firefox container colour closest to `hex` (for Granted's `granted_color`, which its Firefox
/// extension accepts only as one of eight names). The built-in colours map to their obvious names.
pub fn container_color(hex: &str) -> &'static str {
    match hex {
        RED => return "red",
        ORANGE => return "orange",
        GREEN => return "green",
        _ => {}
    }
    let Some(rgb) = parse_rgb(hex) else {
        return "blue";
    };
    CONTAINER_COLORS
        .iter()
        .min_by_key(|(_, c)| distance(rgb, *c))
        .map(|(name, _)| *name)
        .unwrap_or("blue")
}

fn parse_rgb(hex: &str) -> Option<[u8; 3]> {
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// The "redmean" approximation of perceived colour distance (squared).
fn distance(a: [u8; 3], b: [u8; 3]) -> i64 {
    let (r1, g1, b1) = (i64::from(a[0]), i64::from(a[1]), i64::from(a[2]));
    let (r2, g2, b2) = (i64::from(b[0]), i64::from(b[1]), i64::from(b[2]));
    let rmean = (r1 + r2) / 2;
    let (dr, dg, db) = (r1 - r2, g1 - g2, b1 - b2);
    (((512 + rmean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rmean) * db * db) >> 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules() {
        for (name, color) in [
            ("prod-payments", Some(RED)),
            ("Production Core", Some(RED)),
            ("data-lake-PROD", Some(RED)),
            ("preprod-web", Some(ORANGE)),
            ("Pre-Prod Web", Some(ORANGE)),
            ("nonprod", Some(ORANGE)),
            ("Non-Prod shared", Some(ORANGE)),
            ("non_prod", Some(ORANGE)),
            ("staging-web", Some(ORANGE)),
            ("Stage", Some(ORANGE)),
            ("UAT", Some(ORANGE)),
            ("qa-integration", Some(ORANGE)),
            ("team-qa2", Some(ORANGE)),
            ("aqua", None),
            ("Dev Sandbox", Some(GREEN)),
            ("ML Research Dev", Some(GREEN)),
            ("load-test", Some(GREEN)),
            ("sandbox", Some(GREEN)),
            ("Shared Services", None),
            ("Log Archive", None),
            ("", None),
        ] {
            assert_eq!(builtin_color(name), color, "{name:?}");
        }
    }

    #[test]
    fn user_rules_replace_the_builtins() {
        let rules = vec![
            ColorRule {
                pattern: "PAY".into(),
                color: "123456".into(),
            },
            ColorRule {
                pattern: "pay".into(),
                color: "abcdef".into(),
            },
        ];
        assert_eq!(color_for("prod-Payments", "111111111111", &rules), "123456");
        // No user rule matches, and the built-ins are off: the hashed colour, not red.
        assert_eq!(
            color_for("prod-web", "111111111111", &rules),
            hashed_color("111111111111")
        );
        assert_eq!(color_for("prod-web", "111111111111", &[]), RED);
    }

    #[test]
    fn hashed_colour_is_stable_and_spread() {
        // Fixed expectations: a change of algorithm would recolour every user's profiles.
        assert_eq!(hashed_color("012345678901"), hashed_color("012345678901"));
        let expected: Vec<&str> = ["000000000001", "123456789012", "999999999999"]
            .iter()
            .map(|id| {
                let d = Sha256::digest(id.as_bytes());
                let n = u64::from_be_bytes(d[..8].try_into().unwrap());
                PALETTE[(n % 12) as usize]
            })
            .collect();
        assert_eq!(
            vec![
                hashed_color("000000000001"),
                hashed_color("123456789012"),
                hashed_color("999999999999")
            ],
            expected
        );
        let used: std::collections::BTreeSet<&str> = (0..200u64)
            .map(|i| hashed_color(&format!("{:012}", 100_000_000_000 + i)))
            .collect();
        assert_eq!(used.len(), PALETTE.len(), "every palette colour gets used");
        for c in PALETTE {
            assert!(
                c.len() == 6
                    && c.chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(![RED, ORANGE, GREEN].contains(&c));
        }
    }

    #[test]
    fn container_colours() {
        assert_eq!(container_color(RED), "red");
        assert_eq!(container_color(ORANGE), "orange");
        assert_eq!(container_color(GREEN), "green");
        assert_eq!(container_color("ff0000"), "red");
        assert_eq!(container_color("00aa00"), "green");
        assert_eq!(container_color("1f77b4"), "blue");
        assert_eq!(container_color("9467bd"), "purple");
        assert_eq!(container_color("ffff00"), "yellow");
        assert_eq!(container_color("00ffff"), "blue");
        assert_eq!(container_color("00c0a0"), "turquoise");
        assert_eq!(container_color("zzzzzz"), "blue");
        for c in PALETTE {
            assert!(
                CONTAINER_COLORS
                    .iter()
                    .any(|(n, _)| *n == container_color(c))
            );
        }
    }
}
