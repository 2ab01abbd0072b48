//! `awsso console`, end to end: the access-portal shortcut (exact URL, printed or handed to the browser),
//! the federated sign-in against the simulator's federation endpoint, and the errors.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

const ACCOUNT: &str = "100000000001";

/// A config with the login's session and one awsso profile in `us-east-2`.
fn write_config(user: &User) {
    user.write_config(&format!(
        "[sso-session d-test123]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile dev]\ncredential_process = {} creds --session d-test123 --account-id {ACCOUNT} \
         --role-name AdministratorAccess\nregion = us-east-2\n",
        bin()
    ));
}

/// A `$BROWSER` that writes the URL it is given to `record`.
fn recording_browser(user: &User) -> (PathBuf, PathBuf) {
    let record = user.home.path().join("browser-got");
    let script = user.home.path().join("record-browser");
    write_executable(
        &script,
        &format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", record.display()),
    );
    (script, record)
}

/// A `$BROWSER` that writes, one per line to `record`: its argv, then the HTTP status of a request to
/// another path on the same port, of a fetch of the link as another uid (`skipped` unless root), of the
/// first fetch (with the redirect's Location) and of a second fetch. It never follows the redirect.
fn fetching_browser(user: &User) -> (PathBuf, PathBuf) {
    let record = user.home.path().join("fetching-browser-saw");
    let script = user.home.path().join("fetching-browser");
    write_executable(
        &script,
        &format!(
            r#"#!/bin/sh
out='{out}'
get() {{ curl -s -o /dev/null -w "$1" "$2"; echo; }}
base=$(printf '%s' "$1" | sed -E 's#^(http://[^/]+).*#\1#')
{{
  printf '%s\n' "$*"
  get '%{{http_code}}' "$base/not-the-link"
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups curl -s -o /dev/null -w '%{{http_code}}' "$1"; echo
  else
    echo skipped
  fi
  get '%{{http_code}} %{{redirect_url}}' "$1"
  get '%{{http_code}}' "$1"
}} > "$out.tmp"
mv "$out.tmp" "$out"
"#,
            out = record.display()
        ),
    );
    (script, record)
}

/// The browser is started in the background: wait for what it wrote.
fn wait_for(path: &Path) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The shortcut as the access portal expects it: destination fully percent-encoded.
fn expected_shortcut(destination: &str) -> String {
    let encoded: String = destination
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!(
        "{START_URL}/#/console?account_id={ACCOUNT}&role_name=AdministratorAccess&destination={encoded}"
    )
}

#[test]
fn print_gives_the_exact_shortcut_and_opens_no_browser() {
    let user = User::new(quick());
    write_config(&user);
    let (browser, record) = recording_browser(&user);
    let r = run_with(
        &user,
        &[
            "console",
            "--profile",
            "dev",
            "--destination",
            "s3",
            "--print",
        ],
        &[("BROWSER", &browser)],
    );
    r.ok();
    assert_eq!(
        r.stdout,
        format!(
            "{}\n",
            expected_shortcut("https://s3.console.aws.amazon.com/s3/home?region=us-east-2")
        )
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!record.exists(), "--print must not start a browser");

    // A full URL passes through untouched (and encoded), whatever the region; --region moves shorthands.
    let url = "https://us-east-2.console.aws.amazon.com/ec2/home?region=us-east-2#Instances:state=running";
    let r = user.run(&["console", "-p", "dev", "-d", url, "--print"]);
    assert_eq!(r.ok().stdout.trim_end(), expected_shortcut(url));
    let r = user.run(&[
        "console",
        "-p",
        "dev",
        "-d",
        "logs",
        "--region",
        "eu-central-1",
        "--print",
    ]);
    assert_eq!(
        r.ok().stdout.trim_end(),
        expected_shortcut(
            "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#logsV2:log-groups"
        )
    );
    // No destination: the portal's own default (the console home).
    let r = user.run(&[
        "console",
        "--session",
        "d-test123",
        "--account-id",
        ACCOUNT,
        "--role-name",
        "AdministratorAccess",
        "--print",
    ]);
    assert_eq!(
        r.ok().stdout.trim_end(),
        format!("{START_URL}/#/console?account_id={ACCOUNT}&role_name=AdministratorAccess")
    );
    // None of this needed a login or the network.
    assert_eq!(user.sim.counts().values().sum::<u64>(), 0);
}

#[test]
fn without_print_the_browser_gets_the_url() {
    let user = User::new(quick());
    write_config(&user);
    let (browser, record) = recording_browser(&user);
    let r = run_with(
        &user,
        &["console", "--profile", "dev", "--destination", "ec2"],
        &[("BROWSER", &browser)],
    );
    r.ok()
        .stderr_has("Opening the console as role AdministratorAccess");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(
        wait_for(&record).as_deref(),
        Some(
            expected_shortcut("https://us-east-2.console.aws.amazon.com/ec2/home?region=us-east-2")
                .as_str()
        )
    );

    // Without any browser (no BROWSER, no display), the link is printed instead.
    let r = user.run(&["console", "--profile", "dev"]);
    r.ok().stderr_has("No browser here");
    assert_eq!(
        r.stdout.trim_end(),
        format!("{START_URL}/#/console?account_id={ACCOUNT}&role_name=AdministratorAccess")
    );
}

#[test]
fn federated_print_signs_in_through_the_federation_endpoint() {
    let user = User::new(quick());
    user.login().ok();
    let (browser, record) = recording_browser(&user);
    let sim_url = user.sim.url();
    let args = [
        "console",
        "--session",
        "d-test123",
        "--account-id",
        ACCOUNT,
        "--role-name",
        "ReadOnlyAccess",
        "--destination",
        "ec2",
        "--federated",
        "--print",
    ];
    let r = run_with(
        &user,
        &args,
        &[
            ("AWSSO_SIGNIN_ENDPOINT", Path::new(&sim_url)),
            ("BROWSER", &browser),
        ],
    );
    r.ok().stderr_has("do not share it");
    let url = r.stdout.trim_end();
    let destination =
        "https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fec2%2Fhome%3Fregion%3Deu-west-1";
    let prefix = format!(
        "{sim_url}/federation?Action=login&Issuer=awsso&Destination={destination}&SigninToken="
    );
    let token = url
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("unexpected URL {url}"));

    // The sim issued that token, for a getSigninToken request that carried credentials it had issued.
    let issued = user.sim.signin_tokens();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0].signin_token, token);
    assert_eq!(issued[0].account_id, ACCOUNT);
    assert_eq!(issued[0].role_name, "ReadOnlyAccess");
    let creds = user.sim.issued_credentials();
    assert!(
        creds
            .iter()
            .any(|c| c.access_key_id == issued[0].access_key_id)
    );
    assert_eq!(user.sim.count("GetSigninToken"), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!record.exists(), "--print must not start a browser");
    // The role's keys themselves never reach the output.
    for c in &creds {
        assert!(
            !r.stdout.contains(&c.secret_access_key) && !r.stderr.contains(&c.secret_access_key)
        );
        assert!(!r.stdout.contains(&c.session_token) && !r.stderr.contains(&c.session_token));
    }

    // Without --print and with a browser, the browser gets a one-shot loopback link (its argv is readable
    // by every user), which redirects once to the sign-in URL; nothing is printed.
    let (fetching, seen) = fetching_browser(&user);
    let r = run_with(
        &user,
        &args[..args.len() - 1],
        &[
            ("AWSSO_SIGNIN_ENDPOINT", Path::new(&sim_url)),
            ("BROWSER", &fetching),
        ],
    );
    r.ok().stderr_has("Opened the console");
    assert!(r.stdout.is_empty(), "{r}");
    let seen = wait_for(&seen).expect("the browser ran");
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines.len(), 5, "{seen}");
    let argv = lines[0];
    let tokens = user.sim.signin_tokens();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let token = &tokens[1].signin_token;
    assert!(
        !argv.contains("SigninToken") && !argv.contains(token.as_str()),
        "the browser's argv carries the sign-in token: {argv}"
    );
    assert!(argv.starts_with("http://127.0.0.1:"), "{argv}");
    assert_eq!(lines[1], "404", "another path on the port: {seen}");
    if lines[2] != "skipped" {
        assert_eq!(lines[2], "403", "another uid fetching the link: {seen}");
    }
    let expected = format!("{prefix}{}", encode(token));
    assert_eq!(
        lines[3],
        format!("302 {expected}"),
        "the first fetch: {seen}"
    );
    assert_ne!(lines[4], "302", "a second fetch must not redirect: {seen}");
    assert!(!r.stderr.contains(token.as_str()));

    // Without a browser and without --print, the token-bearing URL is not printed.
    let r = run_with(
        &user,
        &args[..args.len() - 1],
        &[("AWSSO_SIGNIN_ENDPOINT", Path::new(&sim_url))],
    );
    r.fails_with(1).stderr_has("--print");
    assert!(r.stdout.is_empty());
}

#[test]
fn federated_needs_a_login_and_the_signin_endpoint_must_accept() {
    let user = User::new(quick());
    write_config(&user);
    let sim_url = user.sim.url();
    let r = run_with(
        &user,
        &["console", "--profile", "dev", "--federated", "--print"],
        &[("AWSSO_SIGNIN_ENDPOINT", Path::new(&sim_url))],
    );
    r.fails_with(3)
        .stderr_has("awsso login --session d-test123");
    assert_eq!(user.sim.count("GetSigninToken"), 0);

    // A sign-in endpoint that is not there: a network error with its hint, no secrets.
    user.login().ok();
    let r = run_with(
        &user,
        &["console", "--profile", "dev", "--federated", "--print"],
        &[("AWSSO_SIGNIN_ENDPOINT", Path::new("http://127.0.0.1:9"))],
    );
    r.fails_with(1)
        .stderr_has("could not reach the sign-in endpoint http://127.0.0.1:9")
        .stderr_has("AWSSO_SIGNIN_ENDPOINT");
    for secret in user.sim.issued_secrets() {
        assert!(!r.stderr.contains(&secret));
    }
}

#[test]
fn unknown_profiles_and_destinations_are_explained() {
    let user = User::new(quick());
    write_config(&user);
    user.run(&["console", "--profile", "nope", "--print"])
        .fails_with(5)
        .stderr_has("has no profile nope")
        .stderr_has("hint:");
    user.run(&["console", "--profile", "dev", "-d", "teleporter", "--print"])
        .fails_with(1)
        .stderr_has("unknown console destination \"teleporter\"")
        .stderr_has("s3, ec2, logs");
    user.run(&[
        "console",
        "--profile",
        "dev",
        "-d",
        "http://example.com",
        "--print",
    ])
    .fails_with(1)
    .stderr_has("not an https URL");
    // No role and no terminal to pick one on (issue 10): a usage error naming --profile, never a wait.
    user.run(&["console", "--print"])
        .fails_with(2)
        .stderr_has("--profile");
}
