//! Request spans that never record a query string or a path segment: the `flow`
//! dialect allows the token as `?access_token=`, the verification link carries
//! one in its path, and tokens must not reach the logs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use crate::request_id::RequestIdentity;
use crate::route_pattern::route_pattern;

/// The root span of every request: method, route pattern (`/account/checkEmail/{code}`,
/// never the values in it; `(no route)` for paths that match none), request id, status.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The `X-Request-Id` one (`request_id` middleware) when it ran,
        // tracing-actix-web's own otherwise.
        let request_id = {
            let extensions = request.extensions();
            extensions
                .get::<RequestIdentity>()
                .map(ToString::to_string)
                .or_else(|| extensions.get::<RequestId>().map(ToString::to_string))
                .unwrap_or_default()
        };
        // A path that matches no route is not logged: it may carry a token.
        let route = route_pattern(request.request());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        span.in_scope(|| {
            // 503 is Limen shedding load (a full hash pool) or a backend being
            // down: an operator should see it, but it is not a fault in Limen.
            if status == 503 {
                tracing::warn!(status, "request refused: overloaded or a backend is unavailable");
            } else if status >= 500 {
                tracing::error!(status, "request failed");
            } else {
                tracing::info!(status, "request served");
            }
        });
    }
}
