//! The two services next to Identity Center that awsso also calls: the console federation endpoint
//! (`GET /federation`, actions getSigninToken and login) and sso-admin's ListInstances (awsJson1_1).
//!
//! Role credentials are checked against what GetRoleCredentials issued. SigV4 requests are parsed
//! (credential scope, signed headers, security token) and recorded, but the signature itself is not
//! verified: the simulator does not know the secret of credentials a test brings from elsewhere.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::service::{
    InstanceJson, Shared, answer, decode_page_token, encode_page_token, epoch_ms, from_value,
};
use crate::wire::ApiError;
use crate::{AdminCall, IssuedSigninToken};

/// The only sso-admin operation the simulator models.
pub(crate) const LIST_INSTANCES: &str = "SWBExternalService.ListInstances";

/// The SigV4-related headers of a request.
#[derive(Debug, Default)]
pub(crate) struct SignedRequest<'a> {
    pub target: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub amz_date: Option<&'a str>,
    pub security_token: Option<&'a str>,
}

/// The ListInstances request body. A body that is not JSON at all reads as the empty request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ListInstancesRequest {
    max_results: Option<u64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListInstancesResponse {
    instances: Vec<InstanceJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationException", "validation", message)
}

/// The `Session` parameter of getSigninToken: the role credentials, under the federation
/// endpoint's own names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FederationSession {
    session_id: String,
    session_key: String,
    session_token: String,
}

/// What a federation request failed on; the real endpoint answers 400 with a short text.
pub(crate) struct FederationError(pub String);

impl Shared {
    pub(crate) fn signin_tokens(&self) -> Vec<IssuedSigninToken> {
        self.lock().signin_tokens.clone()
    }

    pub(crate) fn admin_calls(&self) -> Vec<AdminCall> {
        self.lock().admin_calls.clone()
    }

    /// `Action=getSigninToken&Session=<JSON>`: the session must carry unexpired role credentials that
    /// GetRoleCredentials issued, all three values matching.
    pub(crate) fn get_signin_token(
        &self,
        q: &HashMap<String, String>,
    ) -> Result<Value, FederationError> {
        let bad = |m: &str| FederationError(m.to_owned());
        let session: FederationSession = q
            .get("Session")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| {
                bad("Session must be a JSON document of sessionId, sessionKey and sessionToken")
            })?;
        let (id, key, token) = (
            session.session_id.as_str(),
            session.session_key.as_str(),
            session.session_token.as_str(),
        );
        let mut st = self.lock();
        let now = epoch_ms();
        let creds = st
            .issued
            .iter()
            .find(|c| c.access_key_id == id)
            .filter(|c| c.secret_access_key == key && c.session_token == token)
            .filter(|c| c.expiration_ms > now)
            .cloned()
            .ok_or_else(|| bad("The security token included in the request is invalid"))?;
        let signin_token = self.ids.b64url(96);
        st.signin_tokens.push(IssuedSigninToken {
            signin_token: signin_token.clone(),
            access_key_id: creds.access_key_id,
            account_id: creds.account_id,
            role_name: creds.role_name,
        });
        Ok(json!({ "SigninToken": signin_token }))
    }

    /// `Action=login&Issuer=…&Destination=…&SigninToken=…`: where the browser goes next.
    pub(crate) fn federation_login(
        &self,
        q: &HashMap<String, String>,
    ) -> Result<String, FederationError> {
        let token = q.get("SigninToken").map(String::as_str).unwrap_or("");
        if !self
            .lock()
            .signin_tokens
            .iter()
            .any(|t| t.signin_token == token)
        {
            return Err(FederationError("Invalid SigninToken".into()));
        }
        let destination = q
            .get("Destination")
            .filter(|d| d.starts_with("https://"))
            .ok_or_else(|| FederationError("Destination must be an https URL".into()))?;
        Ok(destination.clone())
    }

    /// sso-admin: checks the SigV4 header, records the call, and answers ListInstances.
    pub(crate) fn admin_call(
        &self,
        req: &SignedRequest<'_>,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let auth = req.authorization.ok_or_else(|| {
            ApiError::new(
                403,
                "MissingAuthenticationTokenException",
                "missing_authentication_token",
                "Missing Authentication Token",
            )
        })?;
        let sig = parse_sigv4(auth).ok_or_else(|| {
            ApiError::new(
                403,
                "IncompleteSignatureException",
                "incomplete_signature",
                "Authorization header requires Credential, SignedHeaders and Signature",
            )
        })?;
        if req.amz_date.is_none() || !sig.signed_headers.iter().any(|h| h == "x-amz-date") {
            return Err(ApiError::new(
                403,
                "IncompleteSignatureException",
                "incomplete_signature",
                "X-Amz-Date must be present and signed",
            ));
        }
        let target = req.target.unwrap_or("").to_owned();
        let mut st = self.lock();
        st.admin_calls.push(AdminCall {
            target: target.clone(),
            access_key_id: sig.access_key_id.clone(),
            region: sig.region.clone(),
            service: sig.service.clone(),
            signed_headers: sig.signed_headers.clone(),
            security_token: req.security_token.map(str::to_owned),
        });
        // Credentials the simulator issued must come with their own session token.
        if let Some(issued) = st
            .issued
            .iter()
            .find(|c| c.access_key_id == sig.access_key_id)
            && req.security_token != Some(issued.session_token.as_str())
        {
            return Err(ApiError::new(
                403,
                "UnrecognizedClientException",
                "unrecognized_client",
                "The security token included in the request is invalid.",
            ));
        }
        if sig.service != "sso" {
            return Err(ApiError::new(
                403,
                "InvalidSignatureException",
                "invalid_signature",
                format!(
                    "Credential should be scoped to correct service: 'sso', not '{}'",
                    sig.service
                ),
            ));
        }
        if target != LIST_INSTANCES {
            return Err(ApiError::new(
                400,
                "UnknownOperationException",
                "unknown_operation",
                format!("Unknown operation {target:?}"),
            ));
        }
        let instances = st.config.instances.clone();
        drop(st);
        let req = match body {
            _ if !body.is_object() => ListInstancesRequest::default(),
            _ => from_value(body).map_err(validation)?,
        };
        let size = match req.max_results {
            None => 100,
            Some(n @ 1..=100) => n as usize,
            Some(_) => return Err(validation("MaxResults must be between 1 and 100")),
        };
        let start = match req.next_token.as_deref() {
            None | Some("") => 0,
            Some(t) => decode_page_token(t, "instances")
                .filter(|&o| o <= instances.len())
                .ok_or_else(|| validation("Invalid NextToken"))?,
        };
        let end = start.saturating_add(size).min(instances.len());
        let out = ListInstancesResponse {
            instances: instances[start..end]
                .iter()
                .map(InstanceJson::from)
                .collect(),
            next_token: (end < instances.len()).then(|| encode_page_token("instances", end)),
        };
        answer(&out)
    }
}

/// The parts of `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…,
/// Signature=…` that matter here.
#[derive(Debug, PartialEq, Eq)]
struct SigV4 {
    access_key_id: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
}

fn parse_sigv4(header: &str) -> Option<SigV4> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    let signature = signature?;
    if scope.len() != 5
        || scope[4] != "aws4_request"
        || signature.len() != 64
        || !signature.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    Some(SigV4 {
        access_key_id: scope[0].to_owned(),
        region: scope[2].to_owned(),
        service: scope[3].to_owned(),
        signed_headers: signed?.split(';').map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigv4_headers_are_parsed() {
        let h = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/sso/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
            "a".repeat(64)
        );
        let s = parse_sigv4(&h).unwrap();
        assert_eq!(s.access_key_id, "AKIDEXAMPLE");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.service, "sso");
        assert!(s.signed_headers.contains(&"x-amz-target".to_owned()));
        assert!(parse_sigv4("Bearer x").is_none());
        assert!(parse_sigv4("AWS4-HMAC-SHA256 Credential=A/B, Signature=00").is_none());
    }
}
