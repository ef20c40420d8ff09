//! The `tokens` dialect: the Flask API server's `/auth/*` API with user tokens
//! (`docs/api/tokens.md`).

pub(crate) mod error;
pub(crate) mod handlers;
pub(crate) mod negotiation;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

/// Registers the dialect's routes; every answer carries `Vary: Accept`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .wrap(DefaultHeaders::new().add(("Vary", "Accept")))
            .service(
                web::resource("/login")
                    .route(web::post().to(handlers::login))
                    .default_service(web::to(error::method_not_allowed)),
            )
            .service(
                web::resource("/bump")
                    .route(web::post().to(handlers::bump))
                    .default_service(web::to(error::method_not_allowed)),
            )
            .service(
                web::resource("/logout")
                    .route(web::post().to(handlers::logout))
                    .default_service(web::to(error::method_not_allowed)),
            )
            .default_service(web::to(error::not_found)),
    );
}
