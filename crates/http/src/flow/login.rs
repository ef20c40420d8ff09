//! `POST /authentication/login`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use limen_domain::services::{AccessGrant, LoginOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FlowError;
use super::error::ErrorBody;
use crate::AppState;
use crate::body::{DecodeError, LenientBool, decode, read_limited};

/// The documented form or JSON parameters. SAML redirect parameters are accepted
/// and ignored: Limen has no SAML.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = FlowLoginRequest)]
pub(crate) struct LoginRequest {
    /// The username or the e-mail address.
    #[schema(value_type = String, required = true)]
    username: Option<String>,
    #[schema(value_type = String, required = true)]
    password: Option<String>,
    /// A week's token instead of an hour's (both configurable).
    #[serde(rename = "rememberMe", default)]
    remember_me: LenientBool,
}

/// The documented `RestToken`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestToken<'a> {
    /// True when the token is a temporary one for `/authentication/2fa/validate`.
    needs_second_token: bool,
    /// Always 200.
    status: u16,
    /// The access token (or, with `needsSecondToken`, the temporary one).
    token: &'a str,
}

impl From<DecodeError> for FlowError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::UnsupportedType => FlowError::unsupported_media_type(),
            DecodeError::Invalid(message) => FlowError::bad_request(message),
        }
    }
}

/// Logs in with a username (or e-mail) and password and answers the token.
#[utoipa::path(
    post,
    path = "/authentication/login",
    operation_id = "flow_login",
    tag = "flow",
    request_body(content(
        (LoginRequest = "application/json",
            example = json!({"username": "john.doe", "password": "mysecret123!"})),
        (LoginRequest = "application/x-www-form-urlencoded",
            example = json!({"username": "john.doe", "password": "mysecret123!", "rememberMe": "true"})),
    )),
    responses(
        (status = 200, description = "Logged in, or a second factor is needed", body = RestToken),
        (status = 400, description = "A parameter is missing or unusable", body = ErrorBody),
        (status = 401, description = "Wrong username or password, or a disabled account", body = ErrorBody),
        (status = 403, description = "The account is locked; `Retry-After` says for how long", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; `Retry-After` says for how long", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 503, description = "Too many logins at once; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    let _admitted = state.admit_login(&req)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: LoginRequest = decode(&req, &body)?;
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(FlowError::bad_request("username and password are required."));
    };
    let flow = &state.settings.flow;
    let ttl = if request.remember_me.0 {
        flow.remember_me_ttl
    } else {
        flow.token_ttl
    };
    let services = &state.services;
    let outcome = services
        .password_login
        .login_or_pending(
            &username,
            &Password::new(password),
            &state.client(&req),
            AccessGrant::new(ttl),
            services.two_factor.pending_ttl(),
        )
        .await
        .map_err(|err| FlowError::login_refused(&username, err))?;
    match outcome {
        LoginOutcome::LoggedIn(logged_in) => Ok(rest_token(false, &logged_in.granted.plaintext)),
        LoginOutcome::SecondFactorRequired { pending, .. } => Ok(rest_token(true, &pending.plaintext)),
    }
}

/// The documented `RestToken` answer.
pub fn rest_token(needs_second_token: bool, token: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RestToken {
            needs_second_token,
            status: 200,
            token,
        })
}
