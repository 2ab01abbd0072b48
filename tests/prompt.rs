//! `awsso prompt` end to end: the real binary in the environments `awsso env` and `awsso use` make, the
//! time left read from the kernel-keyring cache with no D-Bus and no network, colours and NO_COLOR.

use std::process::Command;

use crate::common::*;

/// A logged-in user with `[profile p]` (colour cc0000); the role's credentials live `ttl` seconds.
fn user_with_profile(ttl: u64) -> User {
    with_profile(
        SimConfig {
            credentials_ttl: std::time::Duration::from_secs(ttl),
            ..SimConfig::default()
        },
        |acct| {
            format!(
                "[profile p]\nsso_session = d-test123\nsso_account_id = {acct}\nsso_role_name = AdministratorAccess\ncolor = cc0000\n"
            )
        },
    )
}

const RED: &str = "\x1b[38;2;204;0;0m";

fn prompt(user: &User, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = user.cmd(&["prompt"]);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    Run::from(c.output().unwrap())
}

#[test]
fn prompt_prints_nothing_without_an_active_profile() {
    let user = user_with_profile(3600);
    user.write_config("[profile broken\n");
    let r = prompt(&user, &[], &[]);
    r.ok();
    assert_eq!(r.stdout, "", "{r}");
    assert_eq!(r.stderr, "", "{r}");
}

/// After `eval "$(awsso env -p p)"` the segment shows the profile and the exported expiry, in colour.
#[test]
fn prompt_in_an_awsso_env_shell_shows_the_time_left_in_colour() {
    let user = user_with_profile(3600);
    let env = user.run(&["env", "--profile", "p", "--shell", "bash"]);
    env.ok();
    let script = format!("{}\n'{}' prompt --shell bash", env.stdout, bin());
    let mut c = Command::new("bash");
    c.args(["-c", &script]);
    c.env_clear();
    for (k, v) in user.cmd(&[]).get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("AWS_PROFILE", "ignored-while-awsso-env-is-active");
    let r = Run::from(c.output().unwrap());
    r.ok();
    let want = |left: &str| format!("\x01{RED}\x02p {left}\x01\x1b[0m\x02\n");
    assert!(r.stdout == want("59m") || r.stdout == want("1h 0m"), "{r}");
    assert_eq!(
        user.sim.count("GetRoleCredentials"),
        1,
        "only `env` fetched"
    );
}

/// With AWS_PROFILE (as `awsso use` sets it) the time comes from the kernel-keyring cache; the Secret
/// Service is never asked (its bus is unreachable here) and nothing goes to the network.
#[test]
fn prompt_for_aws_profile_reads_the_kernel_keyring_cache_only() {
    let user = user_with_profile(300);
    user.run(&["creds", "--profile", "p"]).ok();
    user.sim.reset_counts();
    let no_bus = [
        ("AWS_PROFILE", "p"),
        (
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/awsso-no-bus",
        ),
        ("NO_COLOR", "1"),
    ];
    let r = prompt(&user, &no_bus, &[]);
    r.ok();
    let line = r.stdout.trim_end();
    assert!(
        line == "p ⚠ 4m" || line == "p ⚠ 5m",
        "the warning mark under 10 minutes, no colour with NO_COLOR: {r}"
    );
    assert_eq!(user.sim.counts().values().sum::<u64>(), 0);

    let r = prompt(&user, &[("AWS_PROFILE", "p")], &["--shell", "zsh"]);
    assert!(
        r.stdout.starts_with(&format!("%{{{RED}%}}p ⚠ ")),
        "{:?}",
        r.stdout
    );
    // A profile with no cached credentials: the name alone.
    let r = prompt(&user, &[("AWS_PROFILE", "other"), ("NO_COLOR", "1")], &[]);
    assert_eq!(r.ok().stdout, "other\n");
}
