use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{Admission, Block, RateRule, RateState};
use limen_domain::ports::RateLimiter;

/// Keys kept by default before the oldest are dropped.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    state: RateState,
    expires_at: DateTime<Utc>,
}

/// `RateLimiter` in a map behind one lock: each transition of
/// `model::RateState` happens under the lock, so it is atomic for this process.
/// The map is bounded: past `max_keys`, states that no longer matter are swept,
/// and if that is not enough, those that expire soonest are dropped (an
/// attacker with that many addresses is throttled less, never more).
pub struct MemoryRateLimiter {
    max_keys: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_KEYS)
    }
}

impl MemoryRateLimiter {
    /// A limiter keeping at most `max_keys` keys (at least one).
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere cannot leave a half-written entry: every write is one insert.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many keys are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: DateTime<Utc>) {
        if entries.len() < self.max_keys {
            return;
        }
        entries.retain(|_, entry| !expired(entry, now));
        if entries.len() < self.max_keys {
            return;
        }
        let mut by_expiry: Vec<(DateTime<Utc>, String)> = entries
            .iter()
            .map(|(key, entry)| (entry.expires_at, key.clone()))
            .collect();
        by_expiry.sort();
        // Down to nine tenths, so that the next insertions do not sort again.
        let excess = entries.len() + 1 - self.max_keys * 9 / 10;
        for (_, key) in by_expiry.into_iter().take(excess) {
            entries.remove(&key);
        }
    }
}

fn expired(entry: &Entry, now: DateTime<Utc>) -> bool {
    entry.expires_at <= now && entry.state.blocked_at(now).is_none()
}

fn entry(state: RateState, rule: &RateRule) -> Entry {
    Entry {
        state,
        expires_at: state.expires_at(rule),
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn admit(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<Admission, StoreError> {
        let mut entries = self.lock();
        let current = entries.get(key).map(|entry| entry.state);
        match RateState::admit(current.as_ref(), rule, now) {
            Ok(next) => {
                if current.is_none() {
                    self.make_room(&mut entries, now);
                }
                entries.insert(key.to_owned(), entry(next, rule));
                Ok(Admission::Admitted)
            }
            Err(refused) => Ok(refused),
        }
    }

    async fn settle_failure(
        &self,
        key: &str,
        rule: &RateRule,
        now: DateTime<Utc>,
    ) -> Result<Option<Block>, StoreError> {
        let mut entries = self.lock();
        let Some(current) = entries.get(key).copied() else {
            return Ok(None);
        };
        let (next, block) = current.state.settle_failure(rule, now);
        let mut updated = entry(next, rule);
        updated.expires_at = updated.expires_at.max(current.expires_at);
        entries.insert(key.to_owned(), updated);
        Ok(block)
    }

    async fn refund(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut entries = self.lock();
        if let Some(current) = entries.get_mut(key) {
            current.state = current.state.refund(rule, now);
        }
        Ok(())
    }

    async fn clear(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut entries = self.lock();
        match entries.get(key).and_then(|current| current.state.clear(now)) {
            Some(kept) => {
                if let Some(current) = entries.get_mut(key) {
                    current.state = kept;
                }
            }
            None => {
                entries.remove(key);
            }
        }
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn state(&self, key: &str) -> Result<Option<RateState>, StoreError> {
        Ok(self.lock().get(key).map(|entry| entry.state))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, entry| !expired(entry, now));
        Ok((before - entries.len()) as u64)
    }
}
