//! Where clients put their tokens.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The cookie the `flow` dialect documents for its token.
pub const FLOW_COOKIE: &str = "MOJITO_SESSION_ID_V2";

/// Why no token could be taken from a request.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The request carries no token anywhere.
    Missing,
    /// A token-bearing header is present but malformed (for example `Bearer` with
    /// nothing after it).
    Malformed,
}

/// The token of a request that may carry it, in order of precedence, as
/// `Authorization: Bearer <token>`, as `?access_token=<token>`, or as the
/// `MOJITO_SESSION_ID_V2` cookie. An `Authorization` header of another scheme
/// (for example `Basic`) is not a token and is passed over.
pub fn request_token(req: &HttpRequest) -> Result<String, TokenError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| TokenError::Malformed)?;
        if let Some(token) = bearer(value)? {
            return Ok(token);
        }
    }
    if let Some(token) = query_token(req.query_string())? {
        return Ok(token);
    }
    if let Some(cookie) = req.cookie(FLOW_COOKIE) {
        let value = cookie.value().trim();
        if !value.is_empty() {
            return Ok(value.to_owned());
        }
    }
    Err(TokenError::Missing)
}

/// The token of an `Authorization: Bearer` value; `None` for another scheme.
fn bearer(value: &str) -> Result<Option<String>, TokenError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(TokenError::Malformed);
    }
    Ok(Some(token.to_owned()))
}

fn query_token(query: &str) -> Result<Option<String>, TokenError> {
    if query.is_empty() {
        return Ok(None);
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| TokenError::Malformed)?;
    match pairs.into_iter().find(|(name, _)| name == "access_token") {
        Some((_, token)) if token.trim().is_empty() => Err(TokenError::Malformed),
        Some((_, token)) => Ok(Some(token.trim().to_owned())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn bearer_header_wins_over_query_and_cookie() {
        let req = TestRequest::default()
            .uri("/x?access_token=q")
            .insert_header((header::AUTHORIZATION, "Bearer h"))
            .cookie(actix_web::cookie::Cookie::new(FLOW_COOKIE, "c"))
            .to_http_request();
        assert_eq!(request_token(&req), Ok("h".into()));
    }

    #[test]
    fn query_then_cookie_are_used_without_a_header() {
        let req = TestRequest::default()
            .uri("/x?a=1&access_token=q%2Bx")
            .cookie(actix_web::cookie::Cookie::new(FLOW_COOKIE, "c"))
            .to_http_request();
        assert_eq!(request_token(&req), Ok("q+x".into()));
        let req = TestRequest::default()
            .cookie(actix_web::cookie::Cookie::new(FLOW_COOKIE, "c"))
            .to_http_request();
        assert_eq!(request_token(&req), Ok("c".into()));
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_other_schemes_are_passed_over() {
        assert_eq!(bearer("bearer abc"), Ok(Some("abc".into())));
        assert_eq!(bearer("BEARER   abc  "), Ok(Some("abc".into())));
        assert_eq!(bearer("Basic dXNlcjpwdw=="), Ok(None));
    }

    #[test]
    fn empty_or_split_bearer_tokens_are_malformed() {
        assert_eq!(bearer("Bearer"), Err(TokenError::Malformed));
        assert_eq!(bearer("Bearer    "), Err(TokenError::Malformed));
        assert_eq!(bearer("Bearer a b"), Err(TokenError::Malformed));
        assert_eq!(query_token("access_token="), Err(TokenError::Malformed));
    }

    #[test]
    fn a_request_without_any_token_is_missing_one() {
        let req = TestRequest::default().uri("/x?foo=bar").to_http_request();
        assert_eq!(request_token(&req), Err(TokenError::Missing));
    }
}
