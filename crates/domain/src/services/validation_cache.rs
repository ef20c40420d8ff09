//! Validated access tokens kept in the node's memory, so that validating a
//! token needs no round trip to the store. Every change that makes an entry
//! wrong (a revocation, "log out everywhere", a disabled user, a new role or
//! password or second factor) is heard from every node through
//! `Invalidations` and removes it; while changes cannot be heard the cache is
//! neither read nor filled; and no entry is trusted for longer than
//! `max_staleness`, whatever happens.
//!
//! A token is kept from its second validation on, not its first: when tokens
//! are spread over more users than the cache holds, most are validated once
//! in a while, and keeping each of them would clone and evict on every
//! request for entries that are pushed out before anyone reads them. The
//! cache must never make a validation slower than the store alone.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::model::{Invalidation, TokenHash, TokenRecord, User, UserId};

/// How the cache is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// The most tokens kept.
    pub max_entries: usize,
    /// The longest an entry is trusted, even if no change was heard.
    pub max_staleness: Duration,
}

struct Entry {
    token: TokenRecord,
    user: User,
    stored_at: DateTime<Utc>,
}

#[derive(Default)]
struct Kept {
    entries: HashMap<TokenHash, Entry>,
    by_user: HashMap<UserId, HashSet<TokenHash>>,
    /// Digests in the order they were stored, for dropping the oldest.
    order: VecDeque<TokenHash>,
    /// Which tokens were validated recently but not kept.
    seen: Doorkeeper,
}

/// Fingerprints of tokens validated recently, in two generations of at most
/// `max_entries` each: a token seen again while its fingerprint is in either
/// is admitted, and stays remembered, so that one pushed out of the cache
/// comes back at its next validation. A fingerprint costs 8 bytes, an entry a
/// token and a user, so remembering twice as many tokens as are kept is cheap.
#[derive(Default)]
struct Doorkeeper {
    recent: HashSet<u64>,
    previous: HashSet<u64>,
}

impl Doorkeeper {
    /// Whether a token with `fingerprint` was seen recently; remembers it
    /// in the recent generation either way.
    fn admits(&mut self, fingerprint: u64, capacity: usize) -> bool {
        if self.recent.contains(&fingerprint) {
            return true;
        }
        let seen = self.previous.remove(&fingerprint);
        if self.recent.len() >= capacity {
            self.previous = std::mem::take(&mut self.recent);
        }
        self.recent.insert(fingerprint);
        seen
    }
}

impl Kept {
    fn remove(&mut self, hash: &TokenHash) {
        if let Some(entry) = self.entries.remove(hash)
            && let Some(tokens) = self.by_user.get_mut(&entry.token.user_id)
        {
            tokens.remove(hash);
            if tokens.is_empty() {
                self.by_user.remove(&entry.token.user_id);
            }
        }
    }
}

/// A bounded cache of validated tokens and their owners.
pub struct ValidationCache {
    settings: CacheSettings,
    kept: Mutex<Kept>,
    /// Makes the doorkeeper's fingerprints.
    fingerprints: RandomState,
    /// Grows with every invalidation: a validation that read the store before
    /// an invalidation must not store what it read after it.
    generation: AtomicU64,
    /// Lookups answered from memory, and lookups that were not, for metrics.
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What a cache has done since it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that had to read the store (absent or too old).
    pub misses: u64,
    /// Entries kept now.
    pub entries: usize,
}

impl ValidationCache {
    /// An empty cache.
    pub fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            kept: Mutex::default(),
            fingerprints: RandomState::new(),
            generation: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current generation, read before a validation goes to the store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The token and owner kept for `hash`, unless older than the staleness bound.
    pub fn get(&self, hash: &TokenHash, now: DateTime<Utc>) -> Option<(TokenRecord, User)> {
        let kept = self.lock();
        let found = kept
            .entries
            .get(hash)
            .filter(|entry| now - entry.stored_at < self.settings.max_staleness)
            .map(|entry| (entry.token.clone(), entry.user.clone()));
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Hits, misses and entries so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.len(),
        }
    }

    /// Keeps a validation read from the store if the token was validated
    /// recently already (see the module's note) and no invalidation was heard
    /// since `generation` was read. Its age counts from when the user was read
    /// from the directory's source (`User::read_at`, when the directory
    /// answered from a cache of its own), so that a CRM's cache and this one
    /// do not add up.
    pub fn insert(&self, token: &TokenRecord, user: &User, generation: u64, now: DateTime<Utc>) {
        if self.settings.max_entries == 0 {
            return;
        }
        let fingerprint = self.fingerprints.hash_one(&token.hash);
        let mut kept = self.lock();
        // Checked under the lock, which every eviction takes too.
        if self.generation() != generation {
            return;
        }
        // A kept entry that grew too old is renewed whatever the doorkeeper says.
        let renewal = kept.entries.contains_key(&token.hash);
        if !kept.seen.admits(fingerprint, self.settings.max_entries) && !renewal {
            return;
        }
        let hash = token.hash.clone();
        let stored_at = user.read_at.map_or(now, |read| read.min(now));
        kept.by_user
            .entry(token.user_id)
            .or_default()
            .insert(hash.clone());
        if kept
            .entries
            .insert(
                hash.clone(),
                Entry {
                    token: token.clone(),
                    user: user.clone(),
                    stored_at,
                },
            )
            .is_none()
        {
            kept.order.push_back(hash);
        }
        while kept.entries.len() > self.settings.max_entries {
            let Some(oldest) = kept.order.pop_front() else {
                break;
            };
            kept.remove(&oldest);
        }
        // The order queue may hold digests already removed; keep it bounded.
        if kept.order.len() > 2 * self.settings.max_entries {
            let Kept { entries, order, .. } = &mut *kept;
            order.retain(|hash| entries.contains_key(hash));
        }
    }

    /// Records a use written to the store, so that the next one is coalesced.
    pub fn touched(&self, hash: &TokenHash, at: DateTime<Utc>) {
        if let Some(entry) = self.lock().entries.get_mut(hash) {
            entry.token.last_used_at = Some(at);
        }
    }

    /// Forgets what `change` makes wrong.
    pub fn evict(&self, change: &Invalidation) {
        let mut kept = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Invalidation::Token(hash) => kept.remove(hash),
            Invalidation::User(user) => {
                for hash in kept.by_user.remove(user).unwrap_or_default() {
                    kept.entries.remove(&hash);
                }
            }
            Invalidation::Everything => {
                kept.entries.clear();
                kept.by_user.clear();
                kept.order.clear();
            }
        }
    }

    /// How many tokens are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{TokenAttributes, TokenId, TokenKind};
    use crate::services::fixtures::World;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn token(letter: &str, user: i64) -> TokenRecord {
        TokenRecord {
            id: TokenId(1),
            user_id: UserId(user),
            kind: TokenKind::Access,
            hash: TokenHash(letter.repeat(64)),
            created_at: now(),
            expires_at: now() + Duration::hours(1),
            last_used_at: None,
            revoked_at: None,
            attributes: TokenAttributes::default(),
            enabled: true,
            version: 0,
        }
    }

    fn cache(max_entries: usize) -> ValidationCache {
        ValidationCache::new(CacheSettings {
            max_entries,
            max_staleness: Duration::seconds(30),
        })
    }

    /// Two validations read from the store: the second is kept.
    fn keep(cache: &ValidationCache, token: &TokenRecord, user: &User, now: DateTime<Utc>) {
        for _ in 0..2 {
            cache.insert(token, user, cache.generation(), now);
        }
    }

    #[test]
    fn a_token_is_kept_from_its_second_validation_within_the_window() {
        let world = World::new();
        let ann = world.add_user("ann");
        let cache = cache(2);
        let a = token("a", 1);
        cache.insert(&a, &ann, cache.generation(), now());
        assert!(cache.is_empty(), "seen once: not kept");
        cache.insert(&a, &ann, cache.generation(), now());
        assert!(cache.get(&a.hash, now()).is_some(), "seen twice: kept");
        // Five other tokens seen once each push "b" out of both generations
        // (two of at most two fingerprints), so its second time is a first.
        let b = token("b", 1);
        cache.insert(&b, &ann, cache.generation(), now());
        for letter in ["c", "d", "e", "f", "9"] {
            cache.insert(&token(letter, 1), &ann, cache.generation(), now());
        }
        cache.insert(&b, &ann, cache.generation(), now());
        assert!(cache.get(&b.hash, now()).is_none(), "forgotten between the two");
        assert_eq!(cache.len(), 1);
        // A kept entry grown stale is renewed by its next validation.
        let later = now() + Duration::seconds(31);
        assert!(cache.get(&a.hash, later).is_none(), "stale");
        cache.insert(&a, &ann, cache.generation(), later);
        assert!(cache.get(&a.hash, later).is_some(), "renewed at once");
    }

    #[test]
    fn a_token_pushed_out_comes_back_at_its_next_validation() {
        let world = World::new();
        let ann = world.add_user("ann");
        let cache = cache(1);
        let (a, b) = (token("a", 1), token("b", 1));
        keep(&cache, &a, &ann, now());
        keep(&cache, &b, &ann, now());
        assert!(cache.get(&a.hash, now()).is_none(), "pushed out by b");
        // Still remembered by the doorkeeper: one validation brings it back.
        cache.insert(&a, &ann, cache.generation(), now());
        assert!(cache.get(&a.hash, now()).is_some());
    }

    #[test]
    fn entries_are_kept_until_stale_evicted_or_pushed_out() {
        let world = World::new();
        let ann = world.add_user("ann");
        let cache = cache(2);
        for letter in ["a", "b"] {
            keep(&cache, &token(letter, 1), &ann, now());
        }
        let a = TokenHash("a".repeat(64));
        assert!(cache.get(&a, now() + Duration::seconds(29)).is_some());
        assert!(cache.get(&a, now() + Duration::seconds(30)).is_none(), "stale");
        keep(&cache, &token("c", 2), &ann, now());
        assert!(cache.get(&a, now()).is_none(), "the oldest went");
        assert_eq!(cache.len(), 2);
        cache.evict(&Invalidation::User(UserId(1)));
        assert_eq!(cache.len(), 1, "b went with its user");
        cache.evict(&Invalidation::Token(TokenHash("c".repeat(64))));
        assert!(cache.is_empty());
    }

    /// A user a CRM answered from its own cache, read 25 s ago: the
    /// validation built on it is trusted 5 s more, not 30, so a person made
    /// inactive in the CRM is refused within the 30 s either cache promises.
    #[test]
    fn a_user_read_from_a_directory_s_cache_ages_from_its_read() {
        let world = World::new();
        let mut ann = world.add_user("ann");
        ann.read_at = Some(now() - Duration::seconds(25));
        let cache = cache(10);
        keep(&cache, &token("a", 1), &ann, now());
        let a = TokenHash("a".repeat(64));
        assert!(cache.get(&a, now() + Duration::seconds(4)).is_some());
        assert!(cache.get(&a, now() + Duration::seconds(5)).is_none());
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let world = World::new();
        let ann = world.add_user("ann");
        let cache = cache(10);
        cache.insert(&token("a", 1), &ann, cache.generation(), now());
        let before = cache.generation();
        cache.evict(&Invalidation::User(UserId(1)));
        cache.insert(&token("a", 1), &ann, before, now());
        assert!(cache.is_empty());
    }
}
