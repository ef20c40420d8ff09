//! An upstream OpenID provider on the login page: the browser sent there,
//! and back through the provider's callback (`/oauth2/authorize/`), where
//! the user it proved is logged in with the page's grant.

use actix_web::{HttpRequest, HttpResponse};
use limen_domain::DomainError;
use limen_domain::services::Identified;

use super::authorize::{Step, get, page_for, pairs_of, params_of, refused, request_query, see_other};
use super::{absent, csrf, provider};
use crate::AppState;

/// Sends the browser to the chosen upstream provider.
pub(super) async fn begin(step: &Step<'_>, pairs: &[(String, String)]) -> HttpResponse {
    let chosen = get(pairs, "provider").unwrap_or_default();
    let begun = step
        .state
        .services
        .openid
        .begin_for_page(
            &request_query(&step.params),
            &chosen,
            &step.state.client(step.req),
        )
        .await;
    match begun {
        Ok(url) => see_other(&url),
        Err(err) => step.again(&err, ""),
    }
}

/// The hosted page's login at an upstream provider has come back through
/// the provider's callback (`/oauth2/authorize/`): the user it proved is
/// logged in and sent to the client with a code, or the page tells why not.
pub(crate) async fn upstream_returned(
    req: &HttpRequest,
    state: &AppState,
    request: &str,
    identified: Result<Box<Identified>, DomainError>,
) -> HttpResponse {
    let Some(provider) = provider(state) else {
        return absent();
    };
    let params = params_of(&pairs_of(request));
    let request = match provider.authorize(&params) {
        Ok(request) => request,
        Err(refusal) => return refused(&provider, state, req, refusal),
    };
    let csrf = csrf::token(req);
    let step = Step {
        req,
        state,
        provider: &provider,
        page: page_for(&provider, state, req),
        params,
        request,
        csrf: csrf.clone(),
    };
    let grant = step.provider.code_grant(step.request.clone(), &["fed"]);
    let done = match identified {
        Ok(identified) => state.services.openid.log_in_identified(identified, grant).await,
        Err(err) => Err(err),
    };
    let mut answer = match done {
        Ok(done) => step.logged_in(&done.granted),
        Err(err) => step.again(&err, ""),
    };
    // The callback's path is outside the cookie's: a new form needs it set.
    if let Err(err) = answer.add_cookie(&csrf::cookie(&provider, csrf)) {
        tracing::warn!(%err, "could not set the CSRF cookie");
    }
    answer
}
