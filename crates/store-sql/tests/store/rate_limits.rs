//! The SQL rate limiter against the domain's conformance suite.

use limen_domain::conformance::rate_limiter;

use crate::engines;

#[tokio::test]
async fn every_transition_matches_the_domain_s_reference_arithmetic() {
    for test in engines::all().await {
        rate_limiter::follows_the_reference(&test.db.rate_limiter(), test.engine).await;
        test.drop_database().await;
    }
}

#[tokio::test]
async fn parallel_attempts_are_admitted_up_to_the_limit_and_no_further() {
    for test in engines::all().await {
        rate_limiter::holds_under_parallel_attempts(&test.db.rate_limiter(), test.engine).await;
        test.drop_database().await;
    }
}

#[tokio::test]
async fn expired_states_are_purged_and_active_blocks_kept() {
    for test in engines::all().await {
        rate_limiter::purges_what_expired(&test.db.rate_limiter(), test.engine).await;
        test.drop_database().await;
    }
}

#[tokio::test]
async fn settled_attempts_never_fill_the_count() {
    for test in engines::all().await {
        rate_limiter::settled_attempts_never_fill_the_count(&test.db.rate_limiter(), test.engine).await;
        test.drop_database().await;
    }
}
