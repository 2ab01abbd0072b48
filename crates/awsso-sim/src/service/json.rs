//! Reading JSON request bodies.

use serde_json::{Map, Value};

use crate::wire::ApiError;

pub(super) fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::invalid_request("Request body must be a JSON object"))
}

pub(super) fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid_request(format!("{key} must be a string"))),
    }
}

pub(super) fn req_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    opt_str(obj, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("Missing required field {key}")))
}

pub(super) fn str_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::invalid_request(format!("{key} must be a list of strings"))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{key} must be a list of strings"
        ))),
    }
}
