use chrono::{DateTime, Duration, Utc};

use crate::model::LockState;

/// When repeated failures lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the account; 0 disables locking.
    pub max_failures: u32,
    /// The span in which failures are counted, from the first failure.
    pub window: Duration,
    /// How long a lock lasts.
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            lock_for: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// The state after one more failed attempt at `now`.
    pub fn after_failure(&self, state: &LockState, now: DateTime<Utc>) -> LockState {
        if self.max_failures == 0 {
            return LockState::default();
        }
        let window_open = state
            .window_started_at
            .is_some_and(|start| now - start < self.window);
        let (failed_attempts, window_started_at) = if window_open {
            (state.failed_attempts.saturating_add(1), state.window_started_at)
        } else {
            (1, Some(now))
        };
        if failed_attempts >= self.max_failures {
            // The count starts afresh once the lock lifts.
            LockState {
                failed_attempts: 0,
                window_started_at: None,
                locked_until: Some(now + self.lock_for),
            }
        } else {
            LockState {
                failed_attempts,
                window_started_at,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn the_fifth_failure_within_the_window_locks_for_the_lock_duration() {
        let policy = LockoutPolicy::default();
        let mut state = LockState::default();
        for minute in 0..4 {
            state = policy.after_failure(&state, at(minute));
            assert_eq!(state.locked_until, None);
        }
        assert_eq!(state.failed_attempts, 4);
        state = policy.after_failure(&state, at(10));
        assert_eq!(state.locked_until, Some(at(25)));
        assert_eq!(state.failed_attempts, 0);
        assert!(state.is_locked_at(at(24)));
        assert!(!state.is_locked_at(at(25)));
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let policy = LockoutPolicy::default();
        let mut state = LockState::default();
        for minute in 0..4 {
            state = policy.after_failure(&state, at(minute));
        }
        state = policy.after_failure(&state, at(15));
        assert_eq!(state.failed_attempts, 1);
        assert_eq!(state.window_started_at, Some(at(15)));
        assert_eq!(state.locked_until, None);
    }

    #[test]
    fn zero_max_failures_never_locks() {
        let policy = LockoutPolicy {
            max_failures: 0,
            ..LockoutPolicy::default()
        };
        let mut state = LockState::default();
        for minute in 0..100 {
            state = policy.after_failure(&state, at(minute));
        }
        assert_eq!(state, LockState::default());
    }

    #[test]
    fn a_configured_threshold_of_one_locks_at_once() {
        let policy = LockoutPolicy {
            max_failures: 1,
            window: Duration::minutes(1),
            lock_for: Duration::minutes(2),
        };
        let state = policy.after_failure(&LockState::default(), at(0));
        assert_eq!(state.locked_until, Some(at(2)));
    }
}
