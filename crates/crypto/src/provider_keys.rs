//! The keys Limen signs ID tokens with as an OpenID Provider: ES256 (P-256),
//! RS256 (RSA-2048) and EdDSA (Ed25519), signed with ring. ring cannot make
//! RSA keys, so the `rsa` crate generates them (once, at start-up or at a
//! rotation, never for a request): its private-key operations, whose timing
//! RUSTSEC-2023-0071 is about, are never used to sign.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use limen_domain::ports::PayloadSigner;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use sha2::{Digest, Sha256};

/// The JWS algorithms an ID token may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SigningAlg {
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, for clients that know nothing else.
    Rs256,
    /// Ed25519.
    EdDsa,
}

impl SigningAlg {
    /// The JWS name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm of a JWS name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Es256, Self::Rs256, Self::EdDsa]
            .into_iter()
            .find(|alg| alg.name() == name)
    }
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// One signing key: its PKCS#8 form (to keep, sealed), its `kid` (the RFC
/// 7638 thumbprint of its public half) and its public JWK.
pub struct ProviderKey {
    alg: SigningAlg,
    pair: Pair,
    pkcs8: Vec<u8>,
    kid: String,
    jwk: String,
    random: SystemRandom,
}

impl ProviderKey {
    /// A new key for `alg`. RSA takes a moment (a 2048-bit key).
    pub fn generate(alg: SigningAlg) -> Result<Self, String> {
        let random = SystemRandom::new();
        let pkcs8 = match alg {
            SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                .map_err(|_| "could not generate a P-256 key".to_owned())?
                .as_ref()
                .to_vec(),
            SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8(&random)
                .map_err(|_| "could not generate an Ed25519 key".to_owned())?
                .as_ref()
                .to_vec(),
            SigningAlg::Rs256 => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .map_err(|err| format!("could not generate an RSA key: {err}"))?;
                key.to_pkcs8_der()
                    .map_err(|err| format!("could not encode an RSA key: {err}"))?
                    .as_bytes()
                    .to_vec()
            }
        };
        Self::from_pkcs8(alg, &pkcs8)
    }

    /// The key of `alg` in PKCS#8 DER, as `pkcs8` gave it.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, String> {
        let random = SystemRandom::new();
        let unusable = |err: ring::error::KeyRejected| format!("not a usable {} key: {err}", alg.name());
        let pair = match alg {
            SigningAlg::Es256 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &random)
                    .map_err(unusable)?,
            ),
            SigningAlg::Rs256 => Pair::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(unusable)?),
            SigningAlg::EdDsa => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(unusable)?),
        };
        // RFC 7638: the thumbprint of the required members, in this order.
        let (members, extra) = match &pair {
            Pair::Ecdsa(pair) => {
                let point = pair.public_key().as_ref();
                let (x, y) = (
                    URL_SAFE_NO_PAD.encode(&point[1..33]),
                    URL_SAFE_NO_PAD.encode(&point[33..65]),
                );
                (format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#), "")
            }
            Pair::Rsa(pair) => {
                let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
                let (n, e) = (
                    URL_SAFE_NO_PAD.encode(&public.n),
                    URL_SAFE_NO_PAD.encode(&public.e),
                );
                (format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#), "")
            }
            Pair::Ed25519(pair) => {
                let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
                (format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#), "")
            }
        };
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(&members));
        let jwk = format!(
            r#"{},"alg":"{}","use":"sig","kid":"{kid}"{extra}}}"#,
            members.trim_end_matches('}'),
            alg.name()
        );
        Ok(Self {
            alg,
            pair,
            pkcs8: pkcs8.to_vec(),
            kid,
            jwk,
            random,
        })
    }

    /// Its algorithm.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key in PKCS#8 DER, for keeping (sealed).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    fn signature(&self, input: &[u8]) -> Vec<u8> {
        // Signing with a key ring accepted fails only if the system's random
        // source does; nothing can be signed then.
        match &self.pair {
            Pair::Ecdsa(pair) => pair
                .sign(&self.random, input)
                .map(|signature| signature.as_ref().to_vec())
                .unwrap_or_default(),
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                match pair.sign(&RSA_PKCS1_SHA256, &self.random, input, &mut signature) {
                    Ok(()) => signature,
                    Err(_) => Vec::new(),
                }
            }
            Pair::Ed25519(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }
}

impl PayloadSigner for ProviderKey {
    fn sign_typed(&self, typ: &str, payload: &[u8]) -> String {
        let header = format!(
            r#"{{"alg":"{}","typ":"{typ}","kid":"{}"}}"#,
            self.alg.name(),
            self.kid
        );
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.signature(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn public_jwk(&self) -> Option<String> {
        Some(self.jwk.clone())
    }

    fn verify_typed(&self, typ: &str, jws: &str) -> Option<Vec<u8>> {
        use ring::signature::{
            ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
        };
        let (input, signature) = jws.rsplit_once('.')?;
        let (header, payload) = input.split_once('.')?;
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        // Only this key's own: its algorithm and kid, never `none`.
        if header["alg"] != self.alg.name() || header["kid"] != self.kid.as_str() || header["typ"] != typ {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let input = input.as_bytes();
        let verified = match &self.pair {
            Pair::Ecdsa(pair) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
                .verify(input, &signature)
                .is_ok(),
            Pair::Ed25519(pair) => UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref())
                .verify(input, &signature)
                .is_ok(),
            Pair::Rsa(pair) => ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public())
                .verify(&RSA_PKCS1_2048_8192_SHA256, input, &signature)
                .is_ok(),
        };
        if !verified {
            return None;
        }
        URL_SAFE_NO_PAD.decode(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    fn verify(key: &ProviderKey, jws: &str) {
        let (input, signature) = jws.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk().unwrap()).unwrap();
        let field = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        match key.alg() {
            SigningAlg::Es256 => {
                let point = [vec![4], field("x"), field("y")].concat();
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(input.as_bytes(), &signature)
                    .unwrap();
            }
            SigningAlg::EdDsa => UnparsedPublicKey::new(&ED25519, field("x"))
                .verify(input.as_bytes(), &signature)
                .unwrap(),
            SigningAlg::Rs256 => ring::rsa::PublicKeyComponents {
                n: field("n"),
                e: field("e"),
            }
            .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
            .unwrap(),
        }
    }

    #[test]
    fn every_algorithm_signs_what_its_public_jwk_verifies_and_survives_being_kept() {
        for alg in [SigningAlg::Es256, SigningAlg::Rs256, SigningAlg::EdDsa] {
            let key = ProviderKey::generate(alg).unwrap();
            let jws = key.sign(br#"{"sub":"1"}"#);
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jws.split('.').next().unwrap()).unwrap())
                    .unwrap();
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], key.kid());
            verify(&key, &jws);
            let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk().unwrap()).unwrap();
            assert_eq!(
                (jwk["alg"].as_str(), jwk["use"].as_str()),
                (Some(alg.name()), Some("sig"))
            );
            assert!(
                jwk.get("d").is_none() && jwk.get("p").is_none(),
                "no private member: {jwk}"
            );
            // RFC 7638: the kid is the digest of the required members, sorted.
            let text = |name: &str| jwk[name].as_str().unwrap().to_owned();
            let members = match alg {
                SigningAlg::Es256 => format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    text("x"),
                    text("y")
                ),
                SigningAlg::Rs256 => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, text("e"), text("n")),
                SigningAlg::EdDsa => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, text("x")),
            };
            assert_eq!(key.kid(), URL_SAFE_NO_PAD.encode(Sha256::digest(members)));
            assert_eq!(jwk["kid"], key.kid());
            assert_eq!(key.verify(&jws).as_deref(), Some(&br#"{"sub":"1"}"#[..]));
            let (input, _) = jws.rsplit_once('.').unwrap();
            let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
            assert_eq!(key.verify(&forged), None, "a wrong signature");
            let other = ProviderKey::generate(alg).unwrap();
            assert_eq!(other.verify(&jws), None, "another key's");
            let access = key.sign_typed("at+jwt", br#"{"sub":"1"}"#);
            assert_eq!(key.verify(&access), None, "an access token is no ID token");
            assert_eq!(key.verify_typed("at+jwt", &jws), None, "nor the other way round");
            assert_eq!(
                key.verify_typed("at+jwt", &access).as_deref(),
                Some(&br#"{"sub":"1"}"#[..])
            );
            let unsigned = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, key.kid())),
                URL_SAFE_NO_PAD.encode(b"{}")
            );
            assert_eq!(key.verify(&unsigned), None, "alg none");
            let kept = ProviderKey::from_pkcs8(alg, key.pkcs8()).unwrap();
            assert_eq!(kept.kid(), key.kid());
            verify(&kept, &kept.sign(b"{}"));
            assert_eq!(SigningAlg::from_name(alg.name()), Some(alg));
        }
        assert!(ProviderKey::from_pkcs8(SigningAlg::Es256, b"not a key").is_err());
    }
}
