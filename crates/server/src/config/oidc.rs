//! `[oidc]` and `[[oidc.providers]]`: OpenID Connect login.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::read_secret;
use super::{ConfigError, ExposeSecret, SecretString};

/// How the payload handed to consumers is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadSigning {
    /// HMAC-SHA-256 with `payload_key`, a secret the consumer shares.
    Hs256,
    /// Ed25519 with `payload_ed25519_key_file`; consumers fetch the public key
    /// from `GET /oidc/payload-key`.
    Eddsa,
}

/// `[oidc]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSection {
    /// The URLs the browser may be sent back to after a login, whose
    /// payloads are signed as `payload_signing` says; the first is the
    /// default. Compared exactly with a consumer's `?redirect=`.
    pub consumer_urls: Vec<String>,
    /// Consumers with keys of their own; `[[oidc.consumers]]`.
    pub consumers: Vec<OidcConsumerSection>,
    /// `hs256` or `eddsa`.
    pub payload_signing: PayloadSigning,
    /// The HS256 secret shared by the `consumer_urls`, at least 32 bytes.
    #[serde(skip_serializing)]
    pub payload_key: Option<SecretString>,
    /// A file holding `payload_key`.
    pub payload_key_file: Option<PathBuf>,
    /// The EdDSA key: an Ed25519 private key in PKCS#8 PEM.
    pub payload_ed25519_key_file: Option<PathBuf>,
    /// How long a consumer may accept a payload, in seconds.
    pub payload_ttl_secs: i64,
    /// Put a Limen access token into the payload (`token`). Off by default:
    /// the payload travels in a URL, into browser history and access logs,
    /// where a token would work as a Bearer token until it expires.
    pub include_token: bool,
    /// Seconds one request to a provider may take.
    pub timeout_secs: u64,
    /// PEM of extra CA certificates to trust for providers (a company CA).
    pub ca_file: Option<PathBuf>,
    /// The providers; `[[oidc.providers]]`.
    pub providers: Vec<OidcProviderSection>,
}

impl Default for OidcSection {
    fn default() -> Self {
        Self {
            consumer_urls: Vec::new(),
            consumers: Vec::new(),
            payload_signing: PayloadSigning::Hs256,
            payload_key: None,
            payload_key_file: None,
            payload_ed25519_key_file: None,
            payload_ttl_secs: 120,
            include_token: false,
            timeout_secs: 10,
            ca_file: None,
            providers: Vec::new(),
        }
    }
}

/// `[[oidc.consumers]]`: a consumer whose payloads are signed with a key of
/// its own, so that a payload made for one consumer does not verify at
/// another, and no consumer can make payloads for the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConsumerSection {
    /// Where the browser is sent back to, compared exactly.
    pub url: String,
    /// Its HS256 secret, at least 32 bytes; without one (and without
    /// `payload_key_file`), the section's `payload_signing` signs its payloads.
    #[serde(skip_serializing, default)]
    pub payload_key: Option<SecretString>,
    /// A file holding `payload_key`.
    #[serde(default)]
    pub payload_key_file: Option<PathBuf>,
}

/// Which user field the identifying claim is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchField {
    /// The e-mail address.
    Email,
    /// The username.
    Username,
}

/// `[[oidc.providers]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSection {
    /// The id consumers name in `?provider=` (letters, digits, `-`, `_`).
    pub id: String,
    /// The issuer, exactly as the provider's discovery document states it.
    pub issuer: String,
    /// Limen's client id at the provider.
    pub client_id: String,
    /// Limen's client secret; none for a public client.
    #[serde(skip_serializing, default)]
    pub client_secret: Option<SecretString>,
    /// A file holding `client_secret`.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Scopes to ask for (`openid` is always asked for).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that identifies the user.
    #[serde(default = "default_claim")]
    pub claim: String,
    /// The user field the claim is compared with: `email` when the claim is
    /// `email`, `username` otherwise.
    #[serde(default, rename = "match")]
    pub match_field: Option<MatchField>,
    /// Matching by e-mail needs `email_verified: true` from the provider.
    #[serde(default = "yes")]
    pub require_verified_email: bool,
    /// Create a user on first login when none matches.
    #[serde(default)]
    pub create_users: bool,
    /// Ask the userinfo endpoint for claims the ID token lacks.
    #[serde(default)]
    pub userinfo: bool,
    /// The provider asks for a second factor itself; Limen's own is not asked again.
    #[serde(default)]
    pub second_factor: bool,
    /// The provider used when a consumer names none (otherwise the first).
    #[serde(default)]
    pub default: bool,
    /// Its name on the hosted login page's button ("Continue with …"); the
    /// id without one.
    #[serde(default)]
    pub name: Option<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

fn default_claim() -> String {
    "email".into()
}

fn yes() -> bool {
    true
}

impl OidcProviderSection {
    /// The field the claim is compared with.
    pub fn match_field(&self) -> MatchField {
        self.match_field.unwrap_or(if self.claim == "email" {
            MatchField::Email
        } else {
            MatchField::Username
        })
    }
}

impl OidcSection {
    /// Reads the secrets named by `_file` keys.
    pub(super) fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.payload_key_file {
            self.payload_key = Some(read_secret("oidc.payload_key_file", path)?);
        }
        for consumer in &mut self.consumers {
            if let Some(path) = &consumer.payload_key_file {
                let key = format!("oidc.consumers[{}].payload_key_file", consumer.url);
                consumer.payload_key = Some(read_secret(&key, path)?);
            }
        }
        for provider in &mut self.providers {
            if let Some(path) = &provider.client_secret_file {
                let key = format!("oidc.providers[{}].client_secret_file", provider.id);
                provider.client_secret = Some(read_secret(&key, path)?);
            }
        }
        Ok(())
    }

    /// Every consumer URL, the default first: `consumer_urls`, then
    /// `[[oidc.consumers]]`.
    pub fn consumer_list(&self) -> Vec<&str> {
        self.consumer_urls
            .iter()
            .map(String::as_str)
            .chain(self.consumers.iter().map(|consumer| consumer.url.as_str()))
            .collect()
    }

    /// Whether some consumer's payloads are signed as `payload_signing` says
    /// (it has no key of its own).
    pub fn uses_section_signing(&self) -> bool {
        !self.consumer_urls.is_empty()
            || self
                .consumers
                .iter()
                .any(|consumer| consumer.payload_key.is_none())
    }

    /// The providers with the default one first.
    pub fn providers_default_first(&self) -> Vec<&OidcProviderSection> {
        let mut providers: Vec<&OidcProviderSection> = self.providers.iter().collect();
        providers.sort_by_key(|provider| !provider.default);
        providers
    }

    /// Checks what can be checked without the network. Consumers are
    /// needed unless the providers serve the hosted login page
    /// (`hosted_page`: Limen is an OpenID Provider).
    pub(super) fn validate(&self, public_url: Option<&str>, hosted_page: bool) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if self.providers.is_empty() {
            return Ok(());
        }
        let Some(public_url) = public_url else {
            return invalid(
                "public_url is required with OpenID providers: the redirect URI registered with them \
                 is <public_url>/oauth2/authorize/"
                    .into(),
            );
        };
        check_url("public_url", public_url)?;
        let consumers = self.consumer_list();
        if consumers.is_empty() && !hosted_page {
            return invalid(
                "oidc.consumer_urls or [[oidc.consumers]] must name at least one consumer with OpenID providers \
                 (or [oidc_provider] enabled, whose login page offers them)"
                    .into(),
            );
        }
        let mut seen_urls = std::collections::BTreeSet::new();
        for url in &consumers {
            check_url("oidc.consumer_urls", url)?;
            if url.contains('#') {
                return invalid(format!("oidc.consumer_urls: {url:?} must not have a fragment"));
            }
            if !seen_urls.insert(*url) {
                return invalid(format!("oidc: the consumer {url:?} appears twice"));
            }
        }
        for consumer in &self.consumers {
            if let Some(key) = &consumer.payload_key
                && key.expose_secret().len() < limen_crypto::MIN_HS256_KEY_BYTES
            {
                return invalid(format!(
                    "oidc.consumers[{}].payload_key must have at least {} bytes",
                    consumer.url,
                    limen_crypto::MIN_HS256_KEY_BYTES
                ));
            }
        }
        if self.uses_section_signing() {
            match self.payload_signing {
                PayloadSigning::Hs256 => {
                    let long_enough = self
                        .payload_key
                        .as_ref()
                        .is_some_and(|key| key.expose_secret().len() >= limen_crypto::MIN_HS256_KEY_BYTES);
                    if !long_enough {
                        return invalid(format!(
                            "oidc.payload_key (or payload_key_file) of at least {} bytes is required with \
                             payload_signing = \"hs256\" for the consumers without a key of their own",
                            limen_crypto::MIN_HS256_KEY_BYTES
                        ));
                    }
                }
                PayloadSigning::Eddsa => {
                    if self.payload_ed25519_key_file.is_none() {
                        return invalid(
                            "oidc.payload_ed25519_key_file is required with payload_signing = \"eddsa\""
                                .into(),
                        );
                    }
                }
            }
        }
        if self.payload_ttl_secs <= 0 || self.timeout_secs == 0 {
            return invalid("oidc.payload_ttl_secs and oidc.timeout_secs must be positive".into());
        }
        if self.providers.iter().filter(|provider| provider.default).count() > 1 {
            return invalid("oidc.providers: at most one provider can be the default".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for provider in &self.providers {
            let id = &provider.id;
            let id_ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                return invalid(format!(
                    "oidc.providers: id {id:?} must be 1 to 64 letters, digits, - or _"
                ));
            }
            if !seen.insert(id.as_str()) {
                return invalid(format!("oidc.providers: id {id:?} appears twice"));
            }
            check_url(&format!("oidc.providers[{id}].issuer"), &provider.issuer)?;
            if provider.issuer.contains("/.well-known") {
                return invalid(format!(
                    "oidc.providers[{id}].issuer is the issuer itself, without /.well-known/…"
                ));
            }
            if provider.client_id.is_empty() {
                return invalid(format!("oidc.providers[{id}].client_id is required"));
            }
            if provider.claim.trim().is_empty() {
                return invalid(format!("oidc.providers[{id}].claim must name a claim"));
            }
        }
        Ok(())
    }
}

/// An absolute HTTPS URL, or plain HTTP on this machine (development, tests).
fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let invalid = || {
        Err(ConfigError::Invalid(format!(
            "{key}: {url:?} must be an https:// URL (http:// only for localhost, 127.0.0.1 or [::1])"
        )))
    };
    if let Some(rest) = url.strip_prefix("https://") {
        return if rest.is_empty() { invalid() } else { Ok(()) };
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return invalid();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        Ok(())
    } else {
        invalid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: &str) -> OidcProviderSection {
        OidcProviderSection {
            id: id.into(),
            issuer: "https://idp.example".into(),
            client_id: "limen".into(),
            client_secret: Some("secret".into()),
            client_secret_file: None,
            scopes: default_scopes(),
            claim: default_claim(),
            match_field: None,
            require_verified_email: true,
            create_users: false,
            userinfo: false,
            second_factor: false,
            default: false,
            name: None,
        }
    }

    fn section(providers: Vec<OidcProviderSection>) -> OidcSection {
        OidcSection {
            consumer_urls: vec!["https://portal.example/back".into()],
            payload_key: Some("k".repeat(32).into()),
            providers,
            ..OidcSection::default()
        }
    }

    fn refusal(section: &OidcSection, public_url: Option<&str>) -> String {
        match section.validate(public_url, false) {
            Err(ConfigError::Invalid(message)) => message,
            Ok(()) => panic!("accepted"),
        }
    }

    #[test]
    fn a_complete_section_passes_and_an_empty_one_needs_nothing() {
        section(vec![provider("a"), provider("b")])
            .validate(Some("https://login.example"), false)
            .unwrap();
        OidcSection::default().validate(None, false).unwrap();
        // The hosted login page needs no consumer.
        let hosted_only = OidcSection {
            consumer_urls: Vec::new(),
            ..section(vec![provider("a")])
        };
        assert!(refusal(&hosted_only, Some("https://login.example")).contains("consumer"));
        hosted_only.validate(Some("https://login.example"), true).unwrap();
    }

    #[test]
    fn each_missing_or_unsafe_piece_is_named() {
        let good = section(vec![provider("a")]);
        assert!(refusal(&good, None).contains("public_url"));
        assert!(refusal(&good, Some("http://login.example")).contains("https"));
        let mut no_consumers = good.clone();
        no_consumers.consumer_urls.clear();
        assert!(refusal(&no_consumers, Some("https://l.example")).contains("consumer_urls"));
        let mut short_key = good.clone();
        short_key.payload_key = Some("short".into());
        assert!(refusal(&short_key, Some("https://l.example")).contains("payload_key"));
        let mut eddsa = good.clone();
        eddsa.payload_signing = PayloadSigning::Eddsa;
        assert!(refusal(&eddsa, Some("https://l.example")).contains("payload_ed25519_key_file"));
        let twice = section(vec![provider("a"), provider("a")]);
        assert!(refusal(&twice, Some("https://l.example")).contains("twice"));
        let mut well_known = provider("a");
        well_known.issuer = "https://idp.example/.well-known/openid-configuration".into();
        assert!(refusal(&section(vec![well_known]), Some("https://l.example")).contains("well-known"));
        let mut two_defaults = section(vec![provider("a"), provider("b")]);
        for provider in &mut two_defaults.providers {
            provider.default = true;
        }
        assert!(refusal(&two_defaults, Some("https://l.example")).contains("default"));
        let mut fragment = good.clone();
        fragment.consumer_urls = vec!["https://portal.example/#/back".into()];
        assert!(refusal(&fragment, Some("https://l.example")).contains("fragment"));
        let own = |url: &str, key: Option<&str>| OidcConsumerSection {
            url: url.into(),
            payload_key: key.map(SecretString::from),
            payload_key_file: None,
        };
        let mut twice = good.clone();
        twice.consumers = vec![own("https://portal.example/back", Some(&"k".repeat(32)))];
        assert!(refusal(&twice, Some("https://l.example")).contains("twice"));
        let mut weak = good.clone();
        weak.consumers = vec![own("https://wiki.example/cb", Some("short"))];
        assert!(
            refusal(&weak, Some("https://l.example"))
                .contains("oidc.consumers[https://wiki.example/cb].payload_key")
        );
        // Consumers with keys of their own need no shared key.
        let mut own_keys = good;
        own_keys.consumer_urls.clear();
        own_keys.payload_key = None;
        own_keys.consumers = vec![own("https://wiki.example/cb", Some(&"k".repeat(32)))];
        own_keys.validate(Some("https://l.example"), false).unwrap();
        own_keys.consumers.push(own("https://crm.example/cb", None));
        assert!(refusal(&own_keys, Some("https://l.example")).contains("without a key of their own"));
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://[::1]:9/x",
            "https://a.example",
        ] {
            check_url("k", url).unwrap();
        }
        for url in [
            "http://example.com",
            "http://127.0.0.1.evil.example",
            "ftp://x",
            "https://",
            "/relative",
        ] {
            assert!(check_url("k", url).is_err(), "{url}");
        }
    }

    #[test]
    fn the_default_provider_comes_first_and_the_match_follows_the_claim() {
        let mut b = provider("b");
        b.default = true;
        b.claim = "preferred_username".into();
        let section = section(vec![provider("a"), b]);
        let ordered = section.providers_default_first();
        assert_eq!(ordered[0].id, "b");
        assert_eq!(ordered[0].match_field(), MatchField::Username);
        assert_eq!(ordered[1].match_field(), MatchField::Email);
    }
}
