//! `awsso console --browser-profile` and `--container`, end to end: the exact argv a Chromium-family
//! browser gets, the exact `ext+container:` link a Firefox container extension gets (decoded and compared
//! here, with the simulator's hostile account names), and, with `--federated`, that the browser is only
//! ever handed the one-shot loopback link, which redirects once to the sign-in URL.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

const ACCOUNT: &str = "100000000001";

const SESSION_SECTION: &str = "[sso-session d-test123]\nsso_start_url = https://d-test123.awsapps.com/start\n\
                               sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n";

/// A profile section for `account`/`role` with extra `key = value` lines.
fn profile(name: &str, account: &str, role: &str, extra: &str) -> String {
    format!(
        "[profile {name}]\ncredential_process = {} creds --session d-test123 --account-id {account} \
         --role-name {role}\nregion = us-east-2\n{extra}\n",
        bin()
    )
}

/// A browser at `dir/name` that writes its argv, NUL-separated, to the returned file.
fn argv_browser(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let record = dir.join(format!("{name}.argv"));
    let script = dir.join(name);
    write_executable(
        &script,
        &format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > '{0}.tmp'\n/bin/mv '{0}.tmp' '{0}'\n",
            record.display()
        ),
    );
    (script, record)
}

/// The browser is started in the background: wait for the argv it recorded.
fn wait_argv(record: &Path) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(record) {
            let _ = std::fs::remove_file(record);
            return s
                .strip_suffix('\0')
                .unwrap_or(&s)
                .split('\0')
                .map(str::to_string)
                .collect();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the browser did not run (no {})", record.display());
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("a %XX escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// An `ext+container:` link split into its parameters, checking that there are exactly name, color and
/// url, each raw value made only of unreserved characters and escapes (so nothing in it can end the
/// parameter or be read as a space), and returns them decoded.
fn container_params(link: &str) -> (String, String, String) {
    let query = link
        .strip_prefix("ext+container:")
        .unwrap_or_else(|| panic!("not a container link: {link:?}"));
    let parts: Vec<&str> = query.split('&').collect();
    assert_eq!(parts.len(), 3, "{link}");
    let mut values = Vec::new();
    for (part, key) in parts.iter().zip(["name", "color", "url"]) {
        let (k, v) = part.split_once('=').unwrap_or_else(|| panic!("{part}"));
        assert_eq!(k, key, "{link}");
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "raw characters in {key}: {v:?}"
        );
        values.push(decode(v));
    }
    (values[0].clone(), values[1].clone(), values[2].clone())
}

fn shortcut(account: &str, role: &str) -> String {
    format!("{START_URL}/#/console?account_id={account}&role_name={role}")
}

/// One GET of a loopback URL: the status and the Location header.
fn get(url: &str) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = reply.split_whitespace().nth(1).unwrap().parse().unwrap();
    let location = reply
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_string);
    (status, location)
}

#[test]
fn browser_profile_gives_chromium_one_profile_directory_word_and_the_portal_link() {
    let user = User::new(quick());
    user.write_config(&format!(
        "{SESSION_SECTION}{}",
        profile("dev", ACCOUNT, "AdministratorAccess", "")
    ));
    let dir = user.home.path().join("bin");
    let (browser, record) = argv_browser(&dir, "my-chrome");
    let browser = browser.to_str().unwrap();
    let expected = format!(
        "{}&destination={}",
        shortcut(ACCOUNT, "AdministratorAccess"),
        encode("https://us-east-2.console.aws.amazon.com/ec2/home?region=us-east-2")
    );

    let r = user.run(&[
        "console",
        "-p",
        "dev",
        "-d",
        "ec2",
        "--browser-profile",
        "Profile 1",
        "--browser",
        browser,
    ]);
    r.ok().stderr_has("in the browser profile \"Profile 1\"");
    assert_eq!(
        wait_argv(&record),
        ["--profile-directory=Profile 1", expected.as_str()]
    );

    // AWSSO_BROWSER names the program as --browser does.
    let r = run_with(
        &user,
        &[
            "console",
            "-p",
            "dev",
            "-d",
            "ec2",
            "--browser-profile",
            "Default",
        ],
        &[("AWSSO_BROWSER", browser)],
    );
    r.ok();
    assert_eq!(
        wait_argv(&record),
        ["--profile-directory=Default", expected.as_str()]
    );

    // Without either, the first Chromium-family browser on PATH, in the documented order.
    let only = user.home.path().join("only");
    let (_, edge) = argv_browser(&only, "microsoft-edge");
    let (_, chromium) = argv_browser(&only, "chromium-browser");
    let r = run_with(
        &user,
        &["console", "-p", "dev", "--browser-profile", "Work"],
        &[("PATH", only.to_str().unwrap())],
    );
    r.ok();
    assert_eq!(
        wait_argv(&chromium),
        [
            "--profile-directory=Work",
            shortcut(ACCOUNT, "AdministratorAccess").as_str()
        ]
    );
    assert!(!edge.exists());

    // None on PATH: an error naming what was looked for and how to name one.
    let empty = user.home.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    run_with(
        &user,
        &["console", "-p", "dev", "--browser-profile", "Work"],
        &[("PATH", empty.to_str().unwrap())],
    )
    .fails_with(1)
    .stderr_has(
        "none of google-chrome, google-chrome-stable, chromium, chromium-browser, microsoft-edge",
    )
    .stderr_has("--browser PATH");

    // Names that are not a profile directory are refused before any browser starts.
    let long = "p".repeat(101);
    for bad in ["Profile\n1", "../Other", " ", "a\u{1b}[31m", long.as_str()] {
        user.run(&[
            "console",
            "-p",
            "dev",
            "--browser-profile",
            bad,
            "--browser",
            browser,
        ])
        .fails_with(2)
        .stderr_has("is not a browser profile directory name")
        .stderr_has("chrome://version");
    }
    // It opens a browser: --print and --container do not go with it.
    user.run(&[
        "console",
        "-p",
        "dev",
        "--browser-profile",
        "Default",
        "--print",
    ])
    .fails_with(2);
    user.run(&[
        "console",
        "-p",
        "dev",
        "--browser-profile",
        "Default",
        "--container",
    ])
    .fails_with(2);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!record.exists(), "a refused command started the browser");
}

#[test]
fn container_links_name_and_colour_the_account_and_hostile_names_stay_inside() {
    let user = User::new(SimConfig {
        hostile_names: true,
        accounts: 14,
        ..quick()
    });
    user.login().ok();
    // The listing cache holds the names exactly as served.
    user.run(&["ls", "--refresh"]).ok();
    let served = user.sim.accounts();
    assert!(served[0].1.contains("\n[profile pwned]\n"), "{served:?}");
    let dir = user.home.path().join("bin");
    let (browser, record) = argv_browser(&dir, "firefox");
    let browser = browser.to_str().unwrap();

    // Through $BROWSER (the default launcher), the link is the one argv word.
    for (id, name) in served.iter() {
        let r = run_with(
            &user,
            &[
                "console",
                "--session",
                "d-test123",
                "--account-id",
                id,
                "--role-name",
                "AdministratorAccess",
                "--container",
            ],
            &[("BROWSER", browser)],
        );
        r.ok();
        let argv = wait_argv(&record);
        assert_eq!(argv.len(), 1, "{argv:?}");
        let (got_name, color, url) = container_params(&argv[0]);
        let cleaned: String = name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let account: String = cleaned.chars().take(64).collect::<String>().trim().into();
        let account = if account.is_empty() {
            id.clone()
        } else {
            account
        };
        assert_eq!(
            got_name,
            format!("{account}/AdministratorAccess"),
            "{name:?}"
        );
        assert!(!got_name.chars().any(char::is_control), "{got_name:?}");
        let derived = awsso::profiles::builtin_color(name)
            .unwrap_or_else(|| awsso::profiles::hashed_color(id));
        assert_eq!(color, awsso::profiles::container_color(derived), "{name:?}");
        assert_eq!(url, shortcut(id, "AdministratorAccess"));
    }

    // A profile's own keys: awsso_account_name (with `&` and `=`), granted_color before color, color
    // mapped to the nearest container colour, the built-in rules on the name, --container-name.
    let pay = &served[1].0;
    user.write_config(&format!(
        "{SESSION_SECTION}{}{}{}",
        profile(
            "pay",
            pay,
            "ReadOnlyAccess",
            "awsso_account_name = Prod & Payments=1\ngranted_color = purple\ncolor = cc0000"
        ),
        profile("hex", "999999999999", "Billing", "color = 2e8b57"),
        profile(
            "named",
            "999999999998",
            "Billing",
            "awsso_account_name = payments-prod"
        ),
    ));
    let cases = [
        (
            "pay",
            "Prod & Payments=1/ReadOnlyAccess",
            "purple",
            pay.as_str(),
            "ReadOnlyAccess",
        ),
        (
            "hex",
            "999999999999/Billing",
            "green",
            "999999999999",
            "Billing",
        ),
        (
            "named",
            "payments-prod/Billing",
            "red",
            "999999999998",
            "Billing",
        ),
    ];
    for (p, name, color, id, role) in cases {
        user.run(&["console", "-p", p, "--container", "--browser", browser])
            .ok()
            .stderr_has(&format!("in the container {name:?}"));
        let argv = wait_argv(&record);
        assert_eq!(argv.len(), 1, "{argv:?}");
        assert_eq!(
            container_params(&argv[0]),
            (name.into(), color.into(), shortcut(id, role))
        );
        assert_eq!(
            argv[0],
            format!(
                "ext+container:name={}&color={color}&url={}",
                encode(name),
                encode(&shortcut(id, role))
            )
        );
    }
    let r = user.run(&[
        "console",
        "-p",
        "pay",
        "--container",
        "--container-name",
        "Work & Play=1&url=https://evil.example",
        "--print",
    ]);
    let printed = r.ok().stdout.trim_end().to_string();
    assert_eq!(
        container_params(&printed),
        (
            "Work & Play=1&url=https://evil.example".into(),
            "purple".into(),
            shortcut(pay, "ReadOnlyAccess")
        )
    );
    user.run(&[
        "console",
        "-p",
        "pay",
        "--container",
        "--container-name",
        "a\nb",
        "--print",
    ])
    .fails_with(2)
    .stderr_has("is not a container name");
    user.run(&["console", "-p", "pay", "--container-name", "x", "--print"])
        .fails_with(2);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!record.exists(), "--print started the browser");
}

/// `--federated` with a browser context: the browser's argv holds only the one-shot loopback link (bare
/// after `--profile-directory`, or wrapped in the container link), which redirects once to the sign-in
/// URL the simulator's token makes.
#[test]
fn federated_contexts_hand_the_browser_only_the_one_shot_link() {
    let user = User::new(quick());
    user.login().ok();
    let sim_url = user.sim.url();
    let dir = user.home.path().join("bin");
    let (browser, record) = argv_browser(&dir, "browser");
    let browser = browser.to_str().unwrap();
    let base = [
        "console",
        "--session",
        "d-test123",
        "--account-id",
        ACCOUNT,
        "--role-name",
        "ReadOnlyAccess",
        "--federated",
        "--browser",
        browser,
    ];
    let destination =
        encode("https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1");
    for (n, extra) in [
        &["--browser-profile", "Profile 2"][..],
        &["--container"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let child = user
            .cmd(&args)
            .env("AWSSO_SIGNIN_ENDPOINT", &sim_url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let argv = wait_argv(&record);
        let link = if extra[0] == "--browser-profile" {
            assert_eq!(argv.len(), 2, "{argv:?}");
            assert_eq!(argv[0], "--profile-directory=Profile 2");
            argv[1].clone()
        } else {
            assert_eq!(argv.len(), 1, "{argv:?}");
            let (name, color, url) = container_params(&argv[0]);
            assert_eq!(name, format!("{ACCOUNT}/ReadOnlyAccess"));
            assert_eq!(
                color,
                awsso::profiles::container_color(awsso::profiles::hashed_color(ACCOUNT))
            );
            url
        };
        assert!(link.starts_with("http://127.0.0.1:"), "{link}");
        let tokens = user.sim.signin_tokens();
        assert_eq!(tokens.len(), n + 1, "{tokens:?}");
        let token = &tokens[n].signin_token;
        for word in &argv {
            assert!(
                !word.contains("SigninToken") && !word.contains(token.as_str()),
                "the browser's argv carries the sign-in token: {argv:?}"
            );
        }
        let expected = format!(
            "{sim_url}/federation?Action=login&Issuer=awsso&Destination={destination}&SigninToken={}",
            encode(token)
        );
        assert_eq!(get(&link), (302, Some(expected)));
        let out = child.wait_with_output().unwrap();
        let r = Run::from(out);
        r.ok().stderr_has("Opened the console");
        assert!(
            r.stdout.is_empty() && !r.stderr.contains(token.as_str()),
            "{r}"
        );
        // The one redirect was the last: the port is closed, or a second fetch gets no redirect.
        let host = link
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap();
        if std::net::TcpStream::connect(host).is_ok() {
            assert_ne!(get(&link).0, 302, "the link redirected twice");
        }
    }
}
