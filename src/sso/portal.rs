//! The SSO portal API (bearer-token authenticated): Logout, ListAccounts, ListAccountRoles and
//! GetRoleCredentials, with the server's clock read off each answer.
use aws_smithy_types::retry::RetryConfig;
use serde::{Deserialize, Serialize};

use super::client::{map_err, sdk_config};
use super::{
    Endpoints, SsoError, bad_answer, clock, credentials_expiration, missing, now, request_ids,
    secret_field,
};
use crate::ids::{AccountId, RoleName};
use crate::secret::Secret;

/// The SSO portal API (bearer-token authenticated).
pub struct Portal {
    client: aws_sdk_sso::Client,
    endpoint: String,
    clock: clock::ServerClock,
}

/// One account as ListAccounts returns it.
#[derive(Clone, Debug)]
pub struct AccountInfo {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// Role credentials from GetRoleCredentials.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Secret<String>,
    /// Unix seconds (the wire carries milliseconds).
    pub expiration: i64,
}

impl Portal {
    /// A portal client with the SDK's standard retries (3 attempts: throttling, 5xx, network).
    pub fn new(region: &str, endpoints: &Endpoints) -> Portal {
        Self::with_retries(
            region,
            endpoints,
            RetryConfig::standard().with_max_attempts(3),
        )
    }

    /// A portal client that makes each call once: for callers that pace and retry themselves.
    pub fn without_retries(region: &str, endpoints: &Endpoints) -> Portal {
        Self::with_retries(region, endpoints, RetryConfig::disabled())
    }

    fn with_retries(region: &str, endpoints: &Endpoints, retry: RetryConfig) -> Portal {
        let clock = clock::ServerClock::default();
        let conf = sdk_config!(
            aws_sdk_sso,
            region,
            retry,
            endpoints
                .portal_overridden
                .then_some(endpoints.portal.as_str())
        )
        .interceptor(clock.clone());
        Portal {
            client: aws_sdk_sso::Client::from_conf(conf.build()),
            endpoint: endpoints.portal.clone(),
            clock,
        }
    }

    /// The server's time (Unix seconds) by the `Date` header of the last response, if it sent one.
    pub fn server_time(&self) -> Option<i64> {
        self.clock.last()
    }

    pub async fn logout(&self, access_token: &Secret<String>) -> Result<(), SsoError> {
        self.client
            .logout()
            .access_token(access_token.expose())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| map_err("Logout", &self.endpoint, e))
    }

    /// One page of ListAccounts.
    pub async fn list_accounts(
        &self,
        access_token: &Secret<String>,
        next_token: Option<String>,
    ) -> Result<(Vec<AccountInfo>, Option<String>), SsoError> {
        const OP: &str = "ListAccounts";
        let out = self
            .client
            .list_accounts()
            .access_token(access_token.expose())
            .max_results(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let (accounts, skipped) = valid_accounts(out.account_list());
        if skipped > 0 {
            warn_skipped(OP, skipped, "an account id that is not 12 digits");
        }
        Ok((accounts, out.next_token().map(str::to_string)))
    }

    /// One page of ListAccountRoles.
    pub async fn list_account_roles(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), SsoError> {
        const OP: &str = "ListAccountRoles";
        request_ids(OP, account_id, None)?;
        let out = self
            .client
            .list_account_roles()
            .access_token(access_token.expose())
            .account_id(account_id)
            .max_results(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let (roles, skipped) = valid_roles(out.role_list());
        if skipped > 0 {
            warn_skipped(OP, skipped, "a name AWS does not allow for a role");
        }
        Ok((roles, out.next_token().map(str::to_string)))
    }

    pub async fn get_role_credentials(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials, SsoError> {
        const OP: &str = "GetRoleCredentials";
        request_ids(OP, account_id, Some(role_name))?;
        let out = self
            .client
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let c = out
            .role_credentials()
            .ok_or_else(|| missing(OP, "roleCredentials"))?;
        let access_key_id = c
            .access_key_id()
            .ok_or_else(|| missing(OP, "accessKeyId"))?;
        if !(16..=128).contains(&access_key_id.len())
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad_answer(OP, "accessKeyId is not an access key id"));
        }
        Ok(RoleCredentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_field(OP, "secretAccessKey", c.secret_access_key())?,
            session_token: secret_field(OP, "sessionToken", c.session_token())?,
            // Judged by the server's own clock when its answer said what time it was: credentials that
            // are only expired by a skewed local clock are the caller's to report as clock skew
            // (`creds::check_clock`), not a nonsensical answer.
            expiration: credentials_expiration(
                OP,
                c.expiration(),
                self.server_time().unwrap_or_else(now),
            )?,
        })
    }
}

/// The accounts of a ListAccounts page whose id is 12 digits, and how many were not. Names stay as served
/// (bounded by the body cap): they are untrusted text, sanitised wherever shown; ids go into URIs, keys and
/// profiles.
fn valid_accounts(list: &[aws_sdk_sso::types::AccountInfo]) -> (Vec<AccountInfo>, usize) {
    let mut skipped = 0;
    let accounts = list
        .iter()
        .filter_map(|a| {
            let Some(id) = a.account_id().and_then(|id| id.parse::<AccountId>().ok()) else {
                skipped += 1;
                return None;
            };
            Some(AccountInfo {
                id: id.into_string(),
                name: a.account_name().unwrap_or_default().to_string(),
                email: a.email_address().map(str::to_string),
            })
        })
        .collect();
    (accounts, skipped)
}

/// The role names of a ListAccountRoles page that AWS allows, and how many were not.
fn valid_roles(list: &[aws_sdk_sso::types::RoleInfo]) -> (Vec<String>, usize) {
    let mut skipped = 0;
    let roles = list
        .iter()
        .filter_map(|r| match r.role_name().map(str::parse::<RoleName>) {
            Some(Ok(role)) => Some(role.into_string()),
            _ => {
                skipped += 1;
                None
            }
        })
        .collect();
    (roles, skipped)
}

/// Bad entries are skipped, not fatal: one nonsensical entry should not cost the person every other
/// profile. The warning says how many, so that the gap is never silent.
fn warn_skipped(op: &str, n: usize, what: &str) {
    eprintln!(
        "warning: {op} returned {n} {} with {what}; skipped",
        if n == 1 { "entry" } else { "entries" }
    );
}
