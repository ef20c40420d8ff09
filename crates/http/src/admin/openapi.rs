//! The OpenAPI 3.1 description of the administration API, generated from the
//! handlers' attributes: served at `GET /admin/v1/openapi.json` on the
//! management listener; `limen openapi --admin` writes it to
//! `docs/openapi-admin.json`.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use utoipa::openapi::OpenApi as Description;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit, problem, representation, system, users};

/// Every route of the administration API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Limen administration API",
        description = "Users, sessions, tokens, the audit trail and the running configuration, on the \
                       management listener. Authenticate with an admin token (`limen token create --admin`) \
                       as `Authorization: Bearer`; each call needs the scope its security requirement \
                       names. Errors are RFC 9457 problem details. docs/admin-api.md describes every call.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        users::list,
        users::create,
        users::show,
        users::update,
        users::delete,
        users::act,
        users::sessions,
        users::end_sessions,
        users::tokens,
        users::create_api_token,
        users::show_token,
        users::revoke_token,
        audit::events,
        system::config,
        system::readiness,
    ),
    components(schemas(problem::Problem, representation::UserView, representation::TokenView)),
    modifiers(&AdminToken, &Refusals),
    tags((name = "admin", description = "The administration API (docs/admin-api.md)")),
)]
struct AdminDescription;

/// The admin token scheme.
struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, description: &mut Description) {
        let components = description.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token from `limen token create --admin --name … --scopes …`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every call may be refused before it runs: 401 without a live token, 403
/// without the scope, 405 for another method, 503 when a backend fails.
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, description: &mut Description) {
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::{Content, Ref, RefOr};
        let problem = |text: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(text)
                    .content(
                        super::problem::PROBLEM_JSON,
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        };
        for item in description.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("401".into())
                    .or_insert_with(|| problem("No live admin token; `WWW-Authenticate` says why"));
                responses
                    .entry("403".into())
                    .or_insert_with(|| problem("The admin token lacks the call's scope"));
                responses
                    .entry("default".into())
                    .or_insert_with(|| problem("Any other error: 405, 413, 415, 503 (with `Retry-After`)"));
            }
        }
    }
}

/// The description as pretty-printed JSON with a final newline, exactly as
/// `docs/openapi-admin.json` holds it.
pub fn admin_openapi_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let mut text = AdminDescription::openapi().to_pretty_json().unwrap_or_default();
        text.push('\n');
        text
    });
    JSON.clone()
}

/// `GET /admin/v1/openapi.json`: this description, without a token.
pub(crate) async fn description() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(admin_openapi_json())
}
