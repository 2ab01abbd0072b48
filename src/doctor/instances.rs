//! `--instances`: the Identity Center instances ListInstances shows in each region, and the trap of an
//! account instance beside the organization instance.
use super::{Check, plural, show};
use crate::output::sanitize;

/// One instance as ListInstances describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: Option<String>,
    pub status: String,
}

impl Instance {
    fn describe(&self) -> String {
        let id = self.arn.rsplit('/').next().unwrap_or(&self.arn);
        let mut s = format!(
            "{} (identity store {}, {}",
            show(id),
            show(&self.identity_store_id),
            show(&self.status)
        );
        if let Some(n) = self.name.as_deref().filter(|n| !n.is_empty()) {
            s.push_str(&format!(", named {}", show(n)));
        }
        s.push(')');
        s
    }
}

/// The trap: one region showing instances of different owners. ListInstances has no field saying
/// "organization" or "account" instance; what tells them apart is the owner. A member account sees the
/// organization instance only as its delegated administrator, and that instance is owned by the
/// management account; an account instance is owned by the account that created it. So, seen from one
/// account, two owners in one region mean one organization instance and one account instance, and the one
/// owned by the calling account (`caller`, when known) is the account instance.
pub fn instances_check(region: &str, instances: &[Instance], caller: Option<&str>) -> Check {
    let region = show(region);
    let mut owners: Vec<&str> = instances
        .iter()
        .map(|i| i.owner_account_id.as_str())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    if owners.len() < 2 {
        return Check::ok(
            "instances",
            if instances.is_empty() {
                format!("{region}: no Identity Center instance is visible to these credentials")
            } else {
                format!(
                    "{region}: {}, all owned by {}: {}",
                    plural(instances.len(), "instance", "instances"),
                    show(owners[0]),
                    instances
                        .iter()
                        .map(Instance::describe)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        );
    }
    let consequence = "they cannot be merged, and delegated administration from that account silently \
                       operates on its account instance, not on the organization's";
    if let Some(caller) = caller.filter(|c| owners.contains(c)) {
        let account: Vec<String> = instances
            .iter()
            .filter(|i| i.owner_account_id == caller)
            .map(Instance::describe)
            .collect();
        let org: Vec<String> = instances
            .iter()
            .filter(|i| i.owner_account_id != caller)
            .map(|i| {
                format!(
                    "{} owned by {} (the management account)",
                    i.describe(),
                    show(&i.owner_account_id)
                )
            })
            .collect();
        return Check::fail(
            "instances",
            format!(
                "{region}: member account {} holds an account instance {} next to the organization instance {}; \
                 {consequence}",
                show(caller),
                account.join(", "),
                org.join(", ")
            ),
            format!(
                "administer the organization's users and assignments in the organization instance (from the \
                 management account, or by its ARN); delete the account instance in {} if nothing uses it \
                 (`aws sso-admin delete-instance --instance-arn <its ARN>`)",
                show(caller)
            ),
        );
    }
    let all: Vec<String> = instances
        .iter()
        .map(|i| format!("{} owned by {}", i.describe(), show(&i.owner_account_id)))
        .collect();
    Check::fail(
        "instances",
        format!(
            "{region}: instances of {} different owners are visible ({}): the one owned by the management \
             account is the organization instance, the one owned by the account you called from is an account \
             instance; {consequence}",
            owners.len(),
            all.join("; ")
        ),
        "set AWS_ACCOUNT_ID to the calling account (or use --admin-profile) so that doctor names each instance; \
         then administer through the organization instance and delete the account instance if nothing uses it",
    )
}

/// Lists the instances visible in `region` with static credentials, through sso-admin (SigV4-signed by the
/// SDK). `endpoint` overrides the service URL (`AWS_ENDPOINT_URL_SSO_ADMIN`).
pub async fn list_instances(
    region: &str,
    credentials: aws_credential_types::Credentials,
    endpoint: Option<&str>,
) -> Result<Vec<Instance>, String> {
    use aws_sdk_ssoadmin::config::{BehaviorVersion, Region};
    use aws_sdk_ssoadmin::error::{DisplayErrorContext, ProvideErrorMetadata};
    use aws_smithy_runtime_api::client::result::SdkError;

    let mut conf = aws_sdk_ssoadmin::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .operation_attempt_timeout(std::time::Duration::from_secs(30))
                .build(),
        );
    if let Some(url) = endpoint {
        conf = conf.endpoint_url(url);
    }
    let client = aws_sdk_ssoadmin::Client::from_conf(conf.build());
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    // A page holds up to 100 instances; an account has a handful. The cap only guards against a loop.
    for _ in 0..50 {
        let page = client
            .list_instances()
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(se) => format!(
                    "{}: {}",
                    sanitize(se.err().code().unwrap_or("UnknownError"), 80),
                    sanitize(se.err().message().unwrap_or("no message"), 300)
                ),
                _ => sanitize(&DisplayErrorContext(&e).to_string(), 300),
            })?;
        for i in page.instances() {
            out.push(Instance {
                arn: i.instance_arn().unwrap_or_default().to_string(),
                identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
                owner_account_id: i.owner_account_id().unwrap_or_default().to_string(),
                name: i.name().map(str::to_string),
                status: i
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Ok(out)
}

/// `AWS_ENDPOINT_URL_SSO_ADMIN`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
/// is true (the SDKs' rules).
pub fn admin_endpoint(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env("AWS_ENDPOINT_URL_SSO_ADMIN")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn the_instance_trap() {
        let org = Instance {
            arn: "arn:aws:sso:::instance/ssoins-1111111111111111".into(),
            identity_store_id: "d-1111111111".into(),
            owner_account_id: "111111111111".into(),
            name: None,
            status: "ACTIVE".into(),
        };
        let account = Instance {
            arn: "arn:aws:sso:::instance/ssoins-2222222222222222".into(),
            identity_store_id: "d-2222222222".into(),
            owner_account_id: "222222222222".into(),
            name: Some("team".into()),
            status: "ACTIVE".into(),
        };
        assert_eq!(
            instances_check("eu-west-1", std::slice::from_ref(&org), None).status,
            Status::Ok
        );
        let named = instances_check(
            "eu-west-1",
            &[org.clone(), account.clone()],
            Some("222222222222"),
        );
        assert_eq!(named.status, Status::Fail);
        assert!(
            named.message.contains(
                "member account 222222222222 holds an account instance ssoins-2222222222222222"
            ),
            "{}",
            named.message
        );
        assert!(
            named
                .message
                .contains("owned by 111111111111 (the management account)")
        );
        assert!(named.message.contains("cannot be merged"));
        let unnamed = instances_check("eu-west-1", &[org, account], None);
        assert_eq!(unnamed.status, Status::Fail);
        assert!(
            unnamed.message.contains("111111111111") && unnamed.message.contains("222222222222")
        );
        assert!(unnamed.fix.unwrap().contains("AWS_ACCOUNT_ID"));
    }

    #[test]
    fn admin_endpoint_follows_the_sdk_rules() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://global/".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&env).as_deref(), Some("http://global"));
        let ignore = |k: &str| match k {
            "AWS_ENDPOINT_URL_SSO_ADMIN" => Some("http://x".to_string()),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" => Some("true".to_string()),
            _ => None,
        };
        assert_eq!(admin_endpoint(&ignore), None);
    }
}
