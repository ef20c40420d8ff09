//! `[dialects.*]`: the settings of each login API.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, SecretString};

/// `[dialects]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialectsSection {
    /// `[dialects.flow]`.
    pub flow: FlowSection,
    /// `[dialects.tokens]`.
    pub tokens: TokensSection,
    /// `[dialects.bimplus]`.
    pub bimplus: BimplusSection,
    /// `[dialects.gradido]`.
    pub gradido: GradidoSection,
    /// `[dialects.lime]`.
    pub lime: LimeSection,
}

/// `[dialects.lime]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimeSection {
    /// When not empty, every `lime` endpoint requires one of these keys (secrets).
    #[serde(skip_serializing)]
    pub api_keys: Vec<SecretString>,
    /// A file with more keys, one per line.
    pub api_keys_file: Option<PathBuf>,
    /// The header that carries the key.
    pub api_key_header: String,
    /// Seconds the access token of a `lime` login lives.
    pub token_ttl_secs: i64,
    /// Seconds a password reset token works.
    pub reset_token_ttl_secs: i64,
    /// The link in the reset e-mail, `{token}` standing for the token; without
    /// it the e-mail carries the token.
    pub reset_url: Option<String>,
    /// Reset requests one username may make per hour.
    pub reset_requests_per_username: u32,
    /// Reset requests one client address may make per hour.
    pub reset_requests_per_address: u32,
    /// Which user field fills each key of the answers' `user` object; empty
    /// means the document's `_id`, `firstname`, `lastname`, `email`.
    pub user_fields: std::collections::BTreeMap<String, String>,
}

impl Default for LimeSection {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            api_keys_file: None,
            api_key_header: "X-API-Key".into(),
            token_ttl_secs: 3600,
            reset_token_ttl_secs: 3600,
            reset_url: None,
            reset_requests_per_username: 3,
            reset_requests_per_address: 20,
            user_fields: std::collections::BTreeMap::new(),
        }
    }
}

/// `[dialects.tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensSection {
    /// Seconds a token from `/auth/login` lives when the client names no expiry.
    pub token_ttl_secs: i64,
    /// The longest lifetime a client or `limen token create` may ask for.
    pub max_token_ttl_secs: i64,
}

impl Default for TokensSection {
    fn default() -> Self {
        Self {
            token_ttl_secs: 24 * 3600,
            max_token_ttl_secs: 365 * 24 * 3600,
        }
    }
}

/// `[dialects.bimplus]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BimplusSection {
    /// Seconds an access token lives (`expires_in`).
    pub access_ttl_secs: i64,
    /// Seconds a remember-me token lives (`remember_me_expires_in`).
    pub remember_me_ttl_secs: i64,
}

impl Default for BimplusSection {
    fn default() -> Self {
        Self {
            access_ttl_secs: 28_799,
            remember_me_ttl_secs: 2_591_999,
        }
    }
}

/// `[dialects.gradido]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradidoSection {
    /// The original's `unsecure.allow_passwort_via_json_request`: without it,
    /// `unsecureLogin` and `createUser` answer 403.
    pub allow_password_via_json_request: bool,
    /// The original's `unsecure.allow_cors_all`.
    pub allow_cors_all: bool,
    /// The `group_alias` reported for every user.
    pub group_alias: String,
    /// Seconds a session lives.
    pub session_ttl_secs: i64,
    /// Unknown session ids an address may present per window before it is refused.
    pub max_wrong_session_ids: u32,
    /// The window, in seconds.
    pub wrong_session_window_secs: i64,
}

impl Default for GradidoSection {
    fn default() -> Self {
        Self {
            allow_password_via_json_request: false,
            allow_cors_all: false,
            group_alias: String::new(),
            session_ttl_secs: 15 * 60,
            max_wrong_session_ids: 10,
            wrong_session_window_secs: 15 * 60,
        }
    }
}

/// `[dialects.flow]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSection {
    /// Seconds a token from a plain login lives.
    pub token_ttl_secs: i64,
    /// Seconds a token from a `rememberMe` login lives.
    pub remember_me_ttl_secs: i64,
}

impl Default for FlowSection {
    fn default() -> Self {
        Self {
            token_ttl_secs: 3600,
            remember_me_ttl_secs: 7 * 24 * 3600,
        }
    }
}

impl LimeSection {
    /// Checks what serde cannot: lifetimes, the header name, templates, user fields.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let lime = self;
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if lime.token_ttl_secs <= 0 || lime.reset_token_ttl_secs <= 0 {
            return invalid("dialects.lime.token_ttl_secs and reset_token_ttl_secs must be positive".into());
        }
        if actix_web::http::header::HeaderName::from_bytes(lime.api_key_header.as_bytes()).is_err() {
            return invalid(format!(
                "dialects.lime.api_key_header {:?} is not a header name",
                lime.api_key_header
            ));
        }
        if let Some(url) = &lime.reset_url
            && !url.contains("{token}")
        {
            return invalid("dialects.lime.reset_url must contain {token}".into());
        }
        for (key, field) in &lime.user_fields {
            if key.is_empty() {
                return invalid("dialects.lime.user_fields: a key must not be empty".into());
            }
            if limen_domain::model::UserField::parse(field).is_none() {
                return invalid(format!(
                    "dialects.lime.user_fields.{key}: {field:?} is not a user field; use one of {}",
                    limen_domain::model::UserField::NAMES.join(", ")
                ));
            }
        }
        Ok(())
    }
}
