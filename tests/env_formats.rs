//! `awsso env --format dotenv|json`: the role's variables as a `docker --env-file` and as JSON (read back
//! with jq), equal to what the simulator issued.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

fn user_with_profile() -> User {
    with_profile(SimConfig::default(), |acct| {
        format!(
            "[profile p]\nsso_session = d-test123\nsso_account_id = {acct}\nsso_role_name = AdministratorAccess\nregion = us-west-2\n"
        )
    })
}

#[track_caller]
fn assert_issued(vars: &BTreeMap<String, String>, user: &User) {
    let issued = last_issued(user);
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], issued.access_key_id);
    assert_eq!(vars["AWS_SECRET_ACCESS_KEY"], issued.secret_access_key);
    assert_eq!(vars["AWS_SESSION_TOKEN"], issued.session_token);
    assert_eq!(
        vars["AWS_CREDENTIAL_EXPIRATION"],
        rfc3339_utc(issued.expiration_ms / 1000)
    );
    assert_eq!(vars["AWS_REGION"], "us-west-2");
    assert_eq!(vars["AWSSO_PROFILE"], "p");
}

/// docker reads `--env-file` lines as NAME=VALUE, split at the first `=`, the value taken literally.
#[test]
fn env_dotenv_is_an_env_file_of_the_role() {
    let user = user_with_profile();
    let r = user.run(&["env", "--profile", "p", "--format", "dotenv"]);
    r.ok();
    let mut vars = BTreeMap::new();
    for line in r.stdout.lines() {
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not NAME=VALUE: {line}"));
        assert!(
            !v.starts_with(['\'', '"']),
            "quoted values would reach the container with their quotes: {line}"
        );
        assert!(vars.insert(k.to_string(), v.to_string()).is_none());
    }
    assert_issued(&vars, &user);
    assert!(!r.stdout.contains("unset"), "{r}");
}

#[test]
fn env_json_is_an_object_jq_reads() {
    let user = user_with_profile();
    let r = user.run(&["env", "--profile", "p", "--format", "json"]);
    r.ok();
    let mut jq = Command::new("jq")
        .args(["-r", "to_entries[] | \"\\(.key)\\t\\(.value)\""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq is installed (apt-get install jq)");
    jq.stdin
        .take()
        .unwrap()
        .write_all(r.stdout.as_bytes())
        .unwrap();
    let out = jq.wait_with_output().unwrap();
    assert!(out.status.success());
    let vars: BTreeMap<String, String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    assert_issued(&vars, &user);
}

#[test]
fn env_shell_flag_with_another_format_is_a_usage_error() {
    let user = user_with_profile();
    user.sim.reset_counts();
    let r = user.run(&[
        "env",
        "--profile",
        "p",
        "--format",
        "json",
        "--shell",
        "fish",
    ]);
    r.fails_with(2).stderr_has("hint:");
    assert!(r.stdout.is_empty());
    assert_eq!(user.sim.counts().values().sum::<u64>(), 0);
}
