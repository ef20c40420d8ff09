//! `RateLimiter`: every transition as `model::RateState` computes it, and
//! admissions that hold under parallel requests.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::HashMap;

use futures_util::future::join_all;

use crate::model::{Admission, RateRule, RateState};
use crate::ports::RateLimiter;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).single().unwrap()
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

/// The model's answer to one step, as an adapter must give it.
fn reference(
    states: &mut HashMap<&'static str, RateState>,
    key: &'static str,
    step: Step,
    now: DateTime<Utc>,
) -> String {
    let current = states.get(key).copied();
    match step {
        Step::Admit => match RateState::admit(current.as_ref(), &RULE, now) {
            Ok(next) => {
                states.insert(key, next);
                format!("{:?}", Admission::Admitted)
            }
            Err(refused) => format!("{refused:?}"),
        },
        Step::Fail => {
            let block = current.and_then(|state| {
                let (next, block) = state.settle_failure(&RULE, now);
                states.insert(key, next);
                block
            });
            format!("{block:?}")
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
fn shown(
    state: Option<RateState>,
    now: DateTime<Utc>,
) -> Option<(u32, DateTime<Utc>, Option<DateTime<Utc>>)> {
    state.map(|state| (state.hits, state.window_started_at, state.blocked_at(now)))
}

/// Runs a script of every transition, in and out of windows and blocks, and
/// compares each answer and each stored state with the reference arithmetic.
pub async fn follows_the_reference(limiter: &dyn RateLimiter, engine: &str) {
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
    let mut states = HashMap::new();
    for (n, &(second, key, step)) in script.iter().enumerate() {
        let now = at(second);
        let expected = reference(&mut states, key, step, now);
        let got = run(limiter, key, step, now).await;
        assert_eq!(got, expected, "{engine}: step {n} ({step:?} {key} at {second})");
        let stored = limiter.state(key).await.unwrap();
        assert_eq!(
            shown(stored, now),
            shown(states.get(key).copied(), now),
            "{engine}: state after step {n} ({step:?} {key} at {second})"
        );
    }
}

/// A hundred attempts at once with a limit of five: five are admitted; their
/// failures block the key for everyone. The attempts run concurrently, each on
/// its own connection when the adapter has a pool.
pub async fn holds_under_parallel_attempts(limiter: &dyn RateLimiter, engine: &str) {
    let rule = RateRule {
        limit: 5,
        window: Duration::minutes(15),
        block_for: Duration::minutes(15),
    };
    let attempts = (0..100).map(|_| limiter.admit("account:1", &rule, at(0)));
    let admitted = join_all(attempts)
        .await
        .into_iter()
        .filter(|admission| admission.as_ref().unwrap() == &Admission::Admitted)
        .count();
    assert_eq!(admitted, 5, "{engine}");
    let failures = (0..5).map(|_| limiter.settle_failure("account:1", &rule, at(1)));
    let blocks: Vec<_> = join_all(failures)
        .await
        .into_iter()
        .map(|failure| failure.unwrap())
        .collect();
    assert!(
        blocks
            .iter()
            .all(|block| block.is_some_and(|block| block.until == at(1) + Duration::minutes(15))),
        "{engine}: {blocks:?}"
    );
    assert_eq!(
        blocks.iter().flatten().filter(|block| block.started).count(),
        1,
        "{engine}: one failure starts the block"
    );
    assert_eq!(
        limiter.admit("account:1", &rule, at(2)).await.unwrap(),
        Admission::Blocked {
            until: at(1) + Duration::minutes(15)
        },
        "{engine}"
    );
}

/// States whose window closed and whose block ended are forgotten; others stay.
pub async fn purges_what_expired(limiter: &dyn RateLimiter, engine: &str) {
    limiter.admit("old", &RULE, at(0)).await.unwrap();
    for _ in 0..3 {
        limiter.admit("blocked", &RULE, at(0)).await.unwrap();
    }
    limiter.settle_failure("blocked", &RULE, at(90)).await.unwrap();
    limiter.admit("fresh", &RULE, at(50)).await.unwrap();
    assert_eq!(limiter.purge_expired(at(100)).await.unwrap(), 1, "{engine}");
    assert!(limiter.state("old").await.unwrap().is_none(), "{engine}");
    assert!(limiter.state("blocked").await.unwrap().is_some(), "{engine}");
    assert!(limiter.state("fresh").await.unwrap().is_some(), "{engine}");
    assert_eq!(limiter.purge_expired(at(151)).await.unwrap(), 2, "{engine}");
}

/// Four logins of one account at a time, each settled before the next begins
/// (cleared after a success, or given back), with a limit of five: every
/// admission succeeds, since no more than four are ever in flight. A count
/// that a concurrent settlement disturbs shows up as `Full` here.
pub async fn settled_attempts_never_fill_the_count(limiter: &dyn RateLimiter, engine: &str) {
    let rule = RateRule {
        limit: 5,
        window: Duration::minutes(15),
        block_for: Duration::minutes(15),
    };
    let worker = |n: usize| async move {
        let mut refused = Vec::new();
        for round in 0..100 {
            let now = Utc::now();
            match limiter.admit("account:7", &rule, now).await.unwrap() {
                Admission::Admitted => {}
                other => refused.push(other),
            }
            if (n + round).is_multiple_of(3) {
                limiter.refund("account:7", &rule, Utc::now()).await.unwrap();
            } else {
                limiter.clear("account:7", Utc::now()).await.unwrap();
            }
        }
        refused
    };
    let refused: Vec<_> = join_all((0..4).map(worker)).await.into_iter().flatten().collect();
    assert!(refused.is_empty(), "{engine}: {refused:?}");
}
