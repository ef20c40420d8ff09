//! How the administration API shows users, tokens and audit events, and the
//! version tag (`ETag`) of a user.

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::DomainError;
use limen_domain::model::{AuditEvent, TokenRecord, User};
use limen_domain::services::AccountSummary;
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 3339 in UTC with whole seconds, as every time in the API is written.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The strong entity tag of a user's current state: Limen's version of the
/// account, which grows with every change Limen makes and every login, and a
/// digest of what the directory holds, which changes when someone edits the
/// user there.
pub(crate) fn etag(user: &User) -> String {
    // FNV-1a: a change detector, not a secret.
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    let fields = [
        Some(user.external_id.as_str()),
        Some(user.username.as_str()),
        Some(user.email.as_str()),
        user.first_name.as_deref(),
        user.last_name.as_deref(),
        user.personal_number.as_deref(),
        Some(if user.enabled { "1" } else { "0" }),
    ];
    for field in fields {
        for byte in field.unwrap_or("\u{0}").bytes().chain([0xff]) {
            digest ^= u64::from(byte);
            digest = digest.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("\"{}-{digest:016x}\"", user.version)
}

/// What `If-Match` says of `user`: `None` without the header; its version
/// when the header names its current tag (or is `*`); `StaleVersion` when it
/// names another. Strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
pub(crate) fn if_match(req: &HttpRequest, user: &User) -> Option<Result<i64, DomainError>> {
    let tags: Vec<&str> = req
        .headers()
        .get_all(header::IF_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .collect();
    if tags.is_empty() {
        return None;
    }
    let current = etag(user);
    Some(if tags.iter().any(|tag| *tag == "*" || *tag == current) {
        Ok(user.version)
    } else {
        Err(DomainError::StaleVersion)
    })
}

/// A user as the administration API shows one.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    /// Limen's id of the user.
    id: i64,
    /// The login name (lower-case).
    username: String,
    /// The e-mail address (lower-case); empty when the directory has none.
    email: String,
    /// Given name.
    first_name: Option<String>,
    /// Family name.
    last_name: Option<String>,
    /// Swedish personal number, 12 digits.
    personal_number: Option<String>,
    /// Whether the user can log in: enabled in the directory and not disabled in Limen.
    enabled: bool,
    /// Disabled by an operator in Limen.
    disabled_in_limen: bool,
    /// `user` or `support`.
    role: &'static str,
    /// Failed logins locked the account until then.
    locked_until: Option<String>,
    /// A confirmed TOTP second factor.
    second_factor: bool,
    /// When the user proved the e-mail address theirs.
    email_verified_at: Option<String>,
    /// When the user last logged in.
    last_login_at: Option<String>,
    /// When the user was created (in the directory, else first seen by Limen).
    created_at: String,
    /// When Limen last changed the account.
    updated_at: String,
    /// The directory's id of the user.
    external_id: String,
    /// The id a SCIM client gave the user.
    scim_external_id: Option<String>,
    /// The version tag, as the `ETag` header carries it.
    etag: String,
}

impl From<&AccountSummary> for UserView {
    fn from(summary: &AccountSummary) -> Self {
        let user = &summary.user;
        Self {
            id: user.id.0,
            username: user.username.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            personal_number: user.personal_number.clone(),
            enabled: user.enabled,
            disabled_in_limen: user.disabled_in_limen,
            role: user.role.as_str(),
            locked_until: summary.locked_until.map(time),
            second_factor: summary.second_factor,
            email_verified_at: user.email_verified_at.map(time),
            last_login_at: user.last_login_at.map(time),
            created_at: time(user.created_at),
            updated_at: time(user.updated_at),
            external_id: user.external_id.clone(),
            scim_external_id: user.scim_external_id.clone(),
            etag: etag(user),
        }
    }
}

/// A token as the administration API shows one (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    /// The token's id.
    id: i64,
    /// Its owner's id.
    user_id: i64,
    /// `access` (a dialect's session or an API token), `provider_refresh`
    /// (an OpenID client's refresh token) or `browser_session` (the hosted
    /// login page's single sign-on).
    kind: &'static str,
    /// `active`, `disabled`, `revoked` or `expired`.
    state: &'static str,
    /// When it was issued.
    created_at: String,
    /// When it stops working.
    expires_at: String,
    /// When it was last presented (up to a minute late).
    last_used_at: Option<String>,
    /// When it was revoked.
    revoked_at: Option<String>,
    /// The note of an API token.
    note: Option<String>,
    /// The client a token was issued to, when it names one.
    client_id: Option<String>,
}

impl TokenView {
    /// The view of `token` at `now`.
    pub fn new(token: &TokenRecord, now: DateTime<Utc>) -> Self {
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else if token.expires_at <= now {
            "expired"
        } else if !token.enabled {
            "disabled"
        } else {
            "active"
        };
        Self {
            id: token.id.0,
            user_id: token.user_id.0,
            kind: token.kind.as_str(),
            state,
            created_at: time(token.created_at),
            expires_at: time(token.expires_at),
            last_used_at: token.last_used_at.map(time),
            revoked_at: token.revoked_at.map(time),
            note: token.attributes.note.clone(),
            client_id: token.attributes.client_id.clone(),
        }
    }

    /// Whether the token works now.
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// An audit event as the administration API shows one.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditView {
    /// The event's id.
    id: Option<i64>,
    /// When.
    at: String,
    /// What: `login.succeeded`, `admin.request`, … (docs/audit.md).
    kind: &'static str,
    /// The user it concerns.
    user_id: Option<i64>,
    /// The user's name, or the name someone tried to log in with.
    username: Option<String>,
    /// Who caused it: `request`, `cli:<os user>`, `admin:<token name>` or `system`.
    actor: String,
    /// The client's address.
    client: Option<String>,
    /// The API the request came through.
    dialect: Option<String>,
    /// How someone proved who they are.
    method: Option<String>,
    /// The rest: a reason, a token's kind, a route.
    detail: Option<String>,
    /// The request's `X-Request-Id`.
    request_id: Option<String>,
}

impl From<AuditEvent> for AuditView {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id,
            at: event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            kind: event.kind.as_str(),
            user_id: event.user_id.map(|id| id.0),
            username: event.username,
            actor: event.actor,
            client: event.client,
            dialect: event.dialect,
            method: event.method,
            detail: event.detail,
            request_id: event.request_id,
        }
    }
}
