//! The SSO portal: ListAccounts, ListAccountRoles, GetRoleCredentials and Logout, all behind the
//! `x-amz-sso_bearer_token` header, with the opaque page tokens the two list calls share with
//! sso-admin's ListInstances.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::json::{
    AccountInfo, GetRoleCredentialsResponse, ListAccountRolesResponse, ListAccountsResponse,
    RoleCredentials, RoleInfo, answer,
};
use super::{Shared, epoch_ms};
use crate::IssuedCredentials;
use crate::ids::{ALNUM, UPPER_ALNUM};
use crate::wire::ApiError;

impl Shared {
    pub(crate) fn list_accounts(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let st = self.lock();
        st.bearer(token)?;
        let accounts = Arc::clone(&st.accounts);
        let page_size = st.config.page_size;
        drop(st);
        let (start, end, next) = paginate(q, "accounts", accounts.len(), page_size)?;
        answer(&ListAccountsResponse {
            account_list: accounts[start..end]
                .iter()
                .map(|a| AccountInfo {
                    account_id: &a.id,
                    account_name: &a.name,
                    email_address: &a.email,
                })
                .collect(),
            next_token: next,
        })
    }

    pub(crate) fn list_account_roles(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let account_id = q_req(q, "account_id")?;
        let st = self.lock();
        st.bearer(token)?;
        if st.account(account_id).is_none() {
            return Err(ApiError::not_found("No access to this account"));
        }
        let roles = Arc::clone(&st.roles);
        let page_size = st.config.page_size;
        drop(st);
        let scope = format!("roles:{account_id}");
        let (start, end, next) = paginate(q, &scope, roles.len(), page_size)?;
        answer(&ListAccountRolesResponse {
            role_list: roles[start..end]
                .iter()
                .map(|r| RoleInfo {
                    role_name: r,
                    account_id,
                })
                .collect(),
            next_token: next,
        })
    }

    pub(crate) fn get_role_credentials(
        &self,
        token: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let role_name = q_req(q, "role_name")?;
        let account_id = q_req(q, "account_id")?;
        let mut st = self.lock();
        st.bearer(token)?;
        if st.account(account_id).is_none() || !st.roles.iter().any(|r| r == role_name) {
            return Err(ApiError::not_found("No access to this role"));
        }
        let creds = IssuedCredentials {
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
            access_key_id: format!("ASIA{}", self.ids.chars(16, UPPER_ALNUM)),
            secret_access_key: self.ids.chars(40, ALNUM),
            session_token: self.ids.b64(264),
            expiration_ms: epoch_ms()
                + st.config.clock_offset_secs * 1000
                + st.config.credentials_ttl.as_millis() as i64,
        };
        st.issued.push(creds.clone());
        answer(&GetRoleCredentialsResponse {
            role_credentials: RoleCredentials {
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                session_token: &creds.session_token,
                expiration: creds.expiration_ms,
            },
        })
    }

    pub(crate) fn logout(&self, token: Option<&str>) -> Result<(), ApiError> {
        let mut st = self.lock();
        let session = st.bearer(token)?;
        st.revoked_sessions.insert(session);
        Ok(())
    }
}

fn q_req<'a>(q: &'a HashMap<String, String>, key: &str) -> Result<&'a str, ApiError> {
    q.get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("Missing required parameter {key}")))
}

/// Returns `(start, end, nextToken)` for one page of a list of `len` items.
fn paginate(
    q: &HashMap<String, String>,
    scope: &str,
    len: usize,
    default_size: usize,
) -> Result<(usize, usize, Option<String>), ApiError> {
    let size = match q.get("max_result") {
        None => default_size.max(1),
        Some(s) => match s.parse::<usize>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(ApiError::invalid_request(
                    "max_result must be an integer between 1 and 100",
                ));
            }
        },
    };
    let start = match q.get("next_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => decode_page_token(t, scope)
            .filter(|&o| o <= len)
            .ok_or_else(|| ApiError::invalid_request("Invalid nextToken"))?,
    };
    let end = start.saturating_add(size).min(len);
    let next = (end < len).then(|| encode_page_token(scope, end));
    Ok((start, end, next))
}

pub(crate) fn encode_page_token(scope: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("awsso-sim/v1/{scope}/{offset}"))
}

pub(crate) fn decode_page_token(token: &str, scope: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("awsso-sim/v1/")?
        .strip_prefix(scope)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_are_scoped() {
        let t = encode_page_token("accounts", 7);
        assert_eq!(decode_page_token(&t, "accounts"), Some(7));
        assert_eq!(decode_page_token(&t, "roles:1"), None);
        assert_eq!(decode_page_token("garbage!", "accounts"), None);
    }
}
