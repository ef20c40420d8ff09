use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use limen_domain::error::HashError;
use limen_domain::model::Password;
use limen_domain::ports::{PasswordCheck, PasswordHasher};
use tokio::sync::Semaphore;

/// Parameters of the argon2id hasher and of the pool it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Config {
    /// Memory cost in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Number of passes (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
    /// Hashes computed at once; the rest wait. Defaults to the number of cores.
    pub max_concurrent: usize,
    /// Hashes allowed to wait for a slot; beyond that callers get `HashError::Busy`
    /// at once instead of piling up behind a login storm.
    pub max_queue: usize,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism().map_or(1, usize::from),
            max_queue: 64,
        }
    }
}

/// argon2id on tokio's blocking pool, bounded by a semaphore so that hashing
/// never runs on an async worker and a login storm cannot take every thread.
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    params: Params,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    dummy_hash: String,
}

impl Argon2Hasher {
    /// Builds the hasher and computes the dummy hash verified for unknown users.
    pub fn new(config: Argon2Config) -> Result<Self, HashError> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|err| HashError::Internal(format!("invalid argon2 parameters: {err}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|err| HashError::Internal(err.to_string()))?;
        let dummy_hash = hash_with(&argon, &random)?;
        let concurrent = config.max_concurrent.max(1);
        Ok(Self {
            argon,
            params,
            running: Arc::new(Semaphore::new(concurrent)),
            admitted: Arc::new(Semaphore::new(concurrent + config.max_queue)),
            dummy_hash,
        })
    }

    /// Runs `work` on the blocking pool once a slot is free, or fails fast with
    /// `Busy` when the queue is full.
    async fn run<T, F>(&self, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2<'static>) -> Result<T, HashError> + Send + 'static,
    {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Internal("hashing pool closed".into()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || work(&argon))
            .await
            .map_err(|err| HashError::Internal(format!("hashing task failed: {err}")))?
    }

    fn is_current(&self, hash: &PasswordHash<'_>) -> bool {
        let same_params = Params::try_from(hash).is_ok_and(|params| {
            params.m_cost() == self.params.m_cost()
                && params.t_cost() == self.params.t_cost()
                && params.p_cost() == self.params.p_cost()
        });
        hash.algorithm == argon2::ARGON2ID_IDENT && hash.version == Some(Version::V0x13.into()) && same_params
    }
}

fn hash_with(argon: &Argon2<'_>, password: &[u8]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| HashError::Internal(err.to_string()))
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.clone();
        self.run(move |argon| hash_with(argon, password.expose().as_bytes()))
            .await
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<PasswordCheck, HashError> {
        let parsed = PasswordHash::new(hash).map_err(|err| HashError::MalformedHash(err.to_string()))?;
        let needs_rehash = !self.is_current(&parsed);
        let owned_hash = hash.to_owned();
        let password = password.clone();
        self.run(move |argon| {
            let parsed =
                PasswordHash::new(&owned_hash).map_err(|err| HashError::MalformedHash(err.to_string()))?;
            match argon.verify_password(password.expose().as_bytes(), &parsed) {
                Ok(()) => Ok(PasswordCheck::Match { needs_rehash }),
                Err(argon2::password_hash::Error::Password) => Ok(PasswordCheck::Mismatch),
                Err(err) => Err(HashError::Internal(err.to_string())),
            }
        })
        .await
    }

    fn dummy_hash(&self) -> String {
        self.dummy_hash.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(max_concurrent: usize, max_queue: usize) -> Argon2Hasher {
        Argon2Hasher::new(Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent,
            max_queue,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = small(2, 4);
        let hash = hasher.hash(&Password::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_eq!(
            hasher
                .verify(&Password::new("correct horse"), &hash)
                .await
                .unwrap(),
            PasswordCheck::Match { needs_rehash: false }
        );
        assert_eq!(
            hasher
                .verify(&Password::new("correct horsE"), &hash)
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[tokio::test]
    async fn the_same_password_hashes_to_different_salted_strings() {
        let hasher = small(1, 1);
        let first = hasher.hash(&Password::new("pw")).await.unwrap();
        let second = hasher.hash(&Password::new("pw")).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn hashes_with_other_parameters_verify_and_ask_for_a_rehash() {
        let old = small(1, 1);
        let hash = old.hash(&Password::new("pw")).await.unwrap();
        let current = Argon2Hasher::new(Argon2Config {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 1,
            max_queue: 1,
        })
        .unwrap();
        assert_eq!(
            current.verify(&Password::new("pw"), &hash).await.unwrap(),
            PasswordCheck::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_is_a_valid_hash_nobody_matches() {
        let hasher = small(1, 1);
        let dummy = hasher.dummy_hash();
        assert_eq!(
            hasher.verify(&Password::new(""), &dummy).await.unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[tokio::test]
    async fn malformed_hashes_are_an_error_not_a_mismatch() {
        let hasher = small(1, 1);
        let err = hasher
            .verify(&Password::new("pw"), "not a hash")
            .await
            .unwrap_err();
        assert!(matches!(err, HashError::MalformedHash(_)));
    }

    #[tokio::test]
    async fn owasp_defaults_are_the_default() {
        let config = Argon2Config::default();
        assert_eq!(
            (config.memory_kib, config.iterations, config.parallelism),
            (19_456, 2, 1)
        );
    }

    #[tokio::test]
    async fn a_full_queue_sheds_load_instead_of_waiting() {
        // One slot, held by the test, and no queue beyond the one waiting call.
        let hasher = Arc::new(small(1, 0));
        let slot = hasher.running.clone().acquire_owned().await.unwrap();
        let waiting = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&Password::new("a")).await })
        };
        while hasher.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.hash(&Password::new("b")).await;
        assert!(matches!(refused, Err(HashError::Busy)));
        drop(slot);
        assert!(waiting.await.unwrap().is_ok());
        assert!(hasher.hash(&Password::new("c")).await.is_ok());
    }
}
