//! `X-Request-Id`: a client's (or proxy's) id is kept when it is a plain
//! one, otherwise Limen makes one; either way it is on every log line of the
//! request and in the answer, so one id follows a request through the
//! proxy's logs, Limen's and the client's.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

/// The header read and answered.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id taken from a request; longer ones are replaced.
const MAX_LEN: usize = 128;

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIdentity(pub String);

impl std::fmt::Display for RequestIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a client's id may go into logs and headers unchanged: 1 to 128
/// letters, digits and `-_.:`, so it can neither forge a log line nor carry
/// much else.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request's id: its `X-Request-Id` when acceptable, a new UUID otherwise.
fn identify(request: &ServiceRequest) -> RequestIdentity {
    let offered = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id));
    RequestIdentity(offered.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
}

/// Middleware (`actix_web::middleware::from_fn`) that gives every request its
/// id before the request span opens, and puts it on the answer. Wrap it
/// outside the tracing middleware.
pub async fn request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = identify(&request);
    let header = HeaderValue::from_str(&id.0).ok();
    request.extensions_mut().insert(id);
    let mut response = next.call(request).await?;
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, header);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn plain_ids_are_kept_and_others_replaced() {
        for kept in ["abc-123", "7f3c2a.b_c:d", &"x".repeat(MAX_LEN)] {
            let request = TestRequest::default()
                .insert_header(("x-request-id", kept))
                .to_srv_request();
            assert_eq!(identify(&request).0, kept);
        }
        for replaced in ["", "two words", "tab\there", "quote\"", &"x".repeat(MAX_LEN + 1)] {
            let request = TestRequest::default()
                .insert_header(("x-request-id", replaced))
                .to_srv_request();
            let id = identify(&request).0;
            assert_ne!(id, replaced);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
        let request = TestRequest::default().to_srv_request();
        assert!(uuid::Uuid::parse_str(&identify(&request).0).is_ok());
    }
}
