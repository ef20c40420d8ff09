//! Work that runs after its request has been answered.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use limen_domain::model::AuditContext;
use tokio::task::JoinSet;

/// Work a handler leaves running after its answer (so that its duration cannot
/// be observed by the client), tracked so that a shutdown can wait for it
/// before it stops the HTTP workers whose runtimes (and database connections)
/// the work runs on: stopping the server must not drop a half-sent e-mail.
#[derive(Clone, Default)]
pub struct Background {
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Background {
    /// Nothing running yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `work` on the current runtime (the worker's), in the request's
    /// audit context, so that what it records names the request.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.lock();
        // Forget finished tasks, so that the set holds only running ones.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(AuditContext::current().scope(work));
    }

    /// Waits up to `timeout` for running work, including work started while
    /// waiting; returns how much was still running then (and is abandoned).
    pub async fn finish(&self, timeout: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut tasks = std::mem::take(&mut *self.lock());
            if tasks.is_empty() {
                return 0;
            }
            let drained =
                tokio::time::timeout_at(deadline, async { while tasks.join_next().await.is_some() {} }).await;
            if drained.is_err() {
                return tasks.len() + self.lock().len();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JoinSet<()>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn finish_waits_for_running_work_and_gives_up_at_the_timeout() {
        let background = Background::new();
        let done = Arc::new(AtomicUsize::new(0));
        for delay in [10, 50] {
            let done = done.clone();
            background.spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(background.finish(Duration::from_secs(5)).await, 0);
        assert_eq!(done.load(Ordering::SeqCst), 2);
        background.spawn(std::future::pending());
        assert_eq!(background.finish(Duration::from_millis(20)).await, 1);
    }
}
