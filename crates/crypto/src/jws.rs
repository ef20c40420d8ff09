//! Compact JWS (RFC 7515) signers for what Limen hands consumers through the
//! browser: HS256 with a shared secret, or EdDSA (Ed25519, RFC 8037) with a
//! key whose public half consumers fetch.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use limen_domain::ports::PayloadSigner;
use sha2::{Digest, Sha256};

/// The shortest HS256 key accepted: the hash's output size (RFC 7518 §3.2).
pub const MIN_HS256_KEY_BYTES: usize = 32;

/// HS256 (HMAC-SHA-256) with a secret the consumer shares.
pub struct Hs256Signer {
    /// Keyed once; each signature starts from a clone.
    mac: Hmac<Sha256>,
}

impl Hs256Signer {
    /// A signer with `key`; at least 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, String> {
        if key.len() < MIN_HS256_KEY_BYTES {
            return Err(format!(
                "an HS256 key needs at least {MIN_HS256_KEY_BYTES} bytes, this one has {}",
                key.len()
            ));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|err| format!("unusable HS256 key: {err}"))?;
        Ok(Self { mac })
    }
}

impl PayloadSigner for Hs256Signer {
    fn sign_typed(&self, typ: &str, payload: &[u8]) -> String {
        let header = format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#);
        compact(&header, payload, |input| {
            let mut mac = self.mac.clone();
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        })
    }

    fn public_jwk(&self) -> Option<String> {
        None
    }
}

/// EdDSA with an Ed25519 key; consumers verify with the public JWK.
pub struct EdDsaSigner {
    key: SigningKey,
    kid: String,
}

impl EdDsaSigner {
    /// A signer with the PKCS#8 PEM private key `pem`
    /// (`openssl genpkey -algorithm ed25519`).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|err| format!("not an Ed25519 private key in PKCS#8 PEM: {err}"))?;
        Ok(Self::new(key))
    }

    /// A signer with `key`.
    pub fn new(key: SigningKey) -> Self {
        // RFC 7638: the thumbprint of the required members, in order.
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let thumbprint = Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
        Self {
            key,
            kid: URL_SAFE_NO_PAD.encode(thumbprint),
        }
    }
}

impl PayloadSigner for EdDsaSigner {
    fn sign_typed(&self, typ: &str, payload: &[u8]) -> String {
        let header = format!(r#"{{"alg":"EdDSA","typ":"{typ}","kid":"{}"}}"#, self.kid);
        compact(&header, payload, |input| self.key.sign(input).to_bytes().to_vec())
    }

    fn public_jwk(&self) -> Option<String> {
        let x = URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes());
        Some(format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","alg":"EdDSA","use":"sig","kid":"{}"}}"#,
            self.kid
        ))
    }
}

/// `base64url(header) . base64url(payload) . base64url(signature)`.
fn compact(header: &str, payload: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signature, Verifier};

    use super::*;

    fn parts(jws: &str) -> (serde_json::Value, Vec<u8>, Vec<u8>, String) {
        let pieces: Vec<&str> = jws.split('.').collect();
        assert_eq!(pieces.len(), 3, "{jws}");
        let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(pieces[0]).unwrap()).unwrap();
        (
            header,
            URL_SAFE_NO_PAD.decode(pieces[1]).unwrap(),
            URL_SAFE_NO_PAD.decode(pieces[2]).unwrap(),
            format!("{}.{}", pieces[0], pieces[1]),
        )
    }

    #[test]
    fn hs256_signs_the_header_and_payload_with_hmac_sha256() {
        let key = [7u8; 32];
        let jws = Hs256Signer::new(&key).unwrap().sign(br#"{"sub":"ann"}"#);
        let (header, payload, signature, input) = parts(&jws);
        assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
        assert_eq!(payload, br#"{"sub":"ann"}"#);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(input.as_bytes());
        mac.verify_slice(&signature).unwrap();
        assert!(Hs256Signer::new(&[1u8; 31]).is_err(), "a short key is refused");
        assert_eq!(Hs256Signer::new(&key).unwrap().public_jwk(), None);
    }

    /// RFC 8037, appendix A.1 and A.2: the key and its public half.
    const RFC8037_PRIVATE: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_PUBLIC: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    /// RFC 8037, appendix A.3: the key's thumbprint.
    const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    fn rfc8037_signer() -> EdDsaSigner {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(RFC8037_PRIVATE)
            .unwrap()
            .try_into()
            .unwrap();
        EdDsaSigner::new(SigningKey::from_bytes(&seed))
    }

    #[test]
    fn eddsa_publishes_the_rfc_8037_key_and_thumbprint() {
        let jwk: serde_json::Value = serde_json::from_str(&rfc8037_signer().public_jwk().unwrap()).unwrap();
        assert_eq!(jwk["x"], RFC8037_PUBLIC);
        assert_eq!(jwk["kid"], RFC8037_THUMBPRINT);
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("OKP"), Some("Ed25519"))
        );
    }

    #[test]
    fn eddsa_signatures_verify_with_the_public_key() {
        let signer = rfc8037_signer();
        let jws = signer.sign(b"Example of Ed25519 signing");
        let (header, payload, signature, input) = parts(&jws);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], RFC8037_THUMBPRINT);
        assert_eq!(payload, b"Example of Ed25519 signing");
        let signature = Signature::from_slice(&signature).unwrap();
        signer
            .key
            .verifying_key()
            .verify(input.as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn eddsa_keys_are_read_from_pkcs8_pem() {
        // `openssl genpkey -algorithm ed25519` of the RFC 8037 key.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        let signer = EdDsaSigner::from_pem(pem).unwrap();
        assert_eq!(signer.kid, RFC8037_THUMBPRINT);
        assert!(EdDsaSigner::from_pem("not a key").is_err());
    }
}
