//! The Redis stores against the domain's conformance suites, on a real Redis
//! (`LIMEN_TEST_REDIS_URL`; skipped with a notice without one, never under
//! `CI=true`), each test under a key prefix of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use limen_domain::conformance::invalidations::{self, Channel};
use limen_domain::conformance::{rate_limiter, session_tokens};
use limen_domain::model::{NewToken, RateRule, TokenAttributes, TokenHash, TokenKind, UserId};
use limen_domain::ports::{RateLimiter, SessionTokens};
use limen_store_redis::{RedisConfig, RedisStore};

/// A store under a fresh prefix, and the prefix (to remove its keys after).
async fn store() -> Option<(RedisStore, String)> {
    let url = match std::env::var("LIMEN_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "LIMEN_TEST_REDIS_URL must be set when CI=true"
            );
            eprintln!("notice: LIMEN_TEST_REDIS_URL is not set; skipping this Redis test");
            return None;
        }
    };
    let prefix = format!("limen-test-{}:", uuid::Uuid::new_v4().simple());
    let store = RedisStore::connect(&RedisConfig {
        url,
        prefix: prefix.clone(),
        timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    Some((store, prefix))
}

/// Removes the test's keys.
async fn clean(prefix: &str) {
    let url = std::env::var("LIMEN_TEST_REDIS_URL").unwrap();
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<i64>(&mut connection)
            .await
            .unwrap();
    }
}

async fn expire_time_ms(key: &str) -> i64 {
    let url = std::env::var("LIMEN_TEST_REDIS_URL").unwrap();
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PEXPIRETIME")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_token_store_passes_the_conformance_suite() {
    let Some((store, prefix)) = store().await else {
        return;
    };
    session_tokens::run(Arc::new(store.tokens()), "redis").await;
    clean(&prefix).await;
}

#[tokio::test]
async fn the_rate_limiter_follows_the_reference_and_holds_in_parallel() {
    let Some((store, prefix)) = store().await else {
        return;
    };
    rate_limiter::follows_the_reference(&store.rate_limiter(), "redis").await;
    let Some((parallel, second_prefix)) = self::store().await else {
        return;
    };
    rate_limiter::holds_under_parallel_attempts(&parallel.rate_limiter(), "redis").await;
    rate_limiter::settled_attempts_never_fill_the_count(&parallel.rate_limiter(), "redis").await;
    clean(&prefix).await;
    clean(&second_prefix).await;
}

#[tokio::test]
async fn records_expire_natively_when_they_no_longer_matter() {
    let Some((store, prefix)) = store().await else {
        return;
    };
    let expires = Utc.timestamp_opt(1_900_000_000, 0).unwrap();
    let token = NewToken {
        user_id: UserId(5),
        kind: TokenKind::Access,
        hash: TokenHash("e".repeat(64)),
        created_at: Utc.timestamp_opt(1_899_000_000, 0).unwrap(),
        expires_at: expires,
        attributes: TokenAttributes::default(),
    };
    store.tokens().issue(token).await.unwrap();
    let day = 86_400_000;
    assert_eq!(
        expire_time_ms(&format!("{prefix}t:{}", "e".repeat(64))).await,
        expires.timestamp_millis() + day
    );
    assert_eq!(
        expire_time_ms(&format!("{prefix}u:5")).await,
        expires.timestamp_millis() + day
    );
    // The state of a login under way, of no user yet: gone at its expiry, in
    // no user's set (one per start would pile up under user 0).
    for (letter, kind) in [("o", TokenKind::OpenIdState), ("b", TokenKind::BankIdOrder)] {
        let state = NewToken {
            user_id: UserId::NONE,
            kind,
            hash: TokenHash(letter.repeat(64)),
            created_at: Utc.timestamp_opt(1_899_999_400, 0).unwrap(),
            expires_at: expires,
            attributes: TokenAttributes::default(),
        };
        store.tokens().issue(state).await.unwrap();
        assert_eq!(
            expire_time_ms(&format!("{prefix}t:{}", letter.repeat(64))).await,
            expires.timestamp_millis()
        );
    }
    let mut connection = redis::Client::open(std::env::var("LIMEN_TEST_REDIS_URL").unwrap())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let exists: bool = redis::cmd("EXISTS")
        .arg(format!("{prefix}u:0"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(!exists, "no set for user 0");

    let rule = RateRule {
        limit: 2,
        window: chrono::Duration::seconds(600),
        block_for: chrono::Duration::seconds(3600),
    };
    let now = Utc.timestamp_opt(1_900_000_000, 0).unwrap();
    let limiter = store.rate_limiter();
    limiter.admit("k", &rule, now).await.unwrap();
    assert_eq!(
        expire_time_ms(&format!("{prefix}r:k")).await,
        (now + rule.window).timestamp_millis()
    );
    limiter.admit("k", &rule, now).await.unwrap();
    limiter.settle_failure("k", &rule, now).await.unwrap();
    assert_eq!(
        expire_time_ms(&format!("{prefix}r:k")).await,
        (now + rule.block_for).timestamp_millis(),
        "a block outlives the window"
    );
    assert_eq!(
        limiter.purge_expired(now).await.unwrap(),
        0,
        "nothing to purge by hand"
    );
    clean(&prefix).await;
}

#[tokio::test]
async fn a_redis_that_does_not_answer_is_unavailable_within_the_timeout() {
    let started = std::time::Instant::now();
    let result = RedisStore::connect(&RedisConfig {
        url: "redis://127.0.0.1:9".into(),
        prefix: "x:".into(),
        timeout: Duration::from_millis(500),
    })
    .await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(10), "it does not hang");
}

#[tokio::test]
async fn redis_pub_sub_passes_the_invalidations_suite_and_a_lost_subscription_comes_back() {
    let Some((store, prefix)) = store().await else {
        return;
    };
    let channel = Channel {
        label: "Redis invalidations".into(),
        first: Arc::new(store.invalidations()),
        second: Arc::new(store.invalidations()),
    };
    invalidations::run(&channel).await;
    let cut = async {
        let client = redis::Client::open(std::env::var("LIMEN_TEST_REDIS_URL").unwrap()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        // Every subscriber of this test's channel (no other test subscribes to it).
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut connection)
            .await
            .unwrap();
        for line in clients.lines() {
            if let Some(id) = line
                .split_whitespace()
                .find_map(|field| field.strip_prefix("id="))
            {
                let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("ID")
                    .arg(id)
                    .query_async(&mut connection)
                    .await;
            }
        }
    };
    invalidations::heals_after_a_lost_connection(&channel, cut).await;
    clean(&prefix).await;
}
