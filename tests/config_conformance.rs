//! The AWS SDKs' shared profile-parser test suite (`tests/data/profile-parser-tests.json`, vendored from
//! smithy-rs; see tests/data/README.md) run through awsso's config parser: every case with a config file
//! must agree with the suite, or be listed in [`DIFFERENCES`] with the reason awsso deliberately differs.
//! The test fails on any other disagreement, and on a listed difference that no longer differs.
//!
//! What is compared: whether the file is rejected (the suite's error text is the Rust SDK's wording, so
//! only "rejected or not" is compared), and else the profiles (property names lowercased, as the SDKs
//! do) and, where the case names them, the sso-sessions.
use std::collections::BTreeMap;
use std::path::Path;

use awsso::awsconfig::{ConfigFile, Section, SectionKind};
use serde_json::Value;

/// Case name → why awsso's parser deliberately disagrees with the suite.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "Duplicate profiles in the same file merge properties.",
        "awsso refuses a section defined twice, as botocore does (configparser's DuplicateSectionError): \
         a file the CLI cannot read must not be rewritten",
    ),
    (
        "Duplicate properties in a profile use the last one defined.",
        "awsso refuses a key set twice in a section, as botocore does (DuplicateOptionError)",
    ),
    (
        "Duplicate properties in duplicate profiles use the last one defined.",
        "a section defined twice is refused, as botocore does",
    ),
    (
        "Duplicate properties in duplicate profiles use the last one defined (case insensitive).",
        "a section defined twice is refused, as botocore does",
    ),
    (
        "Default profiles with mixed prefixes in the config file ignore the one without prefix when merging.",
        "`[profile default]` twice is a section defined twice, refused as botocore does",
    ),
    (
        "Default profiles with mixed prefixes merge with credentials",
        "`[profile default]` twice is refused as botocore does; awsso does not read the credentials file",
    ),
    (
        "Profiles duplicated in multiple files are merged.",
        "awsso reads only the config file, never ~/.aws/credentials: the credentials half is absent",
    ),
    (
        "Duplicate properties between files uses credentials property.",
        "awsso reads only the config file, never ~/.aws/credentials",
    ),
    (
        "Profile names support alphanumeric characters and - / . % @ _ : +",
        "awsso follows botocore, which sees `[profile foo!bar]`; `awsso doctor` warns that the SDKs for \
         Rust and Java skip it",
    ),
    (
        "Invalid property names are ignored.",
        "awsso keeps `in valid = value` as botocore does (configparser accepts any key); awsso itself \
         only ever writes safe keys",
    ),
    ("Pound sign comments are ignored.", INLINE_COMMENT),
    ("Semicolon sign comments are ignored.", INLINE_COMMENT),
    ("All comment types can be used together.", INLINE_COMMENT),
    ("Comments can be empty.", INLINE_COMMENT),
    (
        "Sub-properties can have blank lines that are ignored",
        "the raw value keeps the blank line, as botocore's configparser does ('\\nname = value\\n\\nname2 = \\
         value2'); the sub-properties (`Section::sub_properties`, botocore's `_parse_nested`) are the same",
    ),
];

/// Why awsso keeps ` # …` in a value.
const INLINE_COMMENT: &str = "awsso reads values as botocore does, which keeps ` # x` / ` ; x` as part of the \
     value (configparser has no inline comments); the SDKs cut it. awsso never writes such a value \
     (`is_safe_value`), so what it writes reads the same everywhere";

/// awsso's view of a config file in the suite's shape: `{"profiles": {...}, "sso_sessions": {...}}`.
fn awsso_view(text: &str) -> Result<Value, String> {
    let cfg = ConfigFile::parse(Path::new("config"), text.to_owned()).map_err(|e| e.to_string())?;
    let props = |s: &Section| -> Value {
        s.entries
            .iter()
            .map(|e| (e.key.to_ascii_lowercase(), Value::String(e.value.clone())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let mut profiles = BTreeMap::new();
    for s in cfg.profiles() {
        // `profile` resolves `default` as the SDKs do (`[profile default]` wins over `[default]`).
        if let Some(chosen) = cfg.profile(&s.name) {
            profiles.insert(s.name.clone(), props(chosen));
        }
    }
    let sessions: BTreeMap<String, Value> = cfg
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::SsoSession)
        .map(|s| (s.name.clone(), props(s)))
        .collect();
    Ok(serde_json::json!({ "profiles": profiles, "sso_sessions": sessions }))
}

/// Whether awsso's result matches the case's expected output.
fn agrees(case: &Value) -> (bool, String) {
    let text = case["input"]["configFile"].as_str().unwrap();
    let has_credentials = case["input"].get("credentialsFile").is_some();
    let output = &case["output"];
    let got = awsso_view(text);
    if output.get("errorContaining").is_some() {
        return match got {
            Err(_) => (true, String::new()),
            Ok(v) => (false, format!("awsso accepts it: {v}")),
        };
    }
    let want = &output["config"];
    match got {
        Err(e) => (false, format!("awsso rejects it: {e}")),
        Ok(v) => {
            let profiles_ok = v["profiles"] == want["profiles"];
            let sessions_ok = want
                .get("sso_sessions")
                .is_none_or(|w| v["sso_sessions"] == *w);
            let note = if has_credentials {
                " (the case also has a credentials file)"
            } else {
                ""
            };
            (
                profiles_ok && sessions_ok,
                format!("awsso: {v}\nsuite: {want}{note}"),
            )
        }
    }
}

#[test]
fn every_config_case_of_the_sdks_profile_parser_suite_agrees_or_is_a_documented_difference() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/profile-parser-tests.json"
    );
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases: Vec<&Value> = suite["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["input"].get("configFile").is_some())
        .collect();
    assert_eq!(
        cases.len(),
        62,
        "the vendored suite has 62 config-file cases"
    );
    let mut failures = Vec::new();
    let mut agreed = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (ok, detail) = agrees(case);
        let documented = DIFFERENCES.iter().any(|(n, _)| *n == name);
        match (ok, documented) {
            (true, false) => agreed += 1,
            (false, true) => {}
            (false, false) => failures.push(format!("undocumented difference: {name}\n{detail}")),
            (true, true) => failures.push(format!(
                "listed as a difference but agrees now (remove it from DIFFERENCES): {name}"
            )),
        }
    }
    for (name, _) in DIFFERENCES {
        assert!(
            cases.iter().any(|c| c["name"] == *name),
            "DIFFERENCES names a case the suite lacks: {name}"
        );
    }
    eprintln!(
        "{agreed} of {} config-file cases agree; {} documented differences",
        cases.len(),
        DIFFERENCES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
