//! SCIM 2.0 provisioning (RFC 7643, RFC 7644; `docs/scim.md`) at
//! `/scim/v2/` on the management listener: admin tokens with the scope
//! `scim`, the User resource over Limen's users, errors in SCIM's Error
//! schema.

mod discovery;
mod error;
mod filter;
mod patch;
mod paths;
mod resource;
mod users;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::AdminScope;
use serde_json::Value;

use crate::AppState;
use crate::admin::decode_json;
use crate::admin_access::{Refusal, admit, run_as};
use error::ScimError;

/// The media type of SCIM's answers.
pub(crate) const SCIM_JSON: &str = "application/scim+json";

/// Most resources in one page of a listing.
pub(crate) const MAX_RESULTS: usize = 200;

/// Registers `/scim/v2/…`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        web::scope("/scim/v2")
            .app_data(
                web::PathConfig::default()
                    .error_handler(|err, _| ScimError::not_found(format!("no such resource: {err}")).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ScimError::invalid_value(format!("invalid query: {err}")).into()),
            )
            .service(
                resource("/ServiceProviderConfig").route(web::get().to(discovery::service_provider_config)),
            )
            .service(resource("/ResourceTypes").route(web::get().to(discovery::resource_types)))
            .service(resource("/ResourceTypes/{id}").route(web::get().to(discovery::resource_type)))
            .service(resource("/Schemas").route(web::get().to(discovery::schemas)))
            .service(resource("/Schemas/{id}").route(web::get().to(discovery::schema)))
            .service(
                resource("/Users")
                    .route(web::get().to(users::list))
                    .route(web::post().to(users::create)),
            )
            .service(resource("/Users/.search").route(web::post().to(users::search_request)))
            .service(
                resource("/Users/{id}")
                    .route(web::get().to(users::show))
                    .route(web::put().to(users::replace))
                    .route(web::patch().to(users::patch))
                    .route(web::delete().to(users::delete)),
            )
            .service(resource("/.search").route(web::post().to(users::search_request)))
            .default_service(web::to(|| async {
                ScimError::not_found("no such endpoint").response()
            })),
    );
}

/// Runs a SCIM call: the token checked for `scope`, then `work` in the
/// token's audit context; a `ScimError` becomes its answer.
async fn scim<Work>(req: &HttpRequest, state: &AppState, scope: AdminScope, work: Work) -> HttpResponse
where
    Work: Future<Output = Result<HttpResponse, ScimError>>,
{
    match admit(req, state, scope).await {
        Ok(token) => {
            run_as(req, state, &token, "scim", async {
                work.await.unwrap_or_else(|err| err.response())
            })
            .await
        }
        Err(refusal) => {
            let err = match refusal {
                Refusal::Unauthenticated => ScimError::new(
                    StatusCode::UNAUTHORIZED,
                    None,
                    "send a live admin token with the scope scim as Authorization: Bearer",
                ),
                Refusal::InsufficientScope(_) => ScimError::new(
                    StatusCode::FORBIDDEN,
                    None,
                    "the admin token lacks the scope scim",
                ),
                Refusal::Unavailable => ScimError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "the admin tokens cannot be read now",
                ),
            };
            let mut answer = err.response();
            if let Some(challenge) = refusal.challenge()
                && let Ok(value) = header::HeaderValue::from_str(&challenge)
            {
                answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
            answer
        }
    }
}

/// Another method on a SCIM route.
async fn method_not_allowed() -> HttpResponse {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "this endpoint does not take that method",
    )
    .response()
}

/// `value` as a SCIM answer.
fn scim_json(value: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(SCIM_JSON)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

/// The base of this API's URLs as the client reached it, for `meta.location`.
fn base_url(req: &HttpRequest) -> String {
    let connection = req.connection_info();
    format!("{}://{}/scim/v2", connection.scheme(), connection.host())
}

/// The JSON body of a SCIM request (`application/scim+json` or `application/json`).
async fn read_json(req: &HttpRequest, payload: web::Payload) -> Result<Value, ScimError> {
    Ok(decode_json(req, payload).await?)
}
