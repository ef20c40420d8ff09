//! Cryptography adapters for Limen's domain ports: argon2id password hashing on a
//! bounded blocking pool, and random tokens stored as SHA-256 digests.

mod argon;
mod tokens;

pub use argon::{Argon2Config, Argon2Hasher};
pub use tokens::RandomTokenMint;
