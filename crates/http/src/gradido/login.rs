//! `POST /login_api/unsecureLogin`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::{Password, User};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_ip;
use super::error::GradidoError;
use super::ident_hash::ident_hash;
use super::request::json_object;
use crate::AppState;

/// The documented body; `username` is accepted in place of `email`, as later
/// versions of the original accept it.
#[derive(Debug, Deserialize)]
struct LoginRequest {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// Logs in with e-mail and password and answers the session and the user.
pub async fn unsecure_login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GradidoError> {
    let settings = &state.settings.gradido;
    if !settings.allow_password_via_json_request {
        return Err(GradidoError::password_requests_disabled());
    }
    let request: LoginRequest = json_object(&req, payload, &state).await?;
    let identifier = request
        .email
        .or(request.username)
        .filter(|identifier| !identifier.trim().is_empty())
        .ok_or_else(|| GradidoError::bad_request("no email or username given", None))?;
    let password = request
        .password
        .ok_or_else(|| GradidoError::bad_request("no password given", None))?;
    let address = client_ip(&req, &state);
    let session = state
        .services
        .numeric_sessions
        .login(&identifier, &Password::new(password), &address)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "state": "success",
            "session_id": session.number,
            "clientIP": address,
            "user": user_object(&session.user, &settings.group_alias),
        })))
}

/// The documented user object. Limen keeps no ledger (`balance` is 0), no
/// roles of the original (`role` is `"none"`) and no separate username
/// (`username` is `""`); a new session has had no errors (`errorCount` 0).
fn user_object(user: &User, group_alias: &str) -> Value {
    let mut object = json!({
        "created": user.created_at.timestamp(),
        "disabled": !user.enabled,
        "email": user.email,
        "email_checked": user.email_verified_at.is_some(),
        "first_name": user.first_name.as_deref().unwrap_or_default(),
        "group_alias": group_alias,
        "ident_hash": ident_hash(&user.email),
        "last_name": user.last_name.as_deref().unwrap_or_default(),
        "role": "none",
        "username": "",
        "balance": 0,
        "id": user.id.0,
        "errorCount": 0,
    });
    // Users created outside registration have no key pair; like the original,
    // the field is then left out.
    if let (Some(public), Value::Object(fields)) = (&user.public_key, &mut object) {
        fields.insert("public_hex".into(), json!(public));
    }
    object
}
