//! `POST /v2/authorize`: with a password, or with a remember-me token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::BimplusError;
use super::lenient_json::strip_trailing_commas;
use crate::AppState;
use crate::body::{BodyKind, LenientBool, body_kind, read_limited};

/// Both documented request shapes in one. `remeber_me_token` is the document's
/// own misspelling, accepted because clients copy it.
#[derive(Debug, Deserialize)]
struct AuthorizeRequest {
    user_id: Option<String>,
    password: Option<String>,
    client_id: Option<String>,
    application_id: Option<String>,
    #[serde(default)]
    remember_me: LenientBool,
    #[serde(alias = "remeber_me_token")]
    remember_me_token: Option<String>,
}

/// Issues an access token for a password or for a remember-me token.
pub async fn authorize(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BimplusError> {
    if !matches!(body_kind(&req), BodyKind::Json | BodyKind::Unspecified) {
        return Err(BimplusError::unsupported_media_type());
    }
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| BimplusError::invalid_request("The body is not UTF-8."))?;
    let request: AuthorizeRequest = serde_json::from_str(&strip_trailing_commas(text))
        .map_err(|err| BimplusError::invalid_request(format!("invalid JSON body: {err}")))?;
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
            let authorized = state
                .services
                .remember_me
                .login(&user_id, &Password::new(password), access_ttl, remember_for)
                .await?;
            let mut answer = json!({
                "access_token": authorized.access.plaintext,
                "expires_in": expires_in,
                "application_id": request.application_id,
                "client_id": request.client_id,
                "remember_me": authorized.remember_me.is_some(),
            });
            if let (Some(token), Value::Object(fields)) = (authorized.remember_me, &mut answer) {
                fields.insert("remember_me_token".into(), json!(token.plaintext));
                fields.insert(
                    "remember_me_expires_in".into(),
                    json!(state.services.remember_me.remember_ttl().num_seconds()),
                );
            }
            answer
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
            json!({
                "access_token": access.plaintext,
                "expires_in": expires_in,
                "application_id": request.application_id,
                "client_id": client_id,
                "token_type": "BimPlus",
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
