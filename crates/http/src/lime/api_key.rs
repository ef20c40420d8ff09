//! The API keys an operator may require of every caller of the dialect.

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use super::LimeError;
use crate::AppState;

/// Whether the request carries one of the configured keys: `Ok(false)` when
/// none are configured, `Err` (401) when some are and the request has none of
/// them. Keys are compared by their SHA-256 digests in constant time, so
/// neither a key's content nor its length shows in the time an answer takes.
pub fn verified(req: &HttpRequest, state: &AppState) -> Result<bool, LimeError> {
    let lime = &state.settings.lime;
    if lime.api_keys.is_empty() {
        return Ok(false);
    }
    let presented = req
        .headers()
        .get(lime.api_key_header.as_str())
        .map(|value| Sha256::digest(value.as_bytes()));
    let Some(presented) = presented else {
        return Err(LimeError::api_key_required());
    };
    let matched = lime.api_keys.iter().fold(false, |matched, key| {
        let expected = Sha256::digest(key.as_bytes());
        let difference = expected
            .iter()
            .zip(presented.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        matched | (difference == 0)
    });
    if matched {
        Ok(true)
    } else {
        Err(LimeError::api_key_required())
    }
}
