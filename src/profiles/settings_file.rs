//! Reading awsso's settings file: the line structure, the sections `[defaults]`, `[session NAME]` and
//! `[account ID]` and their keys, each validated with an error naming the file, section and key, and
//! how they combine into the [`Settings`] of one session. The format is documented in the parent module.
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::awsconfig::{Comments, LineKind, scan};

use super::filter::Filter;
use super::settings::{AccountOverride, ColorRule, Hints, Settings, SettingsError};
use super::template::{DEFAULT_TEMPLATE, TEMPLATE_HINT, check_template, parse_template};

/// Reads `path` and resolves the settings of `session`. A missing file means the defaults; every section
/// of the file is validated, not only the ones that apply to `session`, so mistakes surface at once.
pub fn load_settings(path: &Path, session: &str) -> Result<Settings, SettingsError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| SettingsError::Read {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "the file is not valid UTF-8"),
    })?;
    Ok(SettingsFile::parse(path, &text)?.resolve(session))
}

/// Settings that `[defaults]` sets and `[session NAME]` overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layer {
    template: Option<String>,
    region: Option<String>,
    colors: Option<Vec<ColorRule>>,
    hints: Option<Hints>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
}

/// The whole file, validated.
#[derive(Debug, Default)]
struct SettingsFile {
    defaults: Layer,
    sessions: BTreeMap<String, Layer>,
    accounts: BTreeMap<String, AccountOverride>,
}

impl SettingsFile {
    fn parse(path: &Path, text: &str) -> Result<SettingsFile, SettingsError> {
        let invalid = |section: Option<&str>, key: Option<&str>, problem: String, hint: &str| {
            SettingsError::Invalid {
                path: path.to_path_buf(),
                section: section.map(str::to_owned),
                key: key.map(str::to_owned),
                problem,
                hint: hint.to_owned(),
            }
        };
        const SYNTAX_HINT: &str =
            "write `[section]` headers and `key = value` lines; `#` or `;` starts a comment";
        let sections = read_sections(text).map_err(|(line, problem)| {
            invalid(None, None, format!("line {line}: {problem}"), SYNTAX_HINT)
        })?;

        let mut file = SettingsFile::default();
        let mut seen_sections: Vec<String> = Vec::new();
        for (section, props) in &sections {
            let Some(section) = *section else {
                if let Some((key, _)) = props.first() {
                    return Err(invalid(
                        None,
                        Some(key),
                        "this setting comes before any [section]".into(),
                        "put it under [defaults], [session NAME] or [account ACCOUNT_ID]",
                    ));
                }
                continue;
            };
            let words: Vec<&str> = section.split_whitespace().collect();
            let canonical = words.join(" ");
            if seen_sections.contains(&canonical) {
                return Err(invalid(
                    Some(section),
                    None,
                    "this section appears twice".into(),
                    "merge the two sections into one",
                ));
            }
            seen_sections.push(canonical);

            let mut seen_keys: Vec<String> = Vec::new();
            let mut entries = Vec::new();
            for &(key, value) in props {
                let key_lc = key.trim().to_ascii_lowercase();
                if seen_keys.contains(&key_lc) {
                    return Err(invalid(
                        Some(section),
                        Some(key),
                        "is set twice".into(),
                        "keep one of the two lines",
                    ));
                }
                seen_keys.push(key_lc.clone());
                let value = value.trim();
                if value.is_empty() {
                    return Err(invalid(
                        Some(section),
                        Some(key),
                        "has no value".into(),
                        "give it a value, or delete the line to use the default",
                    ));
                }
                entries.push((key_lc, key, value));
            }

            let kind = words.first().map(|w| w.to_ascii_lowercase());
            match (kind.as_deref(), words.len()) {
                (Some("defaults"), 1) => {
                    file.defaults = parse_layer(section, &entries, &invalid)?;
                }
                (Some("session"), 2) => {
                    let name = words[1];
                    if !crate::awsconfig::is_safe_section_name(name) {
                        return Err(invalid(
                            Some(section),
                            None,
                            format!("{name:?} cannot be an sso-session name"),
                            "use the name of an [sso-session NAME] section of the AWS config",
                        ));
                    }
                    let layer = parse_layer(section, &entries, &invalid)?;
                    file.sessions.insert(name.to_owned(), layer);
                }
                (Some("account"), 2) => {
                    let id = words[1];
                    if id.parse::<crate::ids::AccountId>().is_err() {
                        return Err(invalid(
                            Some(section),
                            None,
                            format!("{id:?} is not an AWS account id"),
                            "write the 12-digit account id, e.g. [account 012345678901]",
                        ));
                    }
                    let account = parse_account(section, &entries, &invalid)?;
                    file.accounts.insert(id.to_owned(), account);
                }
                _ => {
                    return Err(invalid(
                        Some(section),
                        None,
                        "unknown section".into(),
                        "the sections are [defaults], [session NAME] and [account ACCOUNT_ID]",
                    ));
                }
            }
        }
        Ok(file)
    }

    fn resolve(self, session: &str) -> Settings {
        let over = self.sessions.get(session).cloned().unwrap_or_default();
        let d = self.defaults;
        Settings {
            template: over
                .template
                .or(d.template)
                .unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned()),
            region: over.region.or(d.region),
            color_rules: over.colors.or(d.colors).unwrap_or_default(),
            accounts: self.accounts,
            hints: over.hints.or(d.hints).unwrap_or_default(),
            include: over.include.or(d.include).unwrap_or_default(),
            exclude: over.exclude.or(d.exclude).unwrap_or_default(),
        }
    }
}

type Entries<'a> = [(String, &'a str, &'a str)];

fn parse_layer<F>(section: &str, entries: &Entries<'_>, invalid: &F) -> Result<Layer, SettingsError>
where
    F: Fn(Option<&str>, Option<&str>, String, &str) -> SettingsError,
{
    let mut layer = Layer::default();
    for (key_lc, key, value) in entries {
        let err = |problem: String, hint: &str| invalid(Some(section), Some(key), problem, hint);
        match key_lc.as_str() {
            "template" => {
                check_template(value).map_err(|p| err(p, TEMPLATE_HINT))?;
                layer.template = Some((*value).to_owned());
            }
            "region" => layer.region = Some(parse_region(value).map_err(|p| err(p, REGION_HINT))?),
            "colors" | "colours" => layer.colors = Some(parse_color_rules(value).map_err(|p| {
                err(
                    p,
                    "write pattern=color pairs separated by commas, e.g. prod=cc0000, dev=2e8b57",
                )
            })?),
            "hints" => {
                layer.hints = Some(Hints::parse(value).ok_or_else(|| {
                    err(
                        format!("{value:?} is not a hint level"),
                        "write hints = full, minimal or none",
                    )
                })?)
            }
            "include" | "exclude" => {
                let patterns = split_patterns(value);
                let (include, exclude): (&[String], &[String]) = if key_lc == "include" {
                    (&patterns, &[])
                } else {
                    (&[], &patterns)
                };
                Filter::new(include, exclude).map_err(|e| {
                    err(
                        e.to_string(),
                        "write glob patterns separated by commas, e.g. prod-*, *-sandbox-*/Admin*",
                    )
                })?;
                if key_lc == "include" {
                    layer.include = Some(patterns);
                } else {
                    layer.exclude = Some(patterns);
                }
            }
            _ => {
                return Err(err(
                    "unknown setting".into(),
                    "the settings of this section are template, region, colors, hints, include and \
                     exclude",
                ));
            }
        }
    }
    Ok(layer)
}

fn parse_account<F>(
    section: &str,
    entries: &Entries<'_>,
    invalid: &F,
) -> Result<AccountOverride, SettingsError>
where
    F: Fn(Option<&str>, Option<&str>, String, &str) -> SettingsError,
{
    let mut account = AccountOverride::default();
    for (key_lc, key, value) in entries {
        let err = |problem: String, hint: &str| invalid(Some(section), Some(key), problem, hint);
        match key_lc.as_str() {
            "name" => {
                if value.chars().count() > 200 || !crate::awsconfig::is_safe_value(value) {
                    return Err(err(
                        "must be one line of at most 200 characters".into(),
                        "shorten the name",
                    ));
                }
                account.name = Some((*value).to_owned());
            }
            "region" => {
                account.region = Some(parse_region(value).map_err(|p| err(p, REGION_HINT))?)
            }
            "color" | "colour" => {
                account.color = Some(parse_color(value).map_err(|p| err(p, COLOR_HINT))?)
            }
            "profile" => {
                parse_template(value).map_err(|p| err(p, TEMPLATE_HINT))?;
                account.profile_name = Some((*value).to_owned());
            }
            _ => {
                return Err(err(
                    "unknown setting".into(),
                    "the settings of an [account] section are name, region, color and profile",
                ));
            }
        }
    }
    Ok(account)
}

const REGION_HINT: &str = "write a region code such as eu-west-1";
const COLOR_HINT: &str = "write 6 hex digits, e.g. ff9900 (a leading # is allowed)";

/// The one region rule of awsso ([`crate::ids::Region`]), with the settings file's message.
fn parse_region(v: &str) -> Result<String, String> {
    v.parse::<crate::ids::Region>()
        .map(crate::ids::Region::into_string)
        .map_err(|e| e.to_string())
}

/// `ff9900`, `#FF9900` → `ff9900`.
pub(crate) fn parse_color(v: &str) -> Result<String, String> {
    let hex = v.strip_prefix('#').unwrap_or(v);
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(format!("{v:?} is not a colour of 6 hex digits"))
    }
}

/// `a, b{x,y}c` → `["a", "b{x,y}c"]`: commas split, except inside a glob's `{…}`.
fn split_patterns(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in v.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(v[start..i].trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(v[start..].trim().to_owned());
    out.retain(|p| !p.is_empty());
    out
}

fn parse_color_rules(v: &str) -> Result<Vec<ColorRule>, String> {
    let mut rules = Vec::new();
    for item in v.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (pattern, color) = item
            .rsplit_once('=')
            .ok_or_else(|| format!("{item:?} is not pattern=color"))?;
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(format!("{item:?} has no pattern before `=`"));
        }
        rules.push(ColorRule {
            pattern: pattern.to_owned(),
            color: parse_color(color.trim())?,
        });
    }
    if rules.is_empty() {
        return Err("no pattern=color pair".into());
    }
    Ok(rules)
}

/// A section as written: its header between the brackets, trimmed (`None` for what comes before the
/// first header), and its `(key, value)` lines.
type RawSection<'a> = (Option<&'a str>, Vec<(&'a str, &'a str)>);

/// The file's sections in order, read by the AWS config's line scanner in the dialect of this file
/// (inline comments; no continuation lines, so indentation means nothing; quotes and backslashes are
/// ordinary characters). A line that is neither `[section]` nor `key = value` is an error `(line,
/// problem)`, reported before anything else in the file.
fn read_sections(text: &str) -> Result<Vec<RawSection<'_>>, (usize, String)> {
    let mut sections: Vec<RawSection<'_>> = vec![(None, Vec::new())];
    for line in scan(text, Comments::Inline) {
        let line = line?;
        let problem = match line.kind {
            LineKind::Blank | LineKind::Comment => continue,
            LineKind::Header => {
                let inner = line
                    .text
                    .strip_prefix('[')
                    .and_then(|b| b.strip_suffix(']'));
                match inner {
                    Some(inner) if !inner.trim().is_empty() && !inner.contains(['[', ']']) => {
                        sections.push((Some(inner.trim()), Vec::new()));
                        continue;
                    }
                    _ => "a section header is `[name]` alone on its line",
                }
            }
            LineKind::Setting { key, value } if !key.is_empty() && !key.contains(':') => {
                let (_, entries) = sections
                    .last_mut()
                    .expect("the first section is always there");
                entries.push((key, value));
                continue;
            }
            LineKind::Setting { .. } | LineKind::Other => "expected `key = value`",
        };
        return Err((line.number, problem.to_owned()));
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SettingsFile, SettingsError> {
        SettingsFile::parse(Path::new("/cfg/awsso/config"), text)
    }

    const EXAMPLE: &str = "\
# applies to every session
[defaults]
template = {account_name}/{role_name}
colors = prod=ff0000, staging=ff9900, dev=#00AA00     # pattern=hex, ordered

[session corp]            # overrides [defaults] for session corp
template = corp-{account_name}-{role_name}
region = eu-west-1

  ; an indented comment
[account 123456789012]    # per account
name = payments-prod
region = us-west-2
color = #00ffff   ; cyan
profile = payments      # optional full profile-name override
";

    #[test]
    fn example_file_resolves_per_session() {
        let file = parse(EXAMPLE).unwrap();
        let corp = file.resolve("corp");
        assert_eq!(corp.template, "corp-{account_name}-{role_name}");
        assert_eq!(corp.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            corp.color_rules,
            vec![
                ColorRule {
                    pattern: "prod".into(),
                    color: "ff0000".into()
                },
                ColorRule {
                    pattern: "staging".into(),
                    color: "ff9900".into()
                },
                ColorRule {
                    pattern: "dev".into(),
                    color: "00aa00".into()
                },
            ]
        );
        let acct = &corp.accounts["123456789012"];
        assert_eq!(acct.name.as_deref(), Some("payments-prod"));
        assert_eq!(acct.region.as_deref(), Some("us-west-2"));
        assert_eq!(acct.color.as_deref(), Some("00ffff"));
        assert_eq!(acct.profile_name.as_deref(), Some("payments"));

        let other = parse(EXAMPLE).unwrap().resolve("other");
        assert_eq!(other.template, DEFAULT_TEMPLATE);
        assert_eq!(other.region, None);
        assert_eq!(other.color_rules.len(), 3);
        assert_eq!(other.accounts.len(), 1);
    }

    #[test]
    fn filters_per_session_over_defaults() {
        let f = parse(
            "[defaults]\ninclude = prod-*, {dev,qa}-*/Admin*\nexclude = *ReadOnly*\n\
             [session a]\ninclude = 1111*\n",
        )
        .unwrap();
        let a = f.resolve("a");
        assert_eq!(a.include, ["1111*"]);
        assert_eq!(a.exclude, ["*ReadOnly*"]);
        let f = parse("[defaults]\ninclude = prod-*, {dev,qa}-*/Admin*\n").unwrap();
        assert_eq!(f.resolve("b").include, ["prod-*", "{dev,qa}-*/Admin*"]);
        let e = parse("[session a]\nexclude = [abc\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("[session a] exclude: \"[abc\" is not a glob"),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("separated by commas"));
    }

    #[test]
    fn hints_per_session_over_defaults() {
        let f = parse("[defaults]\nhints = full\n[session a]\nhints = None\n").unwrap();
        assert_eq!(f.resolve("a").hints, Hints::None);
        let f = parse("[defaults]\nhints = full\n[session a]\nhints = None\n").unwrap();
        assert_eq!(f.resolve("b").hints, Hints::Full);
        assert_eq!(parse("").unwrap().resolve("b").hints, Hints::Minimal);
        let e = parse("[defaults]\nhints = some\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("[defaults] hints: \"some\" is not a hint level"),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("full, minimal or none"));
    }

    #[test]
    fn missing_file_is_defaults_and_bad_utf8_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = load_settings(&dir.path().join("nope"), "corp").unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.template, "{account_name}/{role_name}");

        let path = dir.path().join("config");
        std::fs::write(&path, EXAMPLE).unwrap();
        assert_eq!(
            load_settings(&path, "corp").unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        std::fs::write(&path, b"[defaults]\nregion = \xff\n").unwrap();
        let e = load_settings(&path, "corp").unwrap_err();
        assert!(e.hint().unwrap().contains("UTF-8"), "{e}");
    }

    #[test]
    fn errors_name_the_file_section_and_key_with_a_hint() {
        let cases = [
            (
                "[defaults]\ntemplate = {acct}/{role_name}\n",
                "[defaults] template: unknown placeholder {acct}",
                "{account_name}",
            ),
            (
                "[defaults]\ncolors = prod=red\n",
                "[defaults] colors: \"red\" is not a colour",
                "pattern=color",
            ),
            (
                "[defaults]\ncolors = prod\n",
                "[defaults] colors: \"prod\" is not pattern=color",
                "pattern=color",
            ),
            (
                "[session corp]\nregion = EU West\n",
                "[session corp] region: \"EU West\" is not a region",
                "eu-west-1",
            ),
            (
                "[account 123456789012]\ncolor = 12345\n",
                "[account 123456789012] color: \"12345\"",
                "6 hex digits",
            ),
            (
                "[account 123456789012]\nprofile = pay ments\n",
                "[account 123456789012] profile: ' '",
                "{account_name}",
            ),
            (
                "[account 123456789012]\nprofile = {x}\n",
                "[account 123456789012] profile: unknown placeholder {x}",
                "{role_name}",
            ),
            (
                "[account 123456789012]\nnickname = x\n",
                "[account 123456789012] nickname: unknown setting",
                "name, region, color and profile",
            ),
            (
                "[account 12345]\nname = x\n",
                "[account 12345]: \"12345\" is not an AWS account id",
                "12-digit",
            ),
            (
                "[profile x]\nregion = us-east-1\n",
                "[profile x]: unknown section",
                "[defaults]",
            ),
            (
                "[defaults]\nregion = us-east-1\nREGION = eu-west-1\n",
                "[defaults] REGION: is set twice",
                "keep one",
            ),
            (
                "[defaults]\nregion =\n",
                "[defaults] region: has no value",
                "delete the line",
            ),
            (
                "region = us-east-1\n",
                "region: this setting comes before any [section]",
                "[defaults]",
            ),
            (
                "[defaults]\n[defaults]\n",
                "[defaults]: this section appears twice",
                "merge",
            ),
            (
                "[session a b]\n",
                "[session a b]: unknown section",
                "[session NAME]",
            ),
        ];
        for (text, message, hint) in cases {
            let e = parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text:?} parsed"));
            let shown = e.to_string();
            assert!(shown.starts_with("/cfg/awsso/config: "), "{shown}");
            assert!(shown.contains(message), "{text:?}: {shown}");
            assert!(e.hint().unwrap().contains(hint), "{text:?}: {:?}", e.hint());
        }
    }

    #[test]
    fn values_keep_quotes_backslashes_and_hex_hashes() {
        let f = parse(
            "[account 123456789012]\nname = O'Brien \"Ltd\" C:\\x # trailing\ncolor=#ABCDEF\n",
        )
        .unwrap();
        let a = &f.accounts["123456789012"];
        assert_eq!(a.name.as_deref(), Some("O'Brien \"Ltd\" C:\\x"));
        assert_eq!(a.color.as_deref(), Some("abcdef"));
    }

    #[test]
    fn comments_and_line_structure() {
        let entries = |text: &str| -> Vec<(String, String)> {
            let sections = read_sections(text).unwrap();
            sections
                .into_iter()
                .flat_map(|(_, e)| e)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let one = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert_eq!(entries("a = b # c\n"), one("a", "b"));
        assert_eq!(entries("a = b ;c ; d\r\n"), one("a", "b ;c"));
        assert_eq!(entries("c = #fff000 #"), one("c", "#fff000"));
        assert_eq!(
            entries("  indented  =  kept apart \n"),
            one("indented", "kept apart")
        );
        let headers: Vec<_> = read_sections("  # x\n  [s] ;\n[ t  u ]\n")
            .unwrap()
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        assert_eq!(headers, [None, Some("s"), Some("t  u")]);
        for (text, line) in [
            ("[defaults]\nregion = x\n[session oops\n", 3),
            ("[defaults]\n\nregion\n", 3),
            ("[defaults]\ntemplate: {account_id}\n", 2),
            ("[a] x\n", 1),
            ("[]\n", 1),
            ("[defaults]\n = x\n", 2),
        ] {
            assert_eq!(read_sections(text).unwrap_err().0, line, "{text:?}");
            let e = parse(text).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("/cfg/awsso/config: line {line}: ")),
                "{e}"
            );
            assert!(e.hint().unwrap().contains("key = value"));
        }
    }

    /// The rules the settings file now shares with the AWS config's scanner (rust-ini's differed): a
    /// UTF-8 BOM is read past, a carriage return inside a line is an error with its line number, and a
    /// backslash at the end of a value is an ordinary character, not a line continuation.
    #[test]
    fn read_by_the_aws_config_scanner() {
        let f = parse("\u{feff}[defaults]\nregion = eu-west-1\n").unwrap();
        assert_eq!(f.resolve("x").region.as_deref(), Some("eu-west-1"));

        let e = parse("[defaults]\nregion = us-east-1\rtemplate = {account_id}\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/cfg/awsso/config: line 2: stray carriage return"),
            "{e}"
        );

        let f = parse("[account 123456789012]\nname = back\\\nregion = us-west-2\n").unwrap();
        let a = &f.accounts["123456789012"];
        assert_eq!(a.name.as_deref(), Some("back\\"));
        assert_eq!(a.region.as_deref(), Some("us-west-2"));
    }
}
