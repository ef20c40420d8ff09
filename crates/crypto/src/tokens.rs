use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use limen_domain::model::TokenHash;
use limen_domain::ports::TokenMint;
use sha2::{Digest, Sha256};

/// Bytes of randomness in every token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// Mints tokens from the operating system's CSPRNG, URL-safe base64 encoded (43
/// characters), and digests them with SHA-256 (hex) for storage and lookup.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomTokenMint;

impl TokenMint for RandomTokenMint {
    fn mint(&self) -> (String, TokenHash) {
        let mut bytes = [0u8; TOKEN_BYTES];
        // The OS random source failing means the machine cannot issue secrets at
        // all; refusing to continue is the only safe answer.
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let plaintext = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.digest(&plaintext);
        (plaintext, hash)
    }

    fn recovery_code(&self) -> String {
        let mut bytes = [0u8; 10];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let code = crate::base32::encode(&bytes);
        format!(
            "{}-{}-{}-{}",
            &code[0..4],
            &code[4..8],
            &code[8..12],
            &code[12..16]
        )
    }

    fn session_number(&self) -> i32 {
        loop {
            let mut bytes = [0u8; 4];
            #[allow(clippy::expect_used)]
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            let number = i32::from_le_bytes(bytes);
            if number != 0 {
                return number;
            }
        }
    }

    fn uuid(&self) -> String {
        let mut bytes = [0u8; 16];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        // RFC 9562 version 4: the version nibble and the variant bits.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn digest(&self, plaintext: &str) -> TokenHash {
        // Every validation digests its token: a table, not `write!`, which
        // cost a tenth of a cached validation's time.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(plaintext.as_bytes());
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        TokenHash(hex)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_are_url_safe() {
        let (plaintext, _) = RandomTokenMint.mint();
        assert_eq!(plaintext.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&plaintext).unwrap().len(), 32);
        assert!(
            plaintext
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn the_stored_digest_is_the_sha256_of_the_plaintext() {
        let (plaintext, hash) = RandomTokenMint.mint();
        assert_eq!(hash, RandomTokenMint.digest(&plaintext));
        assert_ne!(hash.0, plaintext);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            RandomTokenMint.digest("abc").0,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn recovery_codes_are_80_bits_of_base32_in_four_groups() {
        let code = RandomTokenMint.recovery_code();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4, "{code}");
        for group in groups {
            assert_eq!(group.len(), 4);
            assert!(
                group
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
            );
        }
        assert_ne!(code, RandomTokenMint.recovery_code());
    }

    #[test]
    fn uuids_are_version_4_in_the_canonical_form() {
        let uuid = RandomTokenMint.uuid();
        assert_eq!(uuid.len(), 36, "{uuid}");
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{uuid}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{uuid}"
        );
        assert!(
            uuid.bytes()
                .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(uuid, RandomTokenMint.uuid());
    }

    #[test]
    fn tokens_do_not_repeat() {
        let minted: HashSet<String> = (0..1000).map(|_| RandomTokenMint.mint().0).collect();
        assert_eq!(minted.len(), 1000);
    }
}
