use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use limen_domain::ports::SecretCipher;
use sha2::{Digest, Sha256};

/// Prefix of secrets stored without encryption (no key configured).
const PLAIN: &str = "plain:";
/// Prefix of secrets sealed with XChaCha20-Poly1305 and bound to their owner as
/// associated data: `xc2:<key id>:<nonce‖ciphertext>`.
const SEALED: &str = "xc2:";
/// Prefix of secrets sealed before they were bound to an owner. Still opened, so
/// that `limen serve` can re-seal them in the current form at start.
const LEGACY_SEALED: &str = "xc1:";

/// One 256-bit key and its id (the first 8 hex digits of its SHA-256).
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        Self {
            id,
            cipher: XChaCha20Poly1305::new(bytes.into()),
        }
    }
}

/// Seals secrets at rest with XChaCha20-Poly1305 under the current key, with the
/// caller's context (the owner) as associated data, so a sealed secret copied
/// into another user's row fails to open; opens what earlier keys sealed too, so
/// keys can be rotated without downtime. With no key configured, secrets are
/// stored base64-encoded behind a `plain:` prefix and a warning is logged at start.
pub struct SecretKeyring {
    current: Option<Key>,
    previous: Vec<Key>,
}

/// Parses a key given as base64 (standard or URL-safe) of exactly 32 bytes.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .map_err(|_| "a secrets key must be base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("a secrets key must be 32 bytes, not {}", bytes.len()))
}

/// A fresh key: base64 of 32 bytes from the operating system's random source.
pub fn generate_key() -> Result<String, String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|err| format!("no randomness for a key: {err}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(key))
}

impl SecretKeyring {
    /// A keyring sealing with `current` (if any) and opening with it and `previous`.
    pub fn new(current: Option<[u8; 32]>, previous: &[[u8; 32]]) -> Self {
        Self {
            current: current.as_ref().map(Key::new),
            previous: previous.iter().map(Key::new).collect(),
        }
    }

    /// Whether secrets are sealed (a key is configured).
    pub fn seals(&self) -> bool {
        self.current.is_some()
    }
}

impl SecretCipher for SecretKeyring {
    fn is_current(&self, sealed: &str) -> bool {
        match &self.current {
            Some(key) => sealed
                .strip_prefix(SEALED)
                .is_some_and(|rest| rest.split_once(':').is_some_and(|(id, _)| id == key.id)),
            None => sealed.starts_with(PLAIN),
        }
    }

    fn seal(&self, secret: &[u8], context: &[u8]) -> Result<String, String> {
        let Some(key) = &self.current else {
            return Ok(format!("{PLAIN}{}", URL_SAFE_NO_PAD.encode(secret)));
        };
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|err| format!("no randomness for a nonce: {err}"))?;
        let ciphertext = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: context,
                },
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED}{}:{}", key.id, URL_SAFE_NO_PAD.encode(payload)))
    }

    fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, String> {
        if let Some(encoded) = sealed.strip_prefix(PLAIN) {
            return URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| "a plain secret is not valid base64".to_owned());
        }
        let (rest, aad) = match (sealed.strip_prefix(SEALED), sealed.strip_prefix(LEGACY_SEALED)) {
            (Some(rest), _) => (rest, context),
            (None, Some(rest)) => (rest, &[][..]),
            (None, None) => return Err("a stored secret has an unknown format".to_owned()),
        };
        let (id, encoded) = rest
            .split_once(':')
            .ok_or_else(|| "a stored secret has an unknown format".to_owned())?;
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|key| key.id == id)
            .ok_or_else(|| format!("a stored secret is sealed with key {id}, which is not configured"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| "a sealed secret is not valid base64".to_owned())?;
        if payload.len() < 24 {
            return Err("a sealed secret is truncated".into());
        }
        let (nonce, ciphertext) = payload.split_at(24);
        key.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| {
                format!("a secret sealed with key {id} failed authentication (tampered, or another owner's)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: [u8; 32] = [1; 32];
    const NEW: [u8; 32] = [2; 32];
    const ANN: &[u8] = b"user:1";
    const BOB: &[u8] = b"user:2";

    #[test]
    fn sealed_secrets_open_for_their_owner_and_do_not_show_the_secret() {
        let keyring = SecretKeyring::new(Some(NEW), &[]);
        let sealed = keyring.seal(b"totp secret", ANN).unwrap();
        assert!(sealed.starts_with("xc2:"), "{sealed}");
        assert!(!sealed.contains(&URL_SAFE_NO_PAD.encode(b"totp secret")));
        assert_eq!(keyring.open(&sealed, ANN).unwrap(), b"totp secret");
        assert_ne!(
            sealed,
            keyring.seal(b"totp secret", ANN).unwrap(),
            "nonces repeat"
        );
    }

    #[test]
    fn a_secret_copied_to_another_owner_does_not_open() {
        let keyring = SecretKeyring::new(Some(NEW), &[]);
        let sealed = keyring.seal(b"totp secret", ANN).unwrap();
        let err = keyring.open(&sealed, BOB).unwrap_err();
        assert!(err.contains("failed authentication"), "{err}");
    }

    #[test]
    fn secrets_sealed_before_owners_were_bound_still_open_but_are_not_current() {
        let keyring = SecretKeyring::new(Some(NEW), &[]);
        let key = Key::new(&NEW);
        let nonce = [3u8; 24];
        let mut payload = nonce.to_vec();
        payload.extend(
            key.cipher
                .encrypt(XNonce::from_slice(&nonce), &b"old"[..])
                .unwrap(),
        );
        let legacy = format!("xc1:{}:{}", key.id, URL_SAFE_NO_PAD.encode(payload));
        assert_eq!(keyring.open(&legacy, ANN).unwrap(), b"old");
        assert!(!keyring.is_current(&legacy));
    }

    #[test]
    fn rotation_opens_old_secrets_and_seals_with_the_new_key() {
        let old = SecretKeyring::new(Some(OLD), &[]);
        let sealed_old = old.seal(b"s", ANN).unwrap();
        let rotated = SecretKeyring::new(Some(NEW), &[OLD]);
        assert_eq!(rotated.open(&sealed_old, ANN).unwrap(), b"s");
        assert!(!rotated.is_current(&sealed_old));
        let resealed = rotated.seal(b"s", ANN).unwrap();
        assert!(rotated.is_current(&resealed));
        let without_old = SecretKeyring::new(Some(NEW), &[]);
        let err = without_old.open(&sealed_old, ANN).unwrap_err();
        assert!(err.contains("not configured"), "{err}");
    }

    #[test]
    fn tampering_is_detected() {
        let keyring = SecretKeyring::new(Some(NEW), &[]);
        let sealed = keyring.seal(b"secret", ANN).unwrap();
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(keyring.open(&tampered, ANN).is_err());
        assert!(keyring.open("xc2:nope", ANN).is_err());
        assert!(keyring.open("garbage", ANN).is_err());
    }

    #[test]
    fn without_a_key_secrets_are_stored_plain_and_still_readable_after_a_key_is_added() {
        let plain = SecretKeyring::new(None, &[]);
        assert!(!plain.seals());
        let stored = plain.seal(b"s", ANN).unwrap();
        assert!(stored.starts_with("plain:"));
        let keyed = SecretKeyring::new(Some(NEW), &[]);
        assert_eq!(keyed.open(&stored, ANN).unwrap(), b"s");
        assert!(!keyed.is_current(&stored));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let encoded = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(parse_key(&encoded).unwrap(), [7u8; 32]);
        assert!(parse_key("c2hvcnQ=").unwrap_err().contains("32 bytes"));
        assert!(parse_key("not base64 at all!").is_err());
    }
}
