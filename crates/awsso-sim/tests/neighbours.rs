//! The services next to Identity Center, over real sockets: the console federation endpoint
//! (getSigninToken only for credentials the simulator issued; login redirects) and sso-admin
//! ListInstances (awsJson1_1, SigV4 header required and recorded, instances from the knob).

use crate::common::{Api, enc, request};
use awsso_sim::{SimConfig, SimInstance, start};
use serde_json::{Value, json};

#[test]
fn signin_tokens_are_issued_only_for_the_simulators_credentials() {
    let sim = start(SimConfig {
        interval: 0,
        ..Default::default()
    })
    .unwrap();
    let api = Api::new(sim.url());
    let client = api.register(&["sso:account:access"]);
    let token = api.login(&client)["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let creds = api
        .get(
            "/federation/credentials?role_name=ReadOnlyAccess&account_id=100000000002",
            Some(&token),
        )
        .json()["roleCredentials"]
        .clone();
    let session = |key: &Value| {
        json!({"sessionId": creds["accessKeyId"], "sessionKey": key, "sessionToken": creds["sessionToken"]})
            .to_string()
    };

    let forged = api.get(
        &format!(
            "/federation?Action=getSigninToken&Session={}",
            enc(&session(&json!("wrong")))
        ),
        None,
    );
    assert_eq!(forged.status, 400, "{forged:?}");
    assert!(sim.signin_tokens().is_empty());

    let r = api.get(
        &format!(
            "/federation?Action=getSigninToken&Session={}",
            enc(&session(&creds["secretAccessKey"]))
        ),
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let signin = r.json()["SigninToken"].as_str().unwrap().to_owned();
    let issued = sim.signin_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].signin_token, signin);
    assert_eq!(issued[0].access_key_id, creds["accessKeyId"]);
    assert_eq!(
        (issued[0].account_id.as_str(), issued[0].role_name.as_str()),
        ("100000000002", "ReadOnlyAccess")
    );
    assert!(sim.issued_secrets().contains(&signin));

    let dest = "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1";
    let login = api.get(
        &format!(
            "/federation?Action=login&Issuer=t&Destination={}&SigninToken={}",
            enc(dest),
            enc(&signin)
        ),
        None,
    );
    assert_eq!(login.status, 302, "{login:?}");
    assert_eq!(login.header("location"), Some(dest));
    let bad = api.get(
        &format!(
            "/federation?Action=login&Destination={}&SigninToken=nope",
            enc(dest)
        ),
        None,
    );
    assert_eq!(bad.status, 400);
    assert_eq!(sim.count("GetSigninToken"), 2);
    assert_eq!(sim.count("FederationLogin"), 2);
}

#[test]
fn list_instances_needs_a_sigv4_header_and_serves_the_knob() {
    let org = SimInstance::new("111111111111", "1111111111111111");
    let account = SimInstance {
        name: Some("team".into()),
        ..SimInstance::new("222222222222", "2222222222222222")
    };
    let sim = start(SimConfig {
        instances: vec![org, account],
        ..Default::default()
    })
    .unwrap();
    let target = ("X-Amz-Target", "SWBExternalService.ListInstances");
    let json_type = ("Content-Type", "application/x-amz-json-1.1");

    let unsigned = request(&sim.url(), "POST", "/", &[target, json_type], Some("{}"));
    assert_eq!(unsigned.status, 403, "{unsigned:?}");
    assert_eq!(
        unsigned.header("x-amzn-ErrorType"),
        Some("MissingAuthenticationTokenException")
    );
    assert_eq!(
        unsigned.json()["__type"],
        "MissingAuthenticationTokenException"
    );

    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/sso/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        "0".repeat(64)
    );
    let signed = [
        target,
        json_type,
        ("Authorization", auth.as_str()),
        ("X-Amz-Date", "20250101T000000Z"),
    ];
    let r = request(&sim.url(), "POST", "/", &signed, Some("{}"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    let v = r.json();
    let owners: Vec<&str> = v["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["OwnerAccountId"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["111111111111", "222222222222"]);
    assert_eq!(v["Instances"][1]["Name"], "team");
    assert!(v.get("NextToken").is_none());

    let page = request(
        &sim.url(),
        "POST",
        "/",
        &signed,
        Some(r#"{"MaxResults": 1}"#),
    )
    .json();
    assert_eq!(page["Instances"].as_array().unwrap().len(), 1);
    let rest = request(
        &sim.url(),
        "POST",
        "/",
        &signed,
        Some(&json!({"NextToken": page["NextToken"]}).to_string()),
    )
    .json();
    assert_eq!(rest["Instances"][0]["OwnerAccountId"], "222222222222");

    let calls = sim.admin_calls();
    assert_eq!(calls.len(), 3, "only signed calls are recorded: {calls:?}");
    assert_eq!(calls[0].access_key_id, "AKIDEXAMPLE");
    assert_eq!(calls[0].region, "eu-west-1");
    assert_eq!(calls[0].service, "sso");
    assert_eq!(calls[0].target, "SWBExternalService.ListInstances");
    assert!(calls[0].signed_headers.contains(&"x-amz-target".to_owned()));

    // Every response carries a Date header (awsso's doctor compares clocks with it).
    assert!(r.header("date").is_some_and(|d| d.ends_with(" GMT")));
}

#[test]
fn list_instances_refuses_a_misspelt_member() {
    let sim = start(SimConfig::default()).unwrap();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/sso/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        "0".repeat(64)
    );
    let signed = [
        ("X-Amz-Target", "SWBExternalService.ListInstances"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Authorization", auth.as_str()),
        ("X-Amz-Date", "20250101T000000Z"),
    ];
    let post = |body: &str| request(&sim.url(), "POST", "/", &signed, Some(body));
    let r = post(r#"{"maxResults": 1}"#);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.header("x-amzn-ErrorType"), Some("ValidationException"));
    assert_eq!(post(r#"{"MaxResults": 1}"#).status, 200);
}
