//! The `lime` dialect: the Lime CRM login add-on's endpoints: password and
//! BankID login, BankID progress, password reset, OpenID login
//! (`docs/api/lime.md`).

pub(crate) mod api_key;
pub(crate) mod collect;
pub(crate) mod demo;
pub(crate) mod error;
pub(crate) mod login;
pub(crate) mod openid;
pub(crate) mod progress;
pub(crate) mod reset;

use actix_web::web;

pub use error::LimeError;

/// Registers the dialect's routes; other methods on them answer 405 in its shape.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str, handler| {
        web::resource(path)
            .route(handler)
            .default_service(web::to(error::method_not_allowed))
    };
    cfg.service(resource("/login/", web::post().to(login::login)))
        .service(resource("/bankid/collect/", web::post().to(collect::collect)))
        .service(resource("/reset/request/", web::post().to(reset::request)))
        .service(resource("/reset/", web::post().to(reset::reset)))
        .service(resource("/bankid/demo/", web::get().to(demo::page)))
        .service(resource("/bankid/demo/qr.svg", web::get().to(demo::qr)))
        .service(resource("/login/openid/", web::get().to(openid::start)))
        .service(resource("/oauth2/authorize/", web::get().to(openid::callback)))
        .service(resource("/oidc/payload-key", web::get().to(openid::payload_key)));
}
