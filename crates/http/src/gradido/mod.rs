//! The `gradido` dialect: the Gradido login server's JSON API under `/login_api`
//! (`docs/api/gradido.md`).

pub(crate) mod check_email;
pub(crate) mod create_user;
pub(crate) mod error;
pub(crate) mod ident_hash;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod request;
pub(crate) mod success;

use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, DefaultHeaders};
use actix_web::{HttpResponse, Resource, Route, web};
use limen_domain::model::ClientAddress;

use crate::AppState;

/// The headers the original's `unsecure.allow_cors_all` adds to every answer.
const ALLOWED_HEADERS: &str = "Access-Control-Allow-Headers, Origin, Accept, X-Requested-With, Content-Type, \
                               Access-Control-Request-Method, Access-Control-Request-Headers";

/// Registers the dialect's routes; with `allow_cors_all` every answer under
/// `/login_api` allows any origin.
pub fn routes(cfg: &mut web::ServiceConfig, allow_cors_all: bool) {
    cfg.service(
        web::scope("/login_api")
            .wrap(Condition::new(
                allow_cors_all,
                DefaultHeaders::new()
                    .add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
                    .add((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)),
            ))
            .service(call("/unsecureLogin", web::post().to(login::unsecure_login)))
            .service(call("/createUser", web::post().to(create_user::create_user)))
            .service(call("/logout", web::post().to(logout::logout)))
            .default_service(web::to(error::unknown_call)),
    )
    .service(web::resource("/account/checkEmail/{code}").route(web::get().to(check_email::check_email)));
}

/// A call: `post` for POST, the preflight for OPTIONS, 405 for the rest.
fn call(path: &str, post: Route) -> Resource {
    web::resource(path)
        .route(post)
        .route(web::method(Method::OPTIONS).to(preflight))
        .default_service(web::to(error::method_not_allowed))
}

/// A CORS preflight: allowed when the operator allows every origin, 405 otherwise.
async fn preflight(state: web::Data<AppState>) -> HttpResponse {
    if state.settings.gradido.allow_cors_all {
        HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish()
    } else {
        error::method_not_allowed().await
    }
}

/// The caller's address as `clientIP` reports it.
fn client_ip(client: &ClientAddress) -> String {
    client.0.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}
