//! The `bimplus` dialect: the Bimplus authorization service's `/v2/authorize`
//! with remember-me tokens (`docs/api/bimplus.md`).

pub(crate) mod authorize;
pub(crate) mod error;
pub(crate) mod lenient_json;
pub(crate) mod token;

use actix_web::web;

/// Registers the dialect's route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/authorize")
            .route(web::post().to(authorize::authorize))
            .route(web::get().to(token::info))
            .route(web::delete().to(token::revoke))
            .default_service(web::to(error::method_not_allowed)),
    );
}
