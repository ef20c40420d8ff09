use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Counts failures per key (a client address) in a fixed window, in this
/// process's memory. Behind a load balancer each node counts its own, which
/// multiplies the allowance by the number of nodes and is documented as such.
pub struct FailureThrottle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

/// Keys kept before old windows are swept, so a flood of addresses cannot grow
/// the map without bound.
const SWEEP_ABOVE: usize = 10_000;

impl FailureThrottle {
    /// Allows `max_failures` per key in each `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has used up its failures at `now`.
    pub fn is_blocked(&self, key: &str, now: DateTime<Utc>) -> bool {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(key)
            .is_some_and(|(start, count)| now - *start < self.window && *count >= self.max_failures)
    }

    /// Counts one failure of `key` at `now`.
    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() > SWEEP_ABOVE {
            let window = self.window;
            entries.retain(|_, (start, _)| now - *start < window);
        }
        let entry = entries.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::at;

    #[test]
    fn a_key_is_blocked_after_its_failures_until_the_window_passes() {
        let throttle = FailureThrottle::new(3, Duration::minutes(1));
        for _ in 0..3 {
            assert!(!throttle.is_blocked("10.0.0.1", at(0)));
            throttle.record_failure("10.0.0.1", at(0));
        }
        assert!(throttle.is_blocked("10.0.0.1", at(0)));
        assert!(
            !throttle.is_blocked("10.0.0.2", at(0)),
            "other addresses are not affected"
        );
        assert!(!throttle.is_blocked("10.0.0.1", at(1)));
        throttle.record_failure("10.0.0.1", at(1));
        assert!(
            !throttle.is_blocked("10.0.0.1", at(1)),
            "a new window starts afresh"
        );
    }
}
