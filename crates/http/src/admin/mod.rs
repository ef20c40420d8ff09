//! The administration API (`docs/admin-api.md`): `/admin/v1/…` on the
//! management listener only, JSON, admin tokens with scopes, RFC 9457
//! problem details for errors, `ETag`/`If-Match` on users.

mod audit;
mod openapi;
mod problem;
mod representation;
mod system;
mod users;

pub use openapi::admin_openapi_json;
pub(crate) use problem::Problem;
pub(crate) use representation::{etag, if_match, time};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use limen_domain::model::AdminScope;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::admin_access::{Refusal, admit, run_as};
use crate::body::{BodyError, BodyKind, body_kind, json_object_text, read_limited};

/// Registers `/admin/v1/…`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        web::scope("/admin/v1")
            .app_data(
                web::PathConfig::default()
                    .error_handler(|err, _| Problem::not_found(format!("no such resource: {err}")).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| Problem::invalid(format!("invalid query: {err}")).into()),
            )
            .service(resource("/openapi.json").route(web::get().to(openapi::description)))
            .service(
                resource("/users")
                    .route(web::get().to(users::list))
                    .route(web::post().to(users::create)),
            )
            .service(
                resource("/users/{id}")
                    .route(web::get().to(users::show))
                    .route(web::patch().to(users::update))
                    .route(web::delete().to(users::delete)),
            )
            .service(
                resource("/users/{id}/sessions")
                    .route(web::get().to(users::sessions))
                    .route(web::delete().to(users::end_sessions)),
            )
            .service(resource("/users/{id}/tokens").route(web::get().to(users::tokens)))
            .service(resource("/users/{id}/api-tokens").route(web::post().to(users::create_api_token)))
            .service(resource("/users/{id}/{action}").route(web::post().to(users::act)))
            .service(
                resource("/tokens/{id}")
                    .route(web::get().to(users::show_token))
                    .route(web::delete().to(users::revoke_token)),
            )
            .service(resource("/audit").route(web::get().to(audit::events)))
            .service(resource("/config").route(web::get().to(system::config)))
            .service(resource("/readiness").route(web::get().to(system::readiness)))
            .default_service(web::to(|| async {
                Problem::not_found("no such endpoint").response()
            })),
    );
}

/// Runs an administration call: the token checked for `scope`, then `work`
/// in the token's audit context; a `Problem` becomes its answer.
pub(crate) async fn admin<Work>(
    req: &HttpRequest,
    state: &AppState,
    scope: AdminScope,
    work: Work,
) -> HttpResponse
where
    Work: Future<Output = Result<HttpResponse, Problem>>,
{
    match admit(req, state, scope).await {
        Ok(token) => {
            run_as(req, state, &token, "admin", async {
                work.await.unwrap_or_else(|problem| problem.response())
            })
            .await
        }
        Err(refusal) => refused(refusal),
    }
}

/// The answer to a call that was not let in.
fn refused(refusal: Refusal) -> HttpResponse {
    let problem = match refusal {
        Refusal::Unauthenticated => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a live admin token as Authorization: Bearer (limen token create --admin)",
        ),
        Refusal::InsufficientScope(scope) => Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this call needs an admin token with the scope {}", scope.as_str()),
        ),
        Refusal::Unavailable => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the admin tokens cannot be read now",
        ),
    };
    let mut answer = problem.response();
    if let Some(challenge) = refusal.challenge()
        && let Ok(value) = header::HeaderValue::from_str(&challenge)
    {
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    answer
}

/// Another method on an administration route.
async fn method_not_allowed() -> HttpResponse {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
    .response()
}

/// A JSON request body, read within the configured limit and decoded after
/// the token was checked (so a caller without one learns nothing from it).
pub(crate) struct JsonBody<T>(Result<T, Problem>);

impl<T> JsonBody<T> {
    /// The decoded body, or why it could not be.
    pub fn into_inner(self) -> Result<T, Problem> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut taken = payload.take();
        Box::pin(async move {
            let payload = web::Payload::from_request(&req, &mut taken).await?;
            Ok(JsonBody(decode_json(&req, payload).await))
        })
    }
}

/// Reads and decodes a JSON object body (any `application/…+json` type).
pub(crate) async fn decode_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, Problem> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(64 * 1024, |state| state.settings.max_body_bytes);
    let body = read_limited(req, payload, limit).await.map_err(|err| match err {
        BodyError::TooLarge => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        BodyError::Unreadable => Problem::invalid("the body could not be read"),
    })?;
    match body_kind(req) {
        BodyKind::Json | BodyKind::Unspecified => {}
        BodyKind::Form | BodyKind::Other => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON (application/json)",
            ));
        }
    }
    let text = json_object_text(&body).map_err(Problem::invalid)?;
    serde_json::from_str(text).map_err(|err| Problem::invalid(format!("invalid JSON body: {err}")))
}
