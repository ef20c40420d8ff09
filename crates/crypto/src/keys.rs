use ed25519_dalek::SigningKey;
use limen_domain::ports::KeyPairGenerator;

/// Ed25519 key pairs from the OS CSPRNG (ed25519-dalek).
#[derive(Debug, Default, Clone, Copy)]
pub struct Ed25519Keys;

impl KeyPairGenerator for Ed25519Keys {
    fn generate(&self) -> ([u8; 32], Vec<u8>) {
        let mut seed = [0u8; 32];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut seed).expect("the operating system's random source failed");
        let signing = SigningKey::from_bytes(&seed);
        (signing.verifying_key().to_bytes(), seed.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, Verifier, VerifyingKey};

    use super::*;

    #[test]
    fn the_public_key_verifies_what_the_private_seed_signs() {
        let (public, private) = Ed25519Keys.generate();
        let seed: [u8; 32] = private.try_into().unwrap();
        let signature = SigningKey::from_bytes(&seed).sign(b"limen");
        VerifyingKey::from_bytes(&public)
            .unwrap()
            .verify(b"limen", &signature)
            .unwrap();
        assert_ne!(Ed25519Keys.generate().0, public);
    }
}
