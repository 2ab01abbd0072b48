//! Config files people really have, each from a seen repro (issue 9, "Awkward files"), driven through the
//! real binary: a lone CR at the end of a CRLF file, settings after awsso's END marker, a UTF-8 BOM,
//! profile names the SDKs never see, quoted names, and structures only botocore accepts.

use std::process::Stdio;

use crate::common::*;

/// The session section as `login` writes it, with `eol` line breaks and no final one.
fn session_lines(eol: &str) -> String {
    [
        format!("[sso-session {SESSION}]"),
        format!("sso_start_url = {START_URL}"),
        format!("sso_region = {REGION}"),
        "sso_registration_scopes = sso:account:access".to_owned(),
    ]
    .join(eol)
}

/// `awsso doctor --offline`-ish: the config checks do not need the network; doctor's exit code is
/// about every check, so only its output is looked at.
fn doctor(user: &User) -> Run {
    user.run(&["doctor"])
}

/// The words bash completion offers for `awsso use <TAB>`.
fn completions_for_use(user: &User) -> Vec<String> {
    let o = user
        .cmd(&["--", "awsso", "use", ""])
        .env("AWSSO_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_lone_cr_at_the_end_of_a_crlf_file_syncs_and_stays_crlf() {
    let user = logged_in(sim(2, 1));
    let original = format!("{}\r", session_lines("\r\n"));
    user.write_config(&original);
    user.run(&["sync"]).ok();
    let text = user.read_config();
    assert!(
        text.starts_with(&format!("{original}\n\r\n# BEGIN awsso managed block")),
        "{text:?}"
    );
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line ends in CRLF: {text:?}"
    );
    assert_eq!(
        text.matches('\r').count(),
        text.matches("\r\n").count(),
        "no lone CR"
    );

    // `login` appending another sso-session to such a file.
    user.write_config(&original);
    user.run(&[
        "login",
        "--start-url",
        "https://d-other456.awsapps.com/start",
        "--region",
        REGION,
        "--session",
        "other",
        "--no-browser",
    ])
    .ok();
    let text = user.read_config();
    assert!(
        text.starts_with(&format!("{original}\n\r\n[sso-session other]\r\n")),
        "{text:?}"
    );
    assert_eq!(
        text.matches('\r').count(),
        text.matches("\r\n").count(),
        "no lone CR"
    );
}

#[test]
fn a_setting_after_the_end_marker_is_refused_with_its_line() {
    let user = logged_in(sim(2, 1));
    user.run(&["sync"]).ok();
    let mut text = user.read_config();
    text.push_str("output = json\n");
    user.write_config(&text);
    let line = text.lines().count();
    // A re-sync that would rename every profile (and so move `output` to another one).
    let run = user.run(&["sync", "--template", "{account_id}.{role_name}"]);
    run.fails_with(5)
        .stderr_has(&format!(
            ":{line}: `output = json` follows awsso's managed block"
        ))
        .stderr_has(&format!(
            "move `output = json` (line {line}) into a section of yours"
        ));
    assert!(!run.stderr.contains("bug in awsso"), "{run}");
    assert_eq!(user.read_config(), text, "nothing written");
    // `--prune` of a stale last profile, the other repro, is refused the same way.
    user.run(&["sync", "--prune"]).fails_with(5);
    let d = doctor(&user);
    assert!(
        d.stdout.contains(&format!(
            "{line}: `output = json` follows awsso's managed block"
        )),
        "{d}"
    );

    // Under a header of its own it is the user's, and sync works again.
    let fixed = text.replace("output = json\n", "[profile mine]\noutput = json\n");
    user.write_config(&fixed);
    user.run(&["sync", "--template", "{account_id}.{role_name}"])
        .ok();
    assert!(
        user.read_config()
            .ends_with("[profile mine]\noutput = json\n")
    );
}

#[test]
fn a_utf8_bom_is_refused_for_writing_and_named_by_doctor() {
    let user = logged_in(sim(2, 1));
    let original = format!("\u{feff}{}\n", session_lines("\n"));
    user.write_config(&original);
    user.run(&["sync"])
        .fails_with(5)
        .stderr_has("byte order mark")
        .stderr_has("hint: remove the BOM");
    assert_eq!(user.read_config(), original);
    let d = doctor(&user);
    assert!(d.stdout.contains("byte order mark (BOM)"), "{d}");
}

#[test]
fn names_the_sdks_never_see_are_neither_offered_nor_accepted_and_quoted_names_match_botocore() {
    let user = User::new(sim(2, 1));
    user.write_config(
        "[profile in valid]\nregion = eu-west-1\n\n\
         [profile \"quoted name\"]\nregion = eu-west-1\n\n\
         [profile plain]\nregion = eu-west-1\n",
    );
    let offered = completions_for_use(&user);
    assert!(offered.iter().any(|w| w.contains("plain")), "{offered:?}");
    assert!(
        !offered
            .iter()
            .any(|w| w.contains("in valid") || w.contains("valid")),
        "{offered:?}"
    );
    assert!(
        offered.iter().any(|w| w.contains("quoted name")),
        "{offered:?}"
    );
    assert!(!offered.iter().any(|w| w.contains('"')), "{offered:?}");

    let r = user.run(&["use", "in valid", "--shell", "bash"]);
    r.fails_with(5).stderr_has("has no profile");
    assert!(r.stdout.is_empty(), "{r}");
    let r = user.run(&["use", "quoted name", "--shell", "bash"]);
    r.ok();
    assert!(r.stdout.contains("quoted name"), "{r}");
    user.run(&["use", "\"quoted name\"", "--shell", "bash"])
        .fails_with(5);

    // doctor says the quoted one is botocore-only.
    let d = doctor(&user);
    assert!(
        d.stdout
            .contains("profile \"quoted name\": botocore and the AWS CLI see it"),
        "{d}"
    );
}

#[test]
fn structures_only_botocore_accepts_are_read_and_doctor_warns_with_the_line() {
    let user = User::new(sim(2, 1));
    user.write_config("[profile a]\n  region = eu-west-1\n[profile b#c]\nregion = eu-west-1\n");
    let r = user.run(&["use", "a", "--shell", "bash"]);
    r.ok();
    let d = doctor(&user);
    assert!(
        d.stdout
            .contains("config:2: the first setting under the header on line 1 is indented"),
        "{d}"
    );
    assert!(
        d.stdout
            .contains("config:3: a `#` or `;` inside the section header"),
        "{d}"
    );
}
