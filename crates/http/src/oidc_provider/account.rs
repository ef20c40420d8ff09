//! `GET` and `POST /oidc/account`: the account page, where a user with a
//! browser session lists, adds, renames and removes their passkeys. Without
//! a session the browser goes to the login page as the account page's own
//! client (`ACCOUNT_CLIENT`) and comes back with one. Adding a passkey needs
//! a login within the last few minutes; its ceremony runs in
//! /oidc/assets/account.js against this page's own form actions.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use limen_domain::services::{ACCOUNT_CLIENT, BrowserSession, OidcProvider};
use limen_domain::{DomainError, ErrorClass};

use super::authorize::{SESSION_COOKIE, get, html, page_for, pairs_of, see_other};
use super::page::{self, AccountView, Page};
use super::texts::Text;
use super::{absent, csrf, provider};
use crate::AppState;

/// How recent a login must be to add a passkey: a stolen session alone
/// cannot add the thief's.
const RECENT_LOGIN_SECS: i64 = 300;

/// The login page for the account page, as its client; `prompt=login` asks
/// for a fresh login whatever the session.
fn login_url(provider: &OidcProvider, fresh: bool) -> String {
    // A challenge nobody knows the verifier of (32 random bytes): the code
    // that comes back is never exchanged.
    let random = [*uuid::Uuid::new_v4().as_bytes(), *uuid::Uuid::new_v4().as_bytes()].concat();
    let mut pairs = vec![
        ("client_id", ACCOUNT_CLIENT.to_owned()),
        ("redirect_uri", format!("{}/account", provider.settings().issuer)),
        ("response_type", "code".to_owned()),
        ("scope", "openid".to_owned()),
        ("code_challenge", URL_SAFE_NO_PAD.encode(random)),
        ("code_challenge_method", "S256".to_owned()),
    ];
    if fresh {
        pairs.push(("prompt", "login".to_owned()));
    }
    format!(
        "/oidc/authorize?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// The browser's session, when it has a live one.
async fn session_of(
    req: &HttpRequest,
    provider: &OidcProvider,
) -> Result<Option<BrowserSession>, DomainError> {
    match req.cookie(SESSION_COOKIE) {
        Some(cookie) => provider.browser_session(cookie.value()).await,
        None => Ok(None),
    }
}

fn recent(provider: &OidcProvider, session: &BrowserSession) -> bool {
    provider.logged_in_within(session, chrono::Duration::seconds(RECENT_LOGIN_SECS))
}

/// The page for `session`, with a message or an error.
async fn render(
    state: &AppState,
    provider: &OidcProvider,
    page: &Page<'_>,
    session: &BrowserSession,
    csrf: &str,
    told: Option<(bool, String)>,
) -> Result<String, DomainError> {
    let passkeys = state.services.passkeys.list(session.user.id).await?;
    let view = AccountView {
        username: &session.user.username,
        passkeys: &passkeys,
        csrf,
        can_add: state.services.passkeys.is_enabled() && recent(provider, session),
        passkeys_on: state.services.passkeys.is_enabled(),
        relogin: &login_url(provider, true),
    };
    Ok(page::account(
        page,
        &view,
        told.as_ref().map(|(ok, text)| (*ok, text.as_str())),
    ))
}

/// The page, or the login first.
pub(super) async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let session = match session_of(&req, &provider).await {
        Ok(Some(session)) => session,
        Ok(None) => return see_other(&login_url(&provider, false)),
        Err(err) => return failed(&provider, &state, &req, &err),
    };
    // Back from the login: the address loses its code.
    if !req.query_string().is_empty() {
        return see_other("/oidc/account");
    }
    let csrf = csrf::token(&req);
    let page = page_for(&provider, &state, &req);
    match render(&state, &provider, &page, &session, &csrf, None).await {
        Ok(body) => {
            let mut builder = HttpResponse::Ok();
            builder.cookie(csrf::cookie(&provider, csrf));
            html(builder, body)
        }
        Err(err) => failed(&provider, &state, &req, &err),
    }
}

fn failed(provider: &OidcProvider, state: &AppState, req: &HttpRequest, err: &DomainError) -> HttpResponse {
    tracing::warn!(error = %err, "the account page failed");
    let page = page_for(provider, state, req);
    let message = page.lang.say(Text::Busy);
    html(HttpResponse::ServiceUnavailable(), page::refusal(&page, &message))
}

/// A JSON answer for the page's script.
fn json(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// A form of the page: rename or remove (the page again), or a passkey's
/// registration (JSON, for the page's script).
pub(super) async fn act(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let pairs = pairs_of(std::str::from_utf8(&body).unwrap_or_default());
    let action = get(&pairs, "action").unwrap_or_default();
    let page = page_for(&provider, &state, &req);
    let scripted = matches!(action.as_str(), "add_options" | "add");
    let csrf = get(&pairs, "csrf").unwrap_or_default();
    if !csrf::matches(&req, Some(&csrf)) {
        let message = page.lang.say(Text::ExpiredForm);
        if scripted {
            return json(StatusCode::FORBIDDEN, serde_json::json!({ "message": message }));
        }
        return html(HttpResponse::Forbidden(), page::refusal(&page, &message));
    }
    let session = match session_of(&req, &provider).await {
        Ok(Some(session)) => session,
        Ok(None) if scripted => {
            let message = page.lang.say(Text::LogInAgain);
            return json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "message": message }),
            );
        }
        Ok(None) => return see_other(&login_url(&provider, false)),
        Err(err) => return failed(&provider, &state, &req, &err),
    };
    let passkeys = &state.services.passkeys;
    let name = get(&pairs, "name").unwrap_or_default();
    let told = |err: &DomainError| {
        let text = match err.class() {
            ErrorClass::Conflict if matches!(err, DomainError::LastWayIn) => Text::LastWayIn,
            ErrorClass::Conflict => Text::NameTaken,
            ErrorClass::InvalidInput => Text::BadPasskeyName,
            _ => Text::Failed,
        };
        page.lang.say(text)
    };
    let outcome = match action.as_str() {
        "add_options" if recent(&provider, &session) => {
            return match passkeys
                .registration_options(&session.user, &session.token.hash)
                .await
            {
                Ok(started) => json(
                    StatusCode::OK,
                    serde_json::json!({
                        "ceremony": started.ceremony,
                        "publicKey": started.options.get("publicKey").cloned().unwrap_or_default(),
                    }),
                ),
                Err(err) => json(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({ "message": told(&err) }),
                ),
            };
        }
        "add_options" | "add" if !recent(&provider, &session) => {
            let message = page.lang.say(Text::LogInAgain);
            return json(StatusCode::FORBIDDEN, serde_json::json!({ "message": message }));
        }
        "add" => {
            let credential = get(&pairs, "credential")
                .and_then(|credential| serde_json::from_str(&credential).ok())
                .unwrap_or_default();
            let ceremony = get(&pairs, "ceremony").unwrap_or_default();
            return match passkeys
                .register(&session.user, &session.token.hash, &ceremony, &name, &credential)
                .await
            {
                Ok(passkey) => json(
                    StatusCode::CREATED,
                    serde_json::json!({ "id": passkey.id, "name": passkey.name }),
                ),
                Err(err) => json(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({ "message": told(&err) }),
                ),
            };
        }
        "rename" => {
            let new_name = get(&pairs, "new_name").unwrap_or_default();
            passkeys
                .rename(session.user.id, &name, &new_name)
                .await
                .map(|()| page.lang.say(Text::Renamed))
        }
        "remove" => passkeys
            .remove(&session.user, &name, false)
            .await
            .map(|()| page.lang.say(Text::Removed)),
        _ => Err(DomainError::InvalidInput("unknown action".into())),
    };
    let told = match outcome {
        Ok(message) => (true, message),
        Err(err) => (false, told(&err)),
    };
    let status = if told.0 {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    match render(&state, &provider, &page, &session, &csrf, Some(told)).await {
        Ok(body) => html(HttpResponse::build(status), body),
        Err(err) => failed(&provider, &state, &req, &err),
    }
}
