//! `POST /bankid/collect/`: the progress of a BankID identification.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::DomainError;
use limen_domain::model::BankIdStatus;
use limen_domain::services::{AccessGrant, BankIdProgress};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::progress::Message;
use super::{LimeError, api_key};
use crate::AppState;
use crate::body::{decode, read_limited};

/// The documented parameter.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = LimeCollectRequest)]
pub(crate) struct CollectRequest {
    /// `transaction_id` from `POST /login/`.
    #[schema(value_type = String, required = true, pattern = r"\S")]
    transaction_id: Option<String>,
}

/// Still going: show the message and the QR code, and ask again in a second.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeCollectPending)]
pub(crate) struct Pending {
    /// Always true.
    success: bool,
    /// `OUTSTANDING_TRANSACTION`, `NO_CLIENT`, `STARTED`, `USER_SIGN`, …
    #[serde(rename = "progressStatus")]
    progress_status: &'static str,
    /// What to tell the user.
    message: Message,
    /// The animated QR code's current content.
    qr: String,
}

/// Done: the user is logged in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeCollectComplete)]
pub(crate) struct Complete {
    /// Always true.
    success: bool,
    /// `COMPLETE`.
    #[serde(rename = "progressStatus")]
    progress_status: &'static str,
    /// The user, with the keys `[dialects.lime.user_fields]` names.
    #[schema(value_type = Object)]
    user: Map<String, Value>,
    /// A Limen access token for the user (Limen's addition).
    token: String,
}

/// Ended without an identification: the order is spent; start a new one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeCollectFailed)]
pub(crate) struct Failed {
    /// Always false.
    success: bool,
    /// `EXPIRED_TRANSACTION`, `USER_CANCEL`, `CANCELLED`, `START_FAILED`,
    /// `CERTIFICATE_ERR`, or `FAILED` for a reason BankID added later.
    #[serde(rename = "progressStatus")]
    progress_status: &'static str,
    /// The message in English.
    error: &'static str,
    /// What to tell the user.
    message: Message,
}

/// One of the three, by the order's state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = LimeCollectAnswer)]
pub(crate) enum CollectAnswer {
    /// Still going.
    Pending(Pending),
    /// Logged in.
    Complete(Complete),
    /// Ended.
    Failed(Failed),
}

/// The progress of a BankID identification; when it completes, the user and a token.
#[utoipa::path(
    post,
    path = "/bankid/collect/",
    operation_id = "lime_bankid_collect",
    tag = "lime",
    security((), ("limeApiKey" = [])),
    request_body(content(
        (CollectRequest = "application/json",
            example = json!({"transaction_id": "k3Y5P0oXh8d6m2pTQz0rA7vVJw1sCq9eFZbNuLgRiHY"})),
        (CollectRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Pending, complete, or failed (`success` false)", body = CollectAnswer),
        (status = 400, description = "`transaction_id` missing, or BankID not enabled", body = ErrorBody),
        (status = 401, description = "No user has the identified personal number, or a missing or wrong API key", body = ErrorBody),
        (status = 403, description = "The user's account is locked or disabled", body = ErrorBody),
        (status = 404, description = "Unknown, expired or finished transaction", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 503, description = "BankID is unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn collect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, LimeError> {
    api_key::verified(&req, &state)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: CollectRequest = decode(&req, &body)?;
    let transaction = request
        .transaction_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| LimeError::bad_request("transaction_id is required."))?;
    let lime = &state.settings.lime;
    let progress = state
        .services
        .bankid
        .collect(transaction.trim(), AccessGrant::new(lime.token_ttl))
        .await
        .map_err(|err| match err {
            // No password was involved: say what it is.
            DomainError::AccountDisabled => LimeError::forbidden("The account is disabled."),
            other => other.into(),
        })?;
    let answer = match progress {
        BankIdProgress::Pending { status, qr } => CollectAnswer::Pending(Pending {
            success: true,
            progress_status: status.name,
            message: status.message.into(),
            qr,
        }),
        BankIdProgress::Failed { status } => CollectAnswer::Failed(Failed {
            success: false,
            progress_status: status.name,
            error: status.message.en,
            message: status.message.into(),
        }),
        BankIdProgress::Complete { user, granted } => CollectAnswer::Complete(Complete {
            success: true,
            progress_status: BankIdStatus::COMPLETE.name,
            user: lime.user_fields.render(&user),
            token: granted.plaintext,
        }),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}
