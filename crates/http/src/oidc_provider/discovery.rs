//! `GET /oidc/.well-known/openid-configuration` and `GET /oidc/jwks`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::{absent, provider};
use crate::AppState;

/// The discovery document (OpenID Connect Discovery 1.0 §3).
pub(super) async fn document(state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let issuer = &provider.settings().issuer;
    let mut scopes: Vec<&str> = provider
        .settings()
        .clients
        .iter()
        .flat_map(|client| client.scopes.iter().map(String::as_str))
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "introspection_endpoint": format!("{issuer}/introspect"),
        "end_session_endpoint": format!("{issuer}/end_session"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": provider.algorithms(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "at_hash",
            "email", "email_verified", "name", "given_name", "family_name", "preferred_username"
        ],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body)
}

/// The public keys ID tokens are signed with (RFC 7517).
pub(super) async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let keys: Vec<Value> = provider
        .keys()
        .iter()
        .filter_map(|key| serde_json::from_str(key).ok())
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .body(json!({ "keys": keys }).to_string())
}
