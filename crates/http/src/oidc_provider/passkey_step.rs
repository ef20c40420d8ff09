//! A passkey on the login page: the assertion the page's script
//! (`/oidc/assets/passkey.js`) put in the page's own form, logged in with
//! the page's grant.

use actix_web::HttpResponse;
use limen_domain::DomainError;

use super::authorize::{Step, get};

/// A login with a passkey: the assertion the page's script put in the form.
pub(super) async fn log_in(step: &Step<'_>, pairs: &[(String, String)]) -> HttpResponse {
    let ceremony = get(pairs, "ceremony").unwrap_or_default();
    let Ok(credential) =
        serde_json::from_str::<serde_json::Value>(&get(pairs, "credential").unwrap_or_default())
    else {
        return step.again(&DomainError::InvalidInput("credential is not JSON".into()), "");
    };
    let grant = step.provider.code_grant(step.request.clone(), &["hwk", "user"]);
    let done = step
        .state
        .services
        .passkeys
        .log_in(&ceremony, &credential, &step.state.client(step.req), grant)
        .await;
    match done {
        Ok(done) => step.logged_in(&done.granted),
        Err(err) => step.again(&err, ""),
    }
}
