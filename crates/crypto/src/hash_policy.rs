//! Stored password hashes, parsed in full and held to bounds before any work
//! is done on them: Limen's own argon2id, and what users bring along when
//! their directory, or an import, holds hashes from Django, passlib, Keycloak,
//! Authelia, a Linux shadow file or an LDAP server. A hash from outside that
//! asked for gigabytes of memory or hours of work would take a node down (or
//! keep a hashing thread for a day) at its first login; one with a one-byte
//! digest would let one password in 256 in. Such a hash is unusable: a login
//! treats it as a wrong password and computes nothing.

use argon2::password_hash::{PasswordHash, Salt};
use argon2::{Algorithm, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use limen_domain::model::HashProfile;
use sha2::{Sha256, Sha512};

/// Shortest digest accepted: a shorter one lets too many passwords match.
const MIN_DIGEST_BYTES: usize = 16;
/// Longest digest accepted (SHA-512 is 64 bytes; PBKDF2 may derive more).
const MAX_DIGEST_BYTES: usize = 128;
/// Most scrypt lanes: each one repeats the whole memory-hard work.
const MAX_SCRYPT_LANES: u32 = 16;

/// The bounds on what checking one stored hash may cost. The defaults let
/// every common configuration of the formats' own tools through (OWASP's
/// argon2id and PBKDF2 recommendations, bcrypt up to cost 14) and keep one
/// check under about a second and 256 MiB on a current core. The
/// configuration's `[password.foreign_hash_limits]`, key for key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashLimits {
    /// argon2 memory, KiB.
    pub argon2_memory_kib: u32,
    /// argon2 passes.
    pub argon2_iterations: u32,
    /// argon2 lanes.
    pub argon2_lanes: u32,
    /// Lowest bcrypt cost (below 4 bcrypt itself refuses).
    pub bcrypt_min_cost: u32,
    /// Highest bcrypt cost.
    pub bcrypt_max_cost: u32,
    /// PBKDF2 iterations.
    pub pbkdf2_iterations: u32,
    /// SHA-crypt rounds (`$5$`, `$6$`).
    pub sha_crypt_rounds: u32,
    /// scrypt memory (128 · r · 2^ln bytes), KiB.
    pub scrypt_memory_kib: u32,
}

impl Default for HashLimits {
    fn default() -> Self {
        Self {
            argon2_memory_kib: 256 * 1024,
            argon2_iterations: 10,
            argon2_lanes: 8,
            bcrypt_min_cost: 4,
            bcrypt_max_cost: 14,
            pbkdf2_iterations: 5_000_000,
            sha_crypt_rounds: 5_000_000,
            scrypt_memory_kib: 256 * 1024,
        }
    }
}

/// Decides whether a stored hash may be used: one check for imports, for
/// every directory's hashes at login, and before any verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashPolicy {
    limits: HashLimits,
}

impl HashPolicy {
    /// A policy with these bounds.
    pub fn new(limits: HashLimits) -> Self {
        Self { limits }
    }

    /// The bounds in force.
    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// The format and costs of `hash`, when it parses in full and stays within
    /// the bounds; otherwise why not, in words for an operator.
    pub fn check(&self, hash: &str) -> Result<HashProfile, String> {
        self.parse(hash).map(|stored| stored.profile())
    }

    /// `hash` parsed, when it may be used.
    pub(crate) fn parse(&self, hash: &str) -> Result<StoredHash, String> {
        let stored = StoredHash::parse(hash)?;
        stored.within(&self.limits)?;
        Ok(stored)
    }
}

/// A PBKDF2 pseudo-random function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn parse(name: &str) -> Result<Self, String> {
        match name {
            "sha1" => Ok(Prf::Sha1),
            "sha256" => Ok(Prf::Sha256),
            "sha512" => Ok(Prf::Sha512),
            other => Err(format!("PBKDF2 with {other:?} is not a format Limen verifies")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Prf::Sha1 => "sha1",
            Prf::Sha256 => "sha256",
            Prf::Sha512 => "sha512",
        }
    }
}

/// A stored hash, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredHash {
    /// argon2 in PHC form (a Django `argon2$` prefix removed).
    Argon2 {
        phc: String,
        algorithm: Algorithm,
        version: Version,
        params: Params,
    },
    /// bcrypt, as the `bcrypt` crate reads it.
    Bcrypt { hash: String, cost: u32 },
    /// PBKDF2 in Django's, passlib's or PHC form.
    Pbkdf2 {
        prf: Prf,
        rounds: u32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    /// scrypt in PHC form.
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    /// SHA-crypt (`$5$` is 256 bits, `$6$` 512).
    ShaCrypt {
        bits: u16,
        rounds: u32,
        salt: String,
        expected: String,
    },
}

/// `hash` without the `{CRYPT}` an LDAP `userPassword` puts before a crypt(3) hash.
fn without_ldap_scheme(hash: &str) -> &str {
    match hash.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("{crypt}") => &hash[7..],
        _ => hash,
    }
}

/// The crypt(3) alphabet of bcrypt and SHA-crypt.
fn is_crypt_text(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// Base64 as passlib writes it (`.` for `+`, no padding) or as PHC does.
fn adapted_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD
        .decode(text.replace('.', "+").trim_end_matches('='))
        .ok()
}

fn digest(bytes: Option<Vec<u8>>, what: &str) -> Result<Vec<u8>, String> {
    let bytes = bytes.ok_or_else(|| format!("the {what} digest is not base64"))?;
    if bytes.len() < MIN_DIGEST_BYTES || bytes.len() > MAX_DIGEST_BYTES {
        return Err(format!(
            "the {what} digest has {} bytes: {MIN_DIGEST_BYTES} to {MAX_DIGEST_BYTES} are accepted",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn salt(bytes: Option<Vec<u8>>, what: &str) -> Result<Vec<u8>, String> {
    match bytes {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        Some(_) => Err(format!("the {what} salt is empty")),
        None => Err(format!("the {what} salt is not base64")),
    }
}

fn number(text: &str, what: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {text:?} is not a number"));
    }
    text.parse().map_err(|_| format!("{what} {text} is too large"))
}

fn above(what: &str, value: impl std::fmt::Display, bound: impl std::fmt::Display) -> String {
    format!("{what} {value} is above the bound of {bound}")
}

impl StoredHash {
    /// Parses every part of `hash`, refusing what no format accounts for.
    fn parse(hash: &str) -> Result<Self, String> {
        let hash = without_ldap_scheme(hash.trim());
        if hash.is_empty() {
            return Err("the hash is empty".into());
        }
        if let Some(phc) = argon2_phc(hash) {
            return Self::argon2(phc);
        }
        let bcrypt = hash.strip_prefix("bcrypt$").unwrap_or(hash);
        if ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|prefix| bcrypt.starts_with(prefix))
        {
            return Self::bcrypt(bcrypt);
        }
        if let Some(rest) = hash.strip_prefix("pbkdf2_") {
            return Self::pbkdf2_django(rest);
        }
        if hash.starts_with("$pbkdf2$") || hash.starts_with("$pbkdf2-") {
            return Self::pbkdf2_passlib(hash);
        }
        if let Some(rest) = hash.strip_prefix("$scrypt$") {
            return Self::scrypt(rest);
        }
        if let Some(rest) = hash.strip_prefix("$6$") {
            return Self::sha_crypt(rest, 512);
        }
        if let Some(rest) = hash.strip_prefix("$5$") {
            return Self::sha_crypt(rest, 256);
        }
        let start: String = hash.chars().take(12).collect();
        Err(format!("no format Limen verifies starts like {start:?}"))
    }

    fn argon2(phc: &str) -> Result<Self, String> {
        let parsed = PasswordHash::new(phc).map_err(|err| format!("not a valid argon2 hash: {err}"))?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|err| format!("argon2: {err}"))?;
        let version = match parsed.version {
            None => Version::default(),
            Some(number) => Version::try_from(number).map_err(|err| format!("argon2 version: {err}"))?,
        };
        let params = Params::try_from(&parsed).map_err(|err| format!("argon2 parameters: {err}"))?;
        let salt_text = parsed.salt.ok_or("the argon2 hash has no salt")?;
        let mut buffer = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt_text
            .decode_b64(&mut buffer)
            .map_err(|err| format!("the argon2 salt: {err}"))?;
        if salt_bytes.is_empty() {
            return Err("the argon2 salt is empty".into());
        }
        let output = parsed.hash.ok_or("the argon2 hash has no digest")?;
        if output.len() < MIN_DIGEST_BYTES {
            return Err(format!(
                "the argon2 digest has {} bytes: at least {MIN_DIGEST_BYTES} are needed",
                output.len()
            ));
        }
        Ok(StoredHash::Argon2 {
            phc: phc.to_owned(),
            algorithm,
            version,
            params,
        })
    }

    fn bcrypt(hash: &str) -> Result<Self, String> {
        // `$2b$12$` and 53 characters: 22 of salt, 31 of digest.
        let parts: Vec<&str> = hash.split('$').collect();
        let ["", _, cost, rest] = parts[..] else {
            return Err("a bcrypt hash is `$2b$<cost>$<53 characters>`".into());
        };
        if cost.len() != 2 {
            return Err(format!("the bcrypt cost {cost:?} is not two digits"));
        }
        let cost = number(cost, "the bcrypt cost")?;
        if rest.len() != 53 || !is_crypt_text(rest) {
            return Err("the bcrypt salt and digest are not 53 characters of its alphabet".into());
        }
        Ok(StoredHash::Bcrypt {
            hash: hash.to_owned(),
            cost,
        })
    }

    /// `<prf>$<iterations>$<salt>$<base64>` (the `pbkdf2_` stripped): Django's form.
    fn pbkdf2_django(rest: &str) -> Result<Self, String> {
        let parts: Vec<&str> = rest.split('$').collect();
        let [prf, rounds, salt_text, expected] = parts[..] else {
            return Err("a Django PBKDF2 hash is `pbkdf2_<prf>$<iterations>$<salt>$<digest>`".into());
        };
        let prf = Prf::parse(prf)?;
        let rounds = number(rounds, "the PBKDF2 iteration count")?;
        // Django uses the salt's text as it stands.
        let salt = salt(Some(salt_text.as_bytes().to_vec()), "PBKDF2")?;
        let expected = digest(STANDARD.decode(expected).ok(), "PBKDF2")?;
        Self::pbkdf2(prf, rounds, salt, expected)
    }

    /// `$pbkdf2-<prf>$<rounds>$<ab64>$<ab64>` (passlib, Authelia) or
    /// `$pbkdf2-<prf>$i=<rounds>[,l=<length>]$<b64>$<b64>` (PHC).
    fn pbkdf2_passlib(hash: &str) -> Result<Self, String> {
        let parts: Vec<&str> = hash.split('$').collect();
        let ["", name, rounds, salt_text, expected] = parts[..] else {
            return Err("a PBKDF2 hash is `$pbkdf2-<prf>$<rounds>$<salt>$<digest>`".into());
        };
        let prf = match name.strip_prefix("pbkdf2-") {
            Some(prf) => Prf::parse(prf)?,
            None if name == "pbkdf2" => Prf::Sha1,
            None => return Err(format!("{name:?} is not a PBKDF2 format")),
        };
        let salt = salt(adapted_base64(salt_text), "PBKDF2")?;
        let expected = digest(adapted_base64(expected), "PBKDF2")?;
        let rounds = if rounds.starts_with("i=") {
            let mut iterations = None;
            for pair in rounds.split(',') {
                match pair.split_once('=') {
                    Some(("i", value)) if iterations.is_none() => {
                        iterations = Some(number(value, "the PBKDF2 iteration count")?);
                    }
                    Some(("l", value)) => {
                        let length = number(value, "the PBKDF2 length")?;
                        if usize::try_from(length).ok() != Some(expected.len()) {
                            return Err(format!(
                                "the PBKDF2 length says {length} bytes, the digest has {}",
                                expected.len()
                            ));
                        }
                    }
                    _ => return Err(format!("the PBKDF2 parameters {rounds:?} are not `i=<n>,l=<n>`")),
                }
            }
            iterations.ok_or("the PBKDF2 parameters have no iteration count")?
        } else {
            number(rounds, "the PBKDF2 iteration count")?
        };
        Self::pbkdf2(prf, rounds, salt, expected)
    }

    fn pbkdf2(prf: Prf, rounds: u32, salt: Vec<u8>, expected: Vec<u8>) -> Result<Self, String> {
        if rounds == 0 {
            return Err("the PBKDF2 iteration count is 0".into());
        }
        Ok(StoredHash::Pbkdf2 {
            prf,
            rounds,
            salt,
            expected,
        })
    }

    /// `ln=<log2 N>,r=<r>,p=<p>$<b64>$<b64>` (the `$scrypt$` stripped).
    fn scrypt(rest: &str) -> Result<Self, String> {
        let parts: Vec<&str> = rest.split('$').collect();
        let [params, salt_text, expected] = parts[..] else {
            return Err("an scrypt hash is `$scrypt$ln=<n>,r=<n>,p=<n>$<salt>$<digest>`".into());
        };
        let (mut log_n, mut r, mut p) = (None, None, None);
        for pair in params.split(',') {
            let slot = match pair.split_once('=') {
                Some(("ln", value)) => (&mut log_n, value),
                Some(("r", value)) => (&mut r, value),
                Some(("p", value)) => (&mut p, value),
                _ => {
                    return Err(format!(
                        "the scrypt parameters {params:?} are not `ln=<n>,r=<n>,p=<n>`"
                    ));
                }
            };
            if slot.0.is_some() {
                return Err(format!("the scrypt parameters {params:?} name one twice"));
            }
            *slot.0 = Some(number(slot.1, "an scrypt parameter")?);
        }
        let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
            return Err(format!(
                "the scrypt parameters {params:?} lack one of ln, r and p"
            ));
        };
        let log_n = u8::try_from(log_n)
            .ok()
            .filter(|log_n| (1..64).contains(log_n))
            .ok_or_else(|| format!("the scrypt ln {log_n} is outside 1 to 63"))?;
        if r == 0 || p == 0 {
            return Err("the scrypt r and p must be at least 1".into());
        }
        Ok(StoredHash::Scrypt {
            log_n,
            r,
            p,
            salt: salt(adapted_base64(salt_text), "scrypt")?,
            expected: digest(adapted_base64(expected), "scrypt")?,
        })
    }

    /// `[rounds=<n>$]<salt>$<digest>` (the `$6$` or `$5$` stripped).
    fn sha_crypt(rest: &str, bits: u16) -> Result<Self, String> {
        let what = if bits == 512 {
            "SHA-512-crypt"
        } else {
            "SHA-256-crypt"
        };
        let (rounds, rest) = match rest.strip_prefix("rounds=") {
            Some(rest) => {
                let (rounds, rest) = rest
                    .split_once('$')
                    .ok_or_else(|| format!("the {what} hash has rounds but no salt"))?;
                (number(rounds, &format!("the {what} rounds"))?, rest)
            }
            None => (5_000, rest),
        };
        let (salt, expected) = rest
            .split_once('$')
            .ok_or_else(|| format!("a {what} hash is `<salt>$<digest>` after its prefix"))?;
        if salt.is_empty() || salt.chars().count() > 16 || salt.contains(['\n', '\0']) {
            return Err(format!("the {what} salt must have 1 to 16 characters"));
        }
        let length = if bits == 512 { 86 } else { 43 };
        if expected.len() != length || !is_crypt_text(expected) {
            return Err(format!(
                "the {what} digest must be {length} characters of the crypt alphabet"
            ));
        }
        Ok(StoredHash::ShaCrypt {
            bits,
            // As glibc does: rounds clamped to 1,000 ..= 999,999,999.
            rounds: rounds.clamp(1_000, 999_999_999),
            salt: salt.to_owned(),
            expected: expected.to_owned(),
        })
    }

    /// Whether checking the hash stays within `limits`.
    fn within(&self, limits: &HashLimits) -> Result<(), String> {
        match self {
            StoredHash::Argon2 { params, .. } => {
                if params.m_cost() > limits.argon2_memory_kib {
                    return Err(above(
                        "the argon2 memory",
                        format!("{} KiB", params.m_cost()),
                        format!("{} KiB", limits.argon2_memory_kib),
                    ));
                }
                if params.t_cost() > limits.argon2_iterations {
                    return Err(above(
                        "the argon2 iterations",
                        params.t_cost(),
                        limits.argon2_iterations,
                    ));
                }
                if params.p_cost() > limits.argon2_lanes {
                    return Err(above("the argon2 lanes", params.p_cost(), limits.argon2_lanes));
                }
            }
            StoredHash::Bcrypt { cost, .. } => {
                if *cost < limits.bcrypt_min_cost || *cost > limits.bcrypt_max_cost {
                    return Err(format!(
                        "the bcrypt cost {cost} is outside {} to {}",
                        limits.bcrypt_min_cost, limits.bcrypt_max_cost
                    ));
                }
            }
            StoredHash::Pbkdf2 { rounds, .. } => {
                if *rounds > limits.pbkdf2_iterations {
                    return Err(above("the PBKDF2 iterations", rounds, limits.pbkdf2_iterations));
                }
            }
            StoredHash::Scrypt { log_n, r, p, .. } => {
                // 128 · r · 2^ln bytes, in KiB: r · 2^(ln − 3).
                let kib = u128::from(*r) << log_n >> 3;
                if kib > u128::from(limits.scrypt_memory_kib) {
                    return Err(above(
                        "the scrypt memory",
                        format!("{kib} KiB"),
                        format!("{} KiB", limits.scrypt_memory_kib),
                    ));
                }
                if *p > MAX_SCRYPT_LANES {
                    return Err(above("the scrypt p", p, MAX_SCRYPT_LANES));
                }
            }
            StoredHash::ShaCrypt { rounds, .. } => {
                if *rounds > limits.sha_crypt_rounds {
                    return Err(above("the SHA-crypt rounds", rounds, limits.sha_crypt_rounds));
                }
            }
        }
        Ok(())
    }

    /// The format and costs: what checking the hash costs.
    pub(crate) fn profile(&self) -> HashProfile {
        HashProfile(match self {
            StoredHash::Argon2 {
                algorithm,
                version,
                params,
                ..
            } => format!(
                "{} v={} m={} t={} p={}",
                algorithm.as_str(),
                u32::from(*version),
                params.m_cost(),
                params.t_cost(),
                params.p_cost()
            ),
            StoredHash::Bcrypt { cost, .. } => format!("bcrypt cost={cost}"),
            StoredHash::Pbkdf2 {
                prf,
                rounds,
                expected,
                ..
            } => format!("pbkdf2-{} i={rounds} l={}", prf.name(), expected.len()),
            StoredHash::Scrypt { log_n, r, p, .. } => format!("scrypt ln={log_n} r={r} p={p}"),
            StoredHash::ShaCrypt { bits, rounds, .. } => format!("sha{bits}-crypt rounds={rounds}"),
        })
    }

    /// Checks `password` against a hash other than argon2 (which the hashing
    /// threads' kept memory computes): whether it matches.
    pub(crate) fn verify_other(&self, password: &[u8]) -> Result<bool, String> {
        match self {
            StoredHash::Argon2 { .. } => Err("argon2 is verified with a hashing thread's memory".into()),
            StoredHash::Bcrypt { hash, .. } => {
                bcrypt::verify(password, hash).map_err(|err| format!("bcrypt: {err}"))
            }
            StoredHash::Pbkdf2 {
                prf,
                rounds,
                salt,
                expected,
            } => {
                let mut derived = vec![0u8; expected.len()];
                match prf {
                    Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, *rounds, &mut derived),
                    Prf::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *rounds, &mut derived),
                    Prf::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *rounds, &mut derived),
                }
                Ok(constant_time_eq(&derived, expected))
            }
            StoredHash::Scrypt {
                log_n,
                r,
                p,
                salt,
                expected,
            } => {
                let params = scrypt::Params::new(*log_n, *r, *p, expected.len())
                    .map_err(|err| format!("scrypt: {err}"))?;
                let mut derived = vec![0u8; expected.len()];
                scrypt::scrypt(password, salt, &params, &mut derived)
                    .map_err(|err| format!("scrypt: {err}"))?;
                Ok(constant_time_eq(&derived, expected))
            }
            StoredHash::ShaCrypt {
                bits,
                rounds,
                salt,
                expected,
            } => {
                let rounds = usize::try_from(*rounds).map_err(|err| err.to_string())?;
                let computed = if *bits == 512 {
                    let params = sha_crypt::Sha512Params::new(rounds).map_err(|err| format!("{err:?}"))?;
                    sha_crypt::sha512_crypt_b64(password, salt.as_bytes(), &params)
                        .map_err(|err| format!("{err:?}"))?
                } else {
                    let params = sha_crypt::Sha256Params::new(rounds).map_err(|err| format!("{err:?}"))?;
                    sha_crypt::sha256_crypt_b64(password, salt.as_bytes(), &params)
                        .map_err(|err| format!("{err:?}"))?
                };
                Ok(constant_time_eq(computed.as_bytes(), expected.as_bytes()))
            }
        }
    }
}

/// The PHC string of an argon2 hash, without Django's `argon2` prefix.
fn argon2_phc(hash: &str) -> Option<&str> {
    let phc = hash
        .strip_prefix("argon2")
        .filter(|rest| rest.starts_with("$argon2"))
        .unwrap_or(hash);
    (phc.starts_with("$argon2id$") || phc.starts_with("$argon2i$") || phc.starts_with("$argon2d$"))
        .then_some(phc)
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HashPolicy {
        HashPolicy::default()
    }

    #[test]
    fn formats_are_named_with_their_costs() {
        let cases = [
            (
                "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
                "argon2id v=19 m=65536 t=3 p=4",
            ),
            (
                "$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
                "bcrypt cost=4",
            ),
            (
                "bcrypt$$2b$12$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
                "bcrypt cost=12",
            ),
            (
                "pbkdf2_sha256$600000$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",
                "pbkdf2-sha256 i=600000 l=32",
            ),
            (
                "$pbkdf2-sha256$i=1000,l=16$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                "pbkdf2-sha256 i=1000 l=16",
            ),
            (
                "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                "scrypt ln=16 r=8 p=1",
            ),
            (
                "{CRYPT}$6$test$s73HObLPm3spffEErq3RSoFse8b43m.tVitc.rEapP4nbLqdmZZabQpuXHItK6ZdlYGqOs5nbhFsWb.ZHZlYa0",
                "sha512-crypt rounds=5000",
            ),
            (
                "$5$rounds=10$x0EgTV216v4TyRYg$/NfCj.GV470TbA7Z.HSzMHD9VWCHAKCANrYl8rZ/n/9",
                "sha256-crypt rounds=1000",
            ),
        ];
        for (hash, profile) in cases {
            assert_eq!(policy().check(hash), Ok(HashProfile(profile.into())), "{hash}");
        }
    }

    /// What an attacker, or a careless export, could put into a directory.
    #[test]
    fn hostile_and_broken_hashes_are_refused_with_a_reason() {
        let cases = [
            // Four TiB of memory: aborts the process at the first login.
            (
                "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                "argon2 memory",
            ),
            (
                "$argon2id$v=19$m=65536,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                "argon2 iterations",
            ),
            (
                "$argon2id$v=19$m=65536,t=1,p=64$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                "argon2 lanes",
            ),
            ("$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "too short"),
            (
                "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
                "digest has 12 bytes",
            ),
            ("$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ", "no digest"),
            ("$argon2id$", "argon2"),
            // About 36 hours per check.
            (
                "$2b$31$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
                "bcrypt cost 31",
            ),
            (
                "$2b$03$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
                "bcrypt cost 3",
            ),
            ("$2b$99$short", "53 characters"),
            // A one-byte digest: one password in 256 matches.
            ("pbkdf2_sha256$1000$salt$AA==", "1 bytes"),
            ("pbkdf2_sha256$1000$$aGFzaGhhc2hoYXNoaGFzaA==", "salt is empty"),
            (
                "pbkdf2_sha256$99999999$salt$aGFzaGhhc2hoYXNoaGFzaA==",
                "PBKDF2 iterations",
            ),
            ("pbkdf2_md5$1000$salt$aGFzaGhhc2hoYXNoaGFzaA==", "md5"),
            (
                "$pbkdf2-sha256$i=1000,l=32$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                "length says 32",
            ),
            ("$pbkdf2-sha256$1000$only-three", "PBKDF2 hash is"),
            // 16 GiB of memory.
            (
                "$scrypt$ln=22,r=32,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                "scrypt memory",
            ),
            (
                "$scrypt$ln=10,r=8,p=4096$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                "scrypt p",
            ),
            ("$scrypt$ln=16,r=8$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "lack one"),
            ("$6$", "SHA-512-crypt"),
            ("$6$salt$short", "86 characters"),
            (
                "$6$rounds=99999999$salt$s73HObLPm3spffEErq3RSoFse8b43m.tVitc.rEapP4nbLqdmZZabQpuXHItK6ZdlYGqOs5nbhFsWb.ZHZlYa0",
                "SHA-crypt rounds",
            ),
            ("$6$rounds=x$salt$hash", "not a number"),
            ("$1$md5$crypt", "no format"),
            ("plaintext", "no format"),
            ("", "empty"),
        ];
        for (hash, reason) in cases {
            let refused = policy().check(hash).expect_err(hash);
            assert!(refused.contains(reason), "{hash}: {refused}");
        }
    }

    #[test]
    fn the_bounds_are_the_configured_ones() {
        let strict = HashPolicy::new(HashLimits {
            bcrypt_max_cost: 10,
            ..HashLimits::default()
        });
        let cost_12 = "$2b$12$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm";
        assert!(policy().check(cost_12).is_ok());
        assert!(strict.check(cost_12).unwrap_err().contains("outside 4 to 10"));
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
            let stored = policy().parse(hash).unwrap();
            assert!(stored.verify_other(password.as_bytes()).unwrap(), "{hash}");
            assert!(!stored.verify_other(b"wrong").unwrap(), "{hash}");
        }
    }
}
