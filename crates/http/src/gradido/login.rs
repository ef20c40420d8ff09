//! `POST /login_api/unsecureLogin`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::{Password, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client_ip;
use super::error::{ErrorBody, GradidoError};
use super::ident_hash::ident_hash;
use super::request::json_object;
use super::success::State;
use crate::AppState;

/// The documented body; `username` is accepted in place of `email`, as later
/// versions of the original accept it.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginRequest {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// `email` or `username` (`email` wins when both are given), and `password`.
pub(crate) const LOGIN_REQUEST: crate::schema::Written = crate::schema::Written {
    name: "GradidoLoginRequest",
    schema: || {
        use crate::schema::NOT_BLANK;
        serde_json::json!({
            "type": "object",
            "required": ["password"],
            "properties": {
                "email": {"type": "string", "pattern": NOT_BLANK},
                "username": {"type": "string", "pattern": NOT_BLANK},
                "password": {"type": "string"}
            },
            "anyOf": [{"required": ["email"]}, {"required": ["username"]}]
        })
    },
};

impl utoipa::PartialSchema for LoginRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::placeholder()
    }
}

impl ToSchema for LoginRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "GradidoLoginRequest".into()
    }
}

/// The answer to a login.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LoggedIn {
    /// Always `success`.
    state: State,
    /// The session's number, for `logout`.
    session_id: i32,
    /// The address the session is bound to.
    #[serde(rename = "clientIP")]
    client_ip: String,
    user: GradidoUser,
}

/// The documented user object. Limen keeps no ledger (`balance` is 0), no
/// roles of the original (`role` is `"none"`) and no separate username
/// (`username` is `""`); a new session has had no errors (`errorCount` 0).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GradidoUser {
    /// Unix seconds.
    created: i64,
    disabled: bool,
    email: String,
    email_checked: bool,
    first_name: String,
    group_alias: String,
    /// The original's 32-bit hash of the e-mail address.
    ident_hash: u32,
    last_name: String,
    role: &'static str,
    username: &'static str,
    balance: i64,
    id: i64,
    #[serde(rename = "errorCount")]
    error_count: u32,
    /// The Ed25519 public key in hex; left out for users created outside
    /// registration, who have no key pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    public_hex: Option<String>,
}

/// Logs in with e-mail and password and answers the session and the user.
#[utoipa::path(
    post,
    path = "/login_api/unsecureLogin",
    operation_id = "gradido_unsecure_login",
    tag = "gradido",
    request_body(content = LoginRequest, content_type = "application/json",
        example = json!({"email": "max.musterman@gmail.de", "password": "123abcDE&"})),
    responses(
        (status = 200, description = "Logged in", body = LoggedIn),
        (status = 400, description = "A field is missing or the body is not a JSON object", body = ErrorBody),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 403, description = "Disabled or locked account, or the operator does not allow passwords in JSON", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; retry after `Retry-After`", body = ErrorBody),
        (status = 503, description = "Too many logins at once; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn unsecure_login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GradidoError> {
    let settings = &state.settings.gradido;
    if !settings.allow_password_via_json_request {
        return Err(GradidoError::password_requests_disabled());
    }
    let _admitted = state.admit_login(&req)?;
    let request: LoginRequest = json_object(&req, payload, &state).await?;
    let identifier = request
        .email
        .or(request.username)
        .filter(|identifier| !identifier.trim().is_empty())
        .ok_or_else(|| GradidoError::bad_request("no email or username given", None))?;
    let password = request
        .password
        .ok_or_else(|| GradidoError::bad_request("no password given", None))?;
    let client = state.client(&req);
    let session = state
        .services
        .numeric_sessions
        .login(
            &identifier,
            &Password::new(password),
            &client,
            settings.session_ttl,
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(LoggedIn {
            state: State::Success,
            session_id: session.number,
            user: GradidoUser::new(&session.user, &settings.group_alias),
            client_ip: client_ip(&client),
        }))
}

impl GradidoUser {
    fn new(user: &User, group_alias: &str) -> Self {
        Self {
            created: user.created_at.timestamp(),
            disabled: !user.enabled,
            email: user.email.clone(),
            email_checked: user.email_verified_at.is_some(),
            first_name: user.first_name.clone().unwrap_or_default(),
            group_alias: group_alias.to_owned(),
            ident_hash: ident_hash(&user.email),
            last_name: user.last_name.clone().unwrap_or_default(),
            role: "none",
            username: "",
            balance: 0,
            id: user.id.0,
            error_count: 0,
            public_hex: user.public_key.clone(),
        }
    }
}
