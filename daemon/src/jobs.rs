//! Long operations (publish, fetch, export, import) run as jobs that the
//! CLI and the web UI poll for progress. The table is bounded: at most
//! [`MAX_RUNNING_JOBS`] run at once and [`MAX_JOBS`] are remembered.
//!
//! Every job runs as a task tracked by [`crate::shutdown`]:
//! shutdown waits for running jobs (within a bound) instead of dropping
//! them mid-write.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use weft_protocol::api::{JobKind, JobResult};

use crate::error::{ErrorKind, NodeError};
use crate::shutdown::Shutdown;

/// Most jobs remembered; finished ones are forgotten oldest first.
pub const MAX_JOBS: usize = 1024;
/// Most jobs running at once.
pub const MAX_RUNNING_JOBS: usize = 64;

/// Bytes done and bytes expected, for progress bars.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes done.
    pub done: AtomicU64,
    /// Bytes expected in all.
    pub total: AtomicU64,
}

impl Progress {
    /// Adds `n` done bytes.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

/// What a finished job produced: its kind's result, as `GET /v1/jobs/{id}`
/// reports it.
pub type JobOutput = JobResult;

/// Where a job is.
#[derive(Debug, Clone)]
pub enum JobState {
    /// Still going.
    Running,
    /// Finished, with its result.
    Done(JobOutput),
    /// Failed, with the kind of failure and the message.
    Failed(ErrorKind, String),
}

/// A long operation (publish, fetch) that the CLI polls for progress.
pub struct Job {
    /// What kind of job.
    pub kind: JobKind,
    /// Its progress.
    pub progress: Arc<Progress>,
    state: Mutex<JobState>,
    ended: tokio::sync::watch::Sender<bool>,
}

impl Job {
    /// The current state.
    pub fn state(&self) -> JobState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Completes when the job has ended (at once if it has).
    pub async fn finished(&self) {
        let mut rx = self.ended.subscribe();
        let _ = rx.wait_for(|e| *e).await;
    }
}

/// The table of jobs, bounded by [`MAX_JOBS`].
pub struct Jobs {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<Job>>>,
    /// Jobs are spawned on this tracker, so shutdown can wait for them.
    shutdown: Shutdown,
}

impl Jobs {
    /// An empty table whose jobs run under `shutdown`.
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            next: AtomicU64::new(0),
            map: Mutex::default(),
            shutdown,
        }
    }

    /// The tracker that background work of jobs' kind (the keeper's
    /// fetches) runs on, so shutdown waits for it too.
    pub fn tracker(&self) -> &Shutdown {
        &self.shutdown
    }

    /// A job by id.
    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn insert(&self, kind: JobKind) -> Result<(u64, Arc<Job>), NodeError> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let running = map
            .values()
            .filter(|j| matches!(j.state(), JobState::Running))
            .count();
        if running >= MAX_RUNNING_JOBS {
            return Err(NodeError::Unavailable(format!(
                "{running} jobs are already running; wait for some to finish"
            )));
        }
        while map.len() >= MAX_JOBS {
            let oldest_done = map
                .iter()
                .find(|(_, j)| !matches!(j.state(), JobState::Running))
                .map(|(k, _)| *k);
            match oldest_done {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job = Arc::new(Job {
            kind,
            progress: Arc::default(),
            state: Mutex::new(JobState::Running),
            ended: tokio::sync::watch::channel(false).0,
        });
        map.insert(id, job.clone());
        Ok((id, job))
    }

    /// Starts a job and returns its id at once.
    pub fn start<F, Fut>(&self, kind: JobKind, f: F) -> Result<u64, NodeError>
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: std::future::Future<Output = Result<JobOutput, NodeError>> + Send + 'static,
    {
        let (id, job) = self.insert(kind)?;
        let fut = f(job.progress.clone());
        self.shutdown.spawn(async move {
            let state = match fut.await {
                Ok(v) => JobState::Done(v),
                Err(e) => {
                    tracing::warn!(job = id, ?kind, error = %e, "job failed");
                    JobState::Failed(e.kind(), e.to_string())
                }
            };
            *job.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
            job.ended.send_replace(true);
        });
        Ok(id)
    }
}
