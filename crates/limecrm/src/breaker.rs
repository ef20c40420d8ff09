//! A circuit breaker: after enough consecutive failures the CRM is not asked
//! for a while, so that a failing CRM costs logins a fast 503, not a timeout
//! each; then one request tries it again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The breaker's state.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    /// A trial request is out while the breaker is half open.
    trial: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a request may go out now; `Err` with the time left when open.
    pub(crate) fn admit(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.lock();
        match state.open_until {
            Some(until) if now < until => Err(until - now),
            // Half open: one trial at a time.
            Some(_) if state.trial => Err(Duration::ZERO),
            Some(_) => {
                state.trial = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The CRM answered.
    pub(crate) fn succeeded(&self) {
        *self.lock() = State::default();
    }

    /// The CRM failed (a timeout, a connection error, a 5xx).
    pub(crate) fn failed(&self, now: Instant) {
        let mut state = self.lock();
        state.failures += 1;
        state.trial = false;
        if state.open_until.is_some() || state.failures >= self.threshold {
            if state.open_until.is_none_or(|until| now >= until) {
                tracing::warn!(
                    seconds = self.open_for.as_secs(),
                    "Lime CRM is failing; not asking it for a while"
                );
            }
            state.open_until = Some(now + self.open_for);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_after_the_threshold_lets_one_trial_through_and_closes_on_success() {
        let breaker = Breaker::new(3, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..2 {
            breaker.failed(start);
            assert!(breaker.admit(start).is_ok(), "below the threshold");
        }
        breaker.failed(start);
        assert!(breaker.admit(start).is_err(), "open");
        let later = start + Duration::from_secs(11);
        assert!(breaker.admit(later).is_ok(), "the trial");
        assert!(breaker.admit(later).is_err(), "one trial at a time");
        breaker.failed(later);
        assert!(
            breaker.admit(later + Duration::from_secs(1)).is_err(),
            "open again"
        );
        let much_later = later + Duration::from_secs(11);
        assert!(breaker.admit(much_later).is_ok());
        breaker.succeeded();
        assert!(
            breaker.admit(much_later).is_ok() && breaker.admit(much_later).is_ok(),
            "closed"
        );
    }
}
