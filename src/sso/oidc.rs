//! The SSO OIDC API: client registration, the device authorization grant, and CreateToken (device code,
//! refresh token, PKCE authorization code).
use aws_smithy_types::retry::RetryConfig;

use super::client::{map_err, sdk_config};
use super::{
    ClientRegistration, DeviceAuthorization, Endpoints, Flow, GRANT_AUTHORIZATION_CODE,
    GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, Grant, PKCE_REDIRECT_URI, SsoError, TokenGrant,
    bad_answer, lifetime, missing, secret_field,
};
use crate::output::sanitize;

const CLIENT_NAME: &str = "awsso";

/// The SSO OIDC API.
pub struct Oidc {
    client: aws_sdk_ssooidc::Client,
    endpoint: String,
}

impl Oidc {
    pub fn new(region: &str, endpoints: &Endpoints) -> Oidc {
        let conf = sdk_config!(
            aws_sdk_ssooidc,
            region,
            RetryConfig::standard().with_max_attempts(3),
            endpoints.oidc_overridden.then_some(endpoints.oidc.as_str())
        );
        Oidc {
            client: aws_sdk_ssooidc::Client::from_conf(conf.build()),
            endpoint: endpoints.oidc.clone(),
        }
    }

    /// The browser page that starts a PKCE authorization.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.endpoint)
    }

    pub async fn register(
        &self,
        flow: Flow,
        start_url: &str,
        region: &str,
        scopes: &[String],
    ) -> Result<ClientRegistration, SsoError> {
        const OP: &str = "RegisterClient";
        let mut req = self
            .client
            .register_client()
            .client_name(CLIENT_NAME)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()));
        req = match flow {
            Flow::Device => req
                .grant_types(GRANT_DEVICE_CODE)
                .grant_types(GRANT_REFRESH_TOKEN),
            Flow::Pkce => req
                .grant_types(GRANT_AUTHORIZATION_CODE)
                .grant_types(GRANT_REFRESH_TOKEN)
                .redirect_uris(PKCE_REDIRECT_URI)
                .issuer_url(start_url),
        };
        let out = req
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        if out
            .client_id()
            .is_some_and(|id| id.is_empty() || id.len() > 4096)
        {
            return Err(bad_answer(OP, "clientId is empty or too long"));
        }
        Ok(ClientRegistration {
            client_id: out
                .client_id()
                .ok_or_else(|| missing(OP, "clientId"))?
                .into(),
            client_secret: secret_field(OP, "clientSecret", out.client_secret())?,
            expires_at: out.client_secret_expires_at(),
            flow,
            scopes: scopes.to_vec(),
            start_url: start_url.into(),
            region: region.into(),
        })
    }

    pub async fn start_device_authorization(
        &self,
        reg: &ClientRegistration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, SsoError> {
        const OP: &str = "StartDeviceAuthorization";
        let out = self
            .client
            .start_device_authorization()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        let expires_in = lifetime(OP, "expiresIn", i64::from(out.expires_in()))?;
        if out.interval() < 0 {
            return Err(bad_answer(OP, format!("interval is {}", out.interval())));
        }
        Ok(DeviceAuthorization {
            device_code: secret_field(OP, "deviceCode", out.device_code())?,
            user_code: sanitize(out.user_code().ok_or_else(|| missing(OP, "userCode"))?, 64),
            verification_uri: out
                .verification_uri()
                .ok_or_else(|| missing(OP, "verificationUri"))?
                .into(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_string),
            expires_in,
            interval: i64::from(out.interval()),
        })
    }

    pub async fn create_token(
        &self,
        reg: &ClientRegistration,
        grant: Grant<'_>,
    ) -> Result<TokenGrant, SsoError> {
        const OP: &str = "CreateToken";
        let req = self
            .client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose());
        let req = match grant {
            Grant::DeviceCode(code) => req.grant_type(GRANT_DEVICE_CODE).device_code(code.expose()),
            Grant::RefreshToken(token) => req
                .grant_type(GRANT_REFRESH_TOKEN)
                .refresh_token(token.expose()),
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => req
                .grant_type(GRANT_AUTHORIZATION_CODE)
                .code(code.expose())
                .code_verifier(verifier.expose())
                .redirect_uri(redirect_uri),
        };
        let out = req
            .send()
            .await
            .map_err(|e| map_err(OP, &self.endpoint, e))?;
        Ok(TokenGrant {
            access_token: secret_field(OP, "accessToken", out.access_token())?,
            expires_in: lifetime(OP, "expiresIn", i64::from(out.expires_in()))?,
            refresh_token: out
                .refresh_token()
                .map(|t| secret_field(OP, "refreshToken", Some(t)))
                .transpose()?,
        })
    }
}
