//! `GET` and `POST /oidc/userinfo`: the claims of the access token's user
//! that its scopes allow (OpenID Connect Core §5.3).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::ErrorClass;

use super::{absent, provider};
use crate::AppState;

/// The claims, for `Authorization: Bearer <access token>`.
pub(super) async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let Some(token) = token else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"limen\""))
            .finish();
    };
    match provider.userinfo(&token).await {
        Ok(claims) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims),
        Err(err) if matches!(err.class(), ErrorClass::Busy | ErrorClass::Unavailable) => {
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .finish()
        }
        Err(_) => HttpResponse::Unauthorized()
            .insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"limen\", error=\"invalid_token\"",
            ))
            .finish(),
    }
}
