//! Reading a call's JSON object, with the original's answers for what is not one.

use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::GradidoError;
use crate::AppState;
use crate::body::read_limited;

/// Reads the body as a JSON object into `T`, whatever the `Content-Type` (the
/// original reads every body as JSON). An empty body is `empty body`, anything
/// but an object `parameter format unknown`, and a missing or mistyped field
/// `json exception` with the parser's reason.
pub async fn json_object<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<T, GradidoError> {
    let body = read_limited(req, payload, state.settings.max_body_bytes).await?;
    parse_json_object(&body)
}

/// The synchronous part of `json_object`: `body`, already read, as a JSON object
/// into `T`, with the same answers for what is not one.
pub(crate) fn parse_json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, GradidoError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GradidoError::bad_request("empty body", None));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| GradidoError::bad_request("parameter format unknown", Some(err.to_string())))?;
    if !value.is_object() {
        return Err(GradidoError::bad_request(
            "parameter format unknown",
            Some("the body must be a JSON object".into()),
        ));
    }
    // Parsed again from the bytes: a `Value` keeps only the last of duplicate keys,
    // the struct's own deserializer refuses them.
    serde_json::from_slice(body)
        .map_err(|err| GradidoError::bad_request("json exception", Some(err.to_string())))
}
