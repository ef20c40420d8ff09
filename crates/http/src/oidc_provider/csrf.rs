//! The hosted pages' CSRF token: a random value in a cookie and in a hidden
//! input of each form (double submit); a form whose token is not the
//! cookie's was not sent from Limen's page.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use limen_domain::services::OidcProvider;

use super::authorize::secure;

/// The cookie holding the token.
const COOKIE: &str = "limen_oidc_csrf";

/// 64 hexadecimal characters (two random UUIDs).
const LENGTH: usize = 64;

/// The browser's token, or a new one.
pub(super) fn token(req: &HttpRequest) -> String {
    req.cookie(COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| value.len() == LENGTH)
        .unwrap_or_else(|| {
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        })
}

/// The cookie that holds `token`.
pub(super) fn cookie(provider: &OidcProvider, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/oidc/")
        .http_only(true)
        .secure(secure(provider))
        .same_site(SameSite::Lax)
        .finish()
}

/// Whether a form's `csrf` value is the browser's cookie's.
pub(super) fn matches(req: &HttpRequest, sent: Option<&str>) -> bool {
    let kept = req.cookie(COOKIE);
    matches!((kept, sent), (Some(kept), Some(sent)) if sent.len() == LENGTH && kept.value() == sent)
}
