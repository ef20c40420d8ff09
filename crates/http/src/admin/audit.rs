//! `GET /admin/v1/audit`: the audit trail by user, kind and time, in pages.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use limen_domain::model::{AdminScope, AuditKind, AuditQuery, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin;
use super::problem::Problem;
use super::representation::AuditView;
use crate::AppState;

/// Most events in one page.
const MAX_EVENTS: u64 = 500;

/// Which events.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Limen's id of a user, or a user name: that user's events, and
    /// refused logins under the name.
    user: Option<String>,
    /// One kind, such as `login.failed` or `admin.request`.
    kind: Option<String>,
    /// Events at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<DateTime<Utc>>,
    /// At most this many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditPage {
    /// The events, the newest first.
    events: Vec<AuditView>,
    /// Pass as `cursor` for the next (older) page; absent at the end.
    next_cursor: Option<String>,
}

/// Reads the audit trail, the newest first.
#[utoipa::path(
    get,
    path = "/admin/v1/audit",
    operation_id = "admin_audit",
    tag = "admin",
    params(AuditParams),
    security(("adminToken" = ["audit:read"])),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<AuditParams>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::AuditRead, async {
        let params = params.into_inner();
        let limit = params.limit.unwrap_or(100);
        if !(1..=MAX_EVENTS).contains(&limit) {
            return Err(Problem::invalid(format!("limit must be 1 to {MAX_EVENTS}")));
        }
        let kind = params
            .kind
            .as_deref()
            .map(|name| {
                AuditKind::parse(name)
                    .ok_or_else(|| Problem::invalid(format!("no event kind is named {name:?}")))
            })
            .transpose()?;
        let user = match params
            .user
            .as_deref()
            .map(str::trim)
            .filter(|user| !user.is_empty())
        {
            None => None,
            Some(user) => Some(match user.parse::<i64>() {
                Ok(id) => {
                    let name = state
                        .services
                        .users
                        .by_id(UserId(id))
                        .await?
                        .map(|found| found.username);
                    (Some(UserId(id)), name.unwrap_or_default())
                }
                Err(_) => {
                    let name = limen_domain::model::normalize_identifier(user);
                    let id = state
                        .services
                        .users
                        .by_username(&name)
                        .await?
                        .map(|found| found.id);
                    (id, name)
                }
            }),
        };
        let before = params.cursor.as_deref().map(parse_cursor).transpose()?;
        let query = AuditQuery {
            user,
            since: params.since,
            until: params.until,
            kind,
            before,
            limit,
        };
        let events = state.services.audit.events(&query).await?;
        let next_cursor = (events.len() as u64 == limit)
            .then(|| events.last())
            .flatten()
            .and_then(|last| Some(cursor(last.at, last.id?)));
        Ok(HttpResponse::Ok().json(AuditPage {
            events: events.into_iter().map(AuditView::from).collect(),
            next_cursor,
        }))
    })
    .await
}

/// The cursor after the event at `at` with `id`: `<micros>.<id>` in base64url.
fn cursor(at: DateTime<Utc>, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{id}", at.timestamp_micros()))
}

fn parse_cursor(text: &str) -> Result<(DateTime<Utc>, i64), Problem> {
    let invalid = || Problem::invalid("cursor is not one this API gave");
    let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (micros, id) = decoded.split_once('.').ok_or_else(invalid)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| invalid())?).ok_or_else(invalid)?;
    Ok((at, id.parse().map_err(|_| invalid())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_come_back_as_given_and_others_are_refused() {
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        assert_eq!(parse_cursor(&cursor(at, 42)).unwrap(), (at, 42));
        for bad in ["", "!!", "MTIz", &URL_SAFE_NO_PAD.encode("x.1")] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
