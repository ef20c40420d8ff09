//! The least time a refused password login takes, so that the answer's
//! timing does not tell which accounts exist or where their hashes came from.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::model::HashProfile;

/// Most hash profiles learned; a directory with more (PBKDF2 iterations that
/// differ per user, say) shares one entry for the rest.
const MAX_PROFILES: usize = 64;

/// The profile every profile beyond `MAX_PROFILES` is learned under.
const OTHER_PROFILES: &str = "(other profiles)";

/// Weight of a new measurement in a profile's running average (1/8).
const SMOOTHING: u32 = 8;

/// Learns how long each hash profile in use takes to check, and holds every
/// refused password login (unknown name, wrong password, unusable hash,
/// disabled account) to at least the slowest of them, or to the configured
/// floor when that is longer. A refusal whose own hash ran `ran` waits the
/// rest; the waiting is a sleeping task, not a hashing thread, and comes after
/// the attempt is settled. Successful logins never wait.
///
/// What the floor does not hide: the slowest profile itself, until one check
/// of it has been seen on this node (learned at the first login that meets
/// it, the attacker's own included), and differences smaller than the running
/// average's noise.
pub struct RefusalFloor {
    configured: Duration,
    learned: Mutex<BTreeMap<HashProfile, Duration>>,
}

impl RefusalFloor {
    /// A floor of at least `configured` (zero: learned only).
    pub fn new(configured: Duration) -> Self {
        Self {
            configured,
            learned: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes in that a hash of `profile` ran for `ran`.
    pub fn observe(&self, profile: &HashProfile, ran: Duration) {
        let mut learned = self.learned.lock().unwrap_or_else(PoisonError::into_inner);
        let key = if learned.len() < MAX_PROFILES || learned.contains_key(profile) {
            profile.clone()
        } else {
            HashProfile(OTHER_PROFILES.to_owned())
        };
        learned
            .entry(key)
            .and_modify(|average| {
                // `average + (ran - average) / SMOOTHING`, without going negative.
                *average = (*average * (SMOOTHING - 1) + ran) / SMOOTHING;
            })
            .or_insert(ran);
    }

    /// The floor now: the slowest profile's running average, or the configured one.
    pub fn floor(&self) -> Duration {
        let learned = self.learned.lock().unwrap_or_else(PoisonError::into_inner);
        learned
            .values()
            .copied()
            .max()
            .unwrap_or_default()
            .max(self.configured)
    }

    /// Waits out what the floor leaves after a refusal whose hash ran `ran`.
    pub async fn pace(&self, ran: Duration) {
        let rest = self.floor().saturating_sub(ran);
        if !rest.is_zero() {
            tokio::time::sleep(rest).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> HashProfile {
        HashProfile(name.to_owned())
    }

    #[test]
    fn the_floor_is_the_slowest_profile_s_average_or_the_configured_one() {
        let floor = RefusalFloor::new(Duration::from_millis(5));
        assert_eq!(floor.floor(), Duration::from_millis(5));
        floor.observe(&profile("fast"), Duration::from_millis(2));
        floor.observe(&profile("slow"), Duration::from_millis(160));
        assert_eq!(floor.floor(), Duration::from_millis(160));
        // One outlier moves the average an eighth of the way.
        floor.observe(&profile("slow"), Duration::from_millis(240));
        assert_eq!(floor.floor(), Duration::from_millis(170));
    }

    #[test]
    fn profiles_beyond_the_bound_share_one_entry() {
        let floor = RefusalFloor::new(Duration::ZERO);
        for n in 0..MAX_PROFILES + 10 {
            floor.observe(&profile(&format!("pbkdf2 i={n}")), Duration::from_millis(1));
        }
        floor.observe(&profile("pbkdf2 i=9999"), Duration::from_millis(81));
        assert_eq!(floor.learned.lock().unwrap().len(), MAX_PROFILES + 1);
        // The shared entry's average: a millisecond, then an eighth of the way to 81.
        assert_eq!(floor.floor(), Duration::from_millis(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_waits_what_its_own_hash_left_of_the_floor() {
        let floor = RefusalFloor::new(Duration::ZERO);
        floor.observe(&profile("slow"), Duration::from_millis(150));
        let started = tokio::time::Instant::now();
        floor.pace(Duration::from_millis(20)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(130));
        let started = tokio::time::Instant::now();
        floor.pace(Duration::from_millis(400)).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
