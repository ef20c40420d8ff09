//! The `flow` dialect: the Limecraft Flow platform's authentication API
//! (`docs/api/flow.md`).

pub(crate) mod error;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod session;
pub(crate) mod two_factor;
pub(crate) mod user;

use actix_web::web;

pub use error::FlowError;

/// Registers the dialect's routes; other methods on them answer 405 in its shape.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/authentication/login")
            .route(web::post().to(login::login))
            .default_service(web::to(error::method_not_allowed)),
    )
    .service(
        web::resource("/authentication/user")
            .route(web::get().to(user::current_user))
            .default_service(web::to(error::method_not_allowed)),
    )
    .service(
        web::resource("/authentication/2fa/validate")
            .route(web::post().to(two_factor::validate))
            .default_service(web::to(error::method_not_allowed)),
    )
    .service(
        web::resource("/user/{id}/enable2fa")
            .route(web::post().to(two_factor::enable))
            .default_service(web::to(error::method_not_allowed)),
    )
    .service(
        web::resource("/authentication/logout")
            .route(web::post().to(logout::logout))
            .default_service(web::to(error::method_not_allowed)),
    );
}
