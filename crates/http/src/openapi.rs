//! The OpenAPI 3.1 description of every route, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and answer types they use, so it
//! cannot drift from the code. Served at `GET /openapi.json`; `limen openapi`
//! writes it to `docs/openapi.json`.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Description, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::schema::Written;
use crate::{bimplus, flow, gradido, health, lime, passkeys, tokens};

/// Every route, by dialect.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Limen",
        description = "A self-hosted login service that speaks the login APIs of several existing systems \
                       (dialects). Each dialect answers errors in its own shape; `docs/api/<dialect>.md` \
                       describes every endpoint in prose.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        health::healthz,
        health::readyz,
        openapi_json_route,
        flow::login::login,
        flow::user::current_user,
        flow::two_factor::validate,
        flow::two_factor::enable,
        flow::logout::logout,
        tokens::handlers::login,
        tokens::handlers::bump,
        tokens::handlers::logout,
        bimplus::authorize::authorize,
        bimplus::token::info,
        bimplus::token::revoke,
        gradido::login::unsecure_login,
        gradido::create_user::create_user,
        gradido::logout::logout,
        gradido::check_email::check_email,
        lime::login::login,
        lime::collect::collect,
        lime::reset::request,
        lime::reset::reset,
        lime::demo::page,
        lime::demo::qr,
        lime::openid::start,
        lime::openid::callback,
        lime::openid::payload_key,
        passkeys::registration_options,
        passkeys::register,
        passkeys::authentication_options,
        passkeys::authenticate,
    ),
    components(schemas(health::ServiceError, tokens::negotiation::JsonAccept)),
    modifiers(&SecuritySchemes, &CorsPreflights, &DialectErrors),
    tags(
        (name = "service", description = "Health and this description"),
        (name = "flow", description = "Limecraft Flow's `/authentication/*` API (docs/api/flow.md)"),
        (name = "tokens", description = "The Flask API server's `/auth/*` API with user tokens (docs/api/tokens.md)"),
        (name = "bimplus", description = "The Bimplus authorization service's `/v2/authorize` (docs/api/bimplus.md)"),
        (name = "gradido", description = "The Gradido login server's `/login_api/*` JSON API (docs/api/gradido.md)"),
        (name = "lime", description = "The Lime CRM login add-on: password and BankID login, password reset (docs/api/lime.md)"),
        (name = "passkeys", description = "Passkeys (WebAuthn) for applications that drive the ceremonies: errors in the flow dialect's shape (docs/passkeys.md)"),
    ),
)]
struct ApiDescription;

/// The request schemas written as JSON Schema (see `schema.rs`).
const WRITTEN: [Written; 5] = [
    flow::two_factor::ENABLE_REQUEST,
    bimplus::authorize::AUTHORIZE_REQUEST,
    gradido::login::LOGIN_REQUEST,
    gradido::create_user::CREATE_USER_REQUEST,
    lime::login::LOGIN_REQUEST,
];

/// The description as a JSON document: the derived one, with each written
/// schema in place of its placeholder.
fn openapi() -> serde_json::Value {
    // Serialising a tree of strings and maps cannot fail; an empty document
    // would make the drift test fail loudly if it ever did.
    let mut description = serde_json::to_value(ApiDescription::openapi()).unwrap_or_default();
    if let Some(schemas) = description
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        for written in WRITTEN {
            schemas.insert(written.name.to_owned(), (written.schema)());
        }
    }
    description
}

/// The description as pretty-printed JSON with a final newline, exactly as
/// `docs/openapi.json` holds it.
pub fn openapi_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let mut text = serde_json::to_string_pretty(&openapi()).unwrap_or_default();
        text.push('\n');
        text
    });
    JSON.clone()
}

/// Registers `GET /openapi.json` (other methods answer 405).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    health::get_only(cfg, "/openapi.json", web::get().to(openapi_json_route));
}

/// This description.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_description",
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 description of every route", content_type = "application/json")),
)]
pub(crate) async fn openapi_json_route() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(openapi_json())
}

/// How each dialect carries its credentials.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, description: &mut Description) {
        let components = description.components.get_or_insert_with(Default::default);
        let schemes = [
            (
                "flowBearer",
                SecurityScheme::Http(
                    Http::builder()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("flow: `Authorization: Bearer <token>`"))
                        .build(),
                ),
            ),
            (
                "flowQueryToken",
                SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                    "access_token",
                    "flow: the token as the `access_token` query parameter",
                ))),
            ),
            (
                "flowCookie",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    crate::credentials::FLOW_COOKIE,
                    "flow: the token in the session cookie",
                ))),
            ),
            (
                "basic",
                SecurityScheme::Http(
                    Http::builder()
                        .scheme(HttpAuthScheme::Basic)
                        .description(Some("tokens: username and password"))
                        .build(),
                ),
            ),
            (
                "xAuthToken",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-Auth-Token",
                    "tokens: `Base64(username:token)`",
                ))),
            ),
            (
                "limeApiKey",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-API-Key",
                    "lime: one of `[dialects.lime] api_keys`, when the operator configures any (the header's \
                     name is `api_key_header`)",
                ))),
            ),
            (
                "bimplusToken",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Authorization",
                    "bimplus: `BimPlus <access_token>` (`Bearer <access_token>` is accepted too)",
                ))),
            ),
        ];
        for (name, scheme) in schemes {
            components.add_security_scheme(name, scheme);
        }
    }
}

/// `OPTIONS` on each `/login_api` call: one handler serves them all, so they are
/// described here rather than by an attribute.
struct CorsPreflights;

impl Modify for CorsPreflights {
    fn modify(&self, description: &mut Description) {
        for (path, item) in description.paths.paths.iter_mut() {
            if !path.starts_with("/login_api/") {
                continue;
            }
            let mut preflight = Operation::new();
            preflight.tags = Some(vec!["gradido".into()]);
            preflight.operation_id = Some(format!(
                "gradido_preflight_{}",
                path.trim_start_matches("/login_api/")
            ));
            preflight.summary = Some("The CORS preflight of the call.".into());
            preflight.responses.responses.insert(
                "204".into(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("Allowed: `unsecure.allow_cors_all` is on")
                        .build(),
                ),
            );
            preflight.responses.responses.insert(
                "405".into(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("CORS is not allowed on this server")
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("GradidoError"))),
                        )
                        .build(),
                ),
            );
            item.options = Some(preflight);
        }
    }
}

/// Every operation may also answer another error of its dialect (405 for another
/// method, 500 when a backend fails): a `default` answer in the dialect's shape.
struct DialectErrors;

impl Modify for DialectErrors {
    fn modify(&self, description: &mut Description) {
        for item in description.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let error = match operation
                    .tags
                    .as_deref()
                    .and_then(<[String]>::first)
                    .map(String::as_str)
                {
                    Some("flow" | "passkeys") => "FlowError",
                    Some("tokens") => "TokensError",
                    Some("bimplus") => "BimplusError",
                    Some("gradido") => "GradidoError",
                    Some("lime") => "LimeError",
                    _ => "ServiceError",
                };
                operation
                    .responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description("Any other error, in the dialect's shape")
                                .content(
                                    "application/json",
                                    Content::new(Some(Ref::from_schema_name(error))),
                                )
                                .build(),
                        )
                    });
            }
        }
    }
}
