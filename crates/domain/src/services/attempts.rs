use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::DomainError;
use crate::error_class::RetryAt;
use crate::model::{Admission, ClientAddress, RateRule, RateState, TokenHash, UserId};
use crate::ports::{Clock, RateLimiter, TokenMint};

/// The limits on counted attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRules {
    /// Password (and second-factor) failures per account, known or not, before
    /// it is locked.
    pub account_lockout: RateRule,
    /// Failed logins per client address (IPv6 per /64).
    pub login_address: RateRule,
    /// Codes presented with one pending second-factor token.
    pub second_factor_token: RateRule,
    /// Unknown session numbers presented per client address (`gradido`).
    pub session_numbers: RateRule,
    /// BankID identifications started per client address and not completed.
    pub bankid_starts: RateRule,
    /// OpenID logins started per client address and not completed.
    pub openid_starts: RateRule,
}

impl Default for AttemptRules {
    fn default() -> Self {
        let minutes = chrono::Duration::minutes;
        Self {
            account_lockout: RateRule {
                limit: 5,
                window: minutes(15),
                block_for: minutes(15),
            },
            // Generous: an office or a school behind one NAT address shares it.
            login_address: RateRule {
                limit: 100,
                window: minutes(15),
                block_for: minutes(15),
            },
            second_factor_token: RateRule {
                limit: 5,
                window: minutes(5),
                block_for: minutes(5),
            },
            session_numbers: RateRule {
                limit: 10,
                window: minutes(15),
                block_for: minutes(15),
            },
            // Each start costs a request to BankID; completed ones are given
            // back, so only abandoned and failed ones use this up.
            bankid_starts: RateRule {
                limit: 50,
                window: minutes(15),
                block_for: minutes(15),
            },
            // Each start stores a record for ten minutes; completed ones are
            // given back, so only abandoned ones use this up.
            openid_starts: RateRule {
                limit: 50,
                window: minutes(15),
                block_for: minutes(15),
            },
        }
    }
}

/// The stores counted attempts live in.
pub struct AttemptPorts {
    /// Where account lockouts count (shared by every node).
    pub lockouts: Arc<dyn RateLimiter>,
    /// Where per-address throttles count.
    pub throttles: Arc<dyn RateLimiter>,
    /// Digests of the tokens whose guesses are counted.
    pub mint: Arc<dyn TokenMint>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Hands out the counters of each rule. Lockouts (accounts, unknown names,
/// pending tokens) are kept by `lockouts`, which is always Limen's database so
/// that every node and the operator's CLI see them; address throttles by
/// `throttles`, whose backend the configuration chooses.
pub struct Attempts {
    ports: AttemptPorts,
    rules: AttemptRules,
    unsettled: Arc<AtomicU64>,
}

/// One key under one rule.
#[derive(Clone)]
pub struct Counter {
    limiter: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
    rule: RateRule,
    key: String,
    unsettled: Arc<AtomicU64>,
}

/// What counting an attempt gave.
#[derive(Debug)]
pub enum Counted {
    /// Counted: check it, then settle the attempt.
    Admitted(Attempt),
    /// Refused without a check: the key is blocked until then.
    Blocked {
        /// When to try again.
        until: RetryAt,
    },
    /// Refused without a check: the window's count is full of attempts still
    /// being checked. Transient: they settle within moments.
    Full,
}

/// An attempt counted before its check, which exactly one of `fail`,
/// `refund` and `clear` settles. Dropping one unsettled is a bug (a missed
/// refund locks honest users out, an extra one gives an attacker free
/// guesses): it panics in debug builds; in release builds it is logged,
/// counted (`Attempts::unsettled`), and settled as a failure, since a guess
/// whose answer was cut short may still have been checked.
#[must_use = "an admitted attempt must be settled with fail, refund or clear"]
pub struct Attempt {
    counter: Counter,
    settled: bool,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("key", &self.counter.key)
            .field("settled", &self.settled)
            .finish()
    }
}

/// The block a failed attempt found or started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// When it lifts, counted from the failure.
    pub until: RetryAt,
    /// This failure started the block (rather than finding it in force).
    pub started: bool,
}

impl Attempt {
    /// Settles a failed check; the block in force, if any.
    pub async fn fail(mut self) -> Result<Option<Blocked>, DomainError> {
        self.settled = true;
        let counter = &self.counter;
        if !counter.rule.is_enabled() {
            return Ok(None);
        }
        let now = counter.clock.now();
        let block = counter
            .limiter
            .settle_failure(&counter.key, &counter.rule, now)
            .await?;
        Ok(block.map(|block| Blocked {
            until: RetryAt::new(block.until, now),
            started: block.started,
        }))
    }

    /// Gives back an attempt that was no failure: a right password whose login
    /// did not complete, or a check that could not be made.
    pub async fn refund(mut self) -> Result<(), DomainError> {
        self.settled = true;
        let counter = &self.counter;
        if counter.rule.is_enabled() {
            counter
                .limiter
                .refund(&counter.key, &counter.rule, counter.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Forgets the key's count after a completed login; an active block stays.
    pub async fn clear(mut self) -> Result<(), DomainError> {
        self.settled = true;
        let counter = &self.counter;
        if counter.rule.is_enabled() {
            counter.limiter.clear(&counter.key, counter.clock.now()).await?;
        }
        Ok(())
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.settled || !self.counter.rule.is_enabled() {
            return;
        }
        self.counter.unsettled.fetch_add(1, Ordering::Relaxed);
        tracing::error!(key = %self.counter.key, "an admitted attempt was dropped unsettled; it counts as a failure");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let counter = self.counter.clone();
            runtime.spawn(async move {
                let now = counter.clock.now();
                if let Err(err) = counter
                    .limiter
                    .settle_failure(&counter.key, &counter.rule, now)
                    .await
                {
                    tracing::warn!(key = %counter.key, error = %err, "could not settle a dropped attempt");
                }
            });
        }
        debug_assert!(
            std::thread::panicking(),
            "an admitted attempt of {} was dropped without fail, refund or clear",
            self.counter.key
        );
    }
}

impl Counter {
    /// Counts an attempt before its check.
    pub async fn admit(&self) -> Result<Counted, DomainError> {
        let now = self.clock.now();
        let admission = if self.rule.is_enabled() {
            self.limiter.admit(&self.key, &self.rule, now).await?
        } else {
            Admission::Admitted
        };
        Ok(match admission {
            Admission::Admitted => Counted::Admitted(Attempt {
                counter: self.clone(),
                settled: false,
            }),
            Admission::Blocked { until } => Counted::Blocked {
                until: RetryAt::new(until, now),
            },
            Admission::Full => Counted::Full,
        })
    }

    /// The block in force now, without counting anything.
    pub async fn blocked(&self) -> Result<Option<RetryAt>, DomainError> {
        if !self.rule.is_enabled() {
            return Ok(None);
        }
        let now = self.clock.now();
        Ok(self
            .limiter
            .state(&self.key)
            .await?
            .and_then(|state| state.blocked_at(now))
            .map(|until| RetryAt::new(until, now)))
    }

    /// The stored state, for operators.
    pub async fn state(&self) -> Result<Option<RateState>, DomainError> {
        Ok(self.limiter.state(&self.key).await?)
    }

    /// Forgets everything, an active block included (an operator's unlock).
    pub async fn reset(&self) -> Result<(), DomainError> {
        Ok(self.limiter.reset(&self.key).await?)
    }

    /// Counts a request that is spent whatever it achieves (a mail sent, an
    /// order started): `TooManyAttempts` once the window's requests are used.
    /// `give_back` later returns it.
    pub async fn spend(&self) -> Result<(), DomainError> {
        match self.admit().await? {
            // Settled at once as a failure, so that the request that uses
            // up the window blocks the key.
            Counted::Admitted(attempt) => attempt.fail().await.map(|_| ()),
            Counted::Blocked { until } => Err(DomainError::TooManyAttempts { until }),
            // Only for a moment, while parallel requests settle.
            Counted::Full => {
                let now = self.clock.now();
                Err(DomainError::TooManyAttempts {
                    until: RetryAt::new(now + chrono::Duration::minutes(1), now),
                })
            }
        }
    }

    /// Returns a request `spend` counted, once it achieved what it was for (a
    /// BankID order completed).
    pub async fn give_back(&self) -> Result<(), DomainError> {
        if self.rule.is_enabled() {
            self.limiter
                .refund(&self.key, &self.rule, self.clock.now())
                .await?;
        }
        Ok(())
    }
}

impl Attempts {
    /// Counts on `lockouts` and `throttles` under `rules`.
    pub fn new(ports: AttemptPorts, rules: AttemptRules) -> Self {
        Self {
            ports,
            rules,
            unsettled: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Admitted attempts dropped without being settled since this node
    /// started: a bug whenever it is not 0.
    pub fn unsettled(&self) -> u64 {
        self.unsettled.load(Ordering::Relaxed)
    }

    /// The rules in force.
    pub fn rules(&self) -> &AttemptRules {
        &self.rules
    }

    fn counter(&self, limiter: &Arc<dyn RateLimiter>, rule: RateRule, key: String) -> Counter {
        Counter {
            limiter: limiter.clone(),
            clock: self.ports.clock.clone(),
            rule,
            key,
            unsettled: self.unsettled.clone(),
        }
    }

    /// The lockout of a known account.
    pub fn account(&self, user: UserId) -> Counter {
        self.counter(
            &self.ports.lockouts,
            self.rules.account_lockout,
            format!("account:{user}"),
        )
    }

    /// The lockout of a name no directory user has, under the same rule as an
    /// account's, so that the lock answer does not tell which accounts exist.
    /// Names are kept only as digests: people type passwords into name fields.
    pub fn unknown_name(&self, normalized: &str) -> Counter {
        let digest = self.ports.mint.digest(&format!("login-name:{normalized}"));
        self.counter(
            &self.ports.lockouts,
            self.rules.account_lockout,
            format!("name:{}", digest.0),
        )
    }

    /// The codes presented with one pending second-factor token.
    pub fn second_factor_token(&self, pending: &TokenHash) -> Counter {
        self.counter(
            &self.ports.lockouts,
            self.rules.second_factor_token,
            format!("second-factor:{}", pending.0),
        )
    }

    /// Failed logins from one client address.
    pub fn login_address(&self, client: &ClientAddress) -> Counter {
        self.counter(
            &self.ports.throttles,
            self.rules.login_address,
            format!("login:{}", client.throttle_key()),
        )
    }

    /// Requests for `purpose` naming one user (by a digest of the name), under
    /// the caller's rule, on the throttles' backend.
    pub fn requests_by_name(&self, purpose: &str, normalized: &str, rule: RateRule) -> Counter {
        let digest = self.ports.mint.digest(&format!("{purpose}-name:{normalized}"));
        self.counter(
            &self.ports.throttles,
            rule,
            format!("{purpose}-name:{}", digest.0),
        )
    }

    /// Requests for `purpose` from one client address, under the caller's rule.
    pub fn requests_by_address(&self, purpose: &str, client: &ClientAddress, rule: RateRule) -> Counter {
        self.counter(
            &self.ports.throttles,
            rule,
            format!("{purpose}-address:{}", client.throttle_key()),
        )
    }

    /// BankID identifications started from one client address.
    pub fn bankid_starts(&self, client: &ClientAddress) -> Counter {
        self.counter(
            &self.ports.throttles,
            self.rules.bankid_starts,
            format!("bankid-start:{}", client.throttle_key()),
        )
    }

    /// OpenID logins started from one client address.
    pub fn openid_starts(&self, client: &ClientAddress) -> Counter {
        self.counter(
            &self.ports.throttles,
            self.rules.openid_starts,
            format!("openid-start:{}", client.throttle_key()),
        )
    }

    /// Unknown session numbers presented from one client address.
    pub fn session_numbers(&self, client: &ClientAddress) -> Counter {
        self.counter(
            &self.ports.throttles,
            self.rules.session_numbers,
            format!("session-number:{}", client.throttle_key()),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;
    use crate::services::fixtures::World;

    async fn admitted(counter: &Counter) -> Attempt {
        match counter.admit().await.unwrap() {
            Counted::Admitted(attempt) => attempt,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn each_settlement_moves_the_count_as_the_reference_does() {
        let world = World::new();
        let attempts = world.services().attempts;
        let account = attempts.account(UserId(7));
        let first = admitted(&account).await;
        let second = admitted(&account).await;
        assert_eq!(world.failures("account:7"), 2);
        first.refund().await.unwrap();
        assert_eq!(world.failures("account:7"), 1);
        assert_eq!(second.fail().await.unwrap(), None);
        assert_eq!(world.failures("account:7"), 1, "a failure stays counted");
        admitted(&account).await.clear().await.unwrap();
        assert_eq!(world.failures("account:7"), 0);
        assert_eq!(attempts.unsettled(), 0);
    }

    #[tokio::test]
    async fn an_attempt_dropped_unsettled_is_loud_counted_and_settled_as_a_failure() {
        // One attempt allowed: its failure blocks the account.
        let world = World::with_rules(|rules| rules.account_lockout.limit = 1);
        let attempts = world.services().attempts;
        let attempt = admitted(&attempts.account(UserId(7))).await;
        // Debug builds (the tests) panic at the drop; release builds only log.
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(attempt)));
        assert!(dropped.is_err(), "a debug build panics at an unsettled drop");
        assert_eq!(attempts.unsettled(), 1);
        // The failure is settled by a task of its own.
        tokio::task::yield_now().await;
        assert!(world.is_blocked("account:7"), "settled as a failure");
    }

    #[tokio::test]
    async fn a_disabled_rule_admits_everything_and_settles_for_free() {
        let world = World::with_rules(|rules| rules.account_lockout.limit = 0);
        let attempts = world.services().attempts;
        let attempt = admitted(&attempts.account(UserId(7))).await;
        drop(attempt);
        assert_eq!(attempts.unsettled(), 0);
        assert_eq!(world.failures("account:7"), 0);
    }
}
