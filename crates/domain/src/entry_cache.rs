//! Directory entries looked up by id, kept for a short while, for adapters
//! whose directory is a remote service (Lime CRM, LDAP): token validation asks
//! for the token's user on every request, and the directory should not be.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::DirectoryEntry;

/// What is kept: by id, the user (or that there is none) and when it was
/// fetched; and the ids in the order they were first kept.
#[derive(Default)]
struct Kept {
    by_id: HashMap<String, (Option<DirectoryEntry>, Instant)>,
    order: VecDeque<String>,
}

/// A bounded map of id → (user or "no such user", when fetched).
pub struct EntryCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<Kept>,
}

impl EntryCache {
    /// Keeps entries `ttl` long, at most `max_entries`; a zero `ttl` keeps none.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user kept for `id`, if fetched less than the lifetime ago.
    pub fn get(&self, id: &str, now: Instant) -> Option<Option<DirectoryEntry>> {
        if self.ttl.is_zero() {
            return None;
        }
        self.lock()
            .by_id
            .get(id)
            .filter(|(_, fetched)| now.duration_since(*fetched) < self.ttl)
            .map(|(entry, _)| entry.clone())
    }

    /// Keeps `entry` for `id`, dropping the oldest entries past the bound.
    pub fn put(&self, id: &str, entry: Option<DirectoryEntry>, now: Instant) {
        if self.ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        let kept = &mut *self.lock();
        if kept.by_id.insert(id.to_owned(), (entry, now)).is_none() {
            kept.order.push_back(id.to_owned());
        }
        while kept.by_id.len() > self.max_entries {
            match kept.order.pop_front() {
                Some(oldest) => {
                    kept.by_id.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// Forgets `id` (its entry changed).
    pub fn forget(&self, id: &str) {
        let kept = &mut *self.lock();
        kept.by_id.remove(id);
        kept.order.retain(|kept| kept != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> DirectoryEntry {
        DirectoryEntry {
            external_id: id.into(),
            username: id.into(),
            email: String::new(),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: None,
            enabled: true,
            created_at: None,
            read_at: None,
        }
    }

    #[test]
    fn entries_expire_and_the_oldest_go_first() {
        let cache = EntryCache::new(Duration::from_secs(30), 2);
        let start = Instant::now();
        cache.put("1", Some(entry("1")), start);
        cache.put("2", None, start);
        assert_eq!(cache.get("1", start), Some(Some(entry("1"))));
        assert_eq!(cache.get("2", start), Some(None), "no such user is kept too");
        assert_eq!(cache.get("1", start + Duration::from_secs(31)), None, "expired");
        cache.put("3", Some(entry("3")), start);
        assert_eq!(cache.get("1", start), None, "the oldest went");
        assert!(cache.get("3", start).is_some());
        cache.forget("3");
        assert_eq!(cache.get("3", start), None);
        let off = EntryCache::new(Duration::ZERO, 10);
        off.put("1", Some(entry("1")), start);
        assert_eq!(off.get("1", start), None);
    }
}
