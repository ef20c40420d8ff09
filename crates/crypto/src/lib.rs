//! Cryptography adapters for Limen's domain ports: argon2id password hashing on a
//! bounded blocking pool, random tokens stored as SHA-256 digests, RFC 6238 TOTP,
//! sealing of secrets at rest, and the keys of signed tokens.

mod argon;
pub mod base32;
mod hash_policy;
mod jws;
mod keys;
mod provider_keys;
mod secrets;
mod tokens;
mod totp;

pub use argon::{Argon2Config, Argon2Hasher};
pub use hash_policy::{HashLimits, HashPolicy};
pub use jws::{EdDsaSigner, Hs256Signer, MIN_HS256_KEY_BYTES};
pub use keys::Ed25519Keys;
pub use provider_keys::{ProviderKey, SigningAlg};

pub use secrets::{SecretKeyring, generate_key, parse_key};
pub use tokens::RandomTokenMint;
pub use totp::RfcTotp;
