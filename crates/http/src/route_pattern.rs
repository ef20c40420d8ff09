//! The route pattern a request matched (`/authentication/users/{id}`), worked
//! out once per request and kept in its extensions for the span, the metrics
//! and the audit context. Never the path itself: a path may carry a token.

use std::rc::Rc;

use actix_web::{HttpMessage, HttpRequest};

/// What stands for a path that matches no route.
pub(crate) const NO_ROUTE: &str = "(no route)";

/// The pattern, in the request's extensions.
#[derive(Clone)]
struct RoutePattern(Rc<str>);

/// The pattern `request` matched, or `NO_ROUTE`.
pub(crate) fn route_pattern(request: &HttpRequest) -> Rc<str> {
    if let Some(known) = request.extensions().get::<RoutePattern>() {
        return known.0.clone();
    }
    let pattern: Rc<str> = request.match_pattern().as_deref().unwrap_or(NO_ROUTE).into();
    request.extensions_mut().insert(RoutePattern(pattern.clone()));
    pattern
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_request_without_a_route_has_the_placeholder_and_keeps_it() {
        let request = TestRequest::default()
            .uri("/secret-token-in-path")
            .to_http_request();
        assert_eq!(&*route_pattern(&request), NO_ROUTE);
        assert!(request.extensions().get::<RoutePattern>().is_some());
        assert_eq!(&*route_pattern(&request), NO_ROUTE);
    }
}
