//! OpenID login: `GET /login/openid/` sends the browser to a provider,
//! `GET /oauth2/authorize/` is the provider's callback and sends the browser
//! back to the consumer with a signed payload (or an error code), and
//! `GET /oidc/payload-key` publishes the key that payload is verified with.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use limen_domain::DomainError;
use limen_domain::model::OpenIdError;
use limen_domain::services::{CallbackOutcome, OpenIdCallback, OpenIdConsumer};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::LimeError;
use crate::AppState;

/// What a consumer passes when it starts a login.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StartQuery {
    /// A random string of the consumer's; it comes back in the payload (at
    /// most 512 characters).
    #[param(value_type = String, required = true, min_length = 1, max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    state: Option<String>,
    /// The id of the provider to log in with; the default provider without one.
    provider: Option<String>,
    /// Which allowed consumer URL to return to; the first one without one.
    redirect: Option<String>,
}

/// What the provider's callback carries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// Limen's own state, sent to the provider.
    state: Option<String>,
    /// The authorization code.
    code: Option<String>,
    /// The provider's error code, instead of a code.
    error: Option<String>,
    /// The provider's explanation of its error (logged, not passed on).
    error_description: Option<String>,
    /// The provider's issuer (RFC 9207).
    iss: Option<String>,
}

/// The public key of EdDSA-signed payloads, as a JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimePayloadKeys)]
pub(crate) struct PayloadKeys {
    /// One Ed25519 key (`kty` OKP, `crv` Ed25519, `x`, `kid`, `alg` EdDSA).
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

fn query<T: for<'de> Deserialize<'de> + Default>(req: &HttpRequest) -> Result<T, LimeError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|err| LimeError::bad_request(format!("Unusable query string: {err}.")))
}

fn not_enabled() -> LimeError {
    LimeError::not_found("OpenID login is not enabled on this server.")
}

/// Starts an OpenID login: a redirect to the provider's login page.
#[utoipa::path(
    get,
    path = "/login/openid/",
    operation_id = "lime_openid_login",
    tag = "lime",
    params(StartQuery),
    responses(
        (status = 302, description = "To the provider's login page; or, when the login cannot start, to the consumer with `error` (and `state`)",
            headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "`redirect` is not an allowed consumer URL, or the query string is unusable: no consumer can be told", body = super::error::ErrorBody),
        (status = 404, description = "OpenID login is not enabled", body = super::error::ErrorBody),
    ),
)]
pub async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: StartQuery = match query(&req) {
        Ok(query) => query,
        Err(err) => return err.error_response(),
    };
    let openid = &state.services.openid;
    let consumer = match openid.consumer(query.redirect.as_deref(), query.state.as_deref()) {
        Ok(consumer) => consumer,
        Err(DomainError::NotEnabled(_)) => return not_enabled().error_response(),
        Err(_) => {
            return LimeError::bad_request("redirect is not an allowed consumer URL.").error_response();
        }
    };
    match openid
        .begin(&consumer, query.provider.as_deref(), &state.client(&req))
        .await
    {
        Ok(url) => redirect(&url),
        Err(err) => redirect(&back_with_error(&consumer, &err)),
    }
}

/// The provider's callback: finishes the login and sends the browser back to
/// the consumer with a signed payload, or with an error code.
#[utoipa::path(
    get,
    path = "/oauth2/authorize/",
    operation_id = "lime_openid_callback",
    tag = "lime",
    params(CallbackQuery),
    responses(
        (status = 302, description = "To the consumer with `payload` (a compact JWS, see the dialect's documentation), or with `error` (and `state` when known)",
            headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "The query string is unusable", body = super::error::ErrorBody),
        (status = 404, description = "OpenID login is not enabled", body = super::error::ErrorBody),
    ),
)]
pub async fn callback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: CallbackQuery = match query(&req) {
        Ok(query) => query,
        Err(err) => return err.error_response(),
    };
    let openid = &state.services.openid;
    if openid.providers().is_empty() {
        return not_enabled().error_response();
    }
    if let (Some(error), Some(description)) = (&query.error, &query.error_description) {
        tracing::info!(%error, description = %description.chars().take(200).collect::<String>(), "the OpenID provider answered with an error");
    }
    let callback = OpenIdCallback {
        state: query.state.as_deref(),
        code: query.code.as_deref(),
        error: query.error.as_deref(),
        iss: query.iss.as_deref(),
    };
    match openid.callback(callback).await {
        CallbackOutcome::Consumer(Ok(done)) => {
            redirect(&with_query(&done.consumer.url, &[("payload", &done.payload)]))
        }
        // Only the hosted login page's logins run without consumers.
        CallbackOutcome::Consumer(Err(failed)) if failed.consumer.url.is_empty() => LimeError::bad_request(
            "This login is unknown or already completed: start again from the application.",
        )
        .error_response(),
        CallbackOutcome::Consumer(Err(failed)) => redirect(&back_with_error(&failed.consumer, &failed.error)),
        CallbackOutcome::HostedPage { request, identified } => {
            crate::oidc_provider::upstream_returned(&req, &state, &request, identified).await
        }
    }
}

/// The public key consumers verify EdDSA-signed payloads with.
#[utoipa::path(
    get,
    path = "/oidc/payload-key",
    operation_id = "lime_openid_payload_key",
    tag = "lime",
    responses(
        (status = 200, description = "The key, as a JSON Web Key Set", body = PayloadKeys),
        (status = 404, description = "Payloads are not signed with a public key (HS256, or OpenID login is off)", body = super::error::ErrorBody),
    ),
)]
pub async fn payload_key(state: web::Data<AppState>) -> HttpResponse {
    let keys: Vec<serde_json::Value> = state
        .services
        .openid
        .payload_keys()
        .iter()
        .filter_map(|jwk| serde_json::from_str(jwk).ok())
        .collect();
    if keys.is_empty() {
        return LimeError::not_found("Payloads are not signed with a public key here.").error_response();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(PayloadKeys { keys })
}

/// A redirect that keeps the code or token in its URL out of caches and
/// `Referer` headers.
fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// The consumer's URL with `error` (and `provider_error`, and `state` when known).
fn back_with_error(consumer: &OpenIdConsumer, err: &DomainError) -> String {
    let code = error_code(err);
    let mut pairs: Vec<(&str, &str)> = vec![("error", code)];
    if let DomainError::ProviderDenied(provider_code) = err {
        pairs.push(("provider_error", provider_code));
    }
    if let Some(state) = &consumer.state {
        pairs.push(("state", state));
    }
    with_query(&consumer.url, &pairs)
}

/// The documented error code of each way an OpenID login can fail.
fn error_code(err: &DomainError) -> &'static str {
    match err {
        DomainError::InvalidInput(_) => "invalid_request",
        DomainError::UnknownProvider => "unknown_provider",
        DomainError::InvalidToken => "invalid_state",
        DomainError::ProviderDenied(_) => "provider_error",
        DomainError::OpenIdRefused(OpenIdError::CodeRefused(_)) => "code_refused",
        DomainError::OpenIdRefused(_) => "invalid_id_token",
        DomainError::Unavailable(cause) => {
            tracing::warn!(%cause, "OpenID provider unavailable");
            "provider_unavailable"
        }
        DomainError::NoMatchingUser => "unknown_user",
        DomainError::EmailNotVerified => "email_not_verified",
        DomainError::AccountDisabled => "account_disabled",
        DomainError::AccountLocked { .. } => "account_locked",
        DomainError::TooManyAttempts { .. } => "too_many_requests",
        DomainError::SecondFactorRequired => "second_factor_required",
        other => {
            tracing::error!(error = %other, "OpenID login failed");
            "server_error"
        }
    }
}

/// `url` with `pairs` added to its query string.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = match url.rfind('?') {
        None => "?",
        Some(at) if at + 1 == url.len() || url.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{url}{separator}{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_join_an_existing_query_string() {
        assert_eq!(
            with_query("https://p.example/cb", &[("a", "1 2")]),
            "https://p.example/cb?a=1+2"
        );
        assert_eq!(
            with_query("https://p.example/cb?x=1", &[("a", "&")]),
            "https://p.example/cb?x=1&a=%26"
        );
        assert_eq!(
            with_query("https://p.example/cb?", &[("a", "b")]),
            "https://p.example/cb?a=b"
        );
        assert_eq!(
            with_query("https://p.example/cb?x=1&", &[("a", "b")]),
            "https://p.example/cb?x=1&a=b"
        );
    }
}
