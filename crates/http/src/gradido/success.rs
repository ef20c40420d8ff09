//! The original's `"state": "success"`.

use serde::Serialize;
use utoipa::ToSchema;

/// The state of an answer that succeeded: the string `success`, as a type, so
/// that the description names it as the only value.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub(crate) enum State {
    /// `success`.
    #[serde(rename = "success")]
    Success,
}

/// The answer of a call that has nothing more to say: `{"state": "success"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Succeeded {
    state: State,
}

impl Succeeded {
    /// `{"state": "success"}`.
    pub(crate) fn new() -> Self {
        Self {
            state: State::Success,
        }
    }
}
