//! Password hashes made elsewhere, verified in their own format: what users
//! bring along when their directory, or an import, holds hashes from Django,
//! passlib, Keycloak, Authelia, a Linux shadow file or an LDAP server. A
//! successful login with one of them asks for a rehash to Limen's argon2id.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use limen_domain::error::HashError;
use sha2::{Sha256, Sha512};

/// A hash format Limen verifies (besides argon2, which the argon2 path takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyFormat {
    /// bcrypt: `$2a$`, `$2b$`, `$2x$`, `$2y$`, also with Django's `bcrypt$` prefix.
    Bcrypt,
    /// PBKDF2 in Django's format: `pbkdf2_sha256$<iterations>$<salt>$<base64>`.
    Pbkdf2Django,
    /// PBKDF2 in passlib's (and Authelia's) format: `$pbkdf2-sha256$<rounds>$<ab64>$<ab64>`.
    Pbkdf2Passlib,
    /// PBKDF2 in PHC form: `$pbkdf2-sha256$i=<rounds>,l=<length>$<b64>$<b64>`.
    Pbkdf2Phc,
    /// scrypt in PHC form: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<b64>$<b64>`.
    Scrypt,
    /// SHA-512-crypt: `$6$[rounds=N$]<salt>$<hash>` (Linux shadow files, LDAP).
    Sha512Crypt,
    /// SHA-256-crypt: `$5$[rounds=N$]<salt>$<hash>`.
    Sha256Crypt,
}

/// Whether `hash` is in a format Limen verifies: argon2 (PHC, or Django's
/// `argon2$` form) or one of the legacy ones.
pub fn is_supported_hash(hash: &str) -> bool {
    is_argon2(hash) || recognize(hash).is_some()
}

/// The PHC string of an argon2 hash, without Django's `argon2` prefix.
pub(crate) fn argon2_phc(hash: &str) -> Option<&str> {
    let phc = hash
        .strip_prefix("argon2")
        .filter(|rest| rest.starts_with("$argon2"))
        .unwrap_or(hash);
    (phc.starts_with("$argon2id$") || phc.starts_with("$argon2i$") || phc.starts_with("$argon2d$"))
        .then_some(phc)
}

fn is_argon2(hash: &str) -> bool {
    argon2_phc(hash).is_some()
}

/// `hash` without the `{CRYPT}` an LDAP `userPassword` puts before a crypt(3) hash.
fn without_ldap_scheme(hash: &str) -> &str {
    match hash.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("{crypt}") => &hash[7..],
        _ => hash,
    }
}

/// The legacy format of `hash`, if it is one.
pub fn recognize(hash: &str) -> Option<LegacyFormat> {
    let hash = without_ldap_scheme(hash);
    let bcrypt = hash.strip_prefix("bcrypt$").unwrap_or(hash);
    if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| bcrypt.starts_with(prefix))
    {
        return Some(LegacyFormat::Bcrypt);
    }
    if ["pbkdf2_sha256$", "pbkdf2_sha512$", "pbkdf2_sha1$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
    {
        return Some(LegacyFormat::Pbkdf2Django);
    }
    if ["$pbkdf2$", "$pbkdf2-sha256$", "$pbkdf2-sha512$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
    {
        let rounds = hash.split('$').nth(2).unwrap_or_default();
        return Some(if rounds.starts_with("i=") {
            LegacyFormat::Pbkdf2Phc
        } else {
            LegacyFormat::Pbkdf2Passlib
        });
    }
    if hash.starts_with("$scrypt$") {
        return Some(LegacyFormat::Scrypt);
    }
    if hash.starts_with("$6$") {
        return Some(LegacyFormat::Sha512Crypt);
    }
    if hash.starts_with("$5$") {
        return Some(LegacyFormat::Sha256Crypt);
    }
    None
}

fn malformed(what: &str) -> HashError {
    HashError::MalformedHash(format!("not a valid {what} hash"))
}

/// Checks `password` against a legacy `hash`: whether it matches.
pub(crate) fn verify(format: LegacyFormat, password: &[u8], hash: &str) -> Result<bool, HashError> {
    let hash = without_ldap_scheme(hash);
    match format {
        LegacyFormat::Bcrypt => {
            let hash = hash.strip_prefix("bcrypt$").unwrap_or(hash);
            bcrypt::verify(password, hash).map_err(|_| malformed("bcrypt"))
        }
        LegacyFormat::Pbkdf2Django => {
            let mut parts = hash.split('$');
            let (Some(algorithm), Some(rounds), Some(salt), Some(expected), None) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return Err(malformed("Django PBKDF2"));
            };
            let rounds: u32 = rounds.parse().map_err(|_| malformed("Django PBKDF2"))?;
            let expected = STANDARD
                .decode(expected)
                .map_err(|_| malformed("Django PBKDF2"))?;
            // Django uses the salt's text as it stands.
            pbkdf2_matches(
                algorithm.trim_start_matches("pbkdf2_"),
                password,
                salt.as_bytes(),
                rounds,
                &expected,
            )
        }
        LegacyFormat::Pbkdf2Passlib | LegacyFormat::Pbkdf2Phc => {
            let mut parts = hash.split('$').skip(1);
            let (Some(algorithm), Some(rounds), Some(salt), Some(expected), None) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return Err(malformed("PBKDF2"));
            };
            let digest = algorithm.strip_prefix("pbkdf2-").unwrap_or("sha1");
            let rounds = if format == LegacyFormat::Pbkdf2Phc {
                // `i=<rounds>,l=<length>`: the length is the decoded hash's.
                rounds
                    .split(',')
                    .find_map(|pair| pair.strip_prefix("i="))
                    .ok_or_else(|| malformed("PBKDF2"))?
            } else {
                rounds
            };
            let rounds: u32 = rounds.parse().map_err(|_| malformed("PBKDF2"))?;
            let salt = adapted_base64(salt).ok_or_else(|| malformed("PBKDF2"))?;
            let expected = adapted_base64(expected).ok_or_else(|| malformed("PBKDF2"))?;
            pbkdf2_matches(digest, password, &salt, rounds, &expected)
        }
        LegacyFormat::Scrypt => scrypt_matches(password, hash),
        LegacyFormat::Sha512Crypt => sha_crypt_matches(password, hash, 512),
        LegacyFormat::Sha256Crypt => sha_crypt_matches(password, hash, 256),
    }
}

/// Base64 as passlib writes it (`.` for `+`, no padding) or as PHC does.
fn adapted_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD
        .decode(text.replace('.', "+").trim_end_matches('='))
        .ok()
}

fn pbkdf2_matches(
    digest: &str,
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    expected: &[u8],
) -> Result<bool, HashError> {
    if rounds == 0 || expected.is_empty() || expected.len() > 128 {
        return Err(malformed("PBKDF2"));
    }
    let mut derived = vec![0u8; expected.len()];
    match digest {
        "sha256" => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, rounds, &mut derived),
        "sha512" => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, rounds, &mut derived),
        "sha1" => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut derived),
        _ => return Err(malformed("PBKDF2")),
    }
    Ok(constant_time_eq(&derived, expected))
}

fn scrypt_matches(password: &[u8], hash: &str) -> Result<bool, HashError> {
    let mut parts = hash.split('$').skip(2);
    let (Some(params), Some(salt), Some(expected), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("scrypt"));
    };
    let mut log_n = None;
    let (mut r, mut p) = (None, None);
    for pair in params.split(',') {
        match pair.split_once('=') {
            Some(("ln", value)) => log_n = value.parse::<u8>().ok(),
            Some(("r", value)) => r = value.parse::<u32>().ok(),
            Some(("p", value)) => p = value.parse::<u32>().ok(),
            _ => return Err(malformed("scrypt")),
        }
    }
    let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
        return Err(malformed("scrypt"));
    };
    let salt = adapted_base64(salt).ok_or_else(|| malformed("scrypt"))?;
    let expected = adapted_base64(expected).ok_or_else(|| malformed("scrypt"))?;
    // Bounded: 2^24 × r blocks would take gigabytes for one login.
    if log_n > 22 || r == 0 || r > 32 || p == 0 || p > 16 {
        return Err(malformed("scrypt"));
    }
    let params = scrypt::Params::new(log_n, r, p, expected.len()).map_err(|_| malformed("scrypt"))?;
    let mut derived = vec![0u8; expected.len()];
    scrypt::scrypt(password, &salt, &params, &mut derived).map_err(|_| malformed("scrypt"))?;
    Ok(constant_time_eq(&derived, &expected))
}

fn sha_crypt_matches(password: &[u8], hash: &str, bits: u16) -> Result<bool, HashError> {
    let what = if bits == 512 {
        "SHA-512-crypt"
    } else {
        "SHA-256-crypt"
    };
    let body = &hash[3..];
    let (rounds, rest) = match body.strip_prefix("rounds=") {
        Some(rest) => {
            let (rounds, rest) = rest.split_once('$').ok_or_else(|| malformed(what))?;
            (rounds.parse::<u32>().map_err(|_| malformed(what))?, rest)
        }
        None => (5_000, body),
    };
    let (salt, expected) = rest.split_once('$').ok_or_else(|| malformed(what))?;
    // As glibc does: rounds clamped to 1,000 ..= 999,999,999, salt to 16 characters.
    let rounds = rounds.clamp(1_000, 999_999_999) as usize;
    let salt: String = salt.chars().take(16).collect();
    let computed = if bits == 512 {
        let params = sha_crypt::Sha512Params::new(rounds).map_err(|_| malformed(what))?;
        sha_crypt::sha512_crypt_b64(password, salt.as_bytes(), &params).map_err(|_| malformed(what))?
    } else {
        let params = sha_crypt::Sha256Params::new(rounds).map_err(|_| malformed(what))?;
        sha_crypt::sha256_crypt_b64(password, salt.as_bytes(), &params).map_err(|_| malformed(what))?
    };
    Ok(constant_time_eq(computed.as_bytes(), expected.as_bytes()))
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_prefix() {
        let cases = [
            (
                "$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
                Some(LegacyFormat::Bcrypt),
            ),
            ("bcrypt$$2b$04$x", Some(LegacyFormat::Bcrypt)),
            (
                "pbkdf2_sha256$1000$salt$aGFzaA==",
                Some(LegacyFormat::Pbkdf2Django),
            ),
            (
                "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11A",
                Some(LegacyFormat::Pbkdf2Passlib),
            ),
            (
                "$pbkdf2-sha256$i=600000,l=32$c2FsdA$aGFzaA",
                Some(LegacyFormat::Pbkdf2Phc),
            ),
            ("$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", Some(LegacyFormat::Scrypt)),
            ("$6$rounds=1000$salt$hash", Some(LegacyFormat::Sha512Crypt)),
            ("$5$salt$hash", Some(LegacyFormat::Sha256Crypt)),
            ("{CRYPT}$6$salt$hash", Some(LegacyFormat::Sha512Crypt)),
            ("{crypt}$2b$04$x", Some(LegacyFormat::Bcrypt)),
            ("$1$md5$crypt", None),
            ("plaintext", None),
            ("", None),
        ];
        for (hash, format) in cases {
            assert_eq!(recognize(hash), format, "{hash}");
        }
        assert!(is_supported_hash(
            "argon2$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
        assert!(!is_supported_hash("$1$md5$crypt"));
    }

    #[test]
    fn published_vectors_verify() {
        // passlib's documentation; libxcrypt's bcrypt; RFC-style SHA-crypt.
        let cases: [(&str, &str); 4] = [
            (
                "password",
                "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M",
            ),
            (
                "password",
                "$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
            ),
            (
                "test",
                "$6$test$s73HObLPm3spffEErq3RSoFse8b43m.tVitc.rEapP4nbLqdmZZabQpuXHItK6ZdlYGqOs5nbhFsWb.ZHZlYa0",
            ),
            (
                "test",
                "{CRYPT}$6$test$s73HObLPm3spffEErq3RSoFse8b43m.tVitc.rEapP4nbLqdmZZabQpuXHItK6ZdlYGqOs5nbhFsWb.ZHZlYa0",
            ),
        ];
        for (password, hash) in cases {
            let format = recognize(hash).unwrap();
            assert!(verify(format, password.as_bytes(), hash).unwrap(), "{hash}");
            assert!(!verify(format, b"wrong", hash).unwrap(), "{hash}");
        }
    }

    #[test]
    fn malformed_hashes_are_errors_not_mismatches() {
        for hash in [
            "pbkdf2_sha256$many$salt$aGFzaA==",
            "$pbkdf2-sha256$1000$only-three",
            "$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNo",
            "$scrypt$n=16$c2FsdA$aGFzaA",
            "$6$rounds=x$salt$hash",
            "$2b$99$short",
        ] {
            let format = recognize(hash).unwrap();
            assert!(
                matches!(verify(format, b"p", hash), Err(HashError::MalformedHash(_))),
                "{hash}"
            );
        }
    }
}
