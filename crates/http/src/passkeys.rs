//! The passkey JSON API (`docs/passkeys.md`): registration by a logged-in
//! user and login without a username, in WebAuthn Level 3's JSON encodings,
//! for applications that drive the ceremonies themselves. A login answers
//! what a `flow` login answers, and every refusal is in the `flow` dialect's
//! error shape, so a flow client can use it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::services::{AccessGrant, PasskeyCeremony};
use limen_domain::{DomainError, ErrorClass};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::body::{decode, read_limited};
use crate::flow::FlowError;
use crate::flow::error::ErrorBody;
use crate::flow::login::{RestToken, rest_token};
use crate::flow::session::FlowSession;

/// Registers the API's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/passkeys/registration/options").route(web::post().to(registration_options)))
        .service(web::resource("/passkeys/registration").route(web::post().to(register)))
        .service(
            web::resource("/passkeys/authentication/options").route(web::post().to(authentication_options)),
        )
        .service(web::resource("/passkeys/authentication").route(web::post().to(authenticate)));
}

/// A started ceremony.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CeremonyAnswer {
    /// Limen's name for the ceremony; its finish sends it back.
    ceremony: String,
    /// `PublicKeyCredentialCreationOptionsJSON` or
    /// `PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3), for
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON`.
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    public_key: serde_json::Value,
}

impl From<PasskeyCeremony> for CeremonyAnswer {
    fn from(started: PasskeyCeremony) -> Self {
        let public_key = started.options.get("publicKey").cloned().unwrap_or_default();
        Self {
            ceremony: started.ceremony,
            public_key,
        }
    }
}

/// A registration's finish.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RegistrationRequest {
    /// The `ceremony` of the options.
    ceremony: String,
    /// The user's name for the passkey: 1 to 64 characters.
    name: String,
    /// `RegistrationResponseJSON`: `credential.toJSON()` of the created credential.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// A registered passkey.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RegisteredPasskey {
    /// Its id.
    id: i64,
    /// Its name.
    name: String,
}

/// A login's options request.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct AuthenticationOptionsRequest {
    /// Accepted and not needed: the login is discoverable, the authenticator
    /// offers the user's passkeys.
    #[allow(dead_code)]
    username: Option<String>,
}

/// A login's finish.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AuthenticationRequest {
    /// The `ceremony` of the options.
    ceremony: String,
    /// `AuthenticationResponseJSON`: `credential.toJSON()` of the assertion.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// 404 while passkeys are off.
fn enabled(state: &AppState) -> Result<(), FlowError> {
    if state.services.passkeys.is_enabled() {
        Ok(())
    } else {
        Err(FlowError::not_found("Passkeys are not enabled on this server."))
    }
}

/// A refusal of a passkey login: the dialect's error, told as a passkey's.
fn refused(err: DomainError) -> FlowError {
    match err.class() {
        ErrorClass::WrongCredentials => {
            FlowError::new(StatusCode::UNAUTHORIZED, "The passkey was not accepted.")
        }
        ErrorClass::InvalidToken => FlowError::new(
            StatusCode::UNAUTHORIZED,
            "The passkey ceremony is unknown, spent, expired or another session's: start it again.",
        ),
        _ => err.into(),
    }
}

async fn body_of<T: for<'de> Deserialize<'de>>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<T, FlowError> {
    let body = read_limited(req, payload, state.settings.max_body_bytes).await?;
    Ok(decode(req, &body)?)
}

/// Starts registering a passkey for the session's user.
#[utoipa::path(
    post,
    path = "/passkeys/registration/options",
    operation_id = "passkeys_registration_options",
    tag = "passkeys",
    security(("flowBearer" = []), ("flowCookie" = [])),
    responses(
        (status = 200, description = "The options for `navigator.credentials.create`", body = CeremonyAnswer),
        (status = 401, description = "No session, or an expired one", body = ErrorBody),
        (status = 404, description = "Passkeys are not enabled on this server", body = ErrorBody),
    ),
)]
pub async fn registration_options(
    session: FlowSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    enabled(&state)?;
    let session = session.0;
    let started = state
        .services
        .passkeys
        .registration_options(&session.user, &session.token.hash)
        .await?;
    Ok(HttpResponse::Ok().json(CeremonyAnswer::from(started)))
}

/// Finishes a registration begun by this session.
#[utoipa::path(
    post,
    path = "/passkeys/registration",
    operation_id = "passkeys_register",
    tag = "passkeys",
    security(("flowBearer" = []), ("flowCookie" = [])),
    request_body(content = RegistrationRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = RegisteredPasskey),
        (status = 400, description = "The body, the name or the credential is unusable", body = ErrorBody),
        (status = 401, description = "No session; or the ceremony is unknown, spent, expired or another session's", body = ErrorBody),
        (status = 404, description = "Passkeys are not enabled on this server", body = ErrorBody),
        (status = 409, description = "The passkey, or a passkey by that name, is registered already", body = ErrorBody),
    ),
)]
pub async fn register(
    req: HttpRequest,
    session: FlowSession,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    enabled(&state)?;
    let request: RegistrationRequest = body_of(&req, payload, &state).await?;
    let session = session.0;
    let passkey = state
        .services
        .passkeys
        .register(
            &session.user,
            &session.token.hash,
            &request.ceremony,
            &request.name,
            &request.credential,
        )
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Created().json(RegisteredPasskey {
        id: passkey.id,
        name: passkey.name,
    }))
}

/// Starts a login with any of the user's passkeys.
#[utoipa::path(
    post,
    path = "/passkeys/authentication/options",
    operation_id = "passkeys_authentication_options",
    tag = "passkeys",
    request_body(content = AuthenticationOptionsRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The options for `navigator.credentials.get`", body = CeremonyAnswer),
        (status = 404, description = "Passkeys are not enabled on this server", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address", body = ErrorBody),
    ),
)]
pub async fn authentication_options(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    enabled(&state)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    // An empty body is a request without a username.
    if !body.is_empty() {
        let _: AuthenticationOptionsRequest = decode(&req, &body)?;
    }
    let started = state.services.passkeys.login_options(&state.client(&req)).await?;
    Ok(HttpResponse::Ok().json(CeremonyAnswer::from(started)))
}

/// Finishes a login: the flow dialect's token.
#[utoipa::path(
    post,
    path = "/passkeys/authentication",
    operation_id = "passkeys_authenticate",
    tag = "passkeys",
    request_body(content = AuthenticationRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in: the flow dialect's answer", body = RestToken),
        (status = 400, description = "The body or the credential is unusable", body = ErrorBody),
        (status = 401, description = "The passkey was not accepted, or the ceremony is unknown, spent or expired", body = ErrorBody),
        (status = 403, description = "The account is locked", body = ErrorBody),
        (status = 404, description = "Passkeys are not enabled on this server", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address", body = ErrorBody),
    ),
)]
pub async fn authenticate(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    enabled(&state)?;
    let request: AuthenticationRequest = body_of(&req, payload, &state).await?;
    let done = state
        .services
        .passkeys
        .log_in(
            &request.ceremony,
            &request.credential,
            &state.client(&req),
            AccessGrant::new(state.settings.flow.token_ttl),
        )
        .await
        .map_err(refused)?;
    Ok(rest_token(false, &done.granted.plaintext))
}
