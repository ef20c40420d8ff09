//! `POST /login_api/createUser`.

use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use limen_domain::services::{Registration, RegistrationKind};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ErrorBody, GradidoError};
use super::request::json_object;
use super::success::Succeeded;
use crate::AppState;

/// The documented body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CreateUserRequest {
    #[schema(required = true)]
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// 2 (registered directly, the default) or 5 (registered by an admin): which
    /// verification e-mail is sent.
    #[serde(rename = "emailType")]
    email_type: Option<i64>,
    #[schema(required = true)]
    password: Option<String>,
}

/// The documented `emailType` values.
fn registration_kind(email_type: Option<i64>) -> Result<RegistrationKind, GradidoError> {
    match email_type {
        None | Some(2) => Ok(RegistrationKind::SelfRegistered),
        Some(5) => Ok(RegistrationKind::ByAdmin),
        Some(other) => Err(GradidoError::bad_request(
            "email type is invalid",
            Some(format!(
                "emailType {other} is not 2 (registered directly) or 5 (registered by an admin)"
            )),
        )),
    }
}

/// Registers a user, generates their key pair and mails the verification link.
#[utoipa::path(
    post,
    path = "/login_api/createUser",
    operation_id = "gradido_create_user",
    tag = "gradido",
    request_body(content = CreateUserRequest, content_type = "application/json",
        example = json!({"email": "max.musterman@gmail.de", "first_name": "Max", "last_name": "Musterman",
                         "emailType": 2, "password": "123abcDE&"})),
    responses(
        (status = 200, description = "Registered; the verification e-mail is sent", body = Succeeded),
        (status = 400, description = "A field is missing or invalid, or the body is not a JSON object", body = ErrorBody),
        (status = 403, description = "The operator does not allow passwords in JSON, or the user directory is read-only", body = ErrorBody),
        (status = 409, description = "The e-mail address is taken", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The e-mail could not be sent (nothing was stored), or too busy", body = ErrorBody),
    ),
)]
pub async fn create_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GradidoError> {
    if !state.settings.gradido.allow_password_via_json_request {
        return Err(GradidoError::password_requests_disabled());
    }
    let _admitted = state.admit_login(&req)?;
    let request: CreateUserRequest = json_object(&req, payload, &state).await?;
    let kind = registration_kind(request.email_type)?;
    let email = request
        .email
        .filter(|email| !email.trim().is_empty())
        .ok_or_else(|| GradidoError::bad_request("no email given", None))?;
    let password = request
        .password
        .ok_or_else(|| GradidoError::bad_request("no password given", None))?;
    state
        .services
        .registration
        .register(
            Registration {
                email,
                first_name: request.first_name,
                last_name: request.last_name,
                password: Password::new(password),
                kind,
            },
            &state.client(&req),
        )
        .await?;
    Ok(HttpResponse::Ok().json(Succeeded::new()))
}
