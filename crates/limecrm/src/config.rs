//! What the operator configures.

use std::time::Duration;

/// Which property of the limetype holds each Limen attribute; `None` leaves
/// the attribute empty for every user. Also the `[users.limecrm.properties]`
/// table of Limen's configuration, as written there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Properties {
    /// The login name.
    pub username: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits).
    pub personal_number: Option<String>,
    /// The password hash, in any format Limen verifies.
    pub password_hash: Option<String>,
    /// A property that is true (or one of `enabled_values`) for active users.
    pub enabled: Option<String>,
    /// A property that is true for inactive users (Lime's `inactive`).
    pub disabled: Option<String>,
}

impl Default for Properties {
    /// Lime's `person` limetype.
    fn default() -> Self {
        Self {
            username: "username".into(),
            email: Some("email".into()),
            first_name: Some("firstname".into()),
            last_name: Some("lastname".into()),
            personal_number: None,
            password_hash: None,
            enabled: None,
            disabled: Some("inactive".into()),
        }
    }
}

/// A Lime CRM system as a user directory.
#[derive(Clone)]
pub struct LimeCrmConfig {
    /// The name users are linked to Limen's accounts under.
    pub name: String,
    /// The API's base URL, `https://<host>/<application>/api/v1/`.
    pub url: String,
    /// The API key (`x-api-key`) of an API user allowed to read the limetype.
    pub api_key: String,
    /// The limetype holding the users.
    pub limetype: String,
    /// Property names.
    pub properties: Properties,
    /// For `properties.enabled`: the values meaning active (an option's key);
    /// empty means true.
    pub enabled_values: Vec<String>,
    /// Limen may write password hashes into `properties.password_hash`.
    pub writable: bool,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Further attempts after a timeout or a 5xx answer.
    pub retries: u32,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses requests before trying one again.
    pub breaker_open: Duration,
    /// How long a user looked up by id is kept.
    pub cache_ttl: Duration,
    /// The most users kept.
    pub cache_max_entries: usize,
}

impl std::fmt::Debug for LimeCrmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimeCrmConfig")
            .field("url", &self.url)
            .field("api_key", &"<redacted>")
            .field("limetype", &self.limetype)
            .field("properties", &self.properties)
            .finish_non_exhaustive()
    }
}

impl LimeCrmConfig {
    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(format!("url {:?} must be an http(s) URL", self.url));
        }
        if self.api_key.trim().is_empty() {
            return Err("api_key is required".into());
        }
        let names = [Some(&self.limetype), Some(&self.properties.username)];
        let optional = [
            &self.properties.email,
            &self.properties.first_name,
            &self.properties.last_name,
            &self.properties.personal_number,
            &self.properties.password_hash,
            &self.properties.enabled,
            &self.properties.disabled,
        ];
        for name in names.into_iter().flatten().chain(optional.into_iter().flatten()) {
            let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                return Err(format!(
                    "{name:?} is not a limetype or property name (letters, digits, _)"
                ));
            }
        }
        if self.properties.enabled.is_some() && self.properties.disabled.is_some() {
            return Err("properties.enabled and properties.disabled exclude each other".into());
        }
        if self.writable && self.properties.password_hash.is_none() {
            return Err("writable = true needs properties.password_hash".into());
        }
        Ok(())
    }
}
