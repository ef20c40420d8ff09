//! `[passkeys]`: WebAuthn's relying party for users' passkeys.

use limen_passkeys::{RelyingParty, Url};
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[passkeys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeysSection {
    /// Let users register passkeys and log in with them.
    pub enabled: bool,
    /// The relying party id: `public_url`'s host or a registrable suffix of
    /// it (`example.org` for `login.example.org`); the host without one.
    pub rp_id: Option<String>,
    /// The name authenticators show; `[registration] site_name` without one.
    pub rp_name: Option<String>,
    /// The origins pages that use passkeys are served from; `public_url`'s
    /// origin without any.
    pub origins: Vec<String>,
    /// Seconds a started registration or login waits for its finish.
    pub ceremony_ttl_secs: u64,
}

impl Default for PasskeysSection {
    fn default() -> Self {
        Self {
            enabled: false,
            rp_id: None,
            rp_name: None,
            origins: Vec::new(),
            ceremony_ttl_secs: 300,
        }
    }
}

impl PasskeysSection {
    /// The relying party, checked: `None` while passkeys are off.
    pub fn relying_party(
        &self,
        public_url: Option<&str>,
        site_name: &str,
    ) -> Result<Option<RelyingParty>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let invalid = |message: String| Err(ConfigError::Invalid(format!("passkeys: {message}")));
        let Some(public_url) = public_url else {
            return invalid("public_url is required: the relying party is its host".into());
        };
        let public =
            Url::parse(public_url).map_err(|err| ConfigError::Invalid(format!("public_url: {err}")))?;
        let Some(host) = public.domain() else {
            return invalid(format!(
                "public_url {public_url:?} must name a domain: WebAuthn has no relying party for an IP address \
                 (use http://localhost:<port> to try passkeys on one machine)"
            ));
        };
        let rp_id = self
            .rp_id
            .clone()
            .unwrap_or_else(|| host.to_owned())
            .to_ascii_lowercase();
        if !within(host, &rp_id) {
            return invalid(format!(
                "rp_id {rp_id:?} is neither public_url's host {host:?} nor a suffix of it"
            ));
        }
        if rp_id != "localhost" && !rp_id.contains('.') {
            return invalid(format!(
                "rp_id {rp_id:?} is a top-level domain, which no one can register"
            ));
        }
        let origins = if self.origins.is_empty() {
            vec![public.origin().ascii_serialization()]
        } else {
            self.origins.clone()
        };
        let mut parsed = Vec::with_capacity(origins.len());
        for origin in &origins {
            let url = Url::parse(origin)
                .map_err(|err| ConfigError::Invalid(format!("passkeys.origins {origin:?}: {err}")))?;
            let origin_host = url.domain().unwrap_or_default();
            match url.scheme() {
                "https" => {}
                "http" if origin_host == "localhost" => {}
                _ => {
                    return invalid(format!(
                        "origin {origin:?} must be https:// (http:// only on localhost, for development)"
                    ));
                }
            }
            if !within(origin_host, &rp_id) {
                return invalid(format!(
                    "origin {origin:?} is outside the relying party {rp_id:?}"
                ));
            }
            if url.path() != "/" || url.query().is_some() {
                return invalid(format!("origin {origin:?} must be scheme://host[:port] only"));
            }
            parsed.push(url);
        }
        Ok(Some(RelyingParty {
            id: rp_id,
            name: self.rp_name.clone().unwrap_or_else(|| site_name.to_owned()),
            origins: parsed,
        }))
    }
}

/// Whether `host` is `rp_id` or one of its subdomains.
fn within(host: &str, rp_id: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == rp_id || host.ends_with(&format!(".{rp_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(rp_id: Option<&str>, origins: &[&str]) -> PasskeysSection {
        PasskeysSection {
            enabled: true,
            rp_id: rp_id.map(str::to_owned),
            origins: origins.iter().map(|origin| (*origin).to_owned()).collect(),
            ..PasskeysSection::default()
        }
    }

    fn refusal(section: &PasskeysSection, public_url: Option<&str>) -> String {
        match section.relying_party(public_url, "Example") {
            Err(ConfigError::Invalid(message)) => message,
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn the_relying_party_is_the_public_host_or_a_suffix_and_origins_stay_inside_it() {
        let party = section(None, &[])
            .relying_party(Some("https://login.example.org/"), "Example")
            .unwrap()
            .unwrap();
        assert_eq!(party.id, "login.example.org");
        assert_eq!(party.name, "Example");
        assert_eq!(party.origins[0].as_str(), "https://login.example.org/");
        let party = section(
            Some("example.org"),
            &["https://login.example.org", "https://app.example.org:8443"],
        )
        .relying_party(Some("https://login.example.org"), "Example")
        .unwrap()
        .unwrap();
        assert_eq!(party.id, "example.org");
        assert_eq!(party.origins.len(), 2);
        let local = section(None, &[])
            .relying_party(Some("http://localhost:8080"), "Example")
            .unwrap()
            .unwrap();
        assert_eq!(local.id, "localhost");
        assert!(
            PasskeysSection::default()
                .relying_party(None, "x")
                .unwrap()
                .is_none()
        );

        assert!(refusal(&section(None, &[]), None).contains("public_url is required"));
        assert!(refusal(&section(None, &[]), Some("http://127.0.0.1:8080")).contains("IP address"));
        assert!(
            refusal(
                &section(Some("other.org"), &[]),
                Some("https://login.example.org")
            )
            .contains("neither")
        );
        assert!(refusal(&section(Some("org"), &[]), Some("https://login.example.org")).contains("top-level"));
        assert!(
            refusal(
                &section(None, &["http://login.example.org"]),
                Some("https://login.example.org")
            )
            .contains("must be https://")
        );
        assert!(
            refusal(
                &section(Some("example.org"), &["https://evil.org"]),
                Some("https://login.example.org")
            )
            .contains("outside")
        );
        assert!(
            refusal(
                &section(Some("example.org"), &["https://notexample.org"]),
                Some("https://login.example.org")
            )
            .contains("outside"),
            "a suffix of the name is not a subdomain"
        );
    }
}
