//! `[password]`, `[lockout]` and `[two_factor]`: how credentials are checked.

use serde::{Deserialize, Serialize};

/// `[password]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSection {
    /// argon2id memory cost in KiB.
    pub memory_kib: u32,
    /// argon2id passes.
    pub iterations: u32,
    /// argon2id lanes.
    pub parallelism: u32,
    /// Hashes computed at once; 0 means one per core.
    pub max_concurrent: usize,
    /// Hashes allowed to wait; more are refused with 503.
    pub max_queue: usize,
    /// Hashes one client address may have queued or running at once; more
    /// are refused with 503. 0 means no bound.
    pub max_queue_per_address: usize,
    /// Nice value of the hashing threads (0 to 19); request handling runs first.
    pub thread_niceness: u8,
    /// Seconds without a hash after which a hashing thread gives its argon2
    /// memory (`memory_kib`) back; while logins arrive it keeps it.
    pub workspace_idle_secs: u64,
    /// The least time, in milliseconds, that a refused password login takes;
    /// the slowest hash format seen in use raises it. 0: learned only.
    pub refusal_floor_ms: u64,
    /// Bounds on stored hashes made elsewhere (imports, customers' tables,
    /// CRMs): a hash beyond them is refused at import and is an unusable
    /// password at login.
    pub foreign_hash_limits: limen_crypto::HashLimits,
}

/// `[lockout]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutSection {
    /// Failed attempts within the window that lock an account; 0 disables locking.
    pub max_failures: u32,
    /// Seconds over which failures are counted.
    pub window_secs: i64,
    /// Seconds a lock lasts.
    pub lock_secs: i64,
}

/// `[two_factor]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwoFactorSection {
    /// `SHA1`, `SHA256` or `SHA512` for new enrolments.
    pub algorithm: String,
    /// Code length of new enrolments, 6 to 8.
    pub digits: u32,
    /// Seconds per code of new enrolments.
    pub period_secs: u64,
    /// The issuer name authenticator apps show.
    pub issuer: String,
    /// Seconds the temporary token of a login's password step lives.
    pub pending_ttl_secs: i64,
}

impl Default for TwoFactorSection {
    fn default() -> Self {
        Self {
            algorithm: "SHA1".into(),
            digits: 6,
            period_secs: 30,
            issuer: "Limen".into(),
            pending_ttl_secs: 300,
        }
    }
}

impl Default for PasswordSection {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 0,
            max_queue: 64,
            max_queue_per_address: 8,
            thread_niceness: 10,
            workspace_idle_secs: 10,
            refusal_floor_ms: 0,
            foreign_hash_limits: limen_crypto::HashLimits::default(),
        }
    }
}

impl Default for LockoutSection {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 15 * 60,
            lock_secs: 15 * 60,
        }
    }
}
