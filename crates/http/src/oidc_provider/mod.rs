//! Limen as an OpenID Provider (`docs/openid-provider.md`): discovery, the
//! keys, the authorization endpoint with the hosted login page, the token
//! endpoint and userinfo, under `/oidc/`. Every path answers 404 while
//! `[oidc_provider]` is off.

mod account;
mod authorize;
mod bankid_step;
mod csrf;
mod discovery;
mod logout;
mod page;
mod passkey_step;
mod texts;
mod token;
mod upstream;
mod userinfo;

pub(crate) use upstream::upstream_returned;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use limen_domain::services::OidcProvider;

use crate::AppState;

/// Registers the provider's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oidc/.well-known/openid-configuration").route(web::get().to(discovery::document)),
    )
    .service(web::resource("/oidc/jwks").route(web::get().to(discovery::jwks)))
    .service(web::resource("/oidc/assets/bankid.js").route(web::get().to(bankid_script)))
    .service(web::resource("/oidc/assets/passkey.js").route(web::get().to(passkey_script)))
    .service(web::resource("/oidc/logo").route(web::get().to(logo)))
    .service(web::resource("/oidc/assets/account.js").route(web::get().to(account_script)))
    .service(
        web::resource("/oidc/account")
            .route(web::get().to(account::show))
            .route(web::post().to(account::act)),
    )
    .service(
        web::resource("/oidc/authorize")
            .route(web::get().to(authorize::start))
            .route(web::post().to(authorize::submit)),
    )
    .service(web::resource("/oidc/token").route(web::post().to(token::token)))
    .service(
        web::resource("/oidc/end_session")
            .route(web::get().to(logout::start))
            .route(web::post().to(logout::confirm)),
    )
    .service(web::resource("/oidc/introspect").route(web::post().to(token::introspect)))
    .service(web::resource("/oidc/revoke").route(web::post().to(token::revoke)))
    .service(
        web::resource("/oidc/userinfo")
            .route(web::get().to(userinfo::userinfo))
            .route(web::post().to(userinfo::userinfo)),
    );
}

/// The login page's only script: it renews BankID's QR code.
async fn bankid_script(state: web::Data<AppState>) -> HttpResponse {
    if provider(&state).is_none() {
        return absent();
    }
    script(include_str!("assets/bankid.js"))
}

/// The login page's passkey script: the button's and autofill's ceremony.
async fn passkey_script(state: web::Data<AppState>) -> HttpResponse {
    if provider(&state).is_none() {
        return absent();
    }
    script(include_str!("assets/passkey.js"))
}

/// The account page's script: a passkey's registration.
async fn account_script(state: web::Data<AppState>) -> HttpResponse {
    if provider(&state).is_none() {
        return absent();
    }
    script(include_str!("assets/account.js"))
}

fn script(source: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(source)
}

/// The operator's logo (`[branding] logo_file`).
async fn logo(state: web::Data<AppState>) -> HttpResponse {
    match (&state.settings.branding.logo, provider(&state)) {
        (Some((content_type, bytes)), Some(_)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            // An SVG is an image here, never a document with scripts.
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(bytes.clone()),
        _ => absent(),
    }
}

/// The 404 of a server where the provider is off.
fn absent() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json")
        .body(r#"{"error":"not_found","error_description":"this server is not an OpenID Provider"}"#)
}

/// The provider, when it is on.
fn provider(state: &AppState) -> Option<Arc<OidcProvider>> {
    state.services.oidc_provider.clone()
}
