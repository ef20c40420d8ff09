//! `/admin/v1/users…`: users of any backend, their lock, second factor,
//! sessions and API tokens. Changes and deletions are made against the
//! version the caller read (`If-Match`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use limen_domain::DomainError;
use limen_domain::model::{AdminScope, Password, ProfileChange, Role, TokenId, User, UserId};
use limen_domain::services::{NewAccount, TokenRequest, UserFilter, UserUpdate};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use super::representation::{TokenView, UserView, etag, if_match};
use super::{JsonBody, admin};
use crate::AppState;

/// A listing's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// A part of the username, e-mail address, given or family name (any case).
    q: Option<String>,
    /// Only users locked (true) or not locked (false) by failed logins.
    locked: Option<bool>,
    /// Only users who cannot (true) or can (false) log in.
    disabled: Option<bool>,
    /// Only users with (true) or without (false) a second factor.
    second_factor: Option<bool>,
    /// At most this many users, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserList {
    /// The users, in the directory's order.
    users: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent at the end. A page may hold
    /// fewer than `limit` users and still have a next one (a filter that few
    /// users match reads the directory a part at a time).
    next_cursor: Option<String>,
}

/// Lists users.
#[utoipa::path(
    get,
    path = "/admin/v1/users",
    operation_id = "admin_list_users",
    tag = "admin",
    params(ListQuery),
    security(("adminToken" = ["users:read"])),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersRead, async {
        let query = query.into_inner();
        let after = query
            .cursor
            .as_deref()
            .map(|cursor| {
                URL_SAFE_NO_PAD
                    .decode(cursor)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| Problem::invalid("cursor is not one this API gave"))
            })
            .transpose()?;
        let limit = query.limit.unwrap_or(50);
        if !(1..=limen_domain::services::MAX_PAGE).contains(&limit) {
            return Err(Problem::invalid("limit must be 1 to 200"));
        }
        let filter = UserFilter {
            text: query
                .q
                .filter(|q| !q.trim().is_empty())
                .map(|q| q.trim().to_owned()),
            locked: query.locked,
            disabled: query.disabled,
            second_factor: query.second_factor,
        };
        let page = state.services.accounts.page(&filter, after, limit).await?;
        Ok(HttpResponse::Ok().json(UserList {
            users: page.users.iter().map(UserView::from).collect(),
            next_cursor: page.next.map(|after| URL_SAFE_NO_PAD.encode(after)),
        }))
    })
    .await
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// The login name.
    username: String,
    /// The e-mail address.
    email: String,
    /// Given name.
    first_name: Option<String>,
    /// Family name.
    last_name: Option<String>,
    /// Swedish personal number, in any usual form.
    personal_number: Option<String>,
    /// An initial password (at least 8 characters); without one the user
    /// logs in through a provider, a passkey or a password reset.
    password: Option<String>,
}

/// Creates a user in a directory that takes new users (Limen's own table).
#[utoipa::path(
    post,
    path = "/admin/v1/users",
    operation_id = "admin_create_user",
    tag = "admin",
    request_body = NewUser,
    security(("adminToken" = ["users:write"])),
    responses(
        (status = 201, description = "Created; `Location` and `ETag` name it", body = UserView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username or e-mail address is taken, or the directory is read-only", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<NewUser>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersWrite, async {
        let new = body.into_inner()?;
        let user = state
            .services
            .accounts
            .create(NewAccount {
                username: new.username,
                email: new.email,
                first_name: new.first_name,
                last_name: new.last_name,
                personal_number: new.personal_number,
                password: new.password.map(Password::new),
            })
            .await?;
        let location = format!("/admin/v1/users/{}", user.id.0);
        let mut answer = user_answer(&state, user, StatusCode::CREATED).await?;
        if let Ok(location) = header::HeaderValue::from_str(&location) {
            answer.headers_mut().insert(header::LOCATION, location);
        }
        Ok(answer)
    })
    .await
}

/// Shows a user; `ETag` is the version to change it against.
#[utoipa::path(
    get,
    path = "/admin/v1/users/{id}",
    operation_id = "admin_get_user",
    tag = "admin",
    params(("id" = i64, Path, description = "Limen's id of the user")),
    security(("adminToken" = ["users:read"])),
    responses(
        (status = 200, description = "The user", body = UserView, headers(("ETag" = String, description = "The user's version"))),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersRead, async {
        let user = find(&state, *id).await?;
        user_answer(&state, user, StatusCode::OK).await
    })
    .await
}

/// Reads `Option<Option<T>>`: absent is `None`, `null` is `Some(None)`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change of a user (a JSON merge patch, RFC 7396): absent fields stay,
/// `null` clears a name or the personal number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatch {
    /// A new login name (Limen's own table only).
    username: Option<String>,
    /// A new e-mail address.
    email: Option<String>,
    /// A new given name; `null` or empty clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    first_name: Option<Option<String>>,
    /// A new family name; `null` or empty clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    last_name: Option<Option<String>>,
    /// A new personal number; `null` or empty clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    personal_number: Option<Option<String>>,
    /// The role.
    role: Option<RoleName>,
    /// Enable (true) or disable (false) the user in Limen; disabling ends
    /// every session.
    enabled: Option<bool>,
}

/// A role's name.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleName {
    /// An ordinary user.
    User,
    /// Support staff: may manage other users' second factors.
    Support,
}

/// Changes a user against the version in `If-Match`.
#[utoipa::path(
    patch,
    path = "/admin/v1/users/{id}",
    operation_id = "admin_update_user",
    tag = "admin",
    params(
        ("id" = i64, Path, description = "Limen's id of the user"),
        ("If-Match" = String, Header, description = "The `ETag` the change is made against"),
    ),
    request_body(content = UserPatch, content_type = "application/merge-patch+json"),
    security(("adminToken" = ["users:write"])),
    responses(
        (status = 200, description = "Changed; the new `ETag`", body = UserView),
        (status = 400, description = "A field is invalid, or nothing would change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The directory does not take profile changes, or the e-mail address is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No `If-Match`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<UserPatch>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersWrite, async {
        let user = find(&state, *id).await?;
        let patch = body.into_inner()?;
        let role = patch.role.map(|role| match role {
            RoleName::User => Role::User,
            RoleName::Support => Role::Support,
        });
        let update = UserUpdate {
            profile: ProfileChange {
                username: patch.username,
                email: patch.email,
                first_name: patch.first_name,
                last_name: patch.last_name,
                personal_number: patch.personal_number,
            },
            enabled: patch.enabled,
            role,
            scim_external_id: None,
        };
        let version = matched_version(&req, &user)?;
        let changed = state.services.accounts.update(&user, version, update).await?;
        user_answer(&state, changed, StatusCode::OK).await
    })
    .await
}

/// Deletes a user against the version in `If-Match`: tokens, second
/// factor, passkeys, lock, account and the directory's entry.
#[utoipa::path(
    delete,
    path = "/admin/v1/users/{id}",
    operation_id = "admin_delete_user",
    tag = "admin",
    params(
        ("id" = i64, Path, description = "Limen's id of the user"),
        ("If-Match" = String, Header, description = "The `ETag` the deletion is made against"),
    ),
    security(("adminToken" = ["users:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The directory does not delete users", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No `If-Match`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn delete(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersWrite, async {
        let user = find(&state, *id).await?;
        let version = matched_version(&req, &user)?;
        state.services.accounts.delete_at_version(&user, version).await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// What `POST /admin/v1/users/{id}/{action}` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    /// Lift a lock of failed logins.
    Unlock,
    /// Disable in Limen and end every session.
    Disable,
    /// Enable in Limen again.
    Enable,
    /// Remove the TOTP second factor and its recovery codes.
    ResetSecondFactor,
}

/// Unlocks, disables, enables a user or resets their second factor; works
/// on every backend (it changes Limen's own state). No `If-Match`: each
/// action's result does not depend on the state it finds.
#[utoipa::path(
    post,
    path = "/admin/v1/users/{id}/{action}",
    operation_id = "admin_user_action",
    tag = "admin",
    params(
        ("id" = i64, Path, description = "Limen's id of the user"),
        ("action" = String, Path, description = "`unlock`, `disable`, `enable` or `reset-second-factor`"),
    ),
    security(("adminToken" = ["users:write"])),
    responses(
        (status = 200, description = "Done; the user as it is now", body = UserView),
        (status = 404, description = "No such user or action", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersWrite, async {
        let (id, action) = path.into_inner();
        let action: Action = serde_json::from_value(serde_json::Value::String(action)).map_err(|_| {
            Problem::not_found("no such action: unlock, disable, enable or reset-second-factor")
        })?;
        let user = find(&state, id).await?;
        let accounts = &state.services.accounts;
        match action {
            Action::Unlock => accounts.unlock(&user).await?,
            Action::Disable => accounts.set_enabled(&user, false).await?,
            Action::Enable => accounts.set_enabled(&user, true).await?,
            Action::ResetSecondFactor => state.services.two_factor.reset(user.id).await?,
        }
        let user = accounts.by_id(user.id).await?;
        user_answer(&state, user, StatusCode::OK).await
    })
    .await
}

/// A user's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenList {
    /// The tokens, the newest first.
    tokens: Vec<TokenView>,
}

/// The user's live sessions: access tokens, remember-me tokens, numbered
/// sessions, OpenID refresh tokens and browser sessions that work now.
#[utoipa::path(
    get,
    path = "/admin/v1/users/{id}/sessions",
    operation_id = "admin_list_sessions",
    tag = "admin",
    params(("id" = i64, Path, description = "Limen's id of the user")),
    security(("adminToken" = ["users:read"])),
    responses(
        (status = 200, description = "The live sessions", body = TokenList),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersRead, async {
        let tokens = tokens_of(&state, *id).await?;
        Ok(HttpResponse::Ok().json(TokenList {
            tokens: tokens.into_iter().filter(TokenView::is_active).collect(),
        }))
    })
    .await
}

/// Every token of the user, with its state.
#[utoipa::path(
    get,
    path = "/admin/v1/users/{id}/tokens",
    operation_id = "admin_list_tokens",
    tag = "admin",
    params(("id" = i64, Path, description = "Limen's id of the user")),
    security(("adminToken" = ["tokens:read"])),
    responses(
        (status = 200, description = "The tokens, live or not", body = TokenList),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn tokens(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    admin(&req, &state, AdminScope::TokensRead, async {
        let tokens = tokens_of(&state, *id).await?;
        Ok(HttpResponse::Ok().json(TokenList { tokens }))
    })
    .await
}

/// Revoked tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Revoked {
    /// How many tokens were revoked.
    revoked: u64,
}

/// Ends every session of the user ("log out everywhere"): every token of
/// every kind is revoked on every node.
#[utoipa::path(
    delete,
    path = "/admin/v1/users/{id}/sessions",
    operation_id = "admin_end_sessions",
    tag = "admin",
    params(("id" = i64, Path, description = "Limen's id of the user")),
    security(("adminToken" = ["users:write"])),
    responses(
        (status = 200, description = "Revoked", body = Revoked),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn end_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::UsersWrite, async {
        let user = find(&state, *id).await?;
        let revoked = state.services.sessions.logout_everywhere(user.id).await?;
        Ok(HttpResponse::Ok().json(Revoked { revoked }))
    })
    .await
}

/// A new API token of the `tokens` dialect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiToken {
    /// What it is for (at most 255 characters).
    note: Option<String>,
    /// When it stops working (RFC 3339); the configured default lifetime when absent.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A created API token: its secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedApiToken {
    /// The token, to present with the user's name (`X-Auth-Token`) or as a bearer token.
    token: String,
    /// What is stored.
    #[serde(flatten)]
    record: TokenView,
}

/// Creates an API token for the user.
#[utoipa::path(
    post,
    path = "/admin/v1/users/{id}/api-tokens",
    operation_id = "admin_create_api_token",
    tag = "admin",
    params(("id" = i64, Path, description = "Limen's id of the user")),
    request_body = NewApiToken,
    security(("adminToken" = ["tokens:write"])),
    responses(
        (status = 201, description = "Created; the token is not shown again", body = CreatedApiToken),
        (status = 400, description = "The note or expiry is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create_api_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<NewApiToken>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::TokensWrite, async {
        let user = find(&state, *id).await?;
        let new = body.into_inner()?;
        let issued = state
            .services
            .api_tokens
            .create(
                &user.username,
                TokenRequest {
                    note: new.note,
                    expires_at: new.expires_at,
                },
            )
            .await?;
        let now = chrono::Utc::now();
        Ok(HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(CreatedApiToken {
                token: issued.plaintext,
                record: TokenView::new(&issued.record, now),
            }))
    })
    .await
}

/// Shows a token.
#[utoipa::path(
    get,
    path = "/admin/v1/tokens/{id}",
    operation_id = "admin_get_token",
    tag = "admin",
    params(("id" = i64, Path, description = "The token's id")),
    security(("adminToken" = ["tokens:read"])),
    responses(
        (status = 200, description = "The token", body = TokenView),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::TokensRead, async {
        let token = state.services.api_tokens.find(TokenId(*id)).await?;
        Ok(HttpResponse::Ok().json(TokenView::new(&token, chrono::Utc::now())))
    })
    .await
}

/// Revokes a token for good, on every node.
#[utoipa::path(
    delete,
    path = "/admin/v1/tokens/{id}",
    operation_id = "admin_revoke_token",
    tag = "admin",
    params(("id" = i64, Path, description = "The token's id")),
    security(("adminToken" = ["tokens:write"])),
    responses(
        (status = 204, description = "Revoked (or it was already)"),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn revoke_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    admin(&req, &state, AdminScope::TokensWrite, async {
        state.services.api_tokens.revoke(TokenId(*id)).await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// The user with Limen's id `id`, or 404.
async fn find(state: &AppState, id: i64) -> Result<User, Problem> {
    state
        .services
        .accounts
        .by_id(UserId(id))
        .await
        .map_err(|err| match err {
            DomainError::UnknownUser(_) => Problem::not_found(format!("no user has id {id}")),
            other => other.into(),
        })
}

/// The user's tokens, of the kinds operators manage, at now.
async fn tokens_of(state: &AppState, id: i64) -> Result<Vec<TokenView>, Problem> {
    let user = find(state, id).await?;
    let now = chrono::Utc::now();
    let tokens = state.services.api_tokens.list(&user.username).await?;
    Ok(tokens.iter().map(|token| TokenView::new(token, now)).collect())
}

/// The user with its lock and second factor, and its `ETag`.
async fn user_answer(state: &AppState, user: User, status: StatusCode) -> Result<HttpResponse, Problem> {
    let tag = etag(&user);
    let summary = state.services.accounts.summarise(user).await?;
    let answer = HttpResponse::build(status)
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserView::from(&summary));
    Ok(answer)
}

/// The version of `user` if `If-Match` names its current tag (or is `*`):
/// 428 without the header, 412 when it names another.
fn matched_version(req: &HttpRequest, user: &User) -> Result<i64, Problem> {
    match if_match(req, user) {
        None => Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "send If-Match with the ETag of the user as read",
        )),
        Some(matched) => Ok(matched?),
    }
}
