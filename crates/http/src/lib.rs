//! Limen's HTTP API on actix-web. Each dialect module parses its documented
//! requests, calls one domain service and renders its documented answers; the
//! rules live in `limen-domain`.

mod body;
mod credentials;
mod flow;
mod health;
mod logging;
mod state;

pub use logging::RequestSpan;
pub use state::{AppState, FlowSettings, HttpSettings, ReadinessCheck};

use actix_web::web;

/// Registers every route of every dialect, with `state` shared by all of them.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let state = web::Data::new(state);
        cfg.app_data(state)
            .configure(health::routes)
            .configure(flow::routes)
            .default_service(web::to(health::not_found));
    }
}
