//! `POST /user/{id}/enable2fa` and `POST /authentication/2fa/validate`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::DomainError;
use limen_domain::model::{Password, UserId};
use limen_domain::services::AccessGrant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FlowError;
use super::error::ErrorBody;
use super::login::rest_token;
use super::session::FlowSession;
use crate::AppState;
use crate::body::{LenientBool, decode, read_limited};
use crate::credentials::request_token;

/// The documented `TwoFactorAuthenticationEnableRequest`. The workflow fields
/// (`redo`, `redoSingleTask`, `skipActiveWorkflowTest`, `waitForWorkflow`) are
/// accepted and ignored: enrolment here runs no workflow.
#[derive(Debug, Deserialize)]
pub(crate) struct EnableRequest {
    /// The caller's password; required to start an enrolment and to remove
    /// one's own second factor.
    password: Option<String>,
    /// `TWO_FA_AUTHENTICATOR` (start), `TWO_FA_AUTHENTICATOR_ENABLING` (confirm with
    /// a code) or `TWO_FA_AUTHENTICATOR_DISABLING` (remove).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The current code from the authenticator, to confirm or remove.
    token: Option<String>,
}

/// One shape per `type`, each with the fields that `type` needs.
pub(crate) const ENABLE_REQUEST: crate::schema::Written = crate::schema::Written {
    name: "EnableRequest",
    schema: || {
        use crate::schema::NOT_BLANK;
        serde_json::json!({
            "description": "By `type`: start an enrolment (with the caller's password), confirm it with a \
                            code, or remove it (with the password and a code; support staff need neither for another user).",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "password"],
                    "properties": {
                        "type": {"const": "TWO_FA_AUTHENTICATOR"},
                        "password": {"type": "string", "description": "The caller's password."}
                    }
                },
                {
                    "type": "object",
                    "required": ["type", "token"],
                    "properties": {
                        "type": {"const": "TWO_FA_AUTHENTICATOR_ENABLING"},
                        "token": {"type": "string", "pattern": NOT_BLANK,
                                  "description": "The current code from the authenticator."}
                    }
                },
                {
                    "type": "object",
                    "required": ["type", "password", "token"],
                    "properties": {
                        "type": {"const": "TWO_FA_AUTHENTICATOR_DISABLING"},
                        "password": {"type": "string", "description": "The caller's password."},
                        "token": {"type": "string", "pattern": NOT_BLANK,
                                  "description": "A current code or a recovery code."}
                    }
                }
            ]
        })
    },
};

impl utoipa::PartialSchema for EnableRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::placeholder()
    }
}

impl ToSchema for EnableRequest {}

/// What `enable2fa` answers, by `type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum EnableAnswer {
    /// `TWO_FA_AUTHENTICATOR`: the secret to load into an authenticator.
    Started(EnrolmentStarted),
    /// `TWO_FA_AUTHENTICATOR_ENABLING`: enrolment confirmed.
    Confirmed(EnrolmentConfirmed),
    /// `TWO_FA_AUTHENTICATOR_DISABLING`: an empty object.
    Disabled(EnrolmentRemoved),
}

/// The secret of a new enrolment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnrolmentStarted {
    /// The secret in Base32.
    key: String,
    /// A PNG of the `otpauth://` URI as a QR code, as a data URI.
    qr: String,
    hashing_algorithm: &'static str,
    digits: u32,
    period: u64,
}

/// A confirmed enrolment, with its single-use recovery codes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnrolmentConfirmed {
    hashing_algorithm: &'static str,
    digits: u32,
    period: u64,
    /// Shown once; each logs in once in place of a code.
    recovery_codes: Vec<String>,
}

/// A removed enrolment: `{}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrolmentRemoved {}

/// Enrols, confirms or removes the authenticator of user `{id}`.
#[utoipa::path(
    post,
    path = "/user/{id}/enable2fa",
    operation_id = "flow_enable_2fa",
    tag = "flow",
    params(("id" = String, Path, description = "The user's numeric id; the caller's own, or any with the support role")),
    security(("flowBearer" = []), ("flowQueryToken" = []), ("flowCookie" = [])),
    request_body(content(
        (EnableRequest = "application/json"),
        (EnableRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Started, confirmed or removed, by `type`", body = EnableAnswer),
        (status = 400, description = "A parameter is missing or unusable", body = ErrorBody),
        (status = 401, description = "The token is missing or invalid, the password or the code is wrong", body = ErrorBody),
        (status = 403, description = "The caller may not change this user's second factor, or the account is locked", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Two-factor authentication is already enabled", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this address", body = ErrorBody),
    ),
)]
pub async fn enable(
    FlowSession(session): FlowSession,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    let id: i64 = path
        .trim()
        .parse()
        .map_err(|_| FlowError::not_found("The user was not found."))?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: EnableRequest = decode(&req, &body)?;
    let service = &state.services.two_factor;
    let caller = &session.user;
    let target = service.target(caller, UserId(id)).await?;
    let answer = match request.kind.as_deref().map(str::trim) {
        Some("TWO_FA_AUTHENTICATOR") => {
            let password = request.password.ok_or_else(|| {
                FlowError::bad_request("password is required to enable two-factor authentication.")
            })?;
            let provisioning = service
                .start_enrolment(caller, &target, &Password::new(password), &state.client(&req))
                .await
                .map_err(|err| FlowError::login_refused(&target.username, err))?;
            EnableAnswer::Started(EnrolmentStarted {
                key: provisioning.key,
                qr: provisioning.qr_data_uri,
                hashing_algorithm: provisioning.params.algorithm.as_str(),
                digits: provisioning.params.digits,
                period: provisioning.params.period,
            })
        }
        Some("TWO_FA_AUTHENTICATOR_ENABLING") => {
            let code = required_code(request.token.as_deref())?;
            let recovery_codes = service.confirm_enrolment(&session, &target, code).await?;
            let params = service.params();
            EnableAnswer::Confirmed(EnrolmentConfirmed {
                hashing_algorithm: params.algorithm.as_str(),
                digits: params.digits,
                period: params.period,
                recovery_codes,
            })
        }
        Some("TWO_FA_AUTHENTICATOR_DISABLING") => {
            let password = request.password.map(Password::new);
            service
                .disable(
                    caller,
                    &target,
                    password.as_ref(),
                    request.token.as_deref(),
                    &state.client(&req),
                )
                .await
                .map_err(|err| match err {
                    refused @ (DomainError::InvalidCredentials | DomainError::AccountLocked { .. }) => {
                        FlowError::login_refused(&target.username, refused)
                    }
                    other => other.into(),
                })?;
            EnableAnswer::Disabled(EnrolmentRemoved {})
        }
        Some(other @ ("PASSWORD" | "SAML" | "TWO_FA_EMAIL")) => {
            return Err(FlowError::bad_request(format!(
                "type {other} is not supported by this server; use TWO_FA_AUTHENTICATOR."
            )));
        }
        Some(other) => {
            return Err(FlowError::bad_request(format!("{other:?} is not a known type.")));
        }
        None => return Err(FlowError::bad_request("type is required.")),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

fn required_code(token: Option<&str>) -> Result<&str, FlowError> {
    token
        .filter(|code| !code.trim().is_empty())
        .ok_or_else(|| FlowError::bad_request("token (the current code) is required."))
}

/// The documented `TokenAuthenticationRequest`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ValidateRequest {
    /// The current code from the authenticator, or a recovery code.
    #[schema(value_type = String, required = true, pattern = r"\S")]
    token: Option<String>,
    /// A week's token instead of an hour's.
    #[serde(rename = "rememberMe", default)]
    remember_me: LenientBool,
}

/// Exchanges the temporary token of a login plus a code for the final token.
#[utoipa::path(
    post,
    path = "/authentication/2fa/validate",
    operation_id = "flow_validate_2fa",
    tag = "flow",
    security(("flowBearer" = []), ("flowQueryToken" = []), ("flowCookie" = [])),
    request_body(content(
        (ValidateRequest = "application/json"),
        (ValidateRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The final token", body = super::login::RestToken),
        (status = 400, description = "The code is missing or the body unusable", body = ErrorBody),
        (status = 401, description = "The temporary token or the code is invalid", body = ErrorBody),
        (status = 403, description = "The account is locked", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
    ),
)]
pub async fn validate(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    let pending = request_token(&req)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: ValidateRequest = decode(&req, &body)?;
    let code = required_code(request.token.as_deref())?;
    let flow = &state.settings.flow;
    let ttl = if request.remember_me.0 {
        flow.remember_me_ttl
    } else {
        flow.token_ttl
    };
    let issued = state
        .services
        .two_factor
        .complete_login(&pending, code, AccessGrant::new(ttl))
        .await
        .map_err(|err| match err {
            locked @ DomainError::AccountLocked { .. } => FlowError::login_refused("the account", locked),
            other => other.into(),
        })?;
    Ok(rest_token(false, &issued.plaintext))
}
