use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use limen_domain::model::{Admission, RateRule, RateState};
use limen_domain::ports::RateLimiter;

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

const RULE: RateRule = RateRule {
    limit: 3,
    window: Duration::seconds(100),
    block_for: Duration::seconds(40),
};

#[derive(Debug, Clone, Copy)]
enum Step {
    Admit,
    Fail,
    Refund,
    Clear,
    Reset,
}

/// The model's answer to one step, as the adapter should give it.
fn reference(states: &mut HashMap<&'static str, RateState>, key: &'static str, step: Step, now: DateTime<Utc>) -> String {
    let current = states.get(key).copied();
    match step {
        Step::Admit => match RateState::admit(current.as_ref(), &RULE, now) {
            Ok(next) => {
                states.insert(key, next);
                format!("{:?}", Admission::Admitted)
            }
            Err(until) => format!("{:?}", Admission::Refused { until }),
        },
        Step::Fail => {
            let block = current.map(|state| {
                let (next, block) = state.settle_failure(&RULE, now);
                states.insert(key, next);
                block
            });
            format!("{:?}", block.flatten())
        }
        Step::Refund => {
            if let Some(state) = current {
                states.insert(key, state.refund(&RULE, now));
            }
            String::new()
        }
        Step::Clear => {
            match current.and_then(|state| state.clear(now)) {
                Some(kept) => states.insert(key, kept),
                None => states.remove(key),
            };
            String::new()
        }
        Step::Reset => {
            states.remove(key);
            String::new()
        }
    }
}

async fn run(limiter: &dyn RateLimiter, key: &str, step: Step, now: DateTime<Utc>) -> String {
    match step {
        Step::Admit => format!("{:?}", limiter.admit(key, &RULE, now).await.unwrap()),
        Step::Fail => format!("{:?}", limiter.settle_failure(key, &RULE, now).await.unwrap()),
        Step::Refund => {
            limiter.refund(key, &RULE, now).await.unwrap();
            String::new()
        }
        Step::Clear => {
            limiter.clear(key, now).await.unwrap();
            String::new()
        }
        Step::Reset => {
            limiter.reset(key).await.unwrap();
            String::new()
        }
    }
}

/// What matters of a state at `now`: the count, the window, the block in force.
fn shown(state: Option<RateState>, now: DateTime<Utc>) -> Option<(u32, DateTime<Utc>, Option<DateTime<Utc>>)> {
    state.map(|state| (state.hits, state.window_started_at, state.blocked_at(now)))
}

#[tokio::test]
async fn every_transition_matches_the_domain_s_reference_arithmetic() {
    use Step::*;
    let script: &[(i64, &'static str, Step)] = &[
        (0, "a", Admit),
        (1, "a", Fail),
        (2, "a", Admit),
        (3, "a", Admit),
        (4, "a", Admit),
        (5, "a", Refund),
        (6, "a", Admit),
        (7, "a", Fail),
        (8, "a", Fail),
        (9, "a", Admit),
        (10, "a", Fail),
        (48, "a", Admit),
        (50, "a", Admit),
        (51, "a", Fail),
        (52, "a", Clear),
        (53, "a", Admit),
        (54, "b", Fail),
        (55, "b", Refund),
        (60, "b", Admit),
        (61, "b", Clear),
        (62, "b", Admit),
        (200, "a", Admit),
        (201, "a", Admit),
        (202, "a", Admit),
        (203, "a", Admit),
        (204, "a", Fail),
        (205, "a", Clear),
        (206, "a", Admit),
        (207, "a", Reset),
        (208, "a", Admit),
        (400, "b", Admit),
        (401, "b", Refund),
        (402, "b", Refund),
    ];
    for test in engines::all().await {
        let limiter = test.db.rate_limiter();
        let mut states = HashMap::new();
        for (n, &(second, key, step)) in script.iter().enumerate() {
            let now = at(second);
            let expected = reference(&mut states, key, step, now);
            let got = run(&limiter, key, step, now).await;
            assert_eq!(got, expected, "{}: step {n} ({step:?} {key} at {second})", test.engine);
            let stored = limiter.state(key).await.unwrap();
            assert_eq!(
                shown(stored, now),
                shown(states.get(key).copied(), now),
                "{}: state after step {n} ({step:?} {key} at {second})",
                test.engine
            );
        }
        test.drop_database().await;
    }
}

#[tokio::test]
async fn parallel_attempts_are_admitted_up_to_the_limit_and_no_further() {
    for test in engines::all().await {
        let limiter = Arc::new(test.db.rate_limiter());
        let rule = RateRule {
            limit: 5,
            window: Duration::minutes(15),
            block_for: Duration::minutes(15),
        };
        let attempts = (0..100).map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.admit("account:1", &rule, at(0)).await.unwrap() })
        });
        let mut admitted = 0;
        for attempt in attempts {
            if attempt.await.unwrap() == Admission::Admitted {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 5, "{}", test.engine);
        let failures = (0..5).map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.settle_failure("account:1", &rule, at(1)).await.unwrap() })
        });
        for failure in failures {
            assert_eq!(failure.await.unwrap(), Some(at(1) + Duration::minutes(15)), "{}", test.engine);
        }
        assert_eq!(
            limiter.admit("account:1", &rule, at(2)).await.unwrap(),
            Admission::Refused {
                until: at(1) + Duration::minutes(15)
            }
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn expired_states_are_purged_and_active_blocks_kept() {
    for test in engines::all().await {
        let limiter = test.db.rate_limiter();
        limiter.admit("old", &RULE, at(0)).await.unwrap();
        for _ in 0..3 {
            limiter.admit("blocked", &RULE, at(0)).await.unwrap();
        }
        limiter.settle_failure("blocked", &RULE, at(90)).await.unwrap();
        limiter.admit("fresh", &RULE, at(50)).await.unwrap();
        assert_eq!(limiter.purge_expired(at(100)).await.unwrap(), 1, "{}", test.engine);
        assert!(limiter.state("old").await.unwrap().is_none());
        assert!(limiter.state("blocked").await.unwrap().is_some());
        assert!(limiter.state("fresh").await.unwrap().is_some());
        assert_eq!(limiter.purge_expired(at(151)).await.unwrap(), 2);
        test.drop_database().await;
    }
}
