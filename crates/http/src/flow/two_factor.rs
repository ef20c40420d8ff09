//! `POST /user/{id}/enable2fa` and `POST /authentication/2fa/validate`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::{Password, UserId};
use serde::Deserialize;
use serde_json::json;

use super::FlowError;
use super::login::rest_token;
use super::session::FlowSession;
use crate::AppState;
use crate::body::{LenientBool, decode, read_limited};
use crate::credentials::request_token;

/// The documented `TwoFactorAuthenticationEnableRequest`. The workflow fields
/// (`redo`, `redoSingleTask`, `skipActiveWorkflowTest`, `waitForWorkflow`) are
/// accepted and ignored: enrolment here runs no workflow.
#[derive(Debug, Deserialize)]
struct EnableRequest {
    password: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    token: Option<String>,
}

/// Enrols, confirms or removes the authenticator of user `{id}`.
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
                .start_enrolment(caller, &target, &Password::new(password))
                .await
                .map_err(|err| FlowError::login_refused(&target.username, err))?;
            json!({
                "key": provisioning.key,
                "qr": provisioning.qr_data_uri,
                "hashingAlgorithm": provisioning.params.algorithm.as_str(),
                "digits": provisioning.params.digits,
                "period": provisioning.params.period,
            })
        }
        Some("TWO_FA_AUTHENTICATOR_ENABLING") => {
            let code = required_code(request.token.as_deref())?;
            let recovery_codes = service.confirm_enrolment(caller, &target, code).await?;
            let params = service.params();
            json!({
                "hashingAlgorithm": params.algorithm.as_str(),
                "digits": params.digits,
                "period": params.period,
                "recoveryCodes": recovery_codes,
            })
        }
        Some("TWO_FA_AUTHENTICATOR_DISABLING") => {
            service.disable(caller, &target, request.token.as_deref()).await?;
            json!({})
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
#[derive(Debug, Deserialize)]
struct ValidateRequest {
    token: Option<String>,
    #[serde(rename = "rememberMe", default)]
    remember_me: LenientBool,
}

/// Exchanges the temporary token of a login plus a code for the final token.
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
        .complete_login(&pending, code, ttl)
        .await
        .map_err(|err| match err {
            locked @ limen_domain::DomainError::AccountLocked { .. } => {
                FlowError::login_refused("the account", locked)
            }
            other => other.into(),
        })?;
    Ok(rest_token(false, &issued.plaintext))
}
