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

/// The token of an `Authorization: Bearer` (or `BimPlus`, the `bimplus`
/// dialect's scheme) value; `None` for another scheme.
fn bearer(value: &str) -> Result<Option<String>, TokenError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("bimplus")) {
        return Ok(None);
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(TokenError::Malformed);
    }
    Ok(Some(token.to_owned()))
}

/// `Authorization: Basic base64(user:password)`: the user and the password.
pub fn basic_credentials(req: &HttpRequest) -> Result<(String, String), TokenError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(TokenError::Missing)?
        .to_str()
        .map_err(|_| TokenError::Malformed)?
        .trim();
    let (scheme, encoded) = value.split_once(' ').ok_or(TokenError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::Missing);
    }
    let decoded = decode_pair(encoded.trim())?;
    // RFC 7617: the user id cannot contain a colon; the password may.
    let (user, password) = decoded.split_once(':').ok_or(TokenError::Malformed)?;
    Ok((user.to_owned(), password.to_owned()))
}

/// `X-Auth-Token: base64(user:userToken)`: the user and the token. Tokens never
/// contain a colon, so the last one separates them.
pub fn x_auth_token(req: &HttpRequest) -> Result<(String, String), TokenError> {
    let value = req
        .headers()
        .get("x-auth-token")
        .ok_or(TokenError::Missing)?
        .to_str()
        .map_err(|_| TokenError::Malformed)?;
    let decoded = decode_pair(value.trim())?;
    let (user, token) = decoded.rsplit_once(':').ok_or(TokenError::Malformed)?;
    if user.is_empty() || token.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok((user.to_owned(), token.to_owned()))
}

/// Standard base64 (padding optional) of UTF-8 text.
fn decode_pair(encoded: &str) -> Result<String, TokenError> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let bytes = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| TokenError::Malformed)?;
    String::from_utf8(bytes).map_err(|_| TokenError::Malformed)
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
    fn basic_and_x_auth_token_pairs_are_decoded() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic YW5uOnB3OndpdGg6Y29sb25z"))
            .insert_header(("X-Auth-Token", "YW5uQGV4YW1wbGUuY29tOnRva2Vu"))
            .to_http_request();
        assert_eq!(
            basic_credentials(&req),
            Ok(("ann".into(), "pw:with:colons".into()))
        );
        assert_eq!(x_auth_token(&req), Ok(("ann@example.com".into(), "token".into())));
    }

    #[test]
    fn bad_base64_and_missing_colons_are_malformed() {
        for value in ["!!!", "YW5u", "Og=="] {
            let req = TestRequest::default()
                .insert_header(("X-Auth-Token", value))
                .to_http_request();
            assert_eq!(x_auth_token(&req), Err(TokenError::Malformed), "{value}");
        }
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic"))
            .to_http_request();
        assert_eq!(basic_credentials(&req), Err(TokenError::Malformed));
        assert_eq!(bearer("BimPlus abc"), Ok(Some("abc".into())));
    }

    #[test]
    fn a_request_without_any_token_is_missing_one() {
        let req = TestRequest::default().uri("/x?foo=bar").to_http_request();
        assert_eq!(request_token(&req), Err(TokenError::Missing));
    }
}
