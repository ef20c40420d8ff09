//! `POST /authentication/login`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use limen_domain::services::LoginOutcome;
use serde::Deserialize;
use serde_json::json;

use super::FlowError;
use crate::AppState;
use crate::body::{DecodeError, LenientBool, decode, read_limited};

/// The documented form or JSON parameters. SAML redirect parameters are accepted
/// and ignored: Limen has no SAML.
#[derive(Debug, Deserialize)]
struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "rememberMe", default)]
    remember_me: LenientBool,
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
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
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
    let outcome = state
        .services
        .login
        .login(&username, &Password::new(password), ttl)
        .await
        .map_err(|err| FlowError::login_refused(&username, err))?;
    let (needs_second_token, token) = match outcome {
        LoginOutcome::LoggedIn { token, .. } => (false, token),
        LoginOutcome::SecondFactorRequired { pending, .. } => (true, pending),
    };
    Ok(rest_token(needs_second_token, &token.plaintext))
}

/// The documented `RestToken` answer.
pub fn rest_token(needs_second_token: bool, token: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "needsSecondToken": needs_second_token,
            "status": 200,
            "token": token,
        }))
}
