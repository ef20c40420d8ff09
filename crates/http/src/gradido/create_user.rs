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
#[derive(Debug, Deserialize)]
pub(crate) struct CreateUserRequest {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// 2 (registered directly, the default) or 5 (registered by an admin): which
    /// verification e-mail is sent.
    #[serde(rename = "emailType")]
    email_type: Option<i64>,
    password: Option<String>,
}

/// The rules registration checks, as patterns: an e-mail address with one `@`
/// and a dotted domain, names without control characters, and a strong
/// password (8 to 1024 characters with a lower-case and an upper-case letter,
/// a digit and a sign).
pub(crate) const CREATE_USER_REQUEST: crate::schema::Written = crate::schema::Written {
    name: "CreateUserRequest",
    schema: || {
        use crate::schema::{EMAIL, NO_CONTROLS};
        use limen_domain::model::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
        let name = serde_json::json!({"type": "string", "maxLength": MAX_NAME_CHARS, "pattern": NO_CONTROLS});
        serde_json::json!({
            "type": "object",
            "required": ["email", "password"],
            "properties": {
                "email": {
                    "type": "string",
                    "maxLength": MAX_EMAIL_CHARS,
                    "pattern": EMAIL,
                },
                "first_name": name,
                "last_name": name,
                "emailType": {"type": "integer", "enum": [2, 5],
                    "description": "2 (registered directly, the default) or 5 (registered by an admin): which verification e-mail is sent."},
                "password": {
                    "type": "string",
                    "minLength": MIN_PASSWORD_CHARS,
                    "maxLength": MAX_PASSWORD_CHARS,
                    "pattern": r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[!-/:-@\[-`{-~])"
                }
            }
        })
    },
};

impl utoipa::PartialSchema for CreateUserRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::placeholder()
    }
}

impl ToSchema for CreateUserRequest {}

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
