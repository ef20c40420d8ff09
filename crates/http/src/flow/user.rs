//! `GET /authentication/user`.

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::model::User;
use serde_json::{Value, json};

use super::FlowError;
use super::session::FlowSession;

/// Who the token belongs to, as the documented `User` object.
pub async fn current_user(FlowSession(session): FlowSession) -> Result<HttpResponse, FlowError> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(user_object(&session.user)))
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Every `User` field Limen has a value for; see `docs/api/flow.md` for the
/// fields it has none for and leaves out.
fn user_object(user: &User) -> Value {
    json!({
        "id": user.id.0,
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "fullName": user.full_name(),
        "created": time(user.created_at),
        "createdBy": "limen",
        "lastUpdated": time(user.updated_at),
        "modifiedBy": "limen",
        "lastSeen": user.last_login_at.map(time),
        "version": user.version,
        "objectType": "User",
        "type": "REGISTERED",
        "identityProvider": "limen",
        "hasAvatar": false,
    })
}
