//! `GET /authentication/user`.

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::model::User;
use serde::Serialize;
use utoipa::ToSchema;

use super::FlowError;
use super::error::ErrorBody;
use super::session::FlowSession;

/// Who the token belongs to, as the documented `User` object.
#[utoipa::path(
    get,
    path = "/authentication/user",
    operation_id = "flow_current_user",
    tag = "flow",
    security(("flowBearer" = []), ("flowQueryToken" = []), ("flowCookie" = [])),
    responses(
        (status = 200, description = "The token's user", body = FlowUser),
        (status = 401, description = "The token is missing, unknown, expired or revoked", body = ErrorBody),
    ),
)]
pub async fn current_user(FlowSession(session): FlowSession) -> Result<HttpResponse, FlowError> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(FlowUser::from(&session.user)))
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Every field of the documented `User` object Limen has a value for; see
/// `docs/api/flow.md` for the fields it has none for and leaves out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlowUser {
    id: i64,
    username: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    full_name: String,
    /// RFC 3339 with milliseconds, UTC.
    created: String,
    /// Always `limen`.
    created_by: &'static str,
    last_updated: String,
    /// Always `limen`.
    modified_by: &'static str,
    /// The last successful login, if any.
    last_seen: Option<String>,
    /// Grows with every change of the user.
    version: i64,
    /// Always `User`.
    object_type: &'static str,
    /// Always `REGISTERED`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Always `limen`.
    identity_provider: &'static str,
    /// Always false.
    has_avatar: bool,
}

impl From<&User> for FlowUser {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            username: user.username.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            full_name: user.full_name(),
            created: time(user.created_at),
            created_by: "limen",
            last_updated: time(user.updated_at),
            modified_by: "limen",
            last_seen: user.last_login_at.map(time),
            version: user.version,
            object_type: "User",
            kind: "REGISTERED",
            identity_provider: "limen",
            has_avatar: false,
        }
    }
}
