//! The ceiling for logins: how many argon2id verifications per second this
//! machine does with all cores busy and nothing else in the way.

use std::time::{Duration, Instant};

use argon2::PasswordVerifier as _;
use argon2::password_hash::PasswordHash;

use crate::error::BenchError;
use crate::seed::{HashParams, PASSWORD};

/// Verifications per second of `PASSWORD` against `hash`, one thread per core,
/// for about `duration`.
pub fn verifications_per_sec(params: HashParams, hash: &str, duration: Duration) -> Result<f64, BenchError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let argon = params.argon()?;
    let parsed = PasswordHash::new(hash).map_err(|err| BenchError::Setup(format!("bad PHC hash: {err}")))?;
    let started = Instant::now();
    let deadline = started + duration;
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        if argon.verify_password(PASSWORD.as_bytes(), &parsed).is_ok() {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap_or(0)).sum()
    });
    if done == 0 {
        return Err(BenchError::Setup(
            "argon2id verified nothing: wrong hash or parameters".into(),
        ));
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}
