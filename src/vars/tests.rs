//! The table against README, `--help` and the source tree, and the resolution of [`Env`].
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;

const BEGIN: &str = "<!-- BEGIN environment table: generated from src/vars.rs -->\n";
const END: &str = "<!-- END environment table -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `AWSSO_…` name in `text` (not part of a longer identifier, not a bare `AWSSO_` prefix).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(i) = text[from..].find("AWSSO_").map(|i| i + from) {
        let mut end = i + "AWSSO_".len();
        while end < bytes.len()
            && (bytes[end].is_ascii_uppercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'_')
        {
            end += 1;
        }
        let name = text[i..end].trim_end_matches('_');
        if (i == 0 || !word(bytes[i - 1])) && name.len() > "AWSSO_".len() {
            out.insert(name.to_string());
        }
        from = end;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_names() -> BTreeSet<&'static str> {
    TABLE.iter().map(|v| v.name).collect()
}

fn documented_names() -> BTreeSet<String> {
    documented().map(|v| v.name.to_string()).collect()
}

#[test]
fn names_are_unique_and_each_row_says_something() {
    assert_eq!(
        all_names().len(),
        TABLE.len(),
        "a name is in the table twice"
    );
    for v in TABLE {
        assert!(v.name.starts_with("AWSSO_"), "{}", v.name);
        assert!(!v.effect.trim().is_empty(), "{} has no effect text", v.name);
        assert!(
            !v.effect.contains('|'),
            "{}: a | would split README's row",
            v.name
        );
    }
}

/// README's table is the generated one, row for row; `AWSSO_BLESS=1` rewrites it.
#[test]
fn readme_environment_table_is_generated_from_the_table() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README lacks the BEGIN marker of the environment table")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README lacks the END marker of the environment table");
    let want = markdown_table();
    if readme[start..end] != want && std::env::var_os(BLESS).is_some_and(|v| v == "1") {
        std::fs::write(
            &path,
            format!("{}{want}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        want,
        "README's environment table differs from src/vars.rs; regenerate it with \
         `AWSSO_BLESS=1 cargo test --lib vars::`"
    );
}

/// README names no variable the table lacks, and no unit-test-only one.
#[test]
fn readme_names_only_documented_variables() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let unknown: Vec<String> = names_in(&readme)
        .difference(&documented_names())
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "README names variables src/vars.rs does not document: {unknown:?}"
    );
}

/// Every help text (all commands, long help) names only documented variables: clap's `[env: …]` comes
/// from the constants, and a doc comment cannot mention a variable the table lacks.
#[test]
fn help_names_only_documented_variables() {
    use clap::CommandFactory;
    fn walk(cmd: &mut clap::Command, out: &mut String) {
        out.push_str(&cmd.render_long_help().to_string());
        for sub in cmd.get_subcommands_mut() {
            walk(sub, out);
        }
    }
    let mut help = String::new();
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    walk(&mut cmd, &mut help);
    let mentioned = names_in(&help);
    assert!(
        mentioned.contains(STORE) && mentioned.contains(BROWSER),
        "{mentioned:?}"
    );
    let unknown: Vec<String> = mentioned.difference(&documented_names()).cloned().collect();
    assert!(
        unknown.is_empty(),
        "--help names variables src/vars.rs does not document: {unknown:?}"
    );
}

/// The source tree names only variables of the table, and only this module spells a name as a whole
/// string literal (a read, a clap attribute, a constant): the rest use the constants or [`env()`].
#[test]
fn the_source_tree_uses_the_table() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let known: BTreeSet<String> = all_names().into_iter().map(str::to_string).collect();
    let mut unknown = BTreeSet::new();
    let mut literals = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        unknown.extend(
            names_in(&text)
                .difference(&known)
                .map(|n| format!("{n} in {}", file.display())),
        );
        if file.ends_with("src/vars.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let literal = known.iter().any(|name| {
                ["var(", "var_os(", "env = ", ".env(", "set(", "&str = "]
                    .iter()
                    .any(|before| line.contains(&format!("{before}\"{name}\"")))
            });
            if literal {
                literals.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "variables missing from src/vars.rs: {unknown:?}"
    );
    assert!(
        literals.is_empty(),
        "use the constants of src/vars.rs:\n{}",
        literals.join("\n")
    );
}

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| OsString::from(v))
    }
}

#[test]
fn defaults_without_any_variable() {
    let e = Env::from_lookup(lookup(&[]));
    assert_eq!(
        e,
        Env {
            keyring_service: "awsso".into(),
            no_keyutils_cache: false,
            signin_endpoint: None,
            cache_dir: None,
            listing_ttl: 3600,
            concurrency: None,
            settings: None,
            picker_trace: None,
        }
    );
}

#[test]
fn the_settings_file_prefers_awsso_settings_over_the_deprecated_awsso_config() {
    let settings = |pairs| Env::from_lookup(lookup(pairs)).settings;
    assert_eq!(settings(&[(SETTINGS, "/new")]), Some("/new".into()));
    assert_eq!(
        settings(&[(SETTINGS_DEPRECATED, "/old")]),
        Some("/old".into())
    );
    assert_eq!(
        settings(&[(SETTINGS_DEPRECATED, "/old"), (SETTINGS, "/new")]),
        Some("/new".into())
    );
    // Empty means unset, as it always did for AWSSO_CONFIG.
    assert_eq!(
        settings(&[(SETTINGS, ""), (SETTINGS_DEPRECATED, "/old")]),
        Some("/old".into())
    );
    assert_eq!(settings(&[(SETTINGS_DEPRECATED, "")]), None);
}

#[test]
fn values_are_parsed_as_before() {
    let e = Env::from_lookup(lookup(&[
        (NO_KEYUTILS_CACHE, "0"),
        (SIGNIN_ENDPOINT, " http://127.0.0.1:9/ "),
        (LISTING_TTL, "60"),
        (CONCURRENCY, "257"),
        (KEYRING_SERVICE, "awsso-test"),
        (CACHE_DIR, ""),
    ]));
    assert!(!e.no_keyutils_cache, "0 keeps the cache");
    assert_eq!(e.signin_endpoint.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(e.listing_ttl, 60);
    assert_eq!(e.concurrency, None, "out of range: the default");
    assert_eq!(e.keyring_service, "awsso-test");
    assert_eq!(e.cache_dir, None, "empty means unset");
    let e = Env::from_lookup(lookup(&[
        (NO_KEYUTILS_CACHE, "1"),
        (CONCURRENCY, "4"),
        (LISTING_TTL, "x"),
    ]));
    assert!(e.no_keyutils_cache);
    assert_eq!(e.concurrency, Some(4));
    assert_eq!(e.listing_ttl, 3600, "not a number: the default");
}
