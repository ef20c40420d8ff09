//! `GET /oidc/authorize` checks the request and shows the login page;
//! `POST /oidc/authorize` takes the password (then the second factor), or
//! hands the step to its way in (`bankid_step`, `upstream`, `passkey_step`,
//! by the form's `method`), and sends the browser back to the client with a
//! code (303, RFC 9700 §4.12). The request travels in hidden inputs and is
//! checked again at every step; a CSRF token in a cookie must match the form's.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use limen_domain::model::{
    AuthorizationParams, AuthorizationRefusal, AuthorizationRequest, Password, Untrusted,
};
use limen_domain::services::{LoginOutcome, OidcProvider, ProviderLogin};
use limen_domain::{DomainError, ErrorClass};

use super::page::{self, Alternatives, Page};
use super::texts::{Lang, Text};
use super::{absent, bankid_step, csrf, passkey_step, provider, upstream};
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

pub(super) fn params_of(pairs: &[(String, String)]) -> AuthorizationParams {
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
pub(super) fn hidden(
    params: &AuthorizationParams,
    csrf: &str,
    pending: Option<&str>,
) -> Vec<(String, String)> {
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

/// The page's site name, the browser's language and the operator's look.
pub(super) fn page_for<'a>(provider: &'a OidcProvider, state: &'a AppState, req: &HttpRequest) -> Page<'a> {
    Page {
        site: &provider.settings().site_name,
        lang: Lang::of(req),
        branding: &state.settings.branding,
    }
}

/// The request's parameters, URL-encoded (the page's address without its form).
pub(super) fn request_query(params: &AuthorizationParams) -> String {
    let mut fields = hidden(params, "", None);
    fields.retain(|(name, _)| name != "csrf");
    serde_urlencoded::to_string(&fields).unwrap_or_default()
}

pub(super) fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            // No `form-action`: browsers apply it to the redirect that
            // follows a form (to the client, or to an upstream provider),
            // whose addresses a directive shared by every page cannot list.
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; \
             img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
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

pub(super) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub(super) fn refused(
    provider: &OidcProvider,
    state: &AppState,
    req: &HttpRequest,
    refusal: AuthorizationRefusal,
) -> HttpResponse {
    match refusal {
        AuthorizationRefusal::Shown(why) => {
            let page = page_for(provider, state, req);
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

/// The session cookie that answers the next client without a login.
pub(super) fn add_session_cookie(provider: &OidcProvider, answer: &mut HttpResponse, done: &ProviderLogin) {
    let cookie = Cookie::build(SESSION_COOKIE, done.session.clone())
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
}

/// Cookies are `Secure` unless the issuer is plain http (a machine's own localhost).
pub(super) fn secure(provider: &OidcProvider) -> bool {
    provider.settings().issuer.starts_with("https://")
}

/// The client's redirect URI with `code` (and `state`, and `iss`).
pub(super) fn code_location(provider: &OidcProvider, request: &AuthorizationRequest, code: &str) -> String {
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    back_to(&request.redirect_uri, &pairs, &provider.settings().issuer)
}

/// What a person reads when a step fails, and the page's status.
pub(super) fn told(err: &DomainError, lang: Lang) -> (StatusCode, String) {
    let specific = match err {
        DomainError::BankIdInProgress => Some((StatusCode::CONFLICT, Text::BankIdInProgress)),
        DomainError::BankIdUnavailable(_) => Some((StatusCode::SERVICE_UNAVAILABLE, Text::BankIdStartFailed)),
        DomainError::InvalidInput(_) => Some((StatusCode::BAD_REQUEST, Text::BadPersonalNumber)),
        DomainError::NoUserForPersonalNumber => Some((StatusCode::UNAUTHORIZED, Text::NoUserForBankId)),
        DomainError::SecondFactorRequired => Some((StatusCode::FORBIDDEN, Text::SecondFactorWithPassword)),
        DomainError::PasskeyRefused(_) => Some((StatusCode::UNAUTHORIZED, Text::PasskeyFailed)),
        DomainError::ProviderDenied(_)
        | DomainError::OpenIdRefused(_)
        | DomainError::NoMatchingUser
        | DomainError::UnknownProvider => Some((StatusCode::UNAUTHORIZED, Text::UpstreamFailed)),
        _ => None,
    };
    if let Some((status, text)) = specific {
        return (status, lang.say(text));
    }
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
        Err(refusal) => return refused(&provider, &state, &req, refusal),
    };
    if let Some(session) = req.cookie(SESSION_COOKIE) {
        match provider.resume(session.value(), &request).await {
            Ok(Some(code)) => return see_other(&code_location(&provider, &request, &code)),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "the browser session could not be read"),
        }
    }
    if let Err(refusal) = provider.login_needed(&request) {
        return refused(&provider, &state, &req, refusal);
    }
    let csrf = csrf::token(&req);
    let page = page_for(&provider, &state, &req);
    let body = login_page(&state, &page, &request, &hidden(&params, &csrf, None), "", None);
    let mut builder = HttpResponse::Ok();
    builder.cookie(csrf::cookie(&provider, csrf));
    html(builder, body)
}

/// The login page with every way to log in this server offers.
pub(super) fn login_page(
    state: &AppState,
    page: &Page<'_>,
    request: &AuthorizationRequest,
    fields: &[(String, String)],
    username: &str,
    error: Option<&str>,
) -> String {
    let upstream = state.services.openid.providers();
    let offered = Alternatives {
        bankid: state.services.bankid.is_enabled(),
        upstream: &upstream,
        passkeys: state.services.passkeys.is_enabled(),
    };
    page::login(page, &request.client_id, fields, username, error, &offered)
}

/// One step of the login page: who sent it, and the request it answers.
pub(super) struct Step<'a> {
    pub(super) req: &'a HttpRequest,
    pub(super) state: &'a AppState,
    pub(super) provider: &'a OidcProvider,
    pub(super) page: Page<'a>,
    pub(super) params: AuthorizationParams,
    pub(super) request: AuthorizationRequest,
    pub(super) csrf: String,
}

impl Step<'_> {
    /// The login page again, with `err` told.
    pub(super) fn again(&self, err: &DomainError, username: &str) -> HttpResponse {
        let (status, message) = told(err, self.page.lang);
        let fields = hidden(&self.params, &self.csrf, None);
        let body = login_page(
            self.state,
            &self.page,
            &self.request,
            &fields,
            username,
            Some(&message),
        );
        html(HttpResponse::build(status), body)
    }

    /// The login page's own address, to start over from.
    pub(super) fn retry(&self) -> String {
        format!("/oidc/authorize?{}", request_query(&self.params))
    }

    /// The browser to the client with `done`'s code, and its session cookie.
    pub(super) fn logged_in(&self, done: &ProviderLogin) -> HttpResponse {
        let mut answer = see_other(&code_location(self.provider, &self.request, &done.code));
        add_session_cookie(self.provider, &mut answer, done);
        answer
    }
}

/// Takes a step of the login page.
pub(super) async fn submit(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(provider) = provider(&state) else {
        return absent();
    };
    let pairs = pairs_of(std::str::from_utf8(&body).unwrap_or_default());
    let csrf = get(&pairs, "csrf").unwrap_or_default();
    let page = page_for(&provider, &state, &req);
    let method = get(&pairs, "method");
    if !csrf::matches(&req, Some(&csrf)) {
        let message = page.lang.say(Text::ExpiredForm);
        if method.as_deref() == Some("bankid_collect") && bankid_step::wants_json(&req) {
            return bankid_step::progress(StatusCode::FORBIDDEN, "failed", &message, None);
        }
        return html(HttpResponse::Forbidden(), page::refusal(&page, &message));
    }
    let params = params_of(&pairs);
    let request = match provider.authorize(&params) {
        Ok(request) => request,
        Err(refusal) => return refused(&provider, &state, &req, refusal),
    };
    let step = Step {
        req: &req,
        state: &state,
        provider: &provider,
        page,
        params,
        request,
        csrf,
    };
    match method.as_deref() {
        Some("bankid") => bankid_step::start(&step, &pairs).await,
        Some("bankid_collect") => bankid_step::collect(&step, &pairs).await,
        Some("upstream") => upstream::begin(&step, &pairs).await,
        Some("passkey") => passkey_step::log_in(&step, &pairs).await,
        _ => match (get(&pairs, "pending"), get(&pairs, "code")) {
            (Some(pending), Some(code)) => second_factor(&step, &pending, &code).await,
            _ => password(&step, &pairs).await,
        },
    }
}

async fn password(step: &Step<'_>, pairs: &[(String, String)]) -> HttpResponse {
    let username = get(pairs, "username").unwrap_or_default();
    let password = Password::new(get(pairs, "password").unwrap_or_default());
    let _ticket = match step.state.admit_login(step.req) {
        Ok(ticket) => ticket,
        Err(err) => return step.again(&err, &username),
    };
    let grant = step.provider.code_grant(step.request.clone(), &["pwd"]);
    let outcome = step
        .state
        .services
        .password_login
        .login_or_pending(
            &username,
            &password,
            &step.state.client(step.req),
            grant,
            PENDING_TTL,
        )
        .await;
    match outcome {
        Ok(LoginOutcome::LoggedIn(done)) => step.logged_in(&done.granted),
        Ok(LoginOutcome::SecondFactorRequired { pending, .. }) => {
            let fields = hidden(&step.params, &step.csrf, Some(&pending.plaintext));
            html(HttpResponse::Ok(), page::second_factor(&step.page, &fields, None))
        }
        Err(err) => step.again(&err, &username),
    }
}

async fn second_factor(step: &Step<'_>, pending: &str, code: &str) -> HttpResponse {
    let grant = step.provider.code_grant(step.request.clone(), &["pwd", "otp"]);
    match step
        .state
        .services
        .two_factor
        .complete_login(pending, code, grant)
        .await
    {
        Ok(done) => step.logged_in(&done),
        // A pending login that ended (too many codes, too late) starts over.
        Err(err) if matches!(err.class(), ErrorClass::InvalidToken) => step.again(&err, ""),
        Err(err) => {
            let (status, message) = told(&err, step.page.lang);
            let fields = hidden(&step.params, &step.csrf, Some(pending));
            html(
                HttpResponse::build(status),
                page::second_factor(&step.page, &fields, Some(&message)),
            )
        }
    }
}
