//! `GET` and `POST /oidc/end_session`: RP-initiated logout (OpenID Connect
//! RP-Initiated Logout 1.0). With an ID token of Limen's (`id_token_hint`)
//! whose client registered the `post_logout_redirect_uri`, the browser
//! session ends and the browser goes back there with `state`; otherwise
//! Limen's own page asks before ending it (a form with a CSRF token), so
//! that no other site can log a browser out.

use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse, web};

use super::authorize::{SESSION_COOKIE, get, html, page_for, pairs_of};
use super::texts::Text;
use super::{absent, csrf, page, provider};
use crate::AppState;

/// The session cookie, emptied.
fn removal() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/oidc/").finish();
    cookie.make_removal();
    cookie
}

/// Ends the browser's session, if it has one.
async fn end(req: &HttpRequest, provider: &limen_domain::services::OidcProvider) {
    if let Some(session) = req.cookie(SESSION_COOKIE)
        && let Err(err) = provider.end_session(session.value()).await
    {
        tracing::warn!(error = %err, "could not end a browser session");
    }
}

/// The logout a client asks for.
pub(super) async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let pairs = pairs_of(req.query_string());
    let target = provider.logout_target(
        get(&pairs, "id_token_hint").as_deref(),
        get(&pairs, "post_logout_redirect_uri").as_deref(),
        get(&pairs, "client_id").as_deref(),
    );
    if let Some(uri) = target {
        end(&req, &provider).await;
        let location = match get(&pairs, "state") {
            Some(state) => {
                let query = serde_urlencoded::to_string([("state", state)]).unwrap_or_default();
                let separator = if uri.contains('?') { '&' } else { '?' };
                format!("{uri}{separator}{query}")
            }
            None => uri,
        };
        return HttpResponse::SeeOther()
            .insert_header(("Location", location))
            .insert_header(("Cache-Control", "no-store"))
            .cookie(removal())
            .finish();
    }
    if req.cookie(SESSION_COOKIE).is_none() {
        return html(
            HttpResponse::Ok(),
            page::logged_out(&page_for(&provider, &state, &req)),
        );
    }
    let csrf = csrf::token(&req);
    let mut builder = HttpResponse::Ok();
    builder.cookie(csrf::cookie(&provider, csrf.clone()));
    html(
        builder,
        page::confirm_logout(&page_for(&provider, &state, &req), &csrf),
    )
}

/// The person's yes on Limen's own page.
pub(super) async fn confirm(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let pairs = pairs_of(std::str::from_utf8(&body).unwrap_or_default());
    let shown = page_for(&provider, &state, &req);
    if !csrf::matches(&req, get(&pairs, "csrf").as_deref()) {
        let message = shown.lang.say(Text::ExpiredForm);
        return html(HttpResponse::Forbidden(), page::refusal(&shown, &message));
    }
    end(&req, &provider).await;
    let mut builder = HttpResponse::Ok();
    builder.cookie(removal());
    html(builder, page::logged_out(&shown))
}
