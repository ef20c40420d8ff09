//! `POST /oidc/token` (the code exchange, RFC 6749 §4.1.3, and refresh with
//! rotation), `POST /oidc/introspect` (RFC 7662) and `POST /oidc/revoke`
//! (RFC 7009), each with the client authenticated by `client_secret_basic`,
//! `client_secret_post` or, for a public client, its id alone.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use limen_domain::model::TokenRefusal;
use limen_domain::services::{ClientCredentials, CodeExchange};
use serde_json::json;

use super::{absent, provider};
use crate::AppState;

/// A client's form: its fields, and how it authenticated.
struct ClientForm {
    pairs: Vec<(String, String)>,
    credentials: ClientCredentials,
}

impl ClientForm {
    /// The form of `body` (`application/x-www-form-urlencoded`), with the
    /// client's credentials from Basic authentication or the form itself.
    fn read(req: &HttpRequest, body: &[u8]) -> Result<Self, TokenRefusal> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
            TokenRefusal::new(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            )
        })?;
        let mut form = Self {
            pairs,
            credentials: ClientCredentials::default(),
        };
        form.credentials = match basic(req) {
            Some((id, secret)) => ClientCredentials {
                client_id: Some(id),
                client_secret: Some(secret),
                basic: true,
            },
            None => ClientCredentials {
                client_id: form.get("client_id"),
                client_secret: form.get("client_secret"),
                basic: false,
            },
        };
        Ok(form)
    }

    fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}

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

fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

fn refused(refusal: &TokenRefusal, basic: bool) -> HttpResponse {
    let status = match refusal.error {
        "invalid_client" if basic => StatusCode::UNAUTHORIZED,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut answer = no_store(HttpResponse::build(status));
    if status == StatusCode::UNAUTHORIZED {
        answer.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"limen\""));
    }
    answer.json(json!({"error": refusal.error, "error_description": refusal.description}))
}

/// Exchanges a code or a refresh token for an access token and an ID token.
pub(super) async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let form = match ClientForm::read(&req, &body) {
        Ok(form) => form,
        Err(refusal) => return refused(&refusal, false),
    };
    let exchange = CodeExchange {
        grant_type: form.get("grant_type"),
        code: form.get("code"),
        redirect_uri: form.get("redirect_uri"),
        code_verifier: form.get("code_verifier"),
        refresh_token: form.get("refresh_token"),
        scope: form.get("scope"),
    };
    match provider.exchange(&form.credentials, &exchange).await {
        Ok(answer) => {
            let mut body = json!({
                "access_token": answer.access_token,
                "token_type": "Bearer",
                "expires_in": answer.expires_in,
                "id_token": answer.id_token,
                "scope": answer.scope,
            });
            if let Some(refresh_token) = answer.refresh_token {
                body["refresh_token"] = json!(refresh_token);
            }
            no_store(HttpResponse::Ok()).json(body)
        }
        Err(refusal) => refused(&refusal, form.credentials.basic),
    }
}

/// The calling client and the `token` of an introspection or a revocation.
fn token_of(req: &HttpRequest, body: &[u8]) -> Result<(ClientCredentials, String), TokenRefusal> {
    let form = ClientForm::read(req, body)?;
    let token = form
        .get("token")
        .ok_or_else(|| TokenRefusal::new("invalid_request", "token is required"))?;
    Ok((form.credentials, token))
}

/// RFC 7662: whether a token of the calling client is live, and what it is.
pub(super) async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let (credentials, token) = match token_of(&req, &body) {
        Ok(read) => read,
        Err(refusal) => return refused(&refusal, false),
    };
    match provider.introspect(&credentials, &token).await {
        Ok(answer) => no_store(HttpResponse::Ok()).json(answer),
        Err(refusal) => refused(&refusal, credentials.basic),
    }
}

/// RFC 7009: revokes a token of the calling client; 200 for an unknown one.
pub(super) async fn revoke(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let (credentials, token) = match token_of(&req, &body) {
        Ok(read) => read,
        Err(refusal) => return refused(&refusal, false),
    };
    match provider.revoke(&credentials, &token).await {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(refusal) => refused(&refusal, credentials.basic),
    }
}
