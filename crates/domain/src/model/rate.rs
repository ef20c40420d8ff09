//! Counted attempts: the arithmetic every rate limiter and lockout shares.
//!
//! An attempt is counted *before* the password or code it carries is checked, and
//! only an admitted attempt is checked. A failed check then "settles" the attempt,
//! which blocks the key once the limit is reached; a successful one refunds it.
//! Counting first is what makes a limit hold under parallel requests: a hundred
//! guesses sent at once are a hundred admissions, and only `limit` of them pass.
//!
//! Adapters implement these transitions atomically (one SQL statement, one Lua
//! script, one locked map entry); the functions here are the reference they are
//! tested against.

use chrono::{DateTime, Duration, Utc};

/// How many attempts a key may make, over what window, and how long it is
/// blocked once a failure reaches the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    /// Attempts per window; 0 disables the rule (everything is admitted).
    pub limit: u32,
    /// The span in which attempts are counted, from the first one.
    pub window: Duration,
    /// How long the key is refused after the failure that reached the limit.
    pub block_for: Duration,
}

impl RateRule {
    /// Whether the rule counts at all.
    pub fn is_enabled(&self) -> bool {
        self.limit > 0
    }
}

/// The counted state of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// Attempts counted in the current window (admitted, not refunded).
    pub hits: u32,
    /// When the current window opened.
    pub window_started_at: DateTime<Utc>,
    /// The key is refused until then.
    pub blocked_until: Option<DateTime<Utc>>,
}

/// A key's block after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The key is refused until then.
    pub until: DateTime<Utc>,
    /// This failure started the block (rather than finding it in force).
    pub started: bool,
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted; check it, then settle or refund it.
    Admitted,
    /// Refused without a check: the key is blocked until then.
    Blocked {
        /// When to try again.
        until: DateTime<Utc>,
    },
    /// Refused without a check: the window's count is full of attempts still
    /// being checked. Transient: they settle within moments, and right ones are
    /// given back, so the caller should try again shortly.
    Full,
}

impl RateState {
    fn window_open(&self, rule: &RateRule, now: DateTime<Utc>) -> bool {
        now - self.window_started_at < rule.window
    }

    /// The active block at `now`, if any.
    pub fn blocked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.blocked_until.filter(|until| *until > now)
    }

    /// Counts one attempt at `now`: the next state, or the refusal (`Blocked`,
    /// or `Full` for a window whose admitted attempts are all still being
    /// checked).
    pub fn admit(state: Option<&Self>, rule: &RateRule, now: DateTime<Utc>) -> Result<Self, Admission> {
        let fresh = Self {
            hits: 1,
            window_started_at: now,
            blocked_until: None,
        };
        let Some(state) = state else {
            return Ok(fresh);
        };
        if let Some(until) = state.blocked_at(now) {
            return Err(Admission::Blocked { until });
        }
        if !state.window_open(rule, now) {
            return Ok(fresh);
        }
        if state.hits >= rule.limit {
            return Err(Admission::Full);
        }
        Ok(Self {
            hits: state.hits + 1,
            blocked_until: None,
            ..*state
        })
    }

    /// Records that an admitted attempt failed: once the window holds `limit`
    /// attempts the key is blocked for `block_for` and its count starts afresh.
    /// Returns the next state and the block in force, if any. An active block is
    /// never shortened.
    pub fn settle_failure(&self, rule: &RateRule, now: DateTime<Utc>) -> (Self, Option<Block>) {
        if let Some(until) = self.blocked_at(now) {
            return (
                *self,
                Some(Block {
                    until,
                    started: false,
                }),
            );
        }
        if self.window_open(rule, now) && self.hits >= rule.limit {
            let until = now + rule.block_for;
            let next = Self {
                hits: 0,
                blocked_until: Some(until),
                ..*self
            };
            return (next, Some(Block { until, started: true }));
        }
        (*self, None)
    }

    /// Takes back an admitted attempt whose check succeeded.
    pub fn refund(&self, rule: &RateRule, now: DateTime<Utc>) -> Self {
        if self.window_open(rule, now) && self.hits > 0 {
            Self {
                hits: self.hits - 1,
                ..*self
            }
        } else {
            *self
        }
    }

    /// Forgets the count after a completed login; `None` when nothing is left
    /// to keep. An active block stays: only time or an operator lifts it.
    pub fn clear(&self, now: DateTime<Utc>) -> Option<Self> {
        self.blocked_at(now).map(|_| Self { hits: 0, ..*self })
    }

    /// When the state no longer matters (its window closed and no block is
    /// active), so that stores can forget it.
    pub fn expires_at(&self, rule: &RateRule) -> DateTime<Utc> {
        let window_end = self.window_started_at + rule.window;
        match self.blocked_until {
            Some(until) if until > window_end => until,
            _ => window_end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds)
    }

    fn rule() -> RateRule {
        RateRule {
            limit: 3,
            window: Duration::seconds(100),
            block_for: Duration::seconds(50),
        }
    }

    #[test]
    fn attempts_up_to_the_limit_are_admitted_and_the_rest_refused() {
        let rule = rule();
        let mut state = RateState::admit(None, &rule, at(0)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(1)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(2)).unwrap();
        assert_eq!(state.hits, 3);
        assert_eq!(RateState::admit(Some(&state), &rule, at(3)), Err(Admission::Full));
    }

    #[test]
    fn the_failure_that_reaches_the_limit_blocks_and_restarts_the_count() {
        let rule = rule();
        let mut state = RateState::admit(None, &rule, at(0)).unwrap();
        for second in 1..3 {
            state = RateState::admit(Some(&state), &rule, at(second)).unwrap();
        }
        let (after_first, block) = state.settle_failure(&rule, at(10));
        assert_eq!(
            block,
            Some(Block {
                until: at(60),
                started: true
            })
        );
        assert_eq!(after_first.hits, 0);
        // Late failures of attempts admitted earlier neither lift nor extend it.
        let (after_late, block) = after_first.settle_failure(&rule, at(20));
        assert_eq!(
            block,
            Some(Block {
                until: at(60),
                started: false
            })
        );
        assert_eq!(after_late, after_first);
        assert_eq!(
            RateState::admit(Some(&after_late), &rule, at(59)),
            Err(Admission::Blocked { until: at(60) })
        );
        let next = RateState::admit(Some(&after_late), &rule, at(60)).unwrap();
        assert_eq!(next.hits, 1);
    }

    #[test]
    fn failures_below_the_limit_block_nothing() {
        let rule = rule();
        let state = RateState::admit(None, &rule, at(0)).unwrap();
        assert_eq!(state.settle_failure(&rule, at(1)), (state, None));
    }

    #[test]
    fn a_refund_gives_the_attempt_back() {
        let rule = rule();
        let mut state = RateState::admit(None, &rule, at(0)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(1)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(2)).unwrap();
        state = state.refund(&rule, at(3));
        assert_eq!(state.hits, 2);
        assert!(RateState::admit(Some(&state), &rule, at(4)).is_ok());
    }

    #[test]
    fn a_closed_window_starts_a_new_count() {
        let rule = rule();
        let mut state = RateState::admit(None, &rule, at(0)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(1)).unwrap();
        state = RateState::admit(Some(&state), &rule, at(2)).unwrap();
        let next = RateState::admit(Some(&state), &rule, at(100)).unwrap();
        assert_eq!((next.hits, next.window_started_at), (1, at(100)));
        assert_eq!(state.settle_failure(&rule, at(100)), (state, None));
    }

    #[test]
    fn clearing_keeps_an_active_block_only() {
        let rule = rule();
        let state = RateState::admit(None, &rule, at(0)).unwrap();
        assert_eq!(state.clear(at(1)), None);
        let blocked = RateState {
            hits: 2,
            window_started_at: at(0),
            blocked_until: Some(at(30)),
        };
        assert_eq!(
            blocked.clear(at(1)).map(|s| (s.hits, s.blocked_until)),
            Some((0, Some(at(30))))
        );
        assert_eq!(blocked.clear(at(30)), None);
    }

    #[test]
    fn a_state_expires_with_its_window_or_its_block() {
        let rule = rule();
        let state = RateState::admit(None, &rule, at(0)).unwrap();
        assert_eq!(state.expires_at(&rule), at(100));
        let blocked = RateState {
            blocked_until: Some(at(150)),
            ..state
        };
        assert_eq!(blocked.expires_at(&rule), at(150));
    }
}
