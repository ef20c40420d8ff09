//! `POST /login/`: a password (`type` `limecrm`) or the start of a BankID
//! identification (`type` `bankid`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use limen_domain::services::AccessGrant;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{LimeError, api_key};
use crate::AppState;
use crate::body::{decode, read_limited};

/// The documented parameters of both kinds of login.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginRequest {
    /// `limecrm` (username and password) or `bankid` (personal number).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// With `limecrm`: the username (or e-mail address).
    username: Option<String>,
    /// With `limecrm`: the password.
    password: Option<String>,
    /// With `bankid`: the personal number, 12 digits or `YYMMDD-NNNN`.
    personal_number: Option<String>,
}

/// One shape per `type`, each with the fields that `type` needs.
pub(crate) const LOGIN_REQUEST: crate::schema::Written = crate::schema::Written {
    name: "LimeLoginRequest",
    schema: || {
        serde_json::json!({
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "username", "password"],
                    "properties": {
                        "type": {"const": "limecrm"},
                        "username": {"type": "string", "description": "The username (or e-mail address)."},
                        "password": {"type": "string"}
                    }
                },
                {
                    "type": "object",
                    "required": ["type", "personal_number"],
                    "properties": {
                        "type": {"const": "bankid"},
                        "personal_number": {
                            "type": "string",
                            "pattern": r"^\s*([0-9]{12}|[0-9]{8}-[0-9]{4}|[0-9]{6}[-+]?[0-9]{4})\s*$",
                            "description": "A Swedish personal number: 12 digits or `YYMMDD-NNNN`, a real \
                                            date and a valid check digit (which no pattern can say)."
                        }
                    }
                }
            ]
        })
    },
};

impl utoipa::PartialSchema for LoginRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::placeholder()
    }
}

impl ToSchema for LoginRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "LimeLoginRequest".into()
    }
}

/// A password login's answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeLoggedIn)]
pub(crate) struct LoggedIn {
    /// Always true.
    success: bool,
    /// The user, with the keys `[dialects.lime.user_fields]` names.
    #[schema(value_type = Object)]
    user: Map<String, Value>,
    /// A Limen access token for the user (Limen's addition): valid on every
    /// endpoint that takes one, e.g. `GET /authentication/user`.
    token: String,
}

/// A started BankID identification: poll `/bankid/collect/` with the id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeBankIdStarted)]
pub(crate) struct BankIdStarted {
    /// Always true.
    success: bool,
    /// Limen's name of the order, for `/bankid/collect/`.
    transaction_id: String,
    /// Starts the BankID app on the same device:
    /// `bankid:///?autostarttoken=<token>&redirect=null`.
    #[serde(rename = "autoStartToken")]
    auto_start_token: String,
    /// The animated QR code's first content; `/bankid/collect/` gives the
    /// current one each second.
    qr: String,
}

/// One of the two answers, by `type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = LimeLoginAnswer)]
pub(crate) enum LoginAnswer {
    /// `limecrm`: logged in.
    LoggedIn(LoggedIn),
    /// `bankid`: started.
    Started(BankIdStarted),
}

/// Logs in with a password, or starts a BankID identification.
#[utoipa::path(
    post,
    path = "/login/",
    operation_id = "lime_login",
    tag = "lime",
    security((), ("limeApiKey" = [])),
    request_body(content(
        (LoginRequest = "application/json",
            example = json!({"type": "limecrm", "username": "john.doe", "password": "mysecret123!"})),
        (LoginRequest = "application/x-www-form-urlencoded",
            example = json!({"type": "bankid", "personal_number": "199908072391"})),
    )),
    responses(
        (status = 200, description = "Logged in (`limecrm`) or started (`bankid`)", body = LoginAnswer),
        (status = 400, description = "`type` unknown or missing, a field missing, a bad personal number, or BankID not enabled", body = ErrorBody),
        (status = 401, description = "Wrong username or password, or a missing or wrong API key", body = ErrorBody),
        (status = 403, description = "The account is locked, has a second factor, or its address is not verified", body = ErrorBody),
        (status = 409, description = "A BankID identification of this person is already running", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address", body = ErrorBody),
        (status = 503, description = "Too busy, or BankID is unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, LimeError> {
    api_key::verified(&req, &state)?;
    let _admitted = state.admit_login(&req)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: LoginRequest = decode(&req, &body)?;
    let answer = match request.kind.as_deref().map(str::trim) {
        Some("limecrm") => password_login(&req, &state, request).await?,
        Some("bankid") => {
            let number = request
                .personal_number
                .filter(|number| !number.trim().is_empty())
                .ok_or_else(|| LimeError::bad_request("personal_number is required with type bankid."))?;
            let started = state.services.bankid.start(&number, &state.client(&req)).await?;
            LoginAnswer::Started(BankIdStarted {
                success: true,
                transaction_id: started.transaction_id,
                auto_start_token: started.auto_start_token,
                qr: started.qr,
            })
        }
        Some(other) => {
            return Err(LimeError::bad_request(format!(
                "type {other:?} is unknown; use limecrm or bankid."
            )));
        }
        None => return Err(LimeError::bad_request("type is required: limecrm or bankid.")),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

async fn password_login(
    req: &HttpRequest,
    state: &AppState,
    request: LoginRequest,
) -> Result<LoginAnswer, LimeError> {
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(LimeError::bad_request(
            "username and password are required with type limecrm.",
        ));
    };
    let lime = &state.settings.lime;
    // The document has no second step: users with a second factor are
    // refused here (and log in with BankID).
    let logged_in = state
        .services
        .password_login
        .login(
            &username,
            &Password::new(password),
            &state.client(req),
            AccessGrant::new(lime.token_ttl),
        )
        .await?;
    Ok(LoginAnswer::LoggedIn(LoggedIn {
        success: true,
        user: lime.user_fields.render(&logged_in.user),
        token: logged_in.granted.plaintext,
    }))
}
