use async_trait::async_trait;

use crate::error::HashError;
use crate::model::{HashProfile, Password};

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password is right. `needs_rehash` is set when the hash uses other
    /// parameters or another format than the current ones.
    Match {
        /// Whether the caller should store a fresh hash.
        needs_rehash: bool,
    },
    /// The password is wrong.
    Mismatch,
}

/// A check of a password against a stored hash, and how long the hash ran on
/// its thread (not counting the wait for one), which the refusal floor learns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// Whether the password matched.
    pub check: PasswordCheck,
    /// The hash's own time.
    pub ran: std::time::Duration,
}

/// What a hashing pool has done since it started, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HashPoolStats {
    /// Jobs admitted and waiting for a thread now.
    pub queued: usize,
    /// Jobs running now.
    pub running: usize,
    /// Jobs finished.
    pub jobs: u64,
    /// Seconds the finished jobs waited for a thread, in all.
    pub wait_seconds: f64,
    /// Seconds the finished jobs ran, in all.
    pub run_seconds: f64,
}

/// Hashes and verifies passwords. Implementations must run the work off the async
/// workers and bound how much of it runs at once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC-format hash of `password` with the current parameters.
    async fn hash(&self, password: &Password) -> Result<String, HashError>;

    /// Whether a stored hash may be used at all, before any work is done on
    /// it: fully parsed, in a format Limen verifies, with a non-empty salt, a
    /// digest of at least 16 bytes, and costs within the configured bounds.
    /// `Unusable` says why not; otherwise the hash's format and costs, which
    /// name what checking it costs.
    fn inspect(&self, stored: &str) -> Result<HashProfile, HashError>;

    /// Checks `password` against a stored hash; `Unusable` (and no hash
    /// computed) for one that `inspect` refuses.
    async fn verify(&self, password: &Password, stored: &str) -> Result<Verification, HashError>;

    /// A valid hash of no one's password, verified for unknown users so that they
    /// cost the same time as a wrong password.
    fn dummy_hash(&self) -> String;

    /// The pool's figures.
    fn pool_stats(&self) -> HashPoolStats;
}
