//! Limen's HTTP API on actix-web. Each dialect module parses its documented
//! requests, calls one domain service and renders its documented answers; the
//! rules live in `limen-domain`.

mod admin;
mod admin_access;
mod audit_context;
mod background;
mod bimplus;
mod body;
mod client_address;
mod credentials;
mod dialect;
mod flow;
/// Entry points that feed raw bytes to the parsers of client input, for fuzzing.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod gradido;
mod health;
mod lime;
mod logging;
mod metrics;
mod oidc_provider;
mod openapi;
#[cfg(test)]
mod parser_properties;
mod passkeys;
mod qr_svg;
mod refusal;
mod request_id;
mod route_pattern;
mod schema;
mod scim;
mod state;
mod tokens;

pub use admin::admin_openapi_json;
pub use audit_context::audit_context;
pub use background::Background;
pub use logging::RequestSpan;
pub use metrics::{Metrics, record as record_metrics};
pub use openapi::openapi_json;
pub use request_id::request_id;
pub use state::{
    AppState, BimplusSettings, Branding, Dependency, FlowSettings, GradidoSettings, HttpSettings,
    LimeSettings, ReadinessCheck,
};

use actix_web::web;

/// Registers every route of every dialect, with `state` shared by all of them.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let allow_cors_all = state.settings.gradido.allow_cors_all;
        let metrics = state.settings.metrics_on_main_listener;
        cfg.app_data(web::Data::from(state.metrics.clone()))
            .app_data(web::Data::new(state))
            .configure(|cfg| health::routes(cfg, metrics))
            .configure(openapi::routes)
            .configure(flow::routes)
            .configure(tokens::routes)
            .configure(bimplus::routes)
            .configure(|cfg| gradido::routes(cfg, allow_cors_all))
            .configure(lime::routes)
            .configure(oidc_provider::routes)
            .configure(passkeys::routes)
            .default_service(web::to(health::not_found));
    }
}

/// Registers the management listener's routes (metrics, health, and the
/// administration API and SCIM unless switched off), with `state`.
pub fn configure_management(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let (admin_api, scim) = (state.settings.admin_api, state.settings.scim);
        cfg.app_data(web::Data::from(state.metrics.clone()))
            .app_data(web::Data::new(state))
            .configure(health::management_routes);
        if admin_api {
            cfg.configure(admin::routes);
        }
        if scim {
            cfg.configure(scim::routes);
        }
        cfg.default_service(web::to(health::not_found));
    }
}
