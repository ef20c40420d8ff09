//! `POST /v2/authorize`: with a password, or with a remember-me token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use limen_domain::services::RememberMeLifetimes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{BimplusError, ErrorBody};
use super::lenient_json::strip_trailing_commas;
use crate::AppState;
use crate::body::json_object_text;
use crate::body::{BodyKind, LenientBool, body_kind, read_limited};

/// Both documented request shapes in one. `remeber_me_token` is the document's
/// own misspelling, accepted because clients copy it.
#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeRequest {
    /// The user's e-mail address; with `password`.
    user_id: Option<String>,
    password: Option<String>,
    /// The client the remember-me token is bound to.
    client_id: Option<String>,
    /// Echoed back.
    application_id: Option<String>,
    /// With a password: also issue a remember-me token for `client_id`.
    #[serde(default)]
    remember_me: LenientBool,
    /// Instead of a password: a remember-me token of `client_id`
    /// (`remeber_me_token`, the document's own spelling, is accepted too).
    #[serde(alias = "remeber_me_token")]
    remember_me_token: Option<String>,
}

/// The three shapes the handler takes: a password, a password asking for a
/// remember-me token (then `client_id` is needed), or a remember-me token.
pub(crate) const AUTHORIZE_REQUEST: crate::schema::Written = crate::schema::Written {
    name: "AuthorizeRequest",
    schema: || {
        use crate::schema::{VISIBLE, lenient_bool};
        use limen_domain::services::MAX_CLIENT_ID_CHARS;
        let remember_me_off = lenient_bool(false);
        let remember_me_on = lenient_bool(true);
        let common = serde_json::json!({"type": "string", "description": "Echoed back."});
        let client = serde_json::json!({"type": "string", "pattern": VISIBLE, "maxLength": MAX_CLIENT_ID_CHARS,
        "description": "The client the remember-me token is bound to."});
        serde_json::json!({
            "oneOf": [
                {
                    "type": "object",
                    "required": ["user_id", "password"],
                    "properties": {
                        "user_id": {"type": "string", "description": "The user's e-mail address."},
                        "password": {"type": "string"},
                        "remember_me": remember_me_off,
                        "client_id": {"type": "string"},
                        "application_id": common,
                    },
                    "not": {"anyOf": [{"required": ["remember_me_token"]}, {"required": ["remeber_me_token"]}]}
                },
                {
                    "type": "object",
                    "required": ["user_id", "password", "remember_me", "client_id"],
                    "properties": {
                        "user_id": {"type": "string", "description": "The user's e-mail address."},
                        "password": {"type": "string"},
                        "remember_me": remember_me_on,
                        "client_id": client,
                        "application_id": common,
                    },
                    "not": {"anyOf": [{"required": ["remember_me_token"]}, {"required": ["remeber_me_token"]}]}
                },
                {
                    "type": "object",
                    "required": ["remember_me_token", "client_id"],
                    "properties": {
                        "remember_me_token": {"type": "string",
                            "description": "A remember-me token of `client_id` (`remeber_me_token`, the document's own spelling, is accepted too)."},
                        "client_id": client,
                        "remember_me": {"anyOf": [lenient_bool(true), lenient_bool(false)]},
                        "application_id": common,
                    },
                    "not": {"anyOf": [{"required": ["password"]}, {"required": ["remeber_me_token"]}]}
                }
            ]
        })
    },
};

impl utoipa::PartialSchema for AuthorizeRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::placeholder()
    }
}

impl ToSchema for AuthorizeRequest {}

/// What `POST /v2/authorize` answers, by grant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Authorized {
    /// For a password.
    Password(PasswordGrant),
    /// For a remember-me token.
    RememberMe(RememberMeGrant),
}

/// The answer to a password.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordGrant {
    access_token: String,
    /// Seconds the access token lives (28799 by default).
    expires_in: i64,
    application_id: Option<String>,
    client_id: Option<String>,
    /// Whether a remember-me token was issued.
    remember_me: bool,
    /// With `remember_me`: the token for later logins of `client_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    remember_me_token: Option<String>,
    /// With `remember_me`: seconds the remember-me token lives (30 days by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    remember_me_expires_in: Option<i64>,
}

/// The answer to a remember-me token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RememberMeGrant {
    access_token: String,
    expires_in: i64,
    application_id: Option<String>,
    client_id: String,
    /// Always `BimPlus`: send the token as `Authorization: BimPlus <token>`.
    token_type: &'static str,
}

/// Issues an access token for a password or for a remember-me token.
#[utoipa::path(
    post,
    path = "/v2/authorize",
    operation_id = "bimplus_authorize",
    tag = "bimplus",
    request_body(content = AuthorizeRequest, content_type = "application/json",
        description = "user_id and password, or remember_me_token and client_id; a trailing comma is forgiven",
        examples(
            ("password" = (summary = "A password, asking for a remember-me token (the document's example)",
                value = json!({
                    "user_id": "test@bimplus.net",
                    "password": "test",
                    "remember_me": "true",
                    "application_id": "0106c8baad467c08e26f026852cb7525",
                    "client_id": "0864b512-1776-4a55-8ee5-2b19d7d9b7ea"
                }))),
            ("remember_me_token" = (summary = "A remember-me token, in the document's spelling",
                value = json!({
                    "remember_me": "true",
                    "remeber_me_token": "b930e0179baf4f919caeab28328190a3",
                    "application_id": "0106c8baad467c08e26f026852cb7525",
                    "client_id": "0864b512-1776-4a55-8ee5-2b19d7d9b7ea"
                }))),
        )),
    responses(
        (status = 200, description = "A new access token", body = Authorized),
        (status = 400, description = "A field is missing or the body unusable", body = ErrorBody),
        (status = 401, description = "Wrong credentials, or an unknown, expired or foreign remember-me token", body = ErrorBody),
        (status = 403, description = "The account is locked", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; retry after `Retry-After`", body = ErrorBody),
        (status = 503, description = "Too many logins at once; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn authorize(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BimplusError> {
    if !matches!(body_kind(&req), BodyKind::Json | BodyKind::Unspecified) {
        return Err(BimplusError::unsupported_media_type());
    }
    let _admitted = state.admit_login(&req)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request = parse(&body)?;
    let access_ttl = state.settings.bimplus.access_ttl;
    let expires_in = access_ttl.num_seconds();
    let answer = match (request.password, request.remember_me_token) {
        (Some(password), _) => {
            let user_id = request
                .user_id
                .ok_or_else(|| BimplusError::invalid_request("user_id is required with a password."))?;
            let remember_for = match (request.remember_me.0, request.client_id.as_deref()) {
                (true, Some(client)) if !client.trim().is_empty() => Some(client),
                (true, _) => {
                    return Err(BimplusError::invalid_request(
                        "client_id is required with remember_me: the token is bound to it.",
                    ));
                }
                (false, _) => None,
            };
            let lifetimes = RememberMeLifetimes {
                access: access_ttl,
                remember_me: state.settings.bimplus.remember_me_ttl,
            };
            let authorized = state
                .services
                .remember_me
                .login(
                    &user_id,
                    &Password::new(password),
                    &state.client(&req),
                    lifetimes,
                    remember_for,
                )
                .await?;
            let remember_me_expires_in = authorized
                .remember_me
                .as_ref()
                .map(|token| (token.record.expires_at - token.record.created_at).num_seconds());
            Authorized::Password(PasswordGrant {
                access_token: authorized.access.plaintext,
                expires_in,
                application_id: request.application_id,
                client_id: request.client_id,
                remember_me: authorized.remember_me.is_some(),
                remember_me_token: authorized.remember_me.map(|token| token.plaintext),
                remember_me_expires_in,
            })
        }
        (None, Some(token)) => {
            let client_id = request
                .client_id
                .filter(|client| !client.trim().is_empty())
                .ok_or_else(|| {
                    BimplusError::invalid_request("client_id is required with remember_me_token.")
                })?;
            let access = state
                .services
                .remember_me
                .exchange(&token, &client_id, access_ttl)
                .await?;
            Authorized::RememberMe(RememberMeGrant {
                access_token: access.plaintext,
                expires_in,
                application_id: request.application_id,
                client_id,
                token_type: "BimPlus",
            })
        }
        (None, None) => {
            return Err(BimplusError::invalid_request(
                "Give user_id and password, or remember_me_token and client_id.",
            ));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

/// The body as `authorize` reads it once its type is known to be JSON: UTF-8,
/// with the document's trailing commas forgiven.
pub(crate) fn parse(body: &[u8]) -> Result<AuthorizeRequest, BimplusError> {
    let text =
        json_object_text(body).map_err(|reason| BimplusError::invalid_request(format!("{reason}.")))?;
    serde_json::from_str(&strip_trailing_commas(text))
        .map_err(|err| BimplusError::invalid_request(format!("invalid JSON body: {err}")))
}
