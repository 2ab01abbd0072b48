//! Error shapes and how each service puts them on the wire.
//!
//! Clients (botocore, smithy-rs) classify errors from the `x-amzn-ErrorType` header (cut at the
//! first `:`) and fall back to the body, so both are emitted exactly as the real services do.

use serde_json::{Value, json};

/// Which API a route belongs to: it decides the error body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Oidc,
    Portal,
    /// sso-admin (awsJson1_1): the shape name alone in the header, `__type` + `message` in the body.
    Admin,
}

const OIDC_NS: &str = "http://internal.amazon.com/coral/com.amazonaws.swbup.oidc/";
const PORTAL_NS: &str = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/";

/// A modelled error: HTTP status, shape name, OAuth error code (OIDC body) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub shape: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: u16,
        shape: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            shape,
            code,
            message: message.into(),
        }
    }

    pub fn invalid_request(m: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", "invalid_request", m)
    }
    pub fn invalid_client(m: impl Into<String>) -> Self {
        Self::new(401, "InvalidClientException", "invalid_client", m)
    }
    pub fn invalid_grant(m: impl Into<String>) -> Self {
        Self::new(400, "InvalidGrantException", "invalid_grant", m)
    }
    pub fn unsupported_grant_type(m: impl Into<String>) -> Self {
        Self::new(
            400,
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            m,
        )
    }
    pub fn authorization_pending() -> Self {
        Self::new(
            400,
            "AuthorizationPendingException",
            "authorization_pending",
            "The user has not yet approved this device code",
        )
    }
    pub fn slow_down() -> Self {
        Self::new(
            400,
            "SlowDownException",
            "slow_down",
            "Polling faster than the interval allows",
        )
    }
    pub fn expired_token(m: impl Into<String>) -> Self {
        Self::new(400, "ExpiredTokenException", "expired_token", m)
    }
    pub fn access_denied() -> Self {
        Self::new(
            400,
            "AccessDeniedException",
            "access_denied",
            "The user denied the authorization request",
        )
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(401, "UnauthorizedException", "unauthorized", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", "not_found", m)
    }
    pub fn too_many_requests() -> Self {
        Self::new(
            429,
            "TooManyRequestsException",
            "too_many_requests",
            "Rate exceeded",
        )
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalServerException",
            "server_error",
            "Injected internal server error",
        )
    }

    /// The `x-amzn-ErrorType` header value.
    pub fn error_type_header(&self, service: Service) -> String {
        let ns = match service {
            Service::Oidc => OIDC_NS,
            Service::Portal => PORTAL_NS,
            Service::Admin => return self.shape.to_owned(),
        };
        format!("{}:{ns}", self.shape)
    }

    pub fn body(&self, service: Service) -> Value {
        match service {
            Service::Oidc => json!({"error": self.code, "error_description": self.message}),
            Service::Portal => json!({
                "message": self.message,
                "__type": format!("com.amazonaws.switchboard.portal#{}", self.shape),
            }),
            Service::Admin => json!({"__type": self.shape, "message": self.message}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_match_the_protocol_doc() {
        let e = ApiError::authorization_pending();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.error_type_header(Service::Oidc),
            "AuthorizationPendingException:http://internal.amazon.com/coral/com.amazonaws.swbup.oidc/"
        );
        assert_eq!(e.body(Service::Oidc)["error"], "authorization_pending");
        let u = ApiError::unauthorized("expired");
        assert_eq!(
            u.body(Service::Portal)["__type"],
            "com.amazonaws.switchboard.portal#UnauthorizedException"
        );
        assert_eq!(u.body(Service::Portal)["message"], "expired");
    }
}
