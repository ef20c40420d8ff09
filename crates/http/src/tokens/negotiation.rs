//! "Response content type depends on Accept": Limen produces JSON only.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The `Accept` values the description offers, each allowing JSON. The server
/// takes any list of ranges one of which covers `application/json` with a
/// quality above zero.
#[derive(utoipa::ToSchema)]
#[schema(as = TokensAccept)]
#[expect(
    dead_code,
    reason = "a type of the description only: headers are read as text"
)]
pub(crate) enum JsonAccept {
    /// JSON itself.
    #[serde(rename = "application/json")]
    Json,
    /// Any application type.
    #[serde(rename = "application/*")]
    Application,
    /// Anything.
    #[serde(rename = "*/*")]
    Any,
}

/// Whether the client accepts JSON: no `Accept`, or a range covering
/// `application/json` with a non-zero quality.
pub fn accepts_json(req: &HttpRequest) -> bool {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .collect();
    if values.is_empty() {
        return true;
    }
    values.iter().flat_map(|value| value.split(',')).any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality_zero = parts.any(|param| {
            let param = param.trim().to_ascii_lowercase();
            param
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !quality_zero && matches!(media.as_str(), "application/json" | "application/*" | "*/*")
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn with_accept(value: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default();
        if let Some(value) = value {
            req = req.insert_header((header::ACCEPT, value));
        }
        req.to_http_request()
    }

    #[test]
    fn json_wildcards_and_no_header_are_acceptable() {
        for value in [
            None,
            Some("application/json"),
            Some("*/*"),
            Some("text/html, application/*;q=0.5"),
            Some("Application/JSON; charset=utf-8"),
        ] {
            assert!(accepts_json(&with_accept(value)), "{value:?}");
        }
    }

    #[test]
    fn other_types_and_zero_quality_are_not() {
        for value in ["text/html", "application/xml", "application/json;q=0", "text/*"] {
            assert!(!accepts_json(&with_accept(Some(value))), "{value}");
        }
    }
}
