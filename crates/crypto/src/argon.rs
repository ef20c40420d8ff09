use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use limen_domain::error::HashError;
use limen_domain::model::Password;

use crate::hash_policy::{HashLimits, HashPolicy, StoredHash};
use limen_domain::model::HashProfile;
use limen_domain::ports::{HashPoolStats, PasswordCheck, PasswordHasher, Verification};
use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
use tokio::sync::{Semaphore, oneshot};

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
    /// Nice value (0 to 19) of the hashing threads: above 0 the scheduler runs
    /// request handling first, so token validation stays fast while logins
    /// saturate the cores, and hashing still takes every idle cycle.
    pub niceness: u8,
    /// Bounds on stored hashes (made elsewhere, or with earlier parameters);
    /// Limen's own current parameters are always within them.
    pub limits: HashLimits,
    /// A hashing thread gives its workspace back to the system after this
    /// long without a hash, so that an idle Limen returns to its idle size.
    pub workspace_idle: Duration,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism().map_or(1, usize::from),
            max_queue: 64,
            niceness: 10,
            limits: HashLimits::default(),
            workspace_idle: Duration::from_secs(10),
        }
    }
}

/// A unit of hashing work, run on one of the hashing threads with its workspace.
type Job = Box<dyn FnOnce(&Argon2<'static>, &mut Workspace) + Send>;

/// A hashing thread's argon2 memory (`memory_kib`), allocated at its first
/// hash and reused by every later one. Allocating it per hash left glibc
/// holding about 230 MiB after a login storm (a freed 19 MiB block raises its
/// mmap threshold, and later blocks stay in its arenas); returning it to the
/// system each time (`MALLOC_MMAP_THRESHOLD_`, or mimalloc) fixed the memory
/// but cost a quarter of the login rate in page faults. Kept, it is `memory_kib`
/// per hashing thread while logins arrive, and given back after a quiet
/// period (`workspace_idle`), so that an idle Limen returns to its idle size.
pub(crate) struct Workspace {
    blocks: Vec<Block>,
    /// The most blocks kept; a hash with larger costs (made before the
    /// parameters were lowered) gets memory of its own for that one hash.
    keep: usize,
    /// When it last hashed.
    used_at: Instant,
    /// The bytes every thread's workspace holds, together.
    held: Arc<AtomicU64>,
}

/// 33 MiB of argon2 blocks (1 KiB each): above glibc's largest dynamic mmap
/// threshold (32 MiB on 64-bit systems), whatever earlier frees raised it to.
const ALWAYS_MAPPED_BLOCKS: usize = 33 * 1024;

impl Workspace {
    fn new(keep: usize, held: Arc<AtomicU64>) -> Self {
        Self {
            blocks: Vec::new(),
            keep,
            used_at: Instant::now(),
            held,
        }
    }

    fn bytes(&self) -> u64 {
        u64::try_from(self.blocks.len() * std::mem::size_of::<Block>()).unwrap_or(u64::MAX)
    }

    /// Gives the memory back when it has not hashed for `quiet`.
    fn release_if_idle(&mut self, quiet: Duration) {
        if self.blocks.is_empty() || self.used_at.elapsed() < quiet {
            return;
        }
        self.held.fetch_sub(self.bytes(), Ordering::Relaxed);
        self.blocks = Vec::new();
        tracing::debug!("a hashing thread gave its argon2 workspace back after {quiet:?} without a hash");
    }

    /// argon2 of `password` and `salt` with `argon`'s algorithm, version and
    /// parameters into `out`.
    fn compute(
        &mut self,
        argon: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let needed = argon.params().block_count();
        if needed > self.keep {
            return argon.hash_password_into(password, salt, out);
        }
        self.used_at = Instant::now();
        if self.blocks.len() < needed {
            if self.blocks.capacity() < needed {
                // Reserved past glibc's largest mmap threshold, so that the
                // memory is mapped on its own and unmapped when given back
                // (freed below that size it stays in the allocator's arenas).
                // Only the blocks a hash writes ever become resident.
                self.blocks = Vec::with_capacity(needed.max(ALWAYS_MAPPED_BLOCKS));
            }
            let before = self.bytes();
            // Every block is written before it is read: no need to clear it between hashes.
            self.blocks.resize(needed, Block::default());
            self.held.fetch_add(self.bytes() - before, Ordering::Relaxed);
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut self.blocks[..needed])
    }
}

/// argon2id on dedicated, lower-priority threads, bounded by semaphores so that
/// hashing never runs on an async worker and a login storm cannot take every
/// thread. Dedicated threads also bound memory: each keeps one argon2
/// workspace (`memory_kib`), where tokio's blocking pool would grow threads,
/// and their memory, without bound under a storm.
pub struct Argon2Hasher {
    params: Params,
    policy: HashPolicy,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    dummy_hash: String,
    concurrent: usize,
    capacity: usize,
    timings: Arc<Timings>,
    /// The bytes the hashing threads' workspaces hold right now.
    held: Arc<AtomicU64>,
}

/// The finished jobs' count and times, in microseconds.
#[derive(Default)]
struct Timings {
    jobs: AtomicU64,
    waited_micros: AtomicU64,
    ran_micros: AtomicU64,
}

impl Timings {
    fn record(&self, waited: Duration, ran: Duration) {
        let micros = |spent: Duration| u64::try_from(spent.as_micros()).unwrap_or(u64::MAX);
        self.waited_micros.fetch_add(micros(waited), Ordering::Relaxed);
        self.ran_micros.fetch_add(micros(ran), Ordering::Relaxed);
        self.jobs.fetch_add(1, Ordering::Relaxed);
    }
}

impl Argon2Hasher {
    /// Builds the hasher and computes the dummy hash verified for unknown users.
    pub fn new(config: Argon2Config) -> Result<Self, HashError> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|err| HashError::Internal(format!("invalid argon2 parameters: {err}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|err| HashError::Internal(err.to_string()))?;
        let held = Arc::new(AtomicU64::new(0));
        let dummy_hash = hash_with(&argon, &mut Workspace::new(0, held.clone()), &random)?;
        let concurrent = config.max_concurrent.max(1);
        let threads = Threads {
            count: concurrent,
            niceness: config.niceness,
            idle: config.workspace_idle,
            held: held.clone(),
        };
        let jobs = spawn_threads(&threads, &argon)?;
        // Limen's own hashes pass whatever the bounds on others' are.
        let limits = HashLimits {
            argon2_memory_kib: config.limits.argon2_memory_kib.max(config.memory_kib),
            argon2_iterations: config.limits.argon2_iterations.max(config.iterations),
            argon2_lanes: config.limits.argon2_lanes.max(config.parallelism),
            ..config.limits
        };
        Ok(Self {
            params,
            policy: HashPolicy::new(limits),
            running: Arc::new(Semaphore::new(concurrent)),
            admitted: Arc::new(Semaphore::new(concurrent + config.max_queue)),
            jobs,
            dummy_hash,
            concurrent,
            capacity: concurrent + config.max_queue,
            timings: Arc::new(Timings::default()),
            held,
        })
    }

    /// The bytes the hashing threads' argon2 workspaces hold right now: the
    /// parameters' memory for each thread that hashed lately, none when idle.
    pub fn workspace_bytes(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool once a slot is free, or fails fast with
    /// `Busy` when the queue is full; its result and how long it ran.
    async fn run<T, F>(&self, work: F) -> Result<(T, Duration), HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2<'static>, &mut Workspace) -> Result<T, HashError> + Send + 'static,
    {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let admitted_at = Instant::now();
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Internal("hashing pool closed".into()))?;
        let (answer, answered) = oneshot::channel();
        let timings = self.timings.clone();
        self.jobs
            .send(Box::new(move |argon, workspace| {
                let started = Instant::now();
                let outcome = work(argon, workspace);
                let ran = started.elapsed();
                timings.record(started - admitted_at, ran);
                // The caller may have gone away (client disconnected); nothing to tell.
                let _ = answer.send(outcome.map(|value| (value, ran)));
            }))
            .map_err(|_| HashError::Internal("the hashing threads have stopped".into()))?;
        answered
            .await
            .map_err(|_| HashError::Internal("a hashing job panicked".into()))?
    }

    /// Whether an argon2 hash has the current algorithm, version and parameters.
    fn is_current(&self, algorithm: Algorithm, version: Version, params: &Params) -> bool {
        algorithm == Algorithm::Argon2id
            && version == Version::V0x13
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost()
    }
}

/// How the hashing threads run.
struct Threads {
    count: usize,
    niceness: u8,
    /// A thread gives its workspace back after this long without a hash.
    idle: Duration,
    held: Arc<AtomicU64>,
}

/// Starts the threads that run jobs from one queue until the hasher is
/// dropped. Waiting for a job, a thread wakes at least once a second (or
/// every `idle`, if shorter) to give an idle workspace back; the queue's
/// lock passes between the waiting threads, so each of them wakes in turn.
fn spawn_threads(threads: &Threads, argon: &Argon2<'static>) -> Result<mpsc::Sender<Job>, HashError> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let tick = threads
        .idle
        .min(Duration::from_secs(1))
        .max(Duration::from_millis(10));
    for index in 0..threads.count {
        let queue = queue.clone();
        let argon = argon.clone();
        let (niceness, idle, held) = (threads.niceness, threads.idle, threads.held.clone());
        std::thread::Builder::new()
            .name(format!("limen-hash-{index}"))
            .spawn(move || {
                lower_priority(niceness);
                let mut workspace = Workspace::new(argon.params().block_count(), held);
                loop {
                    // A poisoned lock means another hashing thread panicked while
                    // taking a job; the queue itself is intact.
                    let next = match queue.lock() {
                        Ok(queue) => queue.recv_timeout(tick),
                        Err(poisoned) => poisoned.into_inner().recv_timeout(tick),
                    };
                    let job = match next {
                        Ok(job) => job,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            workspace.release_if_idle(idle);
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    };
                    // A panicking job drops its answer channel (the caller gets an
                    // error); the thread survives to run the next one.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&argon, &mut workspace)));
                }
            })
            .map_err(|err| HashError::Internal(format!("cannot start a hashing thread: {err}")))?;
    }
    Ok(jobs)
}

/// Sets the calling thread's nice value; a failure only costs latency, so it is logged.
fn lower_priority(niceness: u8) {
    if niceness == 0 {
        return;
    }
    let outcome = ThreadPriorityValue::try_from(crossplatform_value(niceness))
        .map_err(|err| err.to_string())
        .and_then(|value| {
            set_current_thread_priority(ThreadPriority::Crossplatform(value)).map_err(|err| err.to_string())
        });
    if let Err(err) = outcome {
        tracing::warn!(%err, niceness, "cannot lower the priority of a hashing thread");
    }
}

/// The thread-priority value that its Linux mapping (0..=99 onto nice 19..=-20,
/// `trunc(39 * (1 - p / 99)) - 20`) turns into `niceness`; a test reads the
/// resulting nice value back from /proc in case the crate changes its mapping.
fn crossplatform_value(niceness: u8) -> u8 {
    let wanted = i32::from(niceness.min(19));
    (0..=99u8)
        .find(|&p| (39.0 * (1.0 - f32::from(p) / 99.0)) as i32 - 20 <= wanted)
        .unwrap_or(0)
}

/// A new PHC string of `password` with a random salt and `argon`'s parameters.
fn hash_with(argon: &Argon2<'_>, workspace: &mut Workspace, password: &[u8]) -> Result<String, HashError> {
    let internal = |err: &dyn std::fmt::Display| HashError::Internal(err.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(|err| internal(&err))?;
    let length = argon.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(length, |out| {
        workspace
            .compute(argon, password, salt_bytes, out)
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(|err| internal(&err))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|err| internal(&err))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the argon2 PHC string `stored`, computed with
/// the algorithm, version and parameters the string names.
fn verify_with(workspace: &mut Workspace, password: &[u8], stored: &str) -> Result<bool, HashError> {
    // `HashPolicy` parsed it before: an error here is a hash it let through.
    let unusable = |err: &dyn std::fmt::Display| HashError::Unusable(err.to_string());
    let parsed = PasswordHash::new(stored).map_err(|err| unusable(&err))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError::Unusable(
            "an argon2 hash without salt or output".into(),
        ));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|err| unusable(&err))?;
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
        .map_err(|err| unusable(&err))?;
    let params = Params::try_from(&parsed).map_err(|err| unusable(&err))?;
    let argon = Argon2::new(algorithm, version, params);
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(|err| unusable(&err))?;
    let computed = Output::init_with(expected.len(), |out| {
        workspace
            .compute(&argon, password, salt_bytes, out)
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(|err| HashError::Internal(err.to_string()))?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.clone();
        let (hash, _) = self
            .run(move |argon, workspace| hash_with(argon, workspace, password.expose().as_bytes()))
            .await?;
        Ok(hash)
    }

    fn inspect(&self, stored: &str) -> Result<HashProfile, HashError> {
        self.policy.check(stored).map_err(HashError::Unusable)
    }

    async fn verify(&self, password: &Password, stored: &str) -> Result<Verification, HashError> {
        let parsed = self.policy.parse(stored).map_err(HashError::Unusable)?;
        let password = password.clone();
        let (matched, ran, needs_rehash) = match parsed {
            StoredHash::Argon2 {
                phc,
                algorithm,
                version,
                params,
            } => {
                // Django's `argon2$` prefix is rewritten in Limen's own form too.
                let needs_rehash = !self.is_current(algorithm, version, &params) || phc.len() != stored.len();
                let (matched, ran) = self
                    .run(move |_, workspace| verify_with(workspace, password.expose().as_bytes(), &phc))
                    .await?;
                (matched, ran, needs_rehash)
            }
            // Another format, verified on the same bounded pool; a match asks
            // for a rehash to argon2id.
            other => {
                let (matched, ran) = self
                    .run(move |_, _| {
                        other
                            .verify_other(password.expose().as_bytes())
                            .map_err(HashError::Unusable)
                    })
                    .await?;
                (matched, ran, true)
            }
        };
        let check = match matched {
            true => PasswordCheck::Match { needs_rehash },
            false => PasswordCheck::Mismatch,
        };
        Ok(Verification { check, ran })
    }

    fn dummy_hash(&self) -> String {
        self.dummy_hash.clone()
    }

    fn pool_stats(&self) -> HashPoolStats {
        let running = self.concurrent - self.running.available_permits().min(self.concurrent);
        let in_pool = self.capacity - self.admitted.available_permits().min(self.capacity);
        let seconds = |micros: &AtomicU64| micros.load(Ordering::Relaxed) as f64 / 1e6;
        HashPoolStats {
            queued: in_pool.saturating_sub(running),
            running,
            jobs: self.timings.jobs.load(Ordering::Relaxed),
            wait_seconds: seconds(&self.timings.waited_micros),
            run_seconds: seconds(&self.timings.ran_micros),
        }
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
            niceness: 10,
            limits: HashLimits::default(),
            workspace_idle: Duration::from_secs(10),
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
                .unwrap()
                .check,
            PasswordCheck::Match { needs_rehash: false }
        );
        assert_eq!(
            hasher
                .verify(&Password::new("correct horsE"), &hash)
                .await
                .unwrap()
                .check,
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
            niceness: 0,
            limits: HashLimits::default(),
            workspace_idle: Duration::from_secs(10),
        })
        .unwrap();
        assert_eq!(
            current.verify(&Password::new("pw"), &hash).await.unwrap().check,
            PasswordCheck::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_is_a_valid_hash_nobody_matches() {
        let hasher = small(1, 1);
        let dummy = hasher.dummy_hash();
        assert_eq!(
            hasher.verify(&Password::new(""), &dummy).await.unwrap().check,
            PasswordCheck::Mismatch
        );
    }

    #[tokio::test]
    async fn unusable_hashes_are_an_error_not_a_mismatch_and_cost_no_hash() {
        let hasher = small(1, 1);
        for stored in [
            "not a hash",
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            let err = hasher.verify(&Password::new("pw"), stored).await.unwrap_err();
            assert!(matches!(err, HashError::Unusable(_)), "{stored}: {err:?}");
            assert!(matches!(hasher.inspect(stored), Err(HashError::Unusable(_))));
        }
        assert_eq!(hasher.pool_stats().jobs, 0, "nothing reached a hashing thread");
    }

    #[tokio::test]
    async fn a_verification_says_how_long_its_hash_ran_and_the_profile_names_its_costs() {
        let hasher = small(1, 1);
        let hash = hasher.hash(&Password::new("pw")).await.unwrap();
        let verification = hasher.verify(&Password::new("pw"), &hash).await.unwrap();
        assert!(verification.ran > Duration::ZERO);
        assert_eq!(
            hasher.inspect(&hash).unwrap(),
            HashProfile("argon2id v=19 m=64 t=1 p=1".into())
        );
    }

    #[tokio::test]
    async fn limen_s_own_parameters_pass_bounds_set_below_them() {
        let hasher = Argon2Hasher::new(Argon2Config {
            memory_kib: 256,
            iterations: 2,
            parallelism: 1,
            limits: HashLimits {
                argon2_memory_kib: 128,
                argon2_iterations: 1,
                ..HashLimits::default()
            },
            ..Argon2Config::default()
        })
        .unwrap();
        let own = hasher.hash(&Password::new("pw")).await.unwrap();
        assert!(hasher.inspect(&own).is_ok());
        assert!(hasher.inspect(&hasher.dummy_hash()).is_ok());
    }

    #[tokio::test]
    async fn owasp_defaults_are_the_default() {
        let config = Argon2Config::default();
        assert_eq!(
            (config.memory_kib, config.iterations, config.parallelism),
            (19_456, 2, 1)
        );
    }

    #[test]
    fn the_kept_workspace_agrees_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = |m| Params::new(m, 1, 1, None).unwrap();
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(64));
        let larger = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(256));
        let mut workspace = Workspace::new(params(64).block_count(), Arc::default());
        // Ours, checked by the crate's own verifier, several times in one workspace.
        for password in ["first", "second"] {
            let ours = hash_with(&small, &mut workspace, password.as_bytes()).unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(small.verify_password(password.as_bytes(), &parsed).is_ok());
            assert!(small.verify_password(b"other", &parsed).is_err());
        }
        // The crate's, checked by ours: kept parameters, larger ones (memory
        // of its own), argon2i, and the kept parameters again afterwards.
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params(64));
        for argon in [&small, &larger, &argon2i, &small] {
            let salt = SaltString::generate(&mut OsRng);
            let theirs = argon.hash_password(b"pw", &salt).unwrap().to_string();
            assert!(verify_with(&mut workspace, b"pw", &theirs).unwrap(), "{theirs}");
            assert!(!verify_with(&mut workspace, b"pW", &theirs).unwrap(), "{theirs}");
        }
        assert_eq!(
            workspace.blocks.len(),
            params(64).block_count(),
            "larger costs are not kept"
        );
    }

    /// The nice value of the thread running this, from /proc (Linux).
    fn own_niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the parenthesised command name; nice is field 19 of the whole line.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn hashing_runs_on_named_threads_at_the_configured_niceness() {
        let hasher = small(1, 1);
        let ((name, nice), _) = hasher
            .run(|_, _| Ok((std::thread::current().name().map(String::from), own_niceness())))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("limen-hash-0"));
        // Raising niceness is always allowed; a caller already nicer than 10 is left as it is.
        assert_eq!(nice, own_niceness().max(10));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_thread_survives() {
        let hasher = small(1, 1);
        let failed = hasher.run::<(), _>(|_, _| panic!("boom")).await;
        assert!(matches!(failed, Err(HashError::Internal(_))));
        assert!(hasher.hash(&Password::new("still works")).await.is_ok());
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

    #[tokio::test]
    async fn the_pool_counts_what_waits_what_runs_and_what_it_took() {
        let hasher = Arc::new(small(1, 2));
        assert_eq!(hasher.pool_stats(), HashPoolStats::default());
        // The one thread taken, as a running job takes it: a job waits for it.
        let place = hasher.admitted.clone().acquire_owned().await.unwrap();
        let slot = hasher.running.clone().acquire_owned().await.unwrap();
        let waiting = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&Password::new("a")).await })
        };
        while hasher.admitted.available_permits() > 1 {
            tokio::task::yield_now().await;
        }
        let stats = hasher.pool_stats();
        assert_eq!((stats.queued, stats.running, stats.jobs), (1, 1, 0), "{stats:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop((slot, place));
        waiting.await.unwrap().unwrap();
        let stats = hasher.pool_stats();
        assert_eq!((stats.queued, stats.running, stats.jobs), (0, 0, 1), "{stats:?}");
        assert!(stats.wait_seconds >= 0.02, "{stats:?}");
        assert!(stats.run_seconds > 0.0, "{stats:?}");
    }

    #[tokio::test]
    async fn each_thread_keeps_its_workspace_while_hashing_and_gives_it_back_when_quiet() {
        let hasher = Argon2Hasher::new(Argon2Config {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
            max_queue: 4,
            niceness: 0,
            limits: HashLimits::default(),
            workspace_idle: Duration::from_millis(200),
        })
        .unwrap();
        assert_eq!(hasher.workspace_bytes(), 0, "nothing before the first hash");
        let hash = hasher.hash(&Password::new("pw")).await.unwrap();
        let one = 256 * 1024;
        assert!(hasher.workspace_bytes() >= one, "{}", hasher.workspace_bytes());
        // Hashes in a row keep it: no reallocation between them.
        for _ in 0..5 {
            hasher.verify(&Password::new("pw"), &hash).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(hasher.workspace_bytes() >= one);
        let mut waited = Duration::ZERO;
        while hasher.workspace_bytes() > 0 && waited < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += Duration::from_millis(50);
        }
        assert_eq!(hasher.workspace_bytes(), 0, "given back after the quiet period");
        assert_eq!(
            hasher.verify(&Password::new("pw"), &hash).await.unwrap().check,
            PasswordCheck::Match { needs_rehash: false },
            "and taken again by the next hash"
        );
        assert!(hasher.workspace_bytes() >= one);
    }
}
