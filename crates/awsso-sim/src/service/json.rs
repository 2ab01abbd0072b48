//! The JSON bodies of the SSO OIDC and portal operations (and the instance shape sso-admin's
//! ListInstances and `/_sim/config` share), as serde types named after the service model's shapes.
//!
//! Requests refuse unknown fields, so a misspelt field name fails as InvalidRequestException instead
//! of being ignored. Every member the service model defines is modelled (the botocore model and
//! aws-sdk-ssooidc's serialisers agree), so whatever a real SDK sends is accepted, including the
//! members the simulator has no use for.

use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::SimInstance;
use crate::wire::ApiError;

/// Reads a request body; `Null` stands for a body that was not JSON at all.
pub(super) fn parse<'a, T: Deserialize<'a>>(body: &'a Value) -> Result<T, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid_request(
            "Request body must be a JSON object",
        ));
    }
    from_value(body).map_err(ApiError::invalid_request)
}

/// Deserialises `v`, naming the member an error is about (`clientName: invalid type: …`).
pub(crate) fn from_value<'a, T: Deserialize<'a>>(v: &'a Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." | "?" => e.into_inner().to_string(),
            _ => format!("{path}: {}", e.into_inner()),
        }
    })
}

/// An answer as the server sends it (a `Value`, which hostile spoils then edit).
pub(crate) fn answer<T: Serialize>(body: &T) -> Result<Value, ApiError> {
    serde_json::to_value(body).map_err(|e| {
        ApiError::new(
            500,
            "InternalServerException",
            "server_error",
            e.to_string(),
        )
    })
}

/// A member the model marks optional but the operation needs in this case (CreateToken's
/// grant-specific members): absent, null and empty all count as missing.
pub(super) fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("Missing required field {name}")))
}

/// A required string member: the real service refuses an empty one as it refuses a missing one.
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(D::Error::invalid_value(
            Unexpected::Str(""),
            &"a non-empty string",
        ));
    }
    Ok(s)
}

// ---- SSO OIDC requests ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RegisterClientRequest {
    #[serde(deserialize_with = "non_empty")]
    pub client_name: String,
    #[serde(deserialize_with = "non_empty")]
    pub client_type: String,
    pub scopes: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub issuer_url: Option<String>,
    /// Accepted and ignored: the simulator models no applications.
    #[allow(dead_code)]
    pub entitled_application_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct StartDeviceAuthorizationRequest {
    #[serde(deserialize_with = "non_empty")]
    pub client_id: String,
    #[serde(deserialize_with = "non_empty")]
    pub client_secret: String,
    /// Required, not checked: any start URL signs in to the one simulated directory.
    #[serde(deserialize_with = "non_empty")]
    #[allow(dead_code)]
    pub start_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CreateTokenRequest {
    #[serde(deserialize_with = "non_empty")]
    pub client_id: String,
    #[serde(deserialize_with = "non_empty")]
    pub client_secret: String,
    #[serde(deserialize_with = "non_empty")]
    pub grant_type: String,
    pub device_code: Option<String>,
    pub code: Option<String>,
    pub refresh_token: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// Accepted and ignored: tokens always carry the scopes the client registered with.
    #[allow(dead_code)]
    pub scope: Option<Vec<String>>,
}

// ---- SSO OIDC responses ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RegisterClientResponse {
    pub client_id: String,
    pub client_secret: String,
    /// Epoch seconds, as both timestamps are.
    pub client_id_issued_at: i64,
    pub client_secret_expires_at: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartDeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateTokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// Absent when the client may not have one; clients then keep the refresh token they hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
}

/// The claims of the (unsigned, decorative) `idToken`.
#[derive(Debug, Serialize)]
pub(super) struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub aud: &'a str,
    pub sub: &'static str,
    pub iat: i64,
    pub exp: i64,
}

// ---- SSO portal responses ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListAccountsResponse<'a> {
    pub account_list: Vec<AccountInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountInfo<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub email_address: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListAccountRolesResponse<'a> {
    pub role_list: Vec<RoleInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RoleInfo<'a> {
    pub role_name: &'a str,
    pub account_id: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetRoleCredentialsResponse<'a> {
    pub role_credentials: RoleCredentials<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RoleCredentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: &'a str,
    /// Epoch milliseconds.
    pub expiration: i64,
}

// ---- sso-admin's instance shape ----

/// An instance as ListInstances serialises it; `/_sim/config` shows and takes the same shape,
/// where Status and CreatedDate may be left out.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct InstanceJson {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default = "created_date")]
    pub created_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

fn created_date() -> i64 {
    1_700_000_000
}

impl From<&SimInstance> for InstanceJson {
    fn from(i: &SimInstance) -> Self {
        Self {
            instance_arn: i.instance_arn.clone(),
            identity_store_id: i.identity_store_id.clone(),
            owner_account_id: i.owner_account_id.clone(),
            status: i.status.clone(),
            created_date: i.created_date,
            name: i.name.clone(),
        }
    }
}

impl From<InstanceJson> for SimInstance {
    fn from(i: InstanceJson) -> Self {
        Self {
            instance_arn: i.instance_arn,
            identity_store_id: i.identity_store_id,
            owner_account_id: i.owner_account_id,
            name: i.name,
            status: i.status,
            created_date: i.created_date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_refuse_unknown_and_empty_fields_and_accept_every_model_member() {
        let full = json!({"clientId": "c", "clientSecret": "s", "grantType": "refresh_token",
            "deviceCode": "d", "code": "x", "refreshToken": "r", "scope": ["sso:account:access"],
            "redirectUri": "http://127.0.0.1:1/oauth/callback", "codeVerifier": "v"});
        let t: CreateTokenRequest = parse(&full).unwrap();
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        let e = parse::<CreateTokenRequest>(
            &json!({"clientId": "c", "clientSecret": "s", "grantType": "g", "refresh_token": "r"}),
        )
        .unwrap_err();
        assert_eq!(e.shape, "InvalidRequestException");
        assert!(e.message.contains("refresh_token"), "{e:?}");
        let e = parse::<StartDeviceAuthorizationRequest>(
            &json!({"clientId": "", "clientSecret": "s", "startUrl": "u"}),
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.starts_with("clientId: invalid value"), "{e:?}");
        let r: RegisterClientRequest = parse(&json!({"clientName": "n", "clientType": "public",
            "scopes": null, "issuerUrl": null, "entitledApplicationArn": "arn"}))
        .unwrap();
        assert_eq!(r.scopes, None);
        assert_eq!(
            parse::<RegisterClientRequest>(&Value::Null)
                .unwrap_err()
                .message,
            "Request body must be a JSON object"
        );
    }

    #[test]
    fn optional_members_are_left_out_of_answers_not_null() {
        let v = answer(&ListAccountsResponse {
            account_list: vec![],
            next_token: None,
        })
        .unwrap();
        assert_eq!(v, json!({"accountList": []}));
    }
}
