//! Graceful shutdown, in the style of mini-redis: one signal reaches every
//! task, and `weftd` waits for every tracked task to finish before it
//! exits.
//!
//! [`Controller`] owns the signal. Every long-lived task (the swarm loop,
//! the syncer, the keeper, the server, the provider) and every job runs on
//! a [`Shutdown`] handle: [`Shutdown::spawn`] gives the task a clone of a
//! guard, and [`Controller::stop`] sends the signal, drops its own guard
//! and waits until every task has dropped its clone. Tasks stop at a safe
//! point of their own choosing (between passes, between batches), never
//! in the middle of a store write; a job that is still running when the
//! grace period ends is cut off with the process, which the store
//! survives (every logical write is one batch, and an unclean stop makes
//! the next start sweep).

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

/// How long `weftd` waits for tasks and jobs to finish after the signal.
pub const GRACE: Duration = Duration::from_secs(10);

/// A task's view of the shutdown signal, and the right to spawn tracked
/// tasks. Cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Receiver<bool>,
    /// Upgraded into a guard by every tracked task; the controller waits
    /// until every guard is gone. Weak, so that merely holding a handle
    /// (as the job table does) keeps nobody waiting.
    alive: mpsc::WeakSender<()>,
}

impl Shutdown {
    /// Completes once shutdown has started (at once if it has). Safe to
    /// cancel.
    pub async fn requested(&self) {
        let mut rx = self.signal.clone();
        if rx.wait_for(|s| *s).await.is_err() {
            // The controller is gone without asking (a test's, or a start
            // that failed): no shutdown was requested, and none will be.
            std::future::pending::<()>().await;
        }
    }

    /// Whether shutdown has started.
    pub fn is_requested(&self) -> bool {
        *self.signal.borrow()
    }

    /// Spawns a task that shutdown waits for.
    pub fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // After the controller has finished waiting there is nothing to
        // upgrade, and the task simply runs untracked until the process ends.
        let guard = self.alive.upgrade();
        tokio::spawn(async move {
            let out = fut.await;
            drop(guard);
            out
        })
    }
}

/// Owns the signal; see the module docs.
pub struct Controller {
    signal: watch::Sender<bool>,
    handle: Shutdown,
    /// The first guard, dropped when the wait begins.
    alive: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
}

impl Default for Controller {
    fn default() -> Self {
        let (signal, rx) = watch::channel(false);
        let (alive, done) = mpsc::channel(1);
        Self {
            signal,
            handle: Shutdown {
                signal: rx,
                alive: alive.downgrade(),
            },
            alive,
            done,
        }
    }
}

impl Controller {
    /// A handle for a task.
    pub fn handle(&self) -> Shutdown {
        self.handle.clone()
    }

    /// Sends the signal and waits up to `grace` for every tracked task to
    /// end. Returns whether they all did.
    pub async fn stop(self, grace: Duration) -> bool {
        let Controller {
            signal,
            alive,
            mut done,
            ..
        } = self;
        let _ = signal.send(true);
        drop(alive);
        // `recv` returns `None` once every sender (guard) is dropped.
        tokio::time::timeout(grace, done.recv()).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_waits_for_a_task_to_reach_its_safe_point() {
        let c = Controller::default();
        let s = c.handle();
        let (tx, rx) = tokio::sync::oneshot::channel();
        s.clone().spawn(async move {
            s.requested().await;
            // The task's own clean-up runs after the signal.
            tokio::task::yield_now().await;
            let _ = tx.send("cleaned up");
        });
        assert!(c.stop(Duration::from_secs(5)).await);
        assert_eq!(rx.await.unwrap(), "cleaned up");
    }

    #[tokio::test(start_paused = true)]
    async fn a_controller_dropped_without_stopping_requests_nothing() {
        let s = Controller::default().handle();
        assert!(!s.is_requested());
        let waited = tokio::time::timeout(Duration::from_secs(60), s.requested()).await;
        assert!(waited.is_err(), "no shutdown was requested");
    }

    #[tokio::test(start_paused = true)]
    async fn stop_gives_up_after_the_grace_period() {
        let c = Controller::default();
        let s = c.handle();
        s.spawn(std::future::pending::<()>());
        assert!(!c.stop(Duration::from_secs(1)).await);
    }
}
