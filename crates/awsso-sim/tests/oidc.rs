//! SSO OIDC behaviour over real sockets: registration, the device flow (pending, slow_down,
//! approval routes, deny, expiry, single redemption), PKCE, refresh rotation, revocation,
//! logout and client expiry.

use std::time::Duration;

use crate::common::{Api, Resp, enc, request};
use awsso_sim::{DeviceOutcome, SimConfig, start};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

const SCOPE: &str = "sso:account:access";

fn sim_with(cfg: SimConfig) -> (awsso_sim::SimHandle, Api) {
    let sim = start(cfg).expect("start simulator");
    let api = Api::new(sim.url());
    (sim, api)
}

fn no_interval() -> SimConfig {
    SimConfig {
        interval: 0,
        ..Default::default()
    }
}

#[test]
fn register_client_returns_epoch_seconds_and_remembers_metadata() {
    let (sim, api) = sim_with(SimConfig::default());
    let r = api.post(
        "/client/register",
        &json!({"clientName": "awsso", "clientType": "public", "scopes": [SCOPE],
                "grantTypes": ["authorization_code", "refresh_token"],
                "redirectUris": ["http://127.0.0.1/oauth/callback"],
                "issuerUrl": "https://d-123.awsapps.com/start"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    let issued = v["clientIdIssuedAt"].as_i64().unwrap();
    let expires = v["clientSecretExpiresAt"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((issued - now).abs() < 5, "seconds, not milliseconds");
    assert_eq!(expires - issued, 90 * 24 * 3600);
    assert!(!v["clientId"].as_str().unwrap().is_empty());
    assert!(!v["clientSecret"].as_str().unwrap().is_empty());

    let clients = sim.clients();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].scopes, [SCOPE]);
    assert_eq!(
        clients[0].grant_types,
        ["authorization_code", "refresh_token"]
    );
    assert_eq!(
        clients[0].issuer_url.as_deref(),
        Some("https://d-123.awsapps.com/start")
    );

    // Missing required fields and malformed bodies are InvalidRequestException.
    api.post("/client/register", &json!({"clientType": "public"}))
        .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    request(&api.url, "POST", "/client/register", &[], Some("{not json")).assert_oidc_error(
        400,
        "InvalidRequestException",
        "invalid_request",
    );
    assert_eq!(sim.count("RegisterClient"), 3, "errors are counted too");
}

#[test]
fn device_flow_pending_then_approved_and_redeemed_once() {
    let (sim, api) = sim_with(SimConfig {
        approve_after_polls: 2,
        ..no_interval()
    });
    let client = api.register(&[SCOPE]);
    let dev = api.start_device(&client);
    let user_code = dev["userCode"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(dev["verificationUri"], format!("{}/device", sim.url()));
    assert_eq!(
        dev["verificationUriComplete"],
        format!("{}/device?user_code={user_code}", sim.url())
    );
    assert_eq!(dev["expiresIn"], 600);
    assert_eq!(dev["interval"], 0);
    let code = dev["deviceCode"].as_str().unwrap();

    for _ in 0..2 {
        api.poll(&client, code).assert_oidc_error(
            400,
            "AuthorizationPendingException",
            "authorization_pending",
        );
    }
    let t = api.poll(&client, code);
    assert_eq!(t.status, 200, "{t:?}");
    let t = t.json();
    assert_eq!(t["tokenType"], "Bearer");
    assert_eq!(t["expiresIn"], 8 * 3600);
    assert!(t["accessToken"].as_str().unwrap().len() > 20);
    assert!(t["refreshToken"].is_string());
    assert_eq!(t["idToken"].as_str().unwrap().split('.').count(), 3);

    api.poll(&client, code)
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");
    assert_eq!(sim.count("CreateToken"), 4);
    assert_eq!(sim.count("CreateToken.device_code"), 4);
    assert_eq!(sim.count("StartDeviceAuthorization"), 1);

    // Another client cannot redeem someone else's device code.
    let other = api.register(&[SCOPE]);
    let dev = api.start_device(&client);
    api.poll(&other, dev["deviceCode"].as_str().unwrap())
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");
}

#[test]
fn slow_down_when_polling_faster_than_interval() {
    let (_sim, api) = sim_with(SimConfig::default()); // interval 1 s
    let client = api.register(&[SCOPE]);
    let dev = api.start_device(&client);
    assert_eq!(dev["interval"], 1);
    let code = dev["deviceCode"].as_str().unwrap();
    api.poll(&client, code).assert_oidc_error(
        400,
        "AuthorizationPendingException",
        "authorization_pending",
    );
    // Approved by now (approve_after_polls = 1), but the client is too eager.
    api.poll(&client, code)
        .assert_oidc_error(400, "SlowDownException", "slow_down");
    std::thread::sleep(Duration::from_millis(1050));
    let r = api.poll(&client, code);
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn manual_approval_via_device_page_admin_route_and_handle() {
    let (sim, api) = sim_with(SimConfig {
        approve_after_polls: 0,
        ..no_interval()
    });
    let client = api.register(&[SCOPE]);

    // 1. The "browser" visits verificationUriComplete.
    let dev = api.start_device(&client);
    let code = dev["deviceCode"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(
            api.poll(&client, code).oidc_error(),
            "authorization_pending"
        );
    }
    let page_path = dev["verificationUriComplete"]
        .as_str()
        .unwrap()
        .strip_prefix(&sim.url())
        .unwrap()
        .to_owned();
    let page = api.get(&page_path, None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Request approved"), "{}", page.body);
    assert_eq!(api.poll(&client, code).status, 200);

    // 2. The admin route.
    let dev = api.start_device(&client);
    let path = format!(
        "/_sim/approve?user_code={}",
        dev["userCode"].as_str().unwrap()
    );
    let r = request(&api.url, "POST", &path, &[], None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.poll(&client, dev["deviceCode"].as_str().unwrap())
            .status,
        200
    );

    // 3. The handle.
    let dev = api.start_device(&client);
    assert!(sim.approve(dev["userCode"].as_str().unwrap()));
    assert!(!sim.approve("NOPE-NOPE"));
    assert_eq!(
        api.poll(&client, dev["deviceCode"].as_str().unwrap())
            .status,
        200
    );

    assert_eq!(api.get("/device?user_code=ZZZZ-ZZZZ", None).status, 404);
    assert_eq!(
        request(&api.url, "POST", "/_sim/approve?user_code=x", &[], None).status,
        404
    );
    assert_eq!(
        sim.count("DevicePage"),
        0,
        "the device page is not an API call"
    );
}

#[test]
fn denied_device_code_answers_access_denied() {
    let (_sim, api) = sim_with(SimConfig {
        device_outcome: DeviceOutcome::Deny,
        ..no_interval()
    });
    let client = api.register(&[SCOPE]);
    let code = api.start_device(&client)["deviceCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.poll(&client, &code).oidc_error(),
        "authorization_pending"
    );
    api.poll(&client, &code)
        .assert_oidc_error(400, "AccessDeniedException", "access_denied");
}

#[test]
fn expired_device_code_answers_expired_token() {
    // Outcome Expire: the code lapses at approval time.
    let (sim, api) = sim_with(SimConfig {
        device_outcome: DeviceOutcome::Expire,
        ..no_interval()
    });
    let client = api.register(&[SCOPE]);
    let code = api.start_device(&client)["deviceCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.poll(&client, &code).oidc_error(),
        "authorization_pending"
    );
    api.poll(&client, &code)
        .assert_oidc_error(400, "ExpiredTokenException", "expired_token");

    // device_code_ttl: the code simply runs out of time.
    sim.update(|c| {
        c.device_outcome = DeviceOutcome::Approve;
        c.approve_after_polls = 0;
        c.device_code_ttl = Duration::from_millis(300);
    });
    let dev = api.start_device(&client);
    assert_eq!(dev["expiresIn"], 0);
    let code = dev["deviceCode"].as_str().unwrap();
    assert_eq!(
        api.poll(&client, code).oidc_error(),
        "authorization_pending"
    );
    std::thread::sleep(Duration::from_millis(350));
    api.poll(&client, code)
        .assert_oidc_error(400, "ExpiredTokenException", "expired_token");
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn authorize(api: &Api, client_id: &str, redirect: &str, state: &str, chal: &str) -> Resp {
    api.get(
        &format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={}&state={}\
             &code_challenge_method=S256&scopes={}&code_challenge={}",
            enc(client_id),
            enc(redirect),
            enc(state),
            enc(SCOPE),
            enc(chal)
        ),
        None,
    )
}

/// Splits a redirect Location into its base and decoded query pairs.
fn parse_location(loc: &str) -> (String, Vec<(String, String)>) {
    let (base, q) = loc.split_once('?').unwrap();
    let pairs = q
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect();
    (base.to_owned(), pairs)
}

#[test]
fn pkce_authorize_redirect_and_verifier_check() {
    let (sim, api) = sim_with(SimConfig::default());
    let r = api.post(
        "/client/register",
        &json!({"clientName": "awsso", "clientType": "public", "scopes": [SCOPE],
                "grantTypes": ["authorization_code", "refresh_token"],
                "redirectUris": ["http://127.0.0.1/oauth/callback"],
                "issuerUrl": "https://d-123.awsapps.com/start"}),
    );
    let v = r.json();
    let client = (
        v["clientId"].as_str().unwrap().to_owned(),
        v["clientSecret"].as_str().unwrap().to_owned(),
    );
    let verifier = "a".repeat(20) + "-._~" + &"Z9".repeat(20);
    let redirect = "http://127.0.0.1:54321/oauth/callback";
    let state = "st&te=/+ü";

    let exchange = |code: &str, redirect: &str, verifier: &str| {
        api.post(
            "/token",
            &json!({"clientId": client.0, "clientSecret": client.1,
                    "grantType": "authorization_code", "code": code,
                    "redirectUri": redirect, "codeVerifier": verifier}),
        )
    };
    let fresh_code = || {
        let r = authorize(&api, &client.0, redirect, state, &challenge(&verifier));
        assert_eq!(r.status, 302, "{r:?}");
        let loc = r.header("location").unwrap().to_owned();
        assert!(
            !loc.contains(' ') && !loc.contains('ü'),
            "percent-encoded: {loc}"
        );
        let (base, pairs) = parse_location(&loc);
        assert_eq!(base, redirect);
        assert_eq!(pairs[0].0, "code");
        assert_eq!(pairs[1], ("state".to_owned(), state.to_owned()));
        pairs[0].1.clone()
    };

    // Wrong verifier → invalid_grant, and the code is burnt.
    let code = fresh_code();
    exchange(&code, redirect, "wrong-verifier").assert_oidc_error(
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    exchange(&code, redirect, &verifier).assert_oidc_error(
        400,
        "InvalidGrantException",
        "invalid_grant",
    );

    // Redirect URI must match the one given to /authorize.
    let code = fresh_code();
    exchange(&code, "http://127.0.0.1:1/oauth/callback", &verifier).assert_oidc_error(
        400,
        "InvalidGrantException",
        "invalid_grant",
    );

    // The good path, then single use.
    let code = fresh_code();
    let t = exchange(&code, redirect, &verifier);
    assert_eq!(t.status, 200, "{t:?}");
    assert!(t.json()["refreshToken"].is_string());
    exchange(&code, redirect, &verifier).assert_oidc_error(
        400,
        "InvalidGrantException",
        "invalid_grant",
    );

    // The registered (port-less) redirect URI is accepted too; foreign ones are not redirected to.
    let r = authorize(
        &api,
        &client.0,
        "http://127.0.0.1/oauth/callback",
        "s",
        &challenge(&verifier),
    );
    assert_eq!(r.status, 302);
    let r = authorize(
        &api,
        &client.0,
        "https://evil.example/oauth/callback",
        "s",
        "c",
    );
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert_eq!(
        authorize(&api, "unknown-client", redirect, "s", "c").status,
        400
    );

    // Deny → redirect with error=access_denied and the state echoed.
    sim.update(|c| c.device_outcome = DeviceOutcome::Deny);
    let r = authorize(&api, &client.0, redirect, state, &challenge(&verifier));
    assert_eq!(r.status, 302);
    let (_, pairs) = parse_location(r.header("location").unwrap());
    assert_eq!(
        pairs,
        [
            ("error".to_owned(), "access_denied".to_owned()),
            ("state".to_owned(), state.to_owned())
        ]
    );

    assert_eq!(sim.count("Authorize"), 7);
    assert_eq!(sim.count("CreateToken.authorization_code"), 5);
}

#[test]
fn refresh_rotates_and_old_refresh_token_dies() {
    let (_sim, api) = sim_with(no_interval());
    let client = api.register(&[SCOPE]);
    let t1 = api.login(&client);
    let rt1 = t1["refreshToken"].as_str().unwrap();

    let r = api.refresh(&client, rt1);
    assert_eq!(r.status, 200, "{r:?}");
    let t2 = r.json();
    let rt2 = t2["refreshToken"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_ne!(t1["accessToken"], t2["accessToken"]);
    assert_eq!(
        api.list_accounts(t2["accessToken"].as_str().unwrap(), "")
            .status,
        200
    );

    api.refresh(&client, rt1)
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");
    assert_eq!(api.refresh(&client, rt2).status, 200);
    // A refresh token is bound to its client.
    let other = api.register(&[SCOPE]);
    let t3 = api.login(&client);
    api.refresh(&other, t3["refreshToken"].as_str().unwrap())
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");
}

#[test]
fn refresh_tokens_only_for_the_account_access_scope_and_when_enabled() {
    let (sim, api) = sim_with(no_interval());
    let no_scope = api.register(&[]);
    assert!(api.login(&no_scope).get("refreshToken").is_none());
    let scoped = api.register(&[SCOPE]);
    assert!(api.login(&scoped)["refreshToken"].is_string());
    sim.update(|c| c.refresh_tokens = false);
    assert!(api.login(&scoped).get("refreshToken").is_none());
}

#[test]
fn revoke_all_invalidates_access_and_refresh_tokens() {
    let (sim, api) = sim_with(no_interval());
    let client = api.register(&[SCOPE]);
    let t = api.login(&client);
    let at = t["accessToken"].as_str().unwrap();
    assert_eq!(api.list_accounts(at, "").status, 200);

    sim.revoke_all();
    api.list_accounts(at, "")
        .assert_portal_error(401, "UnauthorizedException");
    api.refresh(&client, t["refreshToken"].as_str().unwrap())
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");

    // Logging in again works; the admin route revokes as well.
    let t = api.login(&client);
    let at = t["accessToken"].as_str().unwrap();
    assert_eq!(api.list_accounts(at, "").status, 200);
    assert_eq!(
        request(&api.url, "POST", "/_sim/revoke", &[], None).status,
        200
    );
    assert_eq!(api.list_accounts(at, "").status, 401);
}

#[test]
fn logout_revokes_the_token_and_its_refresh_token() {
    let (sim, api) = sim_with(no_interval());
    let client = api.register(&[SCOPE]);
    let keep = api.login(&client);
    let t = api.login(&client);
    let at = t["accessToken"].as_str().unwrap();
    let r = request(
        &api.url,
        "POST",
        "/logout",
        &[("x-amz-sso_bearer_token", at)],
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.is_empty());
    api.list_accounts(at, "")
        .assert_portal_error(401, "UnauthorizedException");
    api.refresh(&client, t["refreshToken"].as_str().unwrap())
        .assert_oidc_error(400, "InvalidGrantException", "invalid_grant");
    // Other sessions are untouched.
    assert_eq!(
        api.list_accounts(keep["accessToken"].as_str().unwrap(), "")
            .status,
        200
    );
    // Logging out with a dead token is itself unauthorized.
    request(
        &api.url,
        "POST",
        "/logout",
        &[("x-amz-sso_bearer_token", at)],
        None,
    )
    .assert_portal_error(401, "UnauthorizedException");
    assert_eq!(sim.count("Logout"), 2);
}

#[test]
fn access_tokens_expire_after_token_ttl() {
    let (sim, api) = sim_with(no_interval());
    sim.update(|c| c.token_ttl = Duration::from_millis(300));
    let client = api.register(&[SCOPE]);
    let t = api.login(&client);
    let at = t["accessToken"].as_str().unwrap();
    assert_eq!(api.list_accounts(at, "").status, 200);
    std::thread::sleep(Duration::from_millis(350));
    api.list_accounts(at, "")
        .assert_portal_error(401, "UnauthorizedException");
    // The refresh token outlives the access token.
    assert_eq!(
        api.refresh(&client, t["refreshToken"].as_str().unwrap())
            .status,
        200
    );
}

#[test]
fn expired_clients_get_invalid_client() {
    let (sim, api) = sim_with(no_interval());
    let client = api.register(&[SCOPE]);
    let t = api.login(&client);
    let code = api.start_device(&client)["deviceCode"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.expire_clients();

    api.post(
        "/device_authorization",
        &json!({"clientId": client.0, "clientSecret": client.1, "startUrl": "https://x/start"}),
    )
    .assert_oidc_error(401, "InvalidClientException", "invalid_client");
    api.poll(&client, &code)
        .assert_oidc_error(401, "InvalidClientException", "invalid_client");
    api.refresh(&client, t["refreshToken"].as_str().unwrap())
        .assert_oidc_error(401, "InvalidClientException", "invalid_client");
    assert!(sim.clients()[0].expired);

    // Re-registering is the cure; so is a wrong secret the same error.
    let fresh = api.register(&[SCOPE]);
    assert!(api.login(&fresh)["accessToken"].is_string());
    api.poll(&(fresh.0.clone(), "wrong".into()), "x")
        .assert_oidc_error(401, "InvalidClientException", "invalid_client");

    // client_ttl drives clientSecretExpiresAt and real expiry.
    sim.update(|c| c.client_ttl = Duration::from_millis(200));
    let short = api.register(&[SCOPE]);
    std::thread::sleep(Duration::from_millis(250));
    api.post(
        "/device_authorization",
        &json!({"clientId": short.0, "clientSecret": short.1, "startUrl": "https://x/start"}),
    )
    .assert_oidc_error(401, "InvalidClientException", "invalid_client");
    assert_eq!(
        request(&api.url, "POST", "/_sim/expire-clients", &[], None).status,
        200
    );
}

#[test]
fn create_token_validates_input() {
    let (sim, api) = sim_with(no_interval());
    let client = api.register(&[SCOPE]);
    api.post(
        "/token",
        &json!({"clientId": client.0, "clientSecret": client.1}),
    )
    .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    api.post(
        "/token",
        &json!({"clientId": client.0, "clientSecret": client.1, "grantType": "refresh_token"}),
    )
    .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    api.post(
        "/token",
        &json!({"clientId": client.0, "clientSecret": client.1, "grantType": "password"}),
    )
    .assert_oidc_error(
        400,
        "UnsupportedGrantTypeException",
        "unsupported_grant_type",
    );
    api.post(
        "/device_authorization",
        &json!({"clientId": client.0, "clientSecret": client.1}),
    )
    .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    assert_eq!(sim.count("CreateToken"), 3);
    assert_eq!(sim.count("CreateToken.refresh_token"), 1);
}

#[test]
fn misspelt_or_unknown_request_fields_are_refused() {
    let (sim, api) = sim_with(no_interval());
    // Every member the service model defines is accepted, including the ones the simulator ignores.
    let r = api.post(
        "/client/register",
        &json!({"clientName": "awsso", "clientType": "public", "scopes": [SCOPE],
                "grantTypes": ["refresh_token"], "redirectUris": [], "issuerUrl": "https://x/start",
                "entitledApplicationArn": "arn:aws:sso::1:application/ssoins-1/apl-1"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let client = (
        r.json()["clientId"].as_str().unwrap().to_owned(),
        r.json()["clientSecret"].as_str().unwrap().to_owned(),
    );
    // A misspelt member (`scope` for `scopes`) no longer registers a client without its scopes.
    api.post(
        "/client/register",
        &json!({"clientName": "awsso", "clientType": "public", "scope": [SCOPE]}),
    )
    .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    assert_eq!(sim.clients().len(), 1);
    api.post(
        "/device_authorization",
        &json!({"clientId": client.0, "clientSecret": client.1, "startURL": "https://x/start"}),
    )
    .assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    let login = api.login(&client);
    let refresh = login["refreshToken"].as_str().unwrap();
    let r = api.post(
        "/token",
        &json!({"clientId": client.0, "clientSecret": client.1, "grantType": "refresh_token",
                "refresh_token": refresh}),
    );
    r.assert_oidc_error(400, "InvalidRequestException", "invalid_request");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("refresh_token"),
        "the message names the field: {r:?}"
    );
    // The refresh token survived the refused call; `scope` is a CreateToken member.
    let r = api.post(
        "/token",
        &json!({"clientId": client.0, "clientSecret": client.1, "grantType": "refresh_token",
                "refreshToken": refresh, "scope": [SCOPE]}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}
