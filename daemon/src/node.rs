//! The node: the store, the network client and the jobs, shared by the API
//! and the background tasks. Holds no lock across `.await`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use weft_protocol::keyfile::{KeyFile, KeyFileError};
use weft_protocol::{BundleId, PublisherId, PublisherKey, SignedManifest};

use crate::catalog::Catalog;
use crate::config::files;
use crate::metrics::Metrics;
use crate::net::{Client, NetError};
use crate::peerbook::PeerBook;
use crate::store::{Store, StoreError};

/// Most jobs remembered; finished ones are forgotten oldest first.
pub const MAX_JOBS: usize = 1024;
/// Most jobs running at once.
pub const MAX_RUNNING_JOBS: usize = 64;

/// An operation failed. Each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The caller asked for something malformed or impossible.
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist here or on any reachable peer.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// Cannot be done now (no peers, too busy).
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network task failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

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

/// Where a job is.
#[derive(Debug, Clone)]
pub enum JobState {
    /// Still going.
    Running,
    /// Finished, with its result.
    Done(serde_json::Value),
    /// Failed, with the HTTP status and message the API reports.
    Failed(u16, String),
}

/// A long operation (publish, fetch) that the CLI polls for progress.
pub struct Job {
    /// What kind of job.
    pub kind: &'static str,
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
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<Job>>>,
}

impl Jobs {
    /// A job by id.
    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn insert(&self, kind: &'static str) -> Result<(u64, Arc<Job>), NodeError> {
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
}

/// Everything the API and the tasks share. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The catalog index (writes to the catalog go through it).
    pub catalog: Arc<Catalog>,
    /// The network actor.
    pub net: Client,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The data dir.
    pub data_dir: PathBuf,
    /// Running and recent jobs.
    pub jobs: Arc<Jobs>,
    /// Peers seen before.
    pub book: Arc<PeerBook>,
    /// The private network's key fingerprint (hex), if this node is in one.
    pub network: Option<String>,
    /// Whether mDNS looks for peers on the LAN.
    pub mdns: bool,
    /// Holdings and quota.
    pub storage: Arc<crate::storage::Storage>,
    /// Follow and block rules.
    pub policy: Arc<crate::policy::Policy>,
    /// The publisher key, when `weftd --passphrase-fd` unlocked it at start.
    pub unlocked: Option<Arc<PublisherKey>>,
}

/// HTTP status for an error.
pub fn status_of(e: &NodeError) -> u16 {
    match e {
        NodeError::BadRequest(_) => 400,
        NodeError::NotFound(_) => 404,
        NodeError::Conflict(_) => 409,
        NodeError::Unavailable(_) | NodeError::Net(_) => 503,
        NodeError::Store(_) | NodeError::Internal(_) => 500,
    }
}

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Node {
    /// Runs a store operation on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| NodeError::Internal(e.to_string()))?
            .map_err(NodeError::from)
    }

    /// Starts a job and returns its id at once.
    pub fn start_job<F, Fut>(&self, kind: &'static str, f: F) -> Result<u64, NodeError>
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: std::future::Future<Output = Result<serde_json::Value, NodeError>> + Send + 'static,
    {
        let (id, job) = self.jobs.insert(kind)?;
        let fut = f(job.progress.clone());
        tokio::spawn(async move {
            let result = fut.await;
            let state = match result {
                Ok(v) => JobState::Done(v),
                Err(e) => {
                    tracing::warn!(job = id, kind, error = %e, "job failed");
                    JobState::Failed(status_of(&e), e.to_string())
                }
            };
            *job.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
            job.ended.send_replace(true);
        });
        Ok(id)
    }

    /// The publisher key file in the data dir.
    pub fn key_file(&self) -> Result<KeyFile, NodeError> {
        load_key_file(&self.data_dir.join(files::PUBLISHER_KEY))
    }

    /// The publisher this node signs for; needs no passphrase.
    pub fn publisher_id(&self) -> Result<PublisherId, NodeError> {
        Ok(self.key_file()?.publisher())
    }

    /// Whether signing needs a passphrase this node does not hold.
    pub fn publisher_locked(&self) -> bool {
        self.key_file()
            .is_ok_and(|f| f.is_sealed() && !self.unlocked_for(&f))
    }

    fn unlocked_for(&self, file: &KeyFile) -> bool {
        self.unlocked
            .as_ref()
            .is_some_and(|k| k.id() == file.publisher())
    }

    /// The signing key: unlocked at start, kept in clear, or opened with
    /// `passphrase` (Argon2id, about half a second, off the async threads).
    /// The passphrase is used for this one key and not kept.
    pub async fn signing_key(&self, passphrase: Option<String>) -> Result<PublisherKey, NodeError> {
        let file = self.key_file()?;
        if self.unlocked_for(&file) {
            let key = self.unlocked.as_ref().expect("checked");
            return Ok(PublisherKey::from_seed(key.seed()));
        }
        tokio::task::spawn_blocking(move || file.open(passphrase.as_deref()))
            .await
            .map_err(|e| NodeError::Internal(e.to_string()))?
            .map_err(|e| match e {
                KeyFileError::Damaged(_) => NodeError::Internal(e.to_string()),
                _ => NodeError::BadRequest(e.to_string()),
            })
    }

    /// A complete local bundle, decoded.
    pub async fn local_manifest(&self, id: BundleId) -> Result<Option<SignedManifest>, NodeError> {
        let bytes = self.blocking(move |s| s.get_manifest(&id)).await?;
        match bytes {
            None => Ok(None),
            Some(b) => SignedManifest::decode(&b).map(Some).map_err(|e| {
                NodeError::Internal(format!("stored manifest of {id} does not verify: {e}"))
            }),
        }
    }

    /// The highest seq this node knows for (publisher, name).
    pub async fn latest_seq(&self, publisher: PublisherId, name: &str) -> u64 {
        self.catalog.ready().await;
        self.catalog.latest_seq(&publisher, name)
    }
}

/// Reads a publisher key file, plain or sealed (see
/// [`weft_protocol::keyfile`]).
pub fn load_key_file(path: &std::path::Path) -> Result<KeyFile, NodeError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(NodeError::BadRequest(
                "this node has no publisher key yet; create one with `weft init`".into(),
            ))
        }
        Err(e) => {
            return Err(NodeError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    KeyFile::parse(&text).map_err(|e| NodeError::Internal(format!("{}: {e}", path.display())))
}
