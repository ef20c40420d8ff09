use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{Admission, Block, RateRule, RateState};

/// Counted attempts per key: account lockouts, per-address login throttles,
/// attempts at a second-factor code. Each method is one atomic step of the
/// transitions in `model::RateState`, so that a limit holds under parallel
/// requests and across nodes sharing the store. Callers skip disabled rules.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts an attempt before it is checked (`RateState::admit`).
    async fn admit(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<Admission, StoreError>;

    /// Records that an admitted attempt failed (`RateState::settle_failure`);
    /// returns the block in force afterwards, if any, and whether this failure
    /// started it.
    async fn settle_failure(
        &self,
        key: &str,
        rule: &RateRule,
        now: DateTime<Utc>,
    ) -> Result<Option<Block>, StoreError>;

    /// Takes back an admitted attempt that succeeded (`RateState::refund`).
    async fn refund(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Forgets the count after a completed login; an active block stays.
    async fn clear(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Forgets everything about the key, an active block included (an operator's unlock).
    async fn reset(&self, key: &str) -> Result<(), StoreError>;

    /// The key's state, for showing and for checking a block without counting.
    async fn state(&self, key: &str) -> Result<Option<RateState>, StoreError>;

    /// Forgets states that no longer matter at `now`; returns how many.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
