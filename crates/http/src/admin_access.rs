//! The gate of the administration API and SCIM: an admin token from
//! `Authorization: Bearer` with the call's scope, and the call run in an
//! audit context naming the token, with every change recorded.

use actix_web::http::{Method, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use limen_domain::DomainError;
use limen_domain::model::{Actor, AdminScope, AdminToken, AuditContext, AuditKind, UserId};
use limen_domain::services::AuditEntry;

use crate::AppState;
use crate::request_id::RequestIdentity;
use crate::route_pattern::route_pattern;

/// Why a call was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` token, or one that is unknown, expired or revoked: 401.
    Unauthenticated,
    /// The token lacks the scope: 403.
    InsufficientScope(AdminScope),
    /// The token store failed: 503.
    Unavailable,
}

impl Refusal {
    /// The `WWW-Authenticate` challenge of RFC 6750 §3 for this refusal.
    pub fn challenge(&self) -> Option<String> {
        match self {
            Refusal::Unauthenticated => {
                Some(r#"Bearer realm="limen-admin", error="invalid_token""#.to_owned())
            }
            Refusal::InsufficientScope(scope) => Some(format!(
                r#"Bearer realm="limen-admin", error="insufficient_scope", scope="{}""#,
                scope.as_str()
            )),
            Refusal::Unavailable => None,
        }
    }
}

/// The live admin token of `req` if it has `scope`.
pub async fn admit(req: &HttpRequest, state: &AppState, scope: AdminScope) -> Result<AdminToken, Refusal> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
        })
        .ok_or(Refusal::Unauthenticated)?;
    state
        .services
        .admin
        .authorize(&presented, scope)
        .await
        .map_err(|err| match err {
            DomainError::Forbidden(_) => Refusal::InsufficientScope(scope),
            DomainError::InvalidToken => Refusal::Unauthenticated,
            other => {
                tracing::warn!(err = %other, "cannot check an admin token");
                Refusal::Unavailable
            }
        })
}

/// Runs `work` as the admin token `token` through `api` (`admin` or `scim`):
/// what it records names `admin:<token>`, and a call that changes something
/// (any method but GET and HEAD) is recorded as `admin.request`, with its
/// route, status and the user whose id the path names.
pub async fn run_as<Work>(
    req: &HttpRequest,
    state: &AppState,
    token: &AdminToken,
    api: &'static str,
    work: Work,
) -> HttpResponse
where
    Work: Future<Output = HttpResponse>,
{
    let context = AuditContext {
        actor: Actor::AdminToken(token.name.clone()),
        client: state.client(req),
        dialect: Some(api),
        request_id: req.extensions().get::<RequestIdentity>().map(|id| id.0.clone()),
    };
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let audit = state.services.audit.clone();
    let route = route_pattern(req).to_string();
    let method = req.method().clone();
    let user = req
        .match_info()
        .get("id")
        .filter(|_| route.contains("/users/{id}") || route.contains("/Users/{id}"))
        .and_then(|id| id.parse().ok())
        .map(UserId);
    context
        .scope(async move {
            let answer = work.await;
            if changes {
                let mut entry = AuditEntry::new(AuditKind::AdminRequest)
                    .detail(format!("{method} {route} {}", answer.status().as_u16()));
                if let Some(user) = user {
                    entry = entry.user_id(user);
                }
                audit.record(entry).await;
            }
            answer
        })
        .await
}
