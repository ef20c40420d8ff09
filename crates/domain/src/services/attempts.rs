use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::model::{Admission, Block, ClientAddress, RateRule, RateState, TokenHash, UserId};
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
        }
    }
}

/// Hands out the counters of each rule. Lockouts (accounts, unknown names,
/// pending tokens) are kept by `lockouts`, which is always Limen's database so
/// that every node and the operator's CLI see them; address throttles by
/// `throttles`, whose backend the configuration chooses.
pub struct Attempts {
    lockouts: Arc<dyn RateLimiter>,
    throttles: Arc<dyn RateLimiter>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
    rules: AttemptRules,
}

/// One key under one rule.
pub struct Counter<'a> {
    limiter: &'a dyn RateLimiter,
    clock: &'a dyn Clock,
    rule: RateRule,
    key: String,
}

impl Counter<'_> {
    /// Counts an attempt before its check.
    pub async fn admit(&self) -> Result<Admission, DomainError> {
        if !self.rule.is_enabled() {
            return Ok(Admission::Admitted);
        }
        Ok(self
            .limiter
            .admit(&self.key, &self.rule, self.clock.now())
            .await?)
    }

    /// Settles an admitted attempt that failed; the block in force, if any.
    pub async fn fail(&self) -> Result<Option<Block>, DomainError> {
        if !self.rule.is_enabled() {
            return Ok(None);
        }
        Ok(self
            .limiter
            .settle_failure(&self.key, &self.rule, self.clock.now())
            .await?)
    }

    /// Takes back an admitted attempt that succeeded.
    pub async fn refund(&self) -> Result<(), DomainError> {
        if self.rule.is_enabled() {
            self.limiter
                .refund(&self.key, &self.rule, self.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Forgets the count after a completed login; an active block stays.
    pub async fn clear(&self) -> Result<(), DomainError> {
        if self.rule.is_enabled() {
            self.limiter.clear(&self.key, self.clock.now()).await?;
        }
        Ok(())
    }

    /// The block in force now, without counting anything.
    pub async fn blocked(&self) -> Result<Option<DateTime<Utc>>, DomainError> {
        if !self.rule.is_enabled() {
            return Ok(None);
        }
        let now = self.clock.now();
        Ok(self
            .limiter
            .state(&self.key)
            .await?
            .and_then(|state| state.blocked_at(now)))
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
    /// A `refund` later gives it back.
    pub async fn spend(&self) -> Result<(), DomainError> {
        match self.admit().await? {
            Admission::Admitted => {
                // Settled at once as a failure, so that the request that uses
                // up the window blocks the key.
                self.fail().await?;
                Ok(())
            }
            Admission::Blocked { until } => Err(DomainError::TooManyAttempts { until }),
            // Only for a moment, while parallel requests settle.
            Admission::Full => Err(DomainError::TooManyAttempts {
                until: self.clock.now() + chrono::Duration::minutes(1),
            }),
        }
    }
}

impl Attempts {
    /// Counts on `lockouts` and `throttles` under `rules`.
    pub fn new(
        lockouts: Arc<dyn RateLimiter>,
        throttles: Arc<dyn RateLimiter>,
        mint: Arc<dyn TokenMint>,
        clock: Arc<dyn Clock>,
        rules: AttemptRules,
    ) -> Self {
        Self {
            lockouts,
            throttles,
            mint,
            clock,
            rules,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &AttemptRules {
        &self.rules
    }

    fn counter<'a>(&'a self, limiter: &'a Arc<dyn RateLimiter>, rule: RateRule, key: String) -> Counter<'a> {
        Counter {
            limiter: limiter.as_ref(),
            clock: self.clock.as_ref(),
            rule,
            key,
        }
    }

    /// The lockout of a known account.
    pub fn account(&self, user: UserId) -> Counter<'_> {
        self.counter(
            &self.lockouts,
            self.rules.account_lockout,
            format!("account:{user}"),
        )
    }

    /// The lockout of a name no directory user has, under the same rule as an
    /// account's, so that the lock answer does not tell which accounts exist.
    /// Names are kept only as digests: people type passwords into name fields.
    pub fn unknown_name(&self, normalized: &str) -> Counter<'_> {
        let digest = self.mint.digest(&format!("login-name:{normalized}"));
        self.counter(
            &self.lockouts,
            self.rules.account_lockout,
            format!("name:{}", digest.0),
        )
    }

    /// The codes presented with one pending second-factor token.
    pub fn second_factor_token(&self, pending: &TokenHash) -> Counter<'_> {
        self.counter(
            &self.lockouts,
            self.rules.second_factor_token,
            format!("second-factor:{}", pending.0),
        )
    }

    /// Failed logins from one client address.
    pub fn login_address(&self, client: &ClientAddress) -> Counter<'_> {
        self.counter(
            &self.throttles,
            self.rules.login_address,
            format!("login:{}", client.throttle_key()),
        )
    }

    /// Requests for `purpose` naming one user (by a digest of the name), under
    /// the caller's rule, on the throttles' backend.
    pub fn requests_by_name(&self, purpose: &str, normalized: &str, rule: RateRule) -> Counter<'_> {
        let digest = self.mint.digest(&format!("{purpose}-name:{normalized}"));
        self.counter(&self.throttles, rule, format!("{purpose}-name:{}", digest.0))
    }

    /// Requests for `purpose` from one client address, under the caller's rule.
    pub fn requests_by_address(&self, purpose: &str, client: &ClientAddress, rule: RateRule) -> Counter<'_> {
        self.counter(
            &self.throttles,
            rule,
            format!("{purpose}-address:{}", client.throttle_key()),
        )
    }

    /// BankID identifications started from one client address.
    pub fn bankid_starts(&self, client: &ClientAddress) -> Counter<'_> {
        self.counter(
            &self.throttles,
            self.rules.bankid_starts,
            format!("bankid-start:{}", client.throttle_key()),
        )
    }

    /// Unknown session numbers presented from one client address.
    pub fn session_numbers(&self, client: &ClientAddress) -> Counter<'_> {
        self.counter(
            &self.throttles,
            self.rules.session_numbers,
            format!("session-number:{}", client.throttle_key()),
        )
    }
}
