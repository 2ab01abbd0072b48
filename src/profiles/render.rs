//! Turning planned profiles into the text of awsso's managed block (the keys of each hint level, and the
//! default level's name comment), and quoting words for `credential_process` so that botocore (shlex) and
//! the Rust SDK (`sh -c`) both read them back exactly.
use std::path::Path;

use super::Mode;
use super::color::container_color;
use super::naming::{MAX_VALUE_NAME, ProfilePlan, value_text};
use super::settings::Hints;
use crate::awsconfig::{ConfigError, render_comment, render_section};

/// The managed block's body text for `awsso sync`: one `[profile …]` per plan, with the hint keys of
/// `hints`, separated by a blank line (`full`, `none`) or, at the default `minimal` level, preceded by
/// the profile's [`name_comment`] line. Every name and value goes through [`render_section`], which refuses
/// anything that could break out of its line.
pub fn render_block(
    plans: &[ProfilePlan],
    mode: Mode,
    hints: Hints,
    session: &str,
    awsso_exe: &Path,
) -> Result<String, ConfigError> {
    let exe = awsso_exe.to_str().ok_or_else(|| ConfigError::UnsafeValue {
        key: "credential_process".to_owned(),
        value: awsso_exe.to_string_lossy().into_owned(),
    })?;
    let exe = shell_quote(exe);
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if hints == Hints::Minimal {
            // In place of the blank separator line: a full-line comment costs the parsers about what a
            // blank line does (see `name_comment`).
            out.push_str(&render_comment(&name_comment(p))?);
        } else if i > 0 {
            out.push('\n');
        }
        // `flag_word` writes a value starting with `-` as `--flag=-x`, which clap reads as the value.
        let process = format!(
            "{exe} creds {} {} {}",
            crate::shell::flag_word("--session", session),
            crate::shell::flag_word("--account-id", &p.account_id),
            crate::shell::flag_word("--role-name", &p.role_name)
        );
        let account_name = value_text(&p.account_name, MAX_VALUE_NAME);
        let mut entries: Vec<(&str, &str)> = match mode {
            // No sso_* key at all: the SDKs try those before credential_process and would bypass awsso.
            Mode::Process => vec![("credential_process", &process)],
            Mode::Native => vec![
                ("sso_session", session),
                ("sso_account_id", &p.account_id),
                ("sso_role_name", &p.role_name),
            ],
        };
        entries.push(("region", p.region.as_str()));
        match hints {
            Hints::Full => entries.extend([
                ("color", p.color.as_str()),
                ("granted_color", container_color(&p.color)),
                ("aws_account_id", &p.account_id),
                ("role_name", &p.role_name),
                ("awsso_account_name", &account_name),
                ("awsso_display_name", &p.display_name),
            ]),
            Hints::Minimal => entries.push(("granted_color", container_color(&p.color))),
            Hints::None => {}
        }
        out.push_str(&render_section(&format!("profile {}", p.name), &entries)?);
    }
    Ok(out)
}

/// The name hint of the `minimal` level, the comment line right above a profile's header:
/// `Prod Payments (111111111111) AdministratorAccess`, the display name (already cleaned by
/// [`value_text`]) and the role, cleaned the same way: no line break, control or invisible character,
/// `#`, `;` or marker phrase can reach the line. botocore's configparser and the Rust SDK skip a
/// full-line `#` comment before looking at it further, and the JS SDK's `parseIni` takes it for an empty
/// line after one scan for `#` (up to 0.07x of the lean block's parse at 5,000 profiles, in
/// `bench-results/config-cost.txt`), so the block has the lean block's line count; awsso reads it back
/// as [`crate::awsconfig::Section::comment`]. Not on the header line: botocore's section pattern runs to
/// the line's last `]`, so a `]` in the name would rename the profile.
pub fn name_comment(p: &ProfilePlan) -> String {
    let role = value_text(&p.role_name, MAX_VALUE_NAME);
    value_text(
        &format!("{} {role}", p.display_name),
        2 * MAX_VALUE_NAME + 16,
    )
}

/// The account name in a [`name_comment`] of account `id` and role `role` (its inverse), or None when
/// `comment` is not one (a user's comment, a stale profile's note) or holds no name (`id role`).
pub fn account_name_of_comment<'a>(comment: &'a str, id: &str, role: &str) -> Option<&'a str> {
    // `Name (id) Role`: the display name, then the role.
    let display = comment.strip_suffix(role)?.strip_suffix(' ')?;
    display
        .strip_suffix(')')?
        .strip_suffix(id)?
        .strip_suffix(" (")
        .filter(|n| !n.is_empty())
}

/// Every key `render_block` writes into a profile, in either mode and at any hint level; `awsso doctor`
/// flags any other key inside a managed block as a hand edit.
pub const WRITTEN_KEYS: [&str; 11] = [
    "credential_process",
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "region",
    "color",
    "granted_color",
    "aws_account_id",
    "role_name",
    "awsso_account_name",
    "awsso_display_name",
];

/// Quote one word so that both botocore (Python shlex.split, POSIX mode) and `sh -c` read it back as
/// exactly `s`.
///
/// Bare when every character is in `[A-Za-z0-9_@%+=:,./-]` (and it could not be read as a shell variable
/// assignment), else single-quoted with `'` written as `'\''`. Inside quotes, a `#` or `;` right after
/// whitespace is preceded by an empty `''`: the quoting means nothing to the config readers, and the
/// SDKs' parser would take ` #` as the start of an inline comment.
pub fn shell_quote(s: &str) -> String {
    crate::shell::quote_word(s)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;
    use crate::awsconfig::{ConfigFile, SectionKind, is_safe_value, splice_block};
    use crate::listing::{Account, Listing};
    use crate::profiles::{Settings, plan};

    /// POSIX shlex, as Python's `shlex.split(s)` reads a command line: the shell module's splitter.
    fn shlex_split(s: &str) -> Option<Vec<String>> {
        crate::shell::split(s)
    }

    const AWKWARD: [&str; 16] = [
        "/usr/local/bin/awsso",
        "/Users/Jane Doe/bin/awsso",
        "/opt/it's/awsso",
        "/opt/\"quoted\"/awsso",
        "/opt/$HOME/`id`/$(id)/awsso",
        "/opt/a b #c/awsso",
        "/opt/a ;b/awsso",
        "/opt/back\\slash/awsso",
        "/opt/ünï cødé/awsso",
        "C:\\Program Files\\awsso.exe",
        "FOO=bar",
        "~/awsso",
        "",
        "'",
        "a  b\ttab*?[x]{y,z}!&|<>()",
        "AdministratorAccess+=,.@-",
    ];

    #[test]
    fn shell_quote_forms() {
        assert_eq!(shell_quote("/usr/bin/awsso"), "/usr/bin/awsso");
        assert_eq!(
            shell_quote("AdministratorAccess+=,.@-"),
            "AdministratorAccess+=,.@-"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("FOO=bar"), "'FOO=bar'");
        assert_eq!(shell_quote("/x=y"), "/x=y");
        assert_eq!(shell_quote("a #b ;c"), "'a ''#b '';c'");
        for s in AWKWARD {
            let q = shell_quote(s);
            assert_eq!(shlex_split(&q), Some(vec![s.to_owned()]), "{s:?} -> {q}");
            assert!(is_safe_value(&q) || s.contains('\t'), "{q}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn shell_quote_round_trips_through_sh() {
        for s in AWKWARD {
            let out = Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", shell_quote(s)))
                .env("HOME", "/should/not/expand")
                .output()
                .expect("run /bin/sh");
            assert!(out.status.success(), "{s:?}: {out:?}");
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s, "{s:?}");
        }
    }

    /// `python3`'s shlex.split of `line`, or None when python3 is not installed.
    fn python_shlex(line: &str) -> Option<Vec<String>> {
        let out = Command::new("python3")
            .arg("-c")
            .arg("import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))")
            .arg(line)
            .output()
            .ok()?;
        assert!(out.status.success(), "{out:?}");
        Some(serde_json::from_slice(&out.stdout).unwrap())
    }

    #[test]
    fn shell_quote_round_trips_through_python_shlex() {
        for s in AWKWARD {
            let line = format!("{} creds", shell_quote(s));
            let Some(words) = python_shlex(&line) else {
                eprintln!("python3 not found; skipping the shlex cross-check");
                return;
            };
            assert_eq!(words, vec![s.to_owned(), "creds".to_owned()], "{line}");
            assert_eq!(shlex_split(&line), Some(words));
        }
    }

    fn hostile_listing() -> Listing {
        let names = [
            "evil\n[profile pwned]\ncredential_process = /bin/sh -c id".to_owned(),
            "[x]".to_owned(),
            "a = b".to_owned(),
            "# comment".to_owned(),
            "; semi".to_owned(),
            "O'Brien's \"quoted\" account".to_owned(),
            "`id` $(id) ${HOME}".to_owned(),
            "Ünïcødé 日本 🚀".to_owned(),
            "long-name-".repeat(30),
            "tab\there \x1b[31mred\x1b[0m bell\x07".to_owned(),
            "Duplicate Name".to_owned(),
            "Duplicate Name".to_owned(),
            String::new(),
            "../../etc/passwd \\ C:\\Windows".to_owned(),
            "x # BEGIN awsso managed block session corp".to_owned(),
            "default".to_owned(),
            "rtl\u{202e}gnp.exe\u{2028}next".to_owned(),
        ];
        let accounts = names
            .iter()
            .enumerate()
            .map(|(i, name)| Account {
                id: format!("{:012}", 100_000_000_001u64 + i as u64),
                name: name.clone(),
                email: None,
                roles: vec!["AdministratorAccess".into(), "ReadOnlyAccess".into()],
            })
            .collect();
        Listing {
            session: "corp".into(),
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "us-east-1".into(),
            fetched_at: 0,
            accounts,
        }
    }

    /// The hostile listing's plans with the default settings and nothing taken.
    fn hostile_plans() -> Vec<ProfilePlan> {
        plan(
            &hostile_listing(),
            &Settings::default(),
            "us-east-1",
            &BTreeSet::new(),
        )
    }

    const HINT_KEYS: [&str; 7] = [
        "region",
        "color",
        "granted_color",
        "aws_account_id",
        "role_name",
        "awsso_account_name",
        "awsso_display_name",
    ];

    #[test]
    fn hostile_names_cannot_escape_their_values() {
        let listing = hostile_listing();
        let taken: BTreeSet<String> = ["Duplicate-Name/AdministratorAccess".to_owned()].into();
        let plans = plan(&listing, &Settings::default(), "us-east-1", &taken);
        assert_eq!(plans.len(), listing.pairs());
        let exe = PathBuf::from("/Users/Jane Doe/it's #1/awsso");
        for mode in [Mode::Process, Mode::Native] {
            let body = render_block(&plans, mode, Hints::Full, "corp", &exe).unwrap();
            // (1) It parses, alone and spliced into a config as a managed block.
            let cfg = ConfigFile::parse(Path::new("body"), body.clone()).unwrap();
            let spliced =
                splice_block("[default]\nregion = x\n", "session corp", Some(&body)).unwrap();
            let full = ConfigFile::parse(Path::new("config"), spliced).unwrap();
            assert_eq!(full.sections.len(), plans.len() + 1);

            // (2) One [profile] per account × role and nothing else.
            assert!(cfg.sections.iter().all(|s| s.kind == SectionKind::Profile));
            let got: Vec<&str> = cfg.sections.iter().map(|s| s.name.as_str()).collect();
            let want: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(got, want);
            assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), plans.len());
            assert!(!got.contains(&"default") && !got.contains(&"pwned"));
            assert!(!got.contains(&"Duplicate-Name/AdministratorAccess"));

            for (section, p) in cfg.sections.iter().zip(&plans) {
                // (3) Exactly the expected keys, with the planned values.
                let keys: Vec<&str> = section.entries.iter().map(|e| e.key.as_str()).collect();
                let mut want: Vec<&str> = match mode {
                    Mode::Process => vec!["credential_process"],
                    Mode::Native => vec!["sso_session", "sso_account_id", "sso_role_name"],
                };
                want.extend(HINT_KEYS);
                assert_eq!(keys, want, "{}", p.name);
                assert_eq!(section.get("aws_account_id"), Some(p.account_id.as_str()));
                assert_eq!(
                    section.get("awsso_display_name"),
                    Some(p.display_name.as_str())
                );
                assert!(p.display_name.contains(&p.account_id));

                // (4) The command splits back into exactly the intended words.
                if mode == Mode::Process {
                    let words = shlex_split(section.get("credential_process").unwrap()).unwrap();
                    assert_eq!(
                        words,
                        vec![
                            exe.to_str().unwrap(),
                            "creds",
                            "--session",
                            "corp",
                            "--account-id",
                            &p.account_id,
                            "--role-name",
                            &p.role_name
                        ]
                    );
                } else {
                    assert_eq!(section.get("sso_session"), Some("corp"));
                    assert_eq!(section.get("sso_role_name"), Some(p.role_name.as_str()));
                }
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn credential_process_lines_split_the_same_in_sh_and_python() {
        let plans = hostile_plans();
        let exe = PathBuf::from("/tmp/a b/it's #1/$(id)/awsso");
        let body = render_block(&plans[..4], Mode::Process, Hints::Full, "corp", &exe).unwrap();
        let cfg = ConfigFile::parse(Path::new("body"), body).unwrap();
        for (section, p) in cfg.sections.iter().zip(&plans) {
            let line = section.get("credential_process").unwrap();
            let want = vec![
                exe.to_str().unwrap().to_owned(),
                "creds".into(),
                "--session".into(),
                "corp".into(),
                "--account-id".into(),
                p.account_id.clone(),
                "--role-name".into(),
                p.role_name.clone(),
            ];
            let out = Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("set -- {line}; printf '%s\\n' \"$@\""))
                .output()
                .unwrap();
            let sh_words: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect();
            assert_eq!(sh_words, want, "sh: {line}");
            if let Some(py) = python_shlex(line) {
                assert_eq!(py, want, "python: {line}");
            }
        }
    }

    /// `WRITTEN_KEYS` (what doctor accepts in a block) is exactly what the two modes write together.
    #[test]
    fn written_keys_are_exactly_what_render_block_writes() {
        let plans = hostile_plans();
        let exe = PathBuf::from("/opt/awsso");
        let mut seen = BTreeSet::new();
        for mode in [Mode::Process, Mode::Native] {
            let body = render_block(&plans, mode, Hints::Full, "corp", &exe).unwrap();
            let cfg = ConfigFile::parse(Path::new("body"), body).unwrap();
            for section in &cfg.sections {
                seen.extend(section.entries.iter().map(|e| e.key.clone()));
            }
        }
        let expected: BTreeSet<String> = WRITTEN_KEYS.iter().map(|k| k.to_string()).collect();
        assert_eq!(seen, expected);
    }

    /// botocore itself, when installed, reads the written profiles with the same keys and values.
    #[test]
    fn botocore_reads_the_block_back() {
        let plans = hostile_plans();
        let exe = PathBuf::from("/opt/a b/awsso");
        let body = render_block(&plans, Mode::Process, Hints::Full, "corp", &exe).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            splice_block("", "session corp", Some(&body)).unwrap(),
        )
        .unwrap();
        let script = "import json, botocore.session\n\
            s = botocore.session.Session()\n\
            print(json.dumps(s.full_config['profiles']))";
        let Ok(out) = Command::new("python3")
            .arg("-c")
            .arg(script)
            .env("AWS_CONFIG_FILE", &path)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
            .output()
        else {
            eprintln!("python3 not found; skipping the botocore check");
            return;
        };
        if !out.status.success() {
            eprintln!(
                "botocore not importable; skipping: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let profiles: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(profiles.len(), plans.len());
        let cfg = ConfigFile::parse(Path::new("body"), body).unwrap();
        for section in &cfg.sections {
            let got = profiles[&section.name].as_object().unwrap();
            assert_eq!(got.len(), section.entries.len(), "{}", section.name);
            for e in &section.entries {
                assert_eq!(got[&e.key], e.value.as_str(), "{} {}", section.name, e.key);
            }
        }
    }

    /// Two plans, one with a name that needs cleaning (`dev#1`).
    fn two_plans() -> Vec<ProfilePlan> {
        vec![
            ProfilePlan {
                name: "Prod-Payments/AdministratorAccess".into(),
                account_id: "111111111111".into(),
                account_name: "Prod Payments".into(),
                role_name: "AdministratorAccess".into(),
                region: "eu-west-1".into(),
                color: "cc0000".into(),
                display_name: "Prod Payments (111111111111)".into(),
            },
            ProfilePlan {
                name: "dev/ReadOnly".into(),
                account_id: "222222222222".into(),
                account_name: "dev#1".into(),
                role_name: "ReadOnly".into(),
                region: "us-east-1".into(),
                color: "1f77b4".into(),
                display_name: "dev 1 (222222222222)".into(),
            },
        ]
    }

    #[test]
    fn render_block_both_modes() {
        let plans = two_plans();
        let body = render_block(
            &plans,
            Mode::Process,
            Hints::Full,
            "corp",
            Path::new("/usr/local/bin/awsso"),
        )
        .unwrap();
        assert_eq!(
            body,
            "[profile Prod-Payments/AdministratorAccess]\n\
             credential_process = /usr/local/bin/awsso creds --session corp --account-id 111111111111 --role-name AdministratorAccess\n\
             region = eu-west-1\n\
             color = cc0000\n\
             granted_color = red\n\
             aws_account_id = 111111111111\n\
             role_name = AdministratorAccess\n\
             awsso_account_name = Prod Payments\n\
             awsso_display_name = Prod Payments (111111111111)\n\
             \n\
             [profile dev/ReadOnly]\n\
             credential_process = /usr/local/bin/awsso creds --session corp --account-id 222222222222 --role-name ReadOnly\n\
             region = us-east-1\n\
             color = 1f77b4\n\
             granted_color = blue\n\
             aws_account_id = 222222222222\n\
             role_name = ReadOnly\n\
             awsso_account_name = dev 1\n\
             awsso_display_name = dev 1 (222222222222)\n"
        );
        assert!(!body.lines().any(|l| l.starts_with("sso_")));

        let body = render_block(
            &plans[..1],
            Mode::Native,
            Hints::Full,
            "corp",
            Path::new("/unused"),
        )
        .unwrap();
        assert_eq!(
            body,
            "[profile Prod-Payments/AdministratorAccess]\n\
             sso_session = corp\n\
             sso_account_id = 111111111111\n\
             sso_role_name = AdministratorAccess\n\
             region = eu-west-1\n\
             color = cc0000\n\
             granted_color = red\n\
             aws_account_id = 111111111111\n\
             role_name = AdministratorAccess\n\
             awsso_account_name = Prod Payments\n\
             awsso_display_name = Prod Payments (111111111111)\n"
        );
        assert!(!body.contains("credential_process"));
        assert_eq!(
            render_block(&[], Mode::Process, Hints::Full, "corp", Path::new("/x")).unwrap(),
            ""
        );
    }

    /// The default level: the name hint is the comment line in place of the blank separator, read back
    /// by awsso's parser as the section's comment, and the block has the lean block's line count plus
    /// the one `granted_color` line per profile.
    #[test]
    fn minimal_names_each_profile_in_the_comment_line_above_it() {
        let plans = two_plans();
        let exe = Path::new("/usr/local/bin/awsso");
        let body = render_block(&plans, Mode::Process, Hints::Minimal, "corp", exe).unwrap();
        assert_eq!(
            body,
            "# Prod Payments (111111111111) AdministratorAccess\n\
             [profile Prod-Payments/AdministratorAccess]\n\
             credential_process = /usr/local/bin/awsso creds --session corp --account-id 111111111111 --role-name AdministratorAccess\n\
             region = eu-west-1\n\
             granted_color = red\n\
             # dev 1 (222222222222) ReadOnly\n\
             [profile dev/ReadOnly]\n\
             credential_process = /usr/local/bin/awsso creds --session corp --account-id 222222222222 --role-name ReadOnly\n\
             region = us-east-1\n\
             granted_color = blue\n"
        );
        let lean = render_block(&plans, Mode::Process, Hints::None, "corp", exe).unwrap();
        assert_eq!(
            body.lines().count(),
            lean.lines().count() + 1 + plans.len(),
            "one comment per profile for the one blank line between two, plus granted_color"
        );
        let spliced = splice_block("", "session corp", Some(&body)).unwrap();
        let cfg = ConfigFile::parse(Path::new("config"), spliced).unwrap();
        let comments: Vec<Option<&str>> =
            cfg.sections.iter().map(|s| s.comment.as_deref()).collect();
        assert_eq!(
            comments,
            [
                Some("Prod Payments (111111111111) AdministratorAccess"),
                Some("dev 1 (222222222222) ReadOnly")
            ]
        );
        for (section, p) in cfg.sections.iter().zip(&plans) {
            let c = section.comment.as_deref().unwrap();
            assert_eq!(
                account_name_of_comment(c, &p.account_id, &p.role_name),
                Some(p.display_name.split(" (").next().unwrap())
            );
        }
        assert_eq!(
            account_name_of_comment("333333333333 Admin", "333333333333", "Admin"),
            None
        );
        assert_eq!(
            account_name_of_comment("A (1) (2) Admin", "2", "Admin"),
            Some("A (1)")
        );
        for other in [
            "my own note",
            "Prod (111111111111) Admin",
            "Prod (222222222222) Role",
        ] {
            assert_eq!(
                account_name_of_comment(other, "222222222222", "Admin"),
                None
            );
        }
        // The other levels keep the blank separator and so have no name comment.
        for hints in [Hints::Full, Hints::None] {
            let body = render_block(&plans, Mode::Process, hints, "corp", exe).unwrap();
            // Nor is the BEGIN marker line above the first header read as one.
            let spliced = splice_block("", "session corp", Some(&body)).unwrap();
            let cfg = ConfigFile::parse(Path::new("config"), spliced).unwrap();
            assert!(cfg.sections.iter().all(|s| s.comment.is_none()), "{body}");
            assert!(!body.contains('#'), "{body}");
        }
    }

    /// Hostile account and role names reach the comment line only as one line of plain text: no marker,
    /// no header, no key, no control or invisible character; every section's comment is its own name.
    #[test]
    fn hostile_names_stay_inside_their_comment_line() {
        let plans = hostile_plans();
        let exe = PathBuf::from("/opt/a b/awsso");
        for mode in [Mode::Process, Mode::Native] {
            let body = render_block(&plans, mode, Hints::Minimal, "corp", &exe).unwrap();
            let spliced =
                splice_block("[default]\nregion = x\n", "session corp", Some(&body)).unwrap();
            let full = ConfigFile::parse(Path::new("config"), spliced.clone()).unwrap();
            assert_eq!(full.managed_blocks().len(), 1, "{spliced}");
            assert_eq!(full.sections.len(), plans.len() + 1);
            let comments: Vec<&str> = body.lines().filter(|l| l.starts_with('#')).collect();
            assert_eq!(comments.len(), plans.len());
            for (section, p) in full.sections[1..].iter().zip(&plans) {
                assert_eq!(section.name, p.name);
                let c = section.comment.as_deref().unwrap();
                assert_eq!(c, name_comment(p));
                assert!(
                    c.starts_with(&p.display_name) && c.ends_with(&p.role_name),
                    "{c}"
                );
                assert!(
                    is_safe_value(c) && !c.contains(['#', ';', '\u{202e}', '\u{200b}']),
                    "{c:?}"
                );
                assert!(!c.contains("awsso managed block"), "{c}");
                let keys: Vec<&str> = section.entries.iter().map(|e| e.key.as_str()).collect();
                assert_eq!(keys.last(), Some(&"granted_color"));
            }
        }
    }

    #[test]
    fn hint_levels_choose_the_keys() {
        let plans = hostile_plans();
        let exe = PathBuf::from("/opt/awsso");
        for (hints, mode, want) in [
            (
                Hints::Minimal,
                Mode::Process,
                &["credential_process", "region", "granted_color"][..],
            ),
            (
                Hints::None,
                Mode::Process,
                &["credential_process", "region"][..],
            ),
            (
                Hints::Minimal,
                Mode::Native,
                &[
                    "sso_session",
                    "sso_account_id",
                    "sso_role_name",
                    "region",
                    "granted_color",
                ][..],
            ),
        ] {
            let body = render_block(&plans, mode, hints, "corp", &exe).unwrap();
            let cfg = ConfigFile::parse(Path::new("body"), body).unwrap();
            assert_eq!(cfg.sections.len(), plans.len());
            for (section, p) in cfg.sections.iter().zip(&plans) {
                let keys: Vec<&str> = section.entries.iter().map(|e| e.key.as_str()).collect();
                assert_eq!(keys, want, "{hints:?} {mode:?}");
                if hints == Hints::Minimal {
                    assert_eq!(
                        section.get("granted_color"),
                        Some(container_color(&p.color))
                    );
                }
            }
        }
        assert_eq!(Hints::default(), Hints::Minimal);
    }

    #[test]
    fn unsafe_inputs_are_refused_not_written() {
        let mut p = ProfilePlan {
            name: "ok".into(),
            account_id: "111111111111".into(),
            account_name: "x".into(),
            role_name: "R".into(),
            region: "us-east-1".into(),
            color: "cc0000".into(),
            display_name: "x (111111111111)".into(),
        };
        assert!(
            render_block(
                &[p.clone()],
                Mode::Process,
                Hints::Full,
                "corp",
                Path::new("/a\nb")
            )
            .is_err()
        );
        p.role_name = "R\n[profile evil]".into();
        assert!(
            render_block(
                &[p.clone()],
                Mode::Process,
                Hints::Full,
                "corp",
                Path::new("/x")
            )
            .is_err()
        );
        p.role_name = "R".into();
        p.name = "a b".into();
        assert!(matches!(
            render_block(&[p], Mode::Native, Hints::Full, "corp", Path::new("/x")),
            Err(ConfigError::UnsafeName { .. })
        ));
    }
}
