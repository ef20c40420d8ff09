//! `POST /oidc/token`: the code exchange (RFC 6749 §4.1.3), with the
//! client authenticated by `client_secret_basic`, `client_secret_post` or,
//! for a public client, its id alone.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use limen_domain::model::TokenRefusal;
use limen_domain::services::{ClientCredentials, CodeExchange};
use serde_json::json;

use super::{absent, provider};
use crate::AppState;

/// `client_id:client_secret` of an `Authorization: Basic` header, each
/// form-urlencoded before encoding (RFC 6749 §2.3.1).
fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |text: &str| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={text}")).ok()?;
        pairs.into_iter().next().map(|(_, value)| value)
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn refused(refusal: &TokenRefusal, basic: bool) -> HttpResponse {
    let status = match refusal.error {
        "invalid_client" if basic => StatusCode::UNAUTHORIZED,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut answer = HttpResponse::build(status);
    answer
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        answer.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"limen\""));
    }
    answer.json(json!({"error": refusal.error, "error_description": refusal.description}))
}

/// Exchanges a code for an access token and an ID token.
pub(super) async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return refused(
            &TokenRefusal::new(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ),
            false,
        );
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let credentials = match basic(&req) {
        Some((id, secret)) => ClientCredentials {
            client_id: Some(id),
            client_secret: Some(secret),
            basic: true,
        },
        None => ClientCredentials {
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            basic: false,
        },
    };
    let form = CodeExchange {
        grant_type: get("grant_type"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        code_verifier: get("code_verifier"),
    };
    match provider.exchange(&credentials, &form).await {
        Ok(answer) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(json!({
                "access_token": answer.access_token,
                "token_type": "Bearer",
                "expires_in": answer.expires_in,
                "id_token": answer.id_token,
                "scope": answer.scope,
            })),
        Err(refusal) => refused(&refusal, credentials.basic),
    }
}
