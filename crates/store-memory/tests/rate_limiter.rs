//! The memory rate limiter against the domain's conformance suite, and its bound.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use limen_domain::conformance::rate_limiter;
use limen_domain::model::{Admission, RateRule};
use limen_domain::ports::RateLimiter;
use limen_store_memory::MemoryRateLimiter;

#[tokio::test]
async fn every_transition_matches_the_domain_s_reference_arithmetic() {
    rate_limiter::follows_the_reference(&MemoryRateLimiter::default(), "memory").await;
}

#[tokio::test]
async fn parallel_attempts_are_admitted_up_to_the_limit_and_no_further() {
    rate_limiter::holds_under_parallel_attempts(&MemoryRateLimiter::default(), "memory").await;
}

#[tokio::test]
async fn settled_attempts_never_fill_the_count() {
    rate_limiter::settled_attempts_never_fill_the_count(&MemoryRateLimiter::default(), "memory").await;
}

#[tokio::test]
async fn expired_states_are_purged_and_active_blocks_kept() {
    rate_limiter::purges_what_expired(&MemoryRateLimiter::default(), "memory").await;
}

#[tokio::test]
async fn the_map_stays_bounded_and_drops_what_expires_soonest_first() {
    let limiter = MemoryRateLimiter::new(100);
    let rule = RateRule {
        limit: 10,
        window: Duration::minutes(15),
        block_for: Duration::minutes(15),
    };
    let start = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
    let early = limiter.admit("early", &rule, start).await.unwrap();
    assert_eq!(early, Admission::Admitted);
    for n in 0..1000 {
        let now = start + Duration::seconds(n + 1);
        limiter
            .admit(&format!("10.0.{}.{}", n / 256, n % 256), &rule, now)
            .await
            .unwrap();
        assert!(limiter.len() <= 100, "{} keys after {n}", limiter.len());
    }
    assert!(
        limiter.state("early").await.unwrap().is_none(),
        "the soonest to expire went first"
    );
    assert!(
        limiter.state("10.0.3.231").await.unwrap().is_some(),
        "the latest is kept"
    );
}
