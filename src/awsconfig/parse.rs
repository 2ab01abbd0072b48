//! Reading the shared config file: sections and values with their line numbers, plus awsso's block
//! markers. The lines come from `scan`, the scanner shared with awsso's own settings file.
//!
//! rust-ini is deliberately not used: it reports no line numbers and its dialect differs from the
//! one that matters. The rules follow botocore (Python's `RawConfigParser`), and where the SDKs'
//! parser (aws-config) is stricter on structure, the stricter rule wins, because a file one of
//! them rejects must not be rewritten by awsso:
//!
//! - `[name]` headers; whitespace inside the brackets is trimmed. `profile`, `sso-session` and
//!   `services` headers are shell-split as botocore does (`_parse_section`, Python's `shlex.split`):
//!   exactly two words name a section, so `[profile "quoted name"]` is `quoted name`, and
//!   `[profile in valid]` or a bare `[profile]` name nothing (kind `Other`: no tool sees them). A
//!   `#`/`;` comment may follow the `]`; any other trailing text, or a missing `]`, is an error.
//!   [`ConfigFile::compat_notes`] lists what botocore accepts but other SDKs reject or skip.
//! - Full-line comments start with `#` or `;` after optional whitespace. There are no inline
//!   comments in values: `key = v # x` reads as `v # x`, as botocore does (the SDKs would cut it
//!   at ` #`; [`super::is_safe_value`] keeps awsso from writing such values).
//! - `key = value`, split at the first `=`, both sides trimmed. `key: value` (botocore-only) is
//!   an error.
//! - A line indented deeper than the preceding `key =` line continues that value (configparser's
//!   rule). The value is configparser's: the lines, trimmed, joined with `\n`, trailing blank
//!   lines dropped. For `s3 =` followed by indented `k = v` lines it is therefore `"\nk = v…"`;
//!   [`Section::sub_properties`] splits those (botocore's `_parse_nested`).
//! - Keys are kept as written but compared ASCII-case-insensitively, as botocore and the SDKs
//!   both lowercase them; a key repeated in a section, or a section repeated in the file, is an
//!   error (botocore rejects both).
//! - Content before the first header, stray `\r` inside a line and invalid UTF-8 are errors. A
//!   UTF-8 BOM is read past (awsso can still read such a file) but never written to: botocore and
//!   the Rust SDK cannot read it ([`super::update`] refuses, `doctor` fails).
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use super::scan::{Comments, LineKind, lines, scan};
use super::{BEGIN_MARKER, END_MARKER, error::ConfigError};

/// A parsed config file. `text` is exactly the bytes read; edits are made on it, never regenerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub text: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `[default]`; `[profile default]` is a `Profile` named `default`.
    Default,
    Profile,
    SsoSession,
    Services,
    /// Any other header, e.g. `[plugins]`, or a bare `[name]` the SDKs would ignore.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    /// `prod` for `[profile prod]`, `corp` for `[sso-session corp]`, `default` for `[default]`,
    /// the whole trimmed header for `Other`.
    pub name: String,
    /// 1-based line of the `[...]` header.
    pub header_line: usize,
    pub entries: Vec<Entry>,
    /// The id of the awsso managed block the header sits in, if any.
    pub managed_by: Option<String>,
    /// The text of a full-line comment on the line right above the header, if any and not one of
    /// awsso's marker lines (without its `#` or `;` and surrounding whitespace): awsso's name hint
    /// (`hints = minimal`).
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As written (case kept).
    pub key: String,
    /// configparser's value; multi-line when continuation lines follow (see the module docs).
    pub value: String,
    /// 1-based line of `key = …`.
    pub line: usize,
}

/// Where one awsso managed block sits (1-based, inclusive marker lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    pub id: String,
    pub begin_line: usize,
    pub end_line: usize,
}

impl Section {
    /// The value of `key` (compared ASCII-case-insensitively, as the AWS tools do).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }

    /// The `k = v` pairs nested under `key =` (e.g. `s3 =` / `  max_concurrent_requests = 10`),
    /// or None when `key` is absent or holds a plain value.
    pub fn sub_properties(&self, key: &str) -> Option<Vec<(&str, &str)>> {
        let nested = self.get(key)?.strip_prefix('\n')?;
        Some(
            nested
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect(),
        )
    }

    /// The header text as awsso would write it: `profile prod`, `sso-session corp`, `default`.
    pub fn header(&self) -> String {
        header_text(self.kind, &self.name)
    }
}

impl ConfigFile {
    /// Reads and parses `path`; a missing file is an empty config, not an error.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ConfigError::io(path, e)),
        };
        ConfigFile::from_bytes(path, bytes)
    }

    /// Parses the raw contents of `path` (which is only used in messages); invalid UTF-8 is an error.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<ConfigFile, ConfigError> {
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            ConfigError::Parse {
                path: path.to_path_buf(),
                line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
                message: "the file is not valid UTF-8 text".to_owned(),
            }
        })?;
        ConfigFile::parse(path, text)
    }

    /// Parses `text` (the contents of `path`, which is only used in messages).
    pub fn parse(path: &Path, text: String) -> Result<ConfigFile, ConfigError> {
        let blocks = scan_blocks(&text).map_err(|e| e.at_path(path))?;
        let mut sections = parse_sections(&text).map_err(|e| e.at_path(path))?;
        for s in &mut sections {
            s.managed_by = blocks
                .iter()
                .find(|b| b.begin_line < s.header_line && s.header_line < b.end_line)
                .map(|b| b.id.clone());
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
            sections,
        })
    }

    pub fn sso_session(&self, name: &str) -> Option<&Section> {
        self.sso_sessions().find(|s| s.name == name)
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionKind::SsoSession)
    }

    /// `[profile NAME]`; for `default`, `[profile default]` if present (it takes priority in the
    /// SDKs), else `[default]`.
    pub fn profile(&self, name: &str) -> Option<&Section> {
        let named = self
            .sections
            .iter()
            .find(|s| s.kind == SectionKind::Profile && s.name == name);
        if name == "default" {
            named.or_else(|| {
                self.sections
                    .iter()
                    .find(|s| s.kind == SectionKind::Default)
            })
        } else {
            named
        }
    }

    /// `[default]` and every `[profile …]`, in file order.
    pub fn profiles(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| matches!(s.kind, SectionKind::Default | SectionKind::Profile))
    }

    /// Per managed block, the first setting that follows its END marker before any header (see
    /// `setting_after`): `(block, line, text)`.
    pub fn settings_after_blocks(&self) -> Vec<(BlockInfo, usize, String)> {
        let lines: Vec<&str> = self.text.split_inclusive('\n').collect();
        self.managed_blocks()
            .into_iter()
            .filter_map(|b| {
                let (line, text) = setting_after(&lines, b.end_line)?;
                Some((b, line, text))
            })
            .collect()
    }

    /// What in this file botocore accepts but other SDKs reject or skip: a `#`/`;` inside a
    /// section header and an indented first setting (the Rust and Java SDKs then refuse the whole
    /// file), and profile names outside the SDKs' character set (they skip those profiles).
    pub fn compat_notes(&self) -> Vec<CompatNote> {
        let mut notes = Vec::new();
        let mut awaiting_first_key: Option<usize> = None;
        for (n, raw, _) in lines(&self.text) {
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if let Some(after_bracket) = t.strip_prefix('[') {
                let inner = after_bracket.split(']').next().unwrap_or("");
                if inner.contains(['#', ';']) {
                    notes.push(CompatNote {
                        line: n,
                        message:
                            "a `#` or `;` inside the section header: the AWS SDKs for Rust and \
                                  Java read it as the start of a comment and reject the whole file"
                                .to_owned(),
                    });
                }
                awaiting_first_key = Some(n);
                continue;
            }
            if let Some(header) = awaiting_first_key.take()
                && raw.starts_with(char::is_whitespace)
            {
                notes.push(CompatNote {
                    line: n,
                    message: format!(
                        "the first setting under the header on line {header} is indented: the AWS \
                         SDKs for Rust and Java read it as a continuation line and reject the whole file"
                    ),
                });
            }
        }
        for s in self.profiles() {
            if s.kind == SectionKind::Profile && !sdk_profile_name(&s.name) {
                notes.push(CompatNote {
                    line: s.header_line,
                    message: format!(
                        "profile {:?}: botocore and the AWS CLI see it, but the AWS SDKs for Rust and \
                         Java skip it (their names use only letters, digits and - / . % @ _ : +)",
                        s.name
                    ),
                });
            }
        }
        notes.sort_by_key(|n| n.line);
        notes
    }

    pub fn managed_blocks(&self) -> Vec<BlockInfo> {
        // `parse` validated the markers, so this only fails if `text` was changed afterwards.
        scan_blocks(&self.text).unwrap_or_default()
    }

    /// [`super::splice_block`] on this file's text, with the path filled into errors.
    pub fn splice_block(&self, id: &str, body: Option<&str>) -> Result<String, ConfigError> {
        super::splice_block(&self.text, id, body).map_err(|e| e.at_path(&self.path))
    }
}

/// The first setting (or continuation line) between line `end_line` (1-based, a block's END marker)
/// and the next `[header]`: INI puts it in the block's last section, so replacing or removing the
/// block would move it to another section or duplicate it. Returns its line number and text.
pub(crate) fn setting_after(lines: &[&str], end_line: usize) -> Option<(usize, String)> {
    for (i, raw) in lines.iter().enumerate().skip(end_line) {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') {
            return None;
        }
        let shown: String = t.chars().take(60).collect();
        return Some((i + 1, shown));
    }
    None
}

/// Something botocore and the AWS CLI read but other AWS SDKs reject or ignore (`doctor` warns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatNote {
    /// 1-based line.
    pub line: usize,
    pub message: String,
}

/// The characters the SDKs' shared profile parser allows in a profile name (aws-config for Rust,
/// the Java SDK v2: `profile-parser-tests.json`, "Profile names support alphanumeric characters …").
fn sdk_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.%@_:+".contains(c))
}

pub(crate) enum Marker<'a> {
    Begin(&'a str),
    End(&'a str),
}

/// Recognises awsso's marker lines (leading/trailing whitespace tolerated, the BEGIN tail ignored).
pub(crate) fn marker(line: &str) -> Option<Marker<'_>> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix(BEGIN_MARKER) {
        let id = rest.split(" -- ").next().unwrap_or("").trim();
        (!id.is_empty()).then_some(Marker::Begin(id))
    } else if let Some(rest) = t.strip_prefix(END_MARKER) {
        let id = rest.trim();
        (!id.is_empty()).then_some(Marker::End(id))
    } else {
        None
    }
}

/// Finds awsso's managed blocks; markers that don't pair up exactly are an error.
pub(crate) fn scan_blocks(text: &str) -> Result<Vec<BlockInfo>, ConfigError> {
    let unbalanced = |line: usize, id: &str, problem: String| ConfigError::UnbalancedBlock {
        path: PathBuf::new(),
        line,
        id: id.to_owned(),
        problem,
    };
    let mut blocks: Vec<BlockInfo> = Vec::new();
    let mut open: Option<(&str, usize)> = None;
    for (n, line, _) in lines(text) {
        match marker(line) {
            Some(Marker::Begin(id)) => {
                if let Some((outer, at)) = open {
                    return Err(unbalanced(
                        n,
                        id,
                        format!(
                            "begins inside block `{outer}` (opened on line {at}, never closed)"
                        ),
                    ));
                }
                if let Some(prev) = blocks.iter().find(|b| b.id == id) {
                    return Err(unbalanced(
                        n,
                        id,
                        format!(
                            "appears twice (first on lines {}-{})",
                            prev.begin_line, prev.end_line
                        ),
                    ));
                }
                open = Some((id, n));
            }
            Some(Marker::End(id)) => match open.take() {
                Some((open_id, at)) if open_id == id => blocks.push(BlockInfo {
                    id: id.to_owned(),
                    begin_line: at,
                    end_line: n,
                }),
                Some((open_id, at)) => {
                    return Err(unbalanced(
                        n,
                        id,
                        format!("ends while block `{open_id}` (opened on line {at}) is still open"),
                    ));
                }
                None => {
                    return Err(unbalanced(
                        n,
                        id,
                        "has an END line but no BEGIN line".into(),
                    ));
                }
            },
            None => {}
        }
    }
    match open {
        Some((id, at)) => Err(unbalanced(
            at,
            id,
            "has a BEGIN line but no END line".into(),
        )),
        None => Ok(blocks),
    }
}

/// The current `key =` whose value continuation lines extend.
struct OpenValue {
    entry: usize,
    indent: usize,
    parts: Vec<String>,
    /// `key =` with nothing after it: continuation lines must be `k = v` sub-properties.
    nested: bool,
}

fn parse_sections(text: &str) -> Result<Vec<Section>, ConfigError> {
    let err = |line: usize, message: String| ConfigError::Parse {
        path: PathBuf::new(),
        line,
        message,
    };
    let mut sections: Vec<Section> = Vec::new();
    let mut seen: HashMap<(SectionKind, String), usize> = HashMap::new();
    let mut open: Option<OpenValue> = None;
    let mut comment: Option<(usize, &str)> = None;

    fn close(sections: &mut [Section], open: &mut Option<OpenValue>) {
        if let (Some(v), Some(s)) = (open.take(), sections.last_mut()) {
            s.entries[v.entry].value = v.parts.join("\n").trim_end().to_owned();
        }
    }

    for line in scan(text, Comments::FullLine) {
        let line = line.map_err(|(n, message)| err(n, message))?;
        let (n, trimmed, indent) = (line.number, line.text, line.indent);
        match line.kind {
            LineKind::Comment => {
                // awsso's own marker lines name no section.
                comment = marker(trimmed).is_none().then(|| (n, trimmed[1..].trim()));
                continue;
            }
            LineKind::Blank => {
                // configparser keeps blank lines inside a value (trailing ones are dropped on close).
                if let Some(v) = &mut open {
                    v.parts.push(String::new());
                }
                continue;
            }
            _ => {}
        }
        if let Some(v) = &mut open
            && indent > v.indent
        {
            if v.nested {
                match trimmed.split_once('=') {
                    Some((k, _)) if !k.trim().is_empty() => {}
                    _ => {
                        let key = &sections.last().expect("open value has a section").entries
                            [v.entry]
                            .key;
                        return Err(err(
                            n,
                            format!("expected `name = value` in the sub-properties of `{key}`"),
                        ));
                    }
                }
            }
            v.parts.push(trimmed.to_owned());
            continue;
        }
        close(&mut sections, &mut open);

        if line.kind == LineKind::Header {
            let (kind, name) = parse_header(trimmed).map_err(|m| err(n, m))?;
            if let Some(first) = seen.insert((kind, name.clone()), n) {
                return Err(err(
                    n,
                    format!(
                        "section [{}] is defined twice (first on line {first})",
                        header_text(kind, &name)
                    ),
                ));
            }
            sections.push(Section {
                kind,
                name,
                header_line: n,
                entries: Vec::new(),
                managed_by: None,
                comment: comment
                    .filter(|&(line, _)| line + 1 == n)
                    .map(|(_, text)| text.to_owned()),
            });
            continue;
        }

        let Some(section) = sections.last_mut() else {
            return Err(err(
                n,
                "settings before the first [section] header".to_owned(),
            ));
        };
        let LineKind::Setting { key, value } = line.kind else {
            return Err(err(
                n,
                format!(
                    "expected `name = value`, a [section] header or a # comment, found `{}`",
                    shorten(trimmed)
                ),
            ));
        };
        if key.is_empty() {
            return Err(err(n, "a setting has no name before `=`".to_owned()));
        }
        if let Some(prev) = section
            .entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
        {
            return Err(err(
                n,
                format!(
                    "`{key}` is set twice in [{}] (first on line {})",
                    section.header(),
                    prev.line
                ),
            ));
        }
        section.entries.push(Entry {
            key: key.to_owned(),
            value: value.to_owned(),
            line: n,
        });
        open = Some(OpenValue {
            entry: section.entries.len() - 1,
            indent,
            parts: vec![value.to_owned()],
            nested: value.is_empty(),
        });
    }
    close(&mut sections, &mut open);
    Ok(sections)
}

fn header_text(kind: SectionKind, name: &str) -> String {
    match kind {
        SectionKind::Default | SectionKind::Other => name.to_owned(),
        SectionKind::Profile => format!("profile {name}"),
        SectionKind::SsoSession => format!("sso-session {name}"),
        SectionKind::Services => format!("services {name}"),
    }
}

/// `trimmed` starts with `[`; returns the section's kind and name.
fn parse_header(trimmed: &str) -> Result<(SectionKind, String), String> {
    let Some(close) = trimmed.find(']') else {
        return Err("section header is missing its closing `]`".to_owned());
    };
    let rest = trimmed[close + 1..].trim_start();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return Err(format!(
            "unexpected text `{}` after the section header",
            shorten(rest)
        ));
    }
    let inner = trimmed[1..close].trim();
    if inner.is_empty() {
        return Err("empty section header `[]`".to_owned());
    }
    if inner == "default" {
        return Ok((SectionKind::Default, inner.to_owned()));
    }
    let word = inner.split(char::is_whitespace).next().unwrap_or(inner);
    let kind = match word {
        "profile" => SectionKind::Profile,
        "sso-session" => SectionKind::SsoSession,
        "services" => SectionKind::Services,
        _ => return Ok((SectionKind::Other, inner.to_owned())),
    };
    // botocore's `_parse_section`: the header is shell-split, and only exactly two words name a
    // section, so `[profile "quoted name"]` is `quoted name` and `[profile in valid]` (like a bare
    // `[profile]`) names nothing: botocore and the SDKs skip it, and so awsso must not offer it.
    match botocore_split(inner) {
        Some(words) if words.len() == 2 => Ok((kind, words[1].clone())),
        _ => Ok((SectionKind::Other, inner.to_owned())),
    }
}

/// Python's `shlex.split(s)` (POSIX mode, no comments), which botocore applies to section headers.
/// The `shlex` crate is not used because it treats `#` as starting a comment; Python's split does not.
/// None where Python raises (an unclosed quote, a trailing backslash).
pub(crate) fn botocore_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\\' => word.get_or_insert_default().push(chars.next()?),
            '\'' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => w.push(c),
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Some(words)
}

fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("/home/u/.aws/config"), text.to_owned())
    }

    fn parse_err_line(text: &str) -> (usize, String) {
        match parse(text) {
            Err(ConfigError::Parse { line, message, .. }) => (line, message),
            other => panic!("expected a parse error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_protocol_doc_example() {
        let cfg = parse(
            "[sso-session corp]\n\
             sso_start_url = https://d-abc123.awsapps.com/start\n\
             sso_region = us-east-1\n\
             sso_registration_scopes = sso:account:access\n\
             \n\
             [profile prod-admin]            # native SSO profile: SDKs read the token cache themselves\n\
             sso_session = corp\n\
             sso_account_id = 012345678901\n\
             sso_role_name = AdministratorAccess\n\
             region = us-east-1\n",
        )
        .unwrap();
        let s = cfg.sso_session("corp").unwrap();
        assert_eq!(
            s.get("sso_start_url"),
            Some("https://d-abc123.awsapps.com/start")
        );
        assert_eq!(s.header_line, 1);
        let p = cfg.profile("prod-admin").unwrap();
        assert_eq!(p.kind, SectionKind::Profile);
        assert_eq!(p.header_line, 6);
        assert_eq!(p.get("sso_account_id"), Some("012345678901"));
        assert_eq!(p.entries[0].line, 7);
        assert_eq!(cfg.profiles().count(), 1);
        assert_eq!(cfg.sso_sessions().count(), 1);
    }

    #[test]
    fn botocore_value_rules() {
        let cfg = parse(
            "\u{feff}; leading comment\n\
             [default]\n\
             region=eu-west-1\n\
             output = json # not a comment\n\
             Credential_Process =   awsso x  \n\
             empty =\n\
             [profile   spaced ]\n\
             a = b = c\n\
             url = https://x/#/start\n\
             [services my-svc]\n\
             [plugins]\n\
             [profile default]\n\
             region = us-west-2\n",
        )
        .unwrap();
        let d = &cfg.sections[0];
        assert_eq!(d.kind, SectionKind::Default);
        assert_eq!(d.get("region"), Some("eu-west-1"));
        assert_eq!(d.get("output"), Some("json # not a comment"));
        assert_eq!(d.get("credential_process"), Some("awsso x"));
        assert_eq!(d.entries[2].key, "Credential_Process");
        assert_eq!(d.get("empty"), Some(""));
        let s = &cfg.sections[1];
        assert_eq!((s.kind, s.name.as_str()), (SectionKind::Profile, "spaced"));
        assert_eq!(s.get("a"), Some("b = c"));
        assert_eq!(s.get("url"), Some("https://x/#/start"));
        assert_eq!(cfg.sections[2].kind, SectionKind::Services);
        assert_eq!(cfg.sections[2].name, "my-svc");
        assert_eq!(cfg.sections[3].kind, SectionKind::Other);
        assert_eq!(cfg.sections[3].name, "plugins");
        // [profile default] wins over [default], as in the SDKs.
        assert_eq!(
            cfg.profile("default").unwrap().get("region"),
            Some("us-west-2")
        );
        assert_eq!(cfg.profiles().count(), 3);
    }

    #[test]
    fn profile_names_follow_botocore() {
        let cfg = parse(
            "[profile in valid]\n\
             [profile \"quoted name\"]\n\
             [profile 'single']\n\
             [profile\tfoo#bar]\n\
             [profile]\n\
             [profile \"unclosed]\n\
             [sso-session two words]\n\
             [sso-session \"q s\"]\n\
             [profile a\\ b]\n",
        )
        .unwrap();
        let got: Vec<(SectionKind, &str)> = cfg
            .sections
            .iter()
            .map(|s| (s.kind, s.name.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (SectionKind::Other, "profile in valid"),
                (SectionKind::Profile, "quoted name"),
                (SectionKind::Profile, "single"),
                (SectionKind::Profile, "foo#bar"),
                (SectionKind::Other, "profile"),
                (SectionKind::Other, "profile \"unclosed"),
                (SectionKind::Other, "sso-session two words"),
                (SectionKind::SsoSession, "q s"),
                (SectionKind::Profile, "a b"),
            ]
        );
        assert!(cfg.profile("in valid").is_none());
        assert!(cfg.profile("quoted name").is_some());
        // The same profile twice, once quoted, is a duplicate.
        assert_eq!(parse_err_line("[profile a]\n[profile \"a\"]\n").0, 2);
        assert_eq!(
            botocore_split(r#"a "b \" \x" 'c \d' e\ f"#).unwrap(),
            vec!["a", r#"b " \x"#, r"c \d", "e f"]
        );
        assert_eq!(botocore_split("a \"\"").unwrap(), vec!["a", ""]);
        assert!(botocore_split("a 'b").is_none());
        assert!(botocore_split("a \\").is_none());
    }

    #[test]
    fn compat_notes_name_what_other_sdks_reject() {
        let cfg = parse(
            "[default]\n  region = x\n[profile a#b]\nk = v\n[profile \"q n\"]\n[profile ok]\n  \n# c\nk = v\n",
        )
        .unwrap();
        let lines: Vec<usize> = cfg.compat_notes().iter().map(|n| n.line).collect();
        assert_eq!(lines, vec![2, 3, 3, 5]);
        assert!(
            parse("[profile a]\nk = v\n  cont\n")
                .unwrap()
                .compat_notes()
                .is_empty()
        );
    }

    #[test]
    fn settings_after_a_block_are_found() {
        let text = format!(
            "[default]\n{BEGIN_MARKER}b -- x\n[profile p]\nk = v\n{END_MARKER}b\n\n# mine\noutput = json\n[profile q]\n"
        );
        let cfg = parse(&text).unwrap();
        let found = cfg.settings_after_blocks();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].1, found[0].2.as_str()), (8, "output = json"));
        let text =
            format!("{BEGIN_MARKER}b\n[profile p]\n{END_MARKER}b\n# c\n\n[profile q]\nk = v\n");
        assert!(parse(&text).unwrap().settings_after_blocks().is_empty());
    }

    #[test]
    fn sub_properties_and_continuations() {
        let cfg = parse(
            "[profile x]\n\
             s3 =\n  max_concurrent_requests = 10\n\n    # a comment inside\n  addressing_style = path\n\n\
             region = us-east-1\n\
             multi = first\n  second\n\
             [profile y]\n",
        )
        .unwrap();
        let p = cfg.profile("x").unwrap();
        assert_eq!(
            p.get("s3"),
            Some("\nmax_concurrent_requests = 10\n\naddressing_style = path")
        );
        assert_eq!(
            p.sub_properties("s3").unwrap(),
            vec![
                ("max_concurrent_requests", "10"),
                ("addressing_style", "path")
            ]
        );
        assert_eq!(p.get("region"), Some("us-east-1"));
        assert_eq!(p.entries[1].line, 8);
        assert_eq!(p.get("multi"), Some("first\nsecond"));
        assert!(p.sub_properties("multi").is_none());
        assert!(cfg.profile("y").unwrap().entries.is_empty());
    }

    #[test]
    fn parse_errors_carry_line_numbers() {
        assert_eq!(
            parse_err_line("[default]\nregion = x\n[profile x\nk = v\n").0,
            3
        );
        assert_eq!(parse_err_line("\n# c\nregion = x\n[default]\n").0, 3);
        assert_eq!(parse_err_line("[default]\n\njust words\n").0, 3);
        assert_eq!(parse_err_line("[default]\nregion: x\n").0, 2);
        assert_eq!(parse_err_line("[default]\n = x\n").0, 2);
        assert_eq!(parse_err_line("[default]\nregion = x\nRegion = y\n").0, 3);
        assert_eq!(
            parse_err_line("[profile a]\n[default]\n[profile  a]\n").0,
            3
        );
        assert_eq!(parse_err_line("[default]\ns3 =\n  no equals here\n").0, 3);
        assert_eq!(parse_err_line("[default] junk\n").0, 1);
        assert_eq!(parse_err_line("[]\n").0, 1);
        assert_eq!(parse_err_line("[default]\r\na = b\rc = d\r\n").0, 2);
        let (line, msg) = parse_err_line("[default]\nregion = x\n[profile x\n");
        assert_eq!(line, 3);
        assert!(msg.contains("closing `]`"), "{msg}");
        let e = parse("[default]\nregion = x\n[profile x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/home/u/.aws/config:3: section header is missing its closing `]`"
        );
        assert!(e.hint().unwrap().contains("line 3"));
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        assert!(parse("[default]\r\nregion = x\r").is_ok());
        let cfg = parse("[default]\r\nregion = x\r\n\r\n[profile p]\r\nk = v").unwrap();
        assert_eq!(cfg.profile("default").unwrap().get("region"), Some("x"));
        assert_eq!(cfg.profile("p").unwrap().get("k"), Some("v"));
        assert_eq!(cfg.profile("p").unwrap().header_line, 4);
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert!(parse("").unwrap().sections.is_empty());
        assert!(parse("# only\n\n; comments\n").unwrap().sections.is_empty());
    }

    #[test]
    fn managed_sections_are_tagged() {
        let cfg = parse(
            "[default]\nregion = x\n\n\
             # BEGIN awsso managed block session corp -- generated by awsso, edits here are overwritten\n\
             [sso-session corp]\nsso_region = us-east-1\n\
             # END awsso managed block session corp\n\
             [profile mine]\n",
        )
        .unwrap();
        assert_eq!(
            cfg.managed_blocks(),
            vec![BlockInfo {
                id: "session corp".into(),
                begin_line: 4,
                end_line: 7
            }]
        );
        assert_eq!(
            cfg.sso_session("corp").unwrap().managed_by.as_deref(),
            Some("session corp")
        );
        assert_eq!(cfg.profile("default").unwrap().managed_by, None);
        assert_eq!(cfg.profile("mine").unwrap().managed_by, None);
    }

    #[test]
    fn unbalanced_markers_are_errors() {
        let b = |id: &str| format!("# BEGIN awsso managed block {id} -- generated by awsso\n");
        let e = |id: &str| format!("# END awsso managed block {id}\n");
        let cases = [
            (format!("[default]\n{}[profile a]\n", b("a")), 2),
            (format!("[default]\n{}", e("a")), 2),
            (format!("{}{}{}{}", b("a"), e("a"), b("a"), e("a")), 3),
            (format!("{}{}{}{}", b("a"), b("b"), e("b"), e("a")), 2),
            (format!("{}{}", b("a"), e("b")), 2),
        ];
        for (text, want) in cases {
            match parse(&text) {
                Err(ConfigError::UnbalancedBlock { line, .. }) => assert_eq!(line, want, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn load_missing_file_is_empty_and_bad_utf8_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ConfigFile::load(&dir.path().join("nope")).unwrap();
        assert_eq!(cfg.text, "");
        assert!(cfg.sections.is_empty());
        let p = dir.path().join("config");
        std::fs::write(&p, b"[default]\nregion = x\nname = caf\xe9\n").unwrap();
        match ConfigFile::load(&p) {
            Err(ConfigError::Parse { line, path, .. }) => {
                assert_eq!(line, 3);
                assert_eq!(path, p);
            }
            other => panic!("{other:?}"),
        }
    }
}
