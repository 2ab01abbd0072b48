//! SSO portal behaviour and the simulator's knobs over real sockets: pagination, roles,
//! credentials, hostile names, rate limiting, injected errors, latency under concurrency,
//! admin routes and the server's lifecycle.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{Api, request};
use awsso_sim::{SimConfig, SimHandle, start};
use serde_json::{Value, json};

const SCOPE: &str = "sso:account:access";

/// A simulator plus a valid access token.
fn logged_in(cfg: SimConfig) -> (SimHandle, Api, String) {
    let sim = start(SimConfig { interval: 0, ..cfg }).expect("start simulator");
    let api = Api::new(sim.url());
    let client = api.register(&[SCOPE]);
    let token = api.login(&client)["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.reset_counts();
    (sim, api, token)
}

fn all_accounts(api: &Api, token: &str, max_result: Option<usize>) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = Vec::new();
        if let Some(m) = max_result {
            q.push(format!("max_result={m}"));
        }
        if let Some(n) = &next {
            q.push(format!("next_token={n}"));
        }
        let r = api.list_accounts(token, &format!("?{}", q.join("&")));
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        pages += 1;
        out.extend(v["accountList"].as_array().unwrap().iter().cloned());
        match v.get("nextToken") {
            None => break,
            Some(t) => next = Some(t.as_str().unwrap().to_owned()),
        }
    }
    (out, pages)
}

#[test]
fn pagination_returns_every_account_exactly_once() {
    let (sim, api, token) = logged_in(SimConfig {
        accounts: 50,
        ..Default::default()
    });
    let (list, pages) = all_accounts(&api, &token, Some(7));
    assert_eq!(pages, 8); // 7 * 7 + 1
    assert_eq!(list.len(), 50);
    let ids: HashSet<_> = list
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 50);
    let served: Vec<(String, String)> = list
        .iter()
        .map(|a| {
            (
                a["accountId"].as_str().unwrap().to_owned(),
                a["accountName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(served, sim.accounts());
    for a in &list {
        let id = a["accountId"].as_str().unwrap();
        assert_eq!(id.len(), 12);
        assert_eq!(a["emailAddress"], format!("aws+{id}@example.com"));
    }
    assert_eq!(list[0]["accountName"], "prod-payments-0001");
    assert_eq!(list[1]["accountName"], "Dev Sandbox 0002");

    // Default page size is 20; the handle's count sees every page.
    let (_, pages) = all_accounts(&api, &token, None);
    assert_eq!(pages, 3);
    assert_eq!(sim.count("ListAccounts"), 11);

    api.list_accounts(&token, "?max_result=0")
        .assert_portal_error(400, "InvalidRequestException");
    api.list_accounts(&token, "?max_result=101")
        .assert_portal_error(400, "InvalidRequestException");
    api.list_accounts(&token, "?next_token=bogus")
        .assert_portal_error(400, "InvalidRequestException");
    api.list_accounts("not-a-token", "")
        .assert_portal_error(401, "UnauthorizedException");
    api.get("/assignment/accounts", None)
        .assert_portal_error(401, "UnauthorizedException");

    // The catalogue follows runtime updates.
    sim.update(|c| c.accounts = 5);
    assert_eq!(all_accounts(&api, &token, Some(100)).0.len(), 5);
}

#[test]
fn roles_and_role_credentials() {
    let (sim, api, token) = logged_in(SimConfig {
        roles_per_account: 6,
        credentials_ttl: Duration::from_secs(1800),
        ..Default::default()
    });
    let r = api.get(
        "/assignment/roles?account_id=100000000002&max_result=4",
        Some(&token),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    let names: Vec<_> = v["roleList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["accountId"], "100000000002");
            r["roleName"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "AdministratorAccess",
            "ReadOnlyAccess",
            "PowerUserAccess",
            "Billing"
        ]
    );
    let next = v["nextToken"].as_str().unwrap();
    let r = api.get(
        &format!("/assignment/roles?account_id=100000000002&next_token={next}"),
        Some(&token),
    );
    let v = r.json();
    assert_eq!(v["roleList"][0]["roleName"], "Role5");
    assert_eq!(v["roleList"][1]["roleName"], "Role6");
    assert!(v.get("nextToken").is_none());
    // A roles token is not valid for another account.
    api.get(
        &format!("/assignment/roles?account_id=100000000001&next_token={next}"),
        Some(&token),
    )
    .assert_portal_error(400, "InvalidRequestException");

    api.get("/assignment/roles?account_id=999999999999", Some(&token))
        .assert_portal_error(404, "ResourceNotFoundException");
    api.get("/assignment/roles", Some(&token))
        .assert_portal_error(400, "InvalidRequestException");

    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let r = api.get(
        "/federation/credentials?role_name=Billing&account_id=100000000003",
        Some(&token),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let c = &r.json()["roleCredentials"];
    let akid = c["accessKeyId"].as_str().unwrap();
    assert_eq!(akid.len(), 20);
    assert!(akid.starts_with("ASIA"));
    assert!(
        akid[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    let exp = c["expiration"].as_i64().unwrap();
    assert!(
        (exp - (before + 1_800_000)).abs() < 5_000,
        "milliseconds: {exp}"
    );
    let issued = sim.issued_credentials();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].account_id, "100000000003");
    assert_eq!(issued[0].role_name, "Billing");
    assert_eq!(issued[0].access_key_id, akid);
    assert_eq!(issued[0].secret_access_key, c["secretAccessKey"]);
    assert_eq!(issued[0].session_token, c["sessionToken"]);
    assert_eq!(issued[0].expiration_ms, exp);

    api.get(
        "/federation/credentials?role_name=Nope&account_id=100000000003",
        Some(&token),
    )
    .assert_portal_error(404, "ResourceNotFoundException");
    api.get(
        "/federation/credentials?role_name=Billing&account_id=100000000099",
        Some(&token),
    )
    .assert_portal_error(404, "ResourceNotFoundException");
    api.get("/federation/credentials?role_name=Billing", Some(&token))
        .assert_portal_error(400, "InvalidRequestException");
    api.get(
        "/federation/credentials?role_name=Billing&account_id=100000000003",
        None,
    )
    .assert_portal_error(401, "UnauthorizedException");

    let admin = api.get("/_sim/credentials", None).json();
    assert_eq!(admin[0]["access_key_id"], akid);
    assert_eq!(sim.count("GetRoleCredentials"), 5);
    assert_eq!(sim.count("ListAccountRoles"), 5);
}

#[test]
fn hostile_names_are_served_verbatim_as_valid_json() {
    let (sim, api, token) = logged_in(SimConfig {
        accounts: 20,
        hostile_names: true,
        ..Default::default()
    });
    let r = api.list_accounts(&token, "?max_result=100");
    assert_eq!(r.status, 200);
    // Control characters must arrive JSON-escaped, never raw.
    assert!(!r.body.contains('\n') && !r.body.contains('\x1b') && !r.body.contains('\t'));
    let v = r.json();
    let names: Vec<&str> = v["accountList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20);
    let expected: Vec<String> = sim.accounts().into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, expected);
    assert_eq!(
        names[0],
        "evil\n[profile pwned]\ncredential_process = /bin/sh -c id"
    );
    for needle in ["[x]", "a = b", "# comment", "; semi", "Ünïcødé 日本 🚀", ""] {
        assert!(names.contains(&needle), "missing {needle:?}");
    }
    assert!(names.iter().any(|n| n.contains('\'') && n.contains('"')));
    assert!(names.iter().any(|n| n.contains('`') && n.contains("$(id)")));
    assert!(
        names
            .iter()
            .any(|n| n.contains('\t') && n.contains("\x1b[31m"))
    );
    assert!(names.iter().any(|n| n.chars().count() == 300));
    let dups = names.iter().filter(|n| **n == "Duplicate Name").count();
    assert_eq!(dups, 2);
    // Past the hostile list, names are ordinary again; ids stay unique.
    assert_eq!(names[19], "Production Core 0020");
    let ids: HashSet<_> = v["accountList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);

    // Fewer accounts than hostile names: the first N hostile ones.
    sim.update(|c| c.accounts = 2);
    let names: Vec<String> = sim.accounts().into_iter().map(|(_, n)| n).collect();
    assert_eq!(names.len(), 2);
    assert_eq!(names[1], "[x]");
}

#[test]
fn rate_limit_produces_429s() {
    let (sim, api, token) = logged_in(SimConfig::default());
    sim.update(|c| c.rate_limit = Some(5.0));
    let mut throttled = 0;
    for _ in 0..30 {
        let r = api.list_accounts(&token, "");
        if r.status == 429 {
            r.assert_portal_error(429, "TooManyRequestsException");
            throttled += 1;
        } else {
            assert_eq!(r.status, 200);
        }
    }
    assert!(throttled >= 15, "only {throttled} throttled");
    assert_eq!(sim.count("Throttled"), throttled);
    assert_eq!(sim.count("ListAccounts"), 30);

    // OIDC routes share the bucket and answer in OIDC shape.
    let r = api.post(
        "/client/register",
        &json!({"clientName": "x", "clientType": "public"}),
    );
    r.assert_oidc_error(429, "TooManyRequestsException", "too_many_requests");

    // The bucket refills at the configured rate.
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(api.list_accounts(&token, "").status, 200);
    sim.update(|c| c.rate_limit = None);
    for _ in 0..20 {
        assert_eq!(api.list_accounts(&token, "").status, 200);
    }
}

#[test]
fn error_every_produces_500s() {
    let (sim, api, token) = logged_in(SimConfig::default());
    sim.update(|c| c.error_every = Some(3));
    let statuses: Vec<u16> = (0..9)
        .map(|_| {
            let r = api.list_accounts(&token, "");
            if r.status == 500 {
                r.assert_portal_error(500, "InternalServerException");
            }
            r.status
        })
        .collect();
    let failed: Vec<usize> = statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == 500)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed.len(), 3, "{statuses:?}");
    assert_eq!(failed[1] - failed[0], 3);
    assert_eq!(failed[2] - failed[1], 3);
    assert_eq!(sim.count("InjectedError"), 3);

    // OIDC routes get an OIDC-shaped 500.
    let mut saw_oidc_500 = false;
    for _ in 0..3 {
        let r = api.post("/client/register", &json!({}));
        if r.status == 500 {
            r.assert_oidc_error(500, "InternalServerException", "server_error");
            saw_oidc_500 = true;
        }
    }
    assert!(saw_oidc_500);
}

#[test]
fn latency_is_async_and_hundreds_of_connections_are_served_concurrently() {
    let (sim, api, token) = logged_in(SimConfig {
        accounts: 200,
        ..Default::default()
    });
    sim.update(|c| c.latency = Duration::from_millis(100));
    let t0 = Instant::now();
    assert_eq!(api.list_accounts(&token, "").status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(100));

    let n = 300;
    let t0 = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let url = api.url.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                let api = Api::new(url);
                let id = format!("{:012}", 100_000_000_001 + i % 200);
                api.get(&format!("/assignment/roles?account_id={id}"), Some(&token))
                    .status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    let elapsed = t0.elapsed();
    // Serially this would take 30 s.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(sim.count("ListAccountRoles"), n);
}

#[test]
fn admin_routes_are_uncounted_and_change_knobs() {
    let (sim, api, token) = logged_in(SimConfig::default());
    let _ = api.list_accounts(&token, "");
    let stats = api.get("/_sim/stats", None).json();
    assert_eq!(stats, json!({"ListAccounts": 1}));

    let r = api.post(
        "/_sim/config",
        &json!({"accounts": 9, "latency_ms": 5, "interval": 4, "device_outcome": "deny"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["accounts"], 9);
    let c = sim.config();
    assert_eq!(c.accounts, 9);
    assert_eq!(c.latency, Duration::from_millis(5));
    assert_eq!(c.interval, 4);
    assert_eq!(sim.accounts().len(), 9);
    assert_eq!(
        api.post("/_sim/config", &json!({"acounts": 1})).status,
        400,
        "typos are rejected"
    );
    assert_eq!(api.get("/_sim/config", None).json()["interval"], 4);

    assert_eq!(api.post("/_sim/reset-counts", &json!({})).status, 200);
    assert_eq!(api.get("/_sim/stats", None).json(), json!({}));
    assert!(sim.counts().is_empty());

    let r = api.get("/no/such/route", None);
    assert_eq!(r.status, 404);
}

#[test]
fn works_inside_a_tokio_runtime_and_drop_stops_the_server() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = rt.block_on(async {
        let sim = start(SimConfig::default()).unwrap();
        let url = sim.url();
        assert_eq!(url, format!("http://127.0.0.1:{}", sim.port()));
        let status = tokio::task::spawn_blocking(move || {
            request(&url, "GET", "/_sim/stats", &[], None).status
        })
        .await
        .unwrap();
        assert_eq!(status, 200);
        let port = sim.port();
        drop(sim);
        port
    });
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server still listening after drop"
    );
}
