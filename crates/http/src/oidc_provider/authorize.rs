//! `GET /oidc/authorize` checks the request and shows the login page;
//! `POST /oidc/authorize` takes the password (then the second factor) and
//! sends the browser back to the client with a code (303, RFC 9700 §4.12).
//! The request travels in hidden inputs and is checked again at every step;
//! a CSRF token in a cookie must match the form's.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use limen_domain::model::{
    AuthorizationParams, AuthorizationRefusal, AuthorizationRequest, Password, Untrusted,
};
use limen_domain::services::{LoginOutcome, OidcProvider, ProviderLogin};
use limen_domain::{DomainError, ErrorClass};

use super::page::{self, Page};
use super::texts::{Lang, Text};
use super::{absent, csrf, provider};
use crate::AppState;

/// The cookie holding the browser's session with the provider (single sign-on).
pub(super) const SESSION_COOKIE: &str = "limen_oidc_session";

/// How long a login waits for its second factor.
const PENDING_TTL: chrono::Duration = chrono::Duration::minutes(5);

/// The request's parameters by name (the first of each).
pub(super) fn pairs_of(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(text).unwrap_or_default()
}

pub(super) fn get(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

fn params_of(pairs: &[(String, String)]) -> AuthorizationParams {
    AuthorizationParams {
        client_id: get(pairs, "client_id"),
        redirect_uri: get(pairs, "redirect_uri"),
        response_type: get(pairs, "response_type"),
        scope: get(pairs, "scope"),
        state: get(pairs, "state"),
        nonce: get(pairs, "nonce"),
        code_challenge: get(pairs, "code_challenge"),
        code_challenge_method: get(pairs, "code_challenge_method"),
        prompt: get(pairs, "prompt"),
        max_age: get(pairs, "max_age"),
        request_object: get(pairs, "request").is_some(),
        request_uri: get(pairs, "request_uri").is_some(),
    }
}

/// The request as hidden inputs, with the CSRF token (and the pending login).
fn hidden(params: &AuthorizationParams, csrf: &str, pending: Option<&str>) -> Vec<(String, String)> {
    let named = [
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("response_type", &params.response_type),
        ("scope", &params.scope),
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("prompt", &params.prompt),
        ("max_age", &params.max_age),
    ];
    let mut fields: Vec<(String, String)> = named
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|value| (name.to_owned(), value)))
        .collect();
    fields.push(("csrf".into(), csrf.to_owned()));
    if let Some(pending) = pending {
        fields.push(("pending".into(), pending.to_owned()));
    }
    fields
}

/// The page's site name and the browser's language.
pub(super) fn page_for<'a>(provider: &'a OidcProvider, req: &HttpRequest) -> Page<'a> {
    Page {
        site: &provider.settings().site_name,
        lang: Lang::of(req),
    }
}

pub(super) fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(body)
}

/// The answer's URL: the client's redirect URI with `pairs` and `iss` added.
fn back_to(redirect_uri: &str, pairs: &[(&str, &str)], issuer: &str) -> String {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    all.push(("iss", issuer));
    let query = serde_urlencoded::to_string(&all).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{query}")
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refused(provider: &OidcProvider, req: &HttpRequest, refusal: AuthorizationRefusal) -> HttpResponse {
    match refusal {
        AuthorizationRefusal::Shown(why) => {
            let page = page_for(provider, req);
            let message = page.lang.say(match why {
                Untrusted::UnknownClient => Text::UnknownClient,
                Untrusted::UnregisteredRedirect => Text::UnregisteredRedirect,
            });
            html(HttpResponse::BadRequest(), page::refusal(&page, &message))
        }
        AuthorizationRefusal::Redirected {
            redirect_uri,
            state,
            error,
            description,
        } => {
            let mut pairs = vec![("error", error), ("error_description", description.as_str())];
            if let Some(state) = &state {
                pairs.push(("state", state));
            }
            see_other(&back_to(&redirect_uri, &pairs, &provider.settings().issuer))
        }
    }
}

/// The browser back to the client with a fresh login's code, and the
/// session cookie that answers the next client without a login.
fn logged_in(
    provider: &OidcProvider,
    request: &AuthorizationRequest,
    authorized: &ProviderLogin,
) -> HttpResponse {
    let mut answer = with_code(provider, request, &authorized.code);
    let cookie = Cookie::build(SESSION_COOKIE, authorized.session.clone())
        .path("/oidc/")
        .http_only(true)
        .secure(secure(provider))
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            provider.settings().session_ttl.num_seconds(),
        ))
        .finish();
    if let Err(err) = answer.add_cookie(&cookie) {
        tracing::warn!(%err, "could not set the session cookie");
    }
    answer
}

/// Cookies are `Secure` unless the issuer is plain http (a machine's own localhost).
pub(super) fn secure(provider: &OidcProvider) -> bool {
    provider.settings().issuer.starts_with("https://")
}

fn with_code(provider: &OidcProvider, request: &AuthorizationRequest, code: &str) -> HttpResponse {
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    see_other(&back_to(
        &request.redirect_uri,
        &pairs,
        &provider.settings().issuer,
    ))
}

/// What a person reads when a step fails, and the page's status.
fn told(err: &DomainError, lang: Lang) -> (actix_web::http::StatusCode, String) {
    use actix_web::http::StatusCode;
    let retry;
    let (status, text) = match err.class() {
        ErrorClass::WrongCredentials => (StatusCode::UNAUTHORIZED, Text::WrongPassword),
        ErrorClass::WrongCode => (StatusCode::UNAUTHORIZED, Text::WrongCode),
        ErrorClass::Locked(until) => {
            retry = until.to_string();
            (StatusCode::UNAUTHORIZED, Text::Locked(&retry))
        }
        ErrorClass::Throttled(until) => {
            retry = until.to_string();
            (StatusCode::TOO_MANY_REQUESTS, Text::Throttled(&retry))
        }
        ErrorClass::Disabled => (StatusCode::FORBIDDEN, Text::Disabled),
        ErrorClass::EmailNotVerified => (StatusCode::FORBIDDEN, Text::EmailNotVerified),
        ErrorClass::InvalidToken => (StatusCode::UNAUTHORIZED, Text::TookTooLong),
        ErrorClass::Busy | ErrorClass::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Text::Busy),
        _ => (StatusCode::BAD_REQUEST, Text::Failed),
    };
    (status, lang.say(text))
}

/// Shows the login page for a request that passes every check.
pub(super) async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let params = params_of(&pairs_of(req.query_string()));
    let request = match provider.authorize(&params) {
        Ok(request) => request,
        Err(refusal) => return refused(&provider, &req, refusal),
    };
    if let Some(session) = req.cookie(SESSION_COOKIE) {
        match provider.resume(session.value(), &request).await {
            Ok(Some(code)) => return with_code(&provider, &request, &code),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "the browser session could not be read"),
        }
    }
    if let Err(refusal) = provider.login_needed(&request) {
        return refused(&provider, &req, refusal);
    }
    let csrf = csrf::token(&req);
    let body = page::login(
        &page_for(&provider, &req),
        &request.client_id,
        &hidden(&params, &csrf, None),
        "",
        None,
    );
    let mut builder = HttpResponse::Ok();
    builder.cookie(csrf::cookie(&provider, csrf));
    html(builder, body)
}

/// Takes a step of the login page.
pub(super) async fn submit(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let pairs = pairs_of(std::str::from_utf8(&body).unwrap_or_default());
    let csrf = get(&pairs, "csrf").unwrap_or_default();
    let page = page_for(&provider, &req);
    if !csrf::matches(&req, Some(&csrf)) {
        let message = page.lang.say(Text::ExpiredForm);
        return html(HttpResponse::Forbidden(), page::refusal(&page, &message));
    }
    let params = params_of(&pairs);
    let request = match provider.authorize(&params) {
        Ok(request) => request,
        Err(refusal) => return refused(&provider, &req, refusal),
    };
    if let (Some(pending), Some(code)) = (get(&pairs, "pending"), get(&pairs, "code")) {
        let grant = provider.code_grant(request.clone(), &["pwd", "otp"]);
        return match state
            .services
            .two_factor
            .complete_login(&pending, &code, grant)
            .await
        {
            Ok(authorized) => logged_in(&provider, &request, &authorized),
            Err(err) => {
                let (status, message) = told(&err, page.lang);
                // A pending login that ended (too many codes, too late) starts over.
                let body = if matches!(err.class(), ErrorClass::InvalidToken) {
                    page::login(
                        &page,
                        &request.client_id,
                        &hidden(&params, &csrf, None),
                        "",
                        Some(&message),
                    )
                } else {
                    page::second_factor(&page, &hidden(&params, &csrf, Some(&pending)), Some(&message))
                };
                html(HttpResponse::build(status), body)
            }
        };
    }
    let username = get(&pairs, "username").unwrap_or_default();
    let password = Password::new(get(&pairs, "password").unwrap_or_default());
    let again = |err: &DomainError| {
        let (status, message) = told(err, page.lang);
        let body = page::login(
            &page,
            &request.client_id,
            &hidden(&params, &csrf, None),
            &username,
            Some(&message),
        );
        html(HttpResponse::build(status), body)
    };
    let _ticket = match state.admit_login(&req) {
        Ok(ticket) => ticket,
        Err(err) => return again(&err),
    };
    let grant = provider.code_grant(request.clone(), &["pwd"]);
    let outcome = state
        .services
        .password_login
        .login_or_pending(&username, &password, &state.client(&req), grant, PENDING_TTL)
        .await;
    match outcome {
        Ok(LoginOutcome::LoggedIn(done)) => logged_in(&provider, &request, &done.granted),
        Ok(LoginOutcome::SecondFactorRequired { pending, .. }) => html(
            HttpResponse::Ok(),
            page::second_factor(&page, &hidden(&params, &csrf, Some(&pending.plaintext)), None),
        ),
        Err(err) => again(&err),
    }
}
