//! `--instances`: the Identity Center instances ListInstances shows in each region (listed by
//! [`crate::sso::Admin`]), and the trap of an account instance beside the organization instance.
use super::{Check, plural, show};

pub use crate::sso::Instance;

/// One instance in one line: its id, identity store, status and name.
fn describe(i: &Instance) -> String {
    let id = i.arn.rsplit('/').next().unwrap_or(&i.arn);
    let mut s = format!(
        "{} (identity store {}, {}",
        show(id),
        show(&i.identity_store_id),
        show(&i.status)
    );
    if let Some(n) = i.name.as_deref().filter(|n| !n.is_empty()) {
        s.push_str(&format!(", named {}", show(n)));
    }
    s.push(')');
    s
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
                        .map(describe)
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
            .map(describe)
            .collect();
        let org: Vec<String> = instances
            .iter()
            .filter(|i| i.owner_account_id != caller)
            .map(|i| {
                format!(
                    "{} owned by {} (the management account)",
                    describe(i),
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
        .map(|i| format!("{} owned by {}", describe(i), show(&i.owner_account_id)))
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
}
