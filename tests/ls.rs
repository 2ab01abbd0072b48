//! `awsso ls` end to end: the real binary against the simulator, on the real keyring. Every account × role
//! the portal serves, the listing cache and its time-to-live, and enumeration that survives throttling and
//! server errors but never passes a partial listing off as whole.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::*;

/// `(account id, account name, role)` for every pair the simulator serves right now.
fn served(user: &User) -> BTreeSet<(String, String, String)> {
    let roles = role_names(user.sim.config().roles_per_account);
    user.sim
        .accounts()
        .into_iter()
        .flat_map(|(id, name)| {
            roles
                .iter()
                .map(move |r| (id.clone(), name.clone(), r.clone()))
        })
        .collect()
}

fn ls_json(user: &User, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["ls", "--json"];
    all.extend_from_slice(args);
    let r = user.run(&all);
    r.ok();
    // Not a terminal: no progress bar, no count, nothing on stderr.
    assert_eq!(r.stderr, "", "{r}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("ls --json: {e}\n{r}"))
}

/// The pairs of an `ls --json` result, checking every row's shape on the way.
fn pairs_of(rows: &[serde_json::Value]) -> BTreeSet<(String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().expect("a string field").to_owned();
    let pairs: BTreeSet<_> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["session"], SESSION, "{r}");
            assert!(!s(&r["profile"]).is_empty(), "{r}");
            (
                s(&r["account_id"]),
                s(&r["account_name"]),
                s(&r["role_name"]),
            )
        })
        .collect();
    assert_eq!(pairs.len(), rows.len(), "a pair listed twice: {rows:?}");
    pairs
}

fn total_calls(user: &User) -> u64 {
    user.sim.counts().values().sum()
}

/// The one listing cache file of the user (None before any complete scan).
fn cache_file(user: &User) -> Option<PathBuf> {
    let dir = user.home.path().join(".cache/awsso/listings");
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(files.len() <= 1, "{files:?}");
    files.into_iter().next()
}

#[test]
fn ls_lists_every_account_and_role_and_caches_the_scan() {
    let user = logged_in(sim(7, 3));
    let rows = ls_json(&user, &[]);
    assert_eq!(rows.len(), 21);
    assert_eq!(pairs_of(&rows), served(&user));
    let profiles: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(profiles.len(), 21, "profile names are unique");
    assert!(
        profiles.contains("prod-payments-0001/AdministratorAccess")
            && profiles.contains("Dev-Sandbox-0002/PowerUserAccess"),
        "{profiles:?}"
    );
    assert_eq!(user.sim.count("ListAccounts"), 1);
    assert_eq!(user.sim.count("ListAccountRoles"), 7);
    let cache = cache_file(&user).expect("a complete scan is cached");

    // Piped (not a terminal): one tab-separated line per pair, the same rows as the JSON.
    user.sim.reset_counts();
    let r = user.run(&["ls"]);
    r.ok();
    let lines: Vec<Vec<&str>> = r.stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 21, "{r}");
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(
            line,
            &[
                row["profile"].as_str().unwrap(),
                row["account_id"].as_str().unwrap(),
                row["account_name"].as_str().unwrap(),
                row["role_name"].as_str().unwrap(),
                SESSION,
            ]
        );
    }
    // ... served from the cache: not one call to the portal (nor to OIDC).
    assert_eq!(total_calls(&user), 0, "{:?}", user.sim.counts());
    assert_eq!(ls_json(&user, &[]), rows);
    assert_eq!(total_calls(&user), 0, "{:?}", user.sim.counts());

    // --refresh scans again, and sees what changed in the portal.
    user.sim.update(|c| c.accounts = 9);
    assert_eq!(ls_json(&user, &[]).len(), 21, "the cache is still fresh");
    let rows = ls_json(&user, &["--refresh"]);
    assert_eq!(rows.len(), 27);
    assert_eq!(pairs_of(&rows), served(&user));
    assert_eq!(user.sim.count("ListAccountRoles"), 9);
    assert!(
        std::fs::read_to_string(&cache)
            .unwrap()
            .contains("100000000009")
    );

    // An expired cache (TTL 0) is scanned again without being asked.
    user.sim.update(|c| c.roles_per_account = 2);
    user.sim.reset_counts();
    let r = user
        .cmd(&["ls", "--json"])
        .env("AWSSO_LISTING_TTL", "0")
        .output()
        .unwrap();
    let r = Run::from(r);
    r.ok();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(pairs_of(&rows), served(&user));
    assert_eq!(rows.len(), 18);
    assert_eq!(user.sim.count("ListAccounts"), 1);
    assert_eq!(user.sim.count("ListAccountRoles"), 9);
}

#[test]
fn ls_pages_through_hundreds_of_accounts() {
    let user = logged_in(sim(250, 1));
    let rows = ls_json(&user, &[]);
    assert_eq!(pairs_of(&rows), served(&user));
    assert_eq!(rows.len(), 250);
    // awsso asks for the largest page the API allows (100).
    assert_eq!(user.sim.count("ListAccounts"), 3);
    assert_eq!(user.sim.count("ListAccountRoles"), 250);
}

#[test]
fn ls_completes_under_the_portal_rate_limit() {
    let user = logged_in(sim(65, 2));
    user.sim.update(|c| c.rate_limit = Some(20.0));
    let rows = ls_json(&user, &[]);
    assert!(
        user.sim.count("Throttled") > 0,
        "the portal never throttled, so this proved nothing: {:?}",
        user.sim.counts()
    );
    assert_eq!(rows.len(), 130);
    assert_eq!(pairs_of(&rows), served(&user));
    user.sim.update(|c| c.rate_limit = None);
}

/// Under either kind of limiter the scan lists every account, and the throttling awsso reports (at -v) is
/// exactly what the portal did: as many 429 answers, out of as many calls.
#[test]
fn ls_reports_the_throttling_it_met() {
    for kind in [
        awsso_sim::RateLimitKind::TokenBucket,
        awsso_sim::RateLimitKind::SlidingWindow,
    ] {
        let user = logged_in(sim(65, 2));
        user.sim.update(|c| {
            c.rate_limit = Some(20.0);
            c.rate_limit_kind = kind;
        });
        let r = user.run(&["ls", "--json", "-v"]);
        r.ok();
        let throttled = user.sim.count("Throttled");
        assert!(
            throttled > 0,
            "{kind:?} never throttled: {:?}",
            user.sim.counts()
        );
        let sent = user.sim.count("ListAccounts") + user.sim.count("ListAccountRoles");
        r.stderr_has(&format!(
            "the portal answered {throttled} of {sent} calls 429"
        ));
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("ls --json");
        assert_eq!(rows.len(), 130, "{kind:?}");
        assert_eq!(pairs_of(&rows), served(&user), "{kind:?}");
    }
}

/// A scan remembers the limit it learnt: the next scan of the same portal is paced from its first call, and
/// does not pay again for the burst that first met the limit.
#[test]
fn a_rescan_under_a_rate_limit_is_paced_from_its_first_call() {
    let user = logged_in(sim(65, 2));
    user.sim.update(|c| {
        c.rate_limit = Some(20.0);
        c.rate_limit_kind = awsso_sim::RateLimitKind::SlidingWindow;
    });
    ls_json(&user, &[]);
    let first = user.sim.count("Throttled");
    assert!(first > 0, "never throttled: {:?}", user.sim.counts());
    // An idle portal again (the window empty), as between two scans.
    std::thread::sleep(Duration::from_millis(1100));
    user.sim.reset_counts();
    let r = user.run(&["ls", "--refresh", "--json", "-v"]);
    r.ok().stderr_has("pacing from the first call at");
    let second = user.sim.count("Throttled");
    assert!(
        second < first,
        "{second} calls answered 429 on the rescan, {first} on the first scan"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("ls --json");
    assert_eq!(pairs_of(&rows), served(&user));
}

/// An unthrottled scan remembers how far it got without a 429 (`listings/*.pace`), and the next scan of
/// the same portal starts from there instead of ramping up again; a throttled scan replaces that with the
/// limit it learnt.
#[test]
fn an_unthrottled_scan_spares_the_next_one_its_ramp() {
    let user = logged_in(sim(65, 2));
    let first = user.run(&["ls", "--refresh", "--json", "-v"]);
    first.ok();
    assert!(
        !first
            .stderr
            .contains("which a recent scan sent without a 429"),
        "nothing was remembered yet: {first}"
    );
    let pace = cache_file(&user)
        .expect("a listing cache")
        .with_extension("pace");
    let remembered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pace).expect("the pace remembered")).expect("json");
    let reached = remembered["unthrottled"]
        .as_f64()
        .expect("an unthrottled pace");
    assert!(reached >= 32.0, "{remembered}");
    assert!(remembered.get("limit").is_none(), "{remembered}");

    let again = user.run(&["ls", "--refresh", "--json", "-v"]);
    again
        .ok()
        .stderr_has(&format!("starting at {reached:.0} calls a second"));

    user.sim.update(|c| c.rate_limit = Some(20.0));
    std::thread::sleep(Duration::from_millis(1100));
    user.run(&["ls", "--refresh", "--json"]).ok();
    let remembered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pace).expect("the pace remembered")).expect("json");
    assert!(remembered["limit"].as_f64().is_some(), "{remembered}");
    assert!(remembered.get("unthrottled").is_none(), "{remembered}");
    user.sim.update(|c| c.rate_limit = None);
}

#[test]
fn ls_retries_server_errors() {
    let user = logged_in(sim(40, 2));
    user.sim.update(|c| c.error_every = Some(7));
    let rows = ls_json(&user, &[]);
    assert!(
        user.sim.count("InjectedError") > 0,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(rows.len(), 80);
    assert_eq!(pairs_of(&rows), served(&user));
    user.sim.update(|c| c.error_every = None);
}

#[test]
fn a_portal_that_always_fails_saves_nothing() {
    let user = logged_in(sim(5, 2));
    let config = user.read_config();
    user.sim.update(|c| c.error_every = Some(1));
    let r = user.run(&["ls", "--json"]);
    r.fails_with(1)
        .stderr_has("failed at ListAccounts")
        .stderr_has("nothing was saved")
        .stderr_has("InternalServerException");
    assert!(r.stdout.is_empty(), "{r}");
    assert!(
        user.sim.count("InjectedError") >= 2,
        "it retried: {:?}",
        user.sim.counts()
    );
    assert_eq!(cache_file(&user), None);
    assert_eq!(user.read_config(), config);
    user.sim.update(|c| c.error_every = None);
}

/// One role listing that keeps failing makes the whole scan fail, naming the account, and the previous
/// complete listing stays the cached one.
#[test]
fn a_role_listing_that_fails_keeps_the_previous_cache() {
    let user = logged_in(sim(30, 2));
    let before = ls_json(&user, &[]);
    let cache = cache_file(&user).unwrap();
    let cached = std::fs::read(&cache).unwrap();
    let config = user.read_config();

    // One call at a time, slowly, so that the failures can be switched on once ListAccounts has
    // answered and the role listings are under way.
    user.sim.update(|c| c.latency = Duration::from_millis(200));
    user.sim.reset_counts();
    let child = user
        .cmd(&["ls", "--refresh", "--json"])
        .env("AWSSO_CONCURRENCY", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while user.sim.count("ListAccountRoles") == 0 {
        assert!(Instant::now() < deadline, "no role listing started");
        std::thread::sleep(Duration::from_millis(5));
    }
    user.sim.update(|c| c.error_every = Some(1));
    let r = Run::from(child.wait_with_output().unwrap());
    r.fails_with(1)
        .stderr_has("failed at ListAccountRoles for account 1000000000")
        .stderr_has("of 30 accounts had been listed, so nothing was saved");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(user.sim.count("ListAccounts"), 1);
    assert!(
        user.sim.count("InjectedError") >= 2,
        "{:?}",
        user.sim.counts()
    );
    assert_eq!(
        std::fs::read(&cache).unwrap(),
        cached,
        "the old cache was kept"
    );
    assert_eq!(user.read_config(), config);

    // The kept listing still answers, without the network.
    user.sim.reset_counts();
    assert_eq!(ls_json(&user, &[]), before);
    assert_eq!(total_calls(&user), 0);
    user.sim.update(|c| {
        c.error_every = None;
        c.latency = Duration::ZERO;
    });
}

#[test]
fn a_revoked_token_during_a_refresh_asks_to_log_in_again() {
    let user = logged_in(sim(4, 2));
    let before = ls_json(&user, &[]);
    let config = user.read_config();
    user.sim.revoke_all();
    let r = user.run(&["ls", "--refresh"]);
    r.fails_with(3)
        .stderr_has("rejected the token of session d-test123")
        .stderr_has("awsso login");
    assert!(r.stdout.is_empty(), "{r}");
    // The dead token was evicted from the store: awsso now knows it is logged out.
    let status = user.status_json();
    assert_eq!(status[0]["state"], "none", "{status}");
    assert_eq!(user.read_config(), config);
    // Without --refresh the cached listing still answers (completion works offline).
    assert_eq!(ls_json(&user, &[]), before);
    // And a refresh now fails up front, before any portal call.
    user.sim.reset_counts();
    user.run(&["ls", "--refresh"]).fails_with(3);
    assert_eq!(user.sim.count("ListAccounts"), 0);
}

/// On a terminal (a pseudo-terminal from script(1)): an aligned table, untrusted names made harmless, the
/// count on stderr.
#[test]
fn on_a_terminal_ls_prints_a_table() {
    let user = logged_in(SimConfig {
        hostile_names: true,
        ..sim(16, 2)
    });
    let awsso = user.cmd(&[]);
    let mut script = std::process::Command::new("script");
    script.env_clear();
    for (k, v) in awsso.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let line = format!("{} ls --refresh", bin());
    let r = Run::from(
        script
            .args(["-qec", &line, "/dev/null"])
            .env("TERM", "dumb")
            .output()
            .expect("script(1) runs"),
    );
    r.ok();
    let out = r.stdout.replace("\r\n", "\n");
    let header = out
        .lines()
        .find(|l| l.starts_with("PROFILE"))
        .unwrap_or_else(|| panic!("no table header:\n{out}"));
    let columns = ["ACCOUNT ID", "ACCOUNT NAME", "ROLE"].map(|c| header.find(c).unwrap());
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("  1000000000")).collect();
    assert_eq!(rows.len(), 32, "{out}");
    for row in &rows {
        // Aligned: every account id starts under its heading.
        assert_eq!(
            row.find("  1000000000").map(|i| i + 2),
            Some(columns[0]),
            "{row}"
        );
    }
    assert!(out.contains("32 profiles"), "{out}");
    assert!(
        !out.contains("\x1b[31mred"),
        "a name's escape sequence reached the terminal: {out:?}"
    );
    assert!(!out.contains('\x07'), "a name's bell reached the terminal");
    // The name with newlines stays on its two rows (one per role) instead of starting lines of its own.
    assert_eq!(
        rows.iter()
            .filter(|l| l.contains("evil?[profile pwned]?"))
            .count(),
        2,
        "{out}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("[profile pwned]")),
        "{out}"
    );
}
