//! The server's clock as the portal's responses tell it (the HTTP `Date` header), so that credentials that
//! are already expired by the local clock can be reported as clock skew instead of handed out.
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Records the `Date` header of the last response a client received.
#[derive(Clone, Debug, Default)]
pub struct ServerClock {
    last: Arc<Mutex<Option<i64>>>,
}

impl ServerClock {
    /// Unix seconds of the last response's `Date`, when it had a valid one.
    pub fn last(&self) -> Option<i64> {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Intercept for ServerClock {
    fn name(&self) -> &'static str {
        "awsso-server-clock"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let date = context
            .response()
            .headers()
            .get("date")
            .and_then(parse_http_date);
        if date.is_some() {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = date;
        }
        Ok(())
    }
}

/// Parses an HTTP `Date` header (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
pub fn parse_http_date(value: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            super::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(super::parse_http_date("yesterday"), None);
    }
}
