//! Answers peers: the manifest requests (`/weft/xfer/1`) and the catalog
//! requests (`/weft/sync/1`: reconcile and get) that the swarm task hands
//! over through its [`Outlets`](crate::net::Outlets), and the block streams
//! (`/weft/xfer/2`, [`blocks`]) that come straight from libp2p.
//!
//! Each request is answered on a task of its own, off the swarm loop, and
//! its answer goes back through the [`Client`]. The number of requests in
//! flight is bounded by the swarm's admission limits
//! ([`crate::net::MAX_INBOUND_TOTAL`]) and by the outlets' capacities, so
//! these tasks are bounded too. The upload limit, if set, is applied to
//! every block before it is written.

pub mod blocks;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use weft_protocol::sync::{reconcile, SyncRequest, SyncResponse, FRAME_BYTES};
use weft_protocol::{Request, Response};

use crate::catalog::Catalog;
use crate::clock::now_secs;
use crate::holdings::Holdings;
use crate::metrics::Metrics;
use crate::net::{Client, InboundRequest, InboundSync};
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::upload::RateLimit;

/// How long a reconcile request waits for the catalog to finish loading
/// at start before it is refused.
pub const CATALOG_READY_WAIT: Duration = Duration::from_secs(5);

/// What answering needs.
#[derive(Clone)]
pub struct Server {
    /// The network client the answers go back through.
    pub net: Client,
    /// Manifests and blocks.
    pub store: Arc<dyn Store>,
    /// Catalog entries, for reconciliation.
    pub catalog: Arc<Catalog>,
    /// Serving a manifest counts as use, for the LRU cache.
    pub holdings: Arc<Holdings>,
    /// Byte counters.
    pub metrics: Arc<Metrics>,
    /// The upload limit, if one is set.
    pub upload: Option<Arc<RateLimit>>,
}

impl Server {
    /// Answers requests until both channels close or shutdown is
    /// requested.
    pub async fn run(
        self,
        mut requests: mpsc::Receiver<InboundRequest>,
        mut syncs: mpsc::Receiver<InboundSync>,
        shutdown: Shutdown,
    ) {
        loop {
            tokio::select! {
                // Tracked, so shutdown waits for an answer (and the LRU
                // write it may make) to finish.
                Some(r) = requests.recv() => {
                    shutdown.spawn(self.clone().answer(r));
                }
                Some(r) = syncs.recv() => {
                    shutdown.spawn(self.clone().answer_sync(r));
                }
                _ = shutdown.requested() => break,
                else => break,
            }
        }
    }

    /// Looks the request up off the async threads, waits for the upload
    /// limit, and hands the answer back.
    async fn answer(self, r: InboundRequest) {
        let (store, holdings) = (self.store.clone(), self.holdings.clone());
        let request = r.request;
        let lookup = tokio::task::spawn_blocking(move || match request {
            Request::Manifest(id) => {
                let m = store.get_manifest(&id)?;
                if m.is_some() {
                    // Serving counts as use, for the LRU cache.
                    holdings.touch(store.as_ref(), &id, now_secs())?;
                }
                Ok::<_, crate::store::StoreError>(m)
            }
        })
        .await;
        let response = match lookup {
            Ok(Ok(Some(bytes))) => Response::Found(bytes),
            Ok(Ok(None)) => Response::NotFound,
            _ => Response::Refused,
        };
        if let (Some(limit), Response::Found(bytes)) = (&self.upload, &response) {
            limit.take(bytes.len() as u64).await;
        }
        self.net.respond(r, response).await;
    }

    /// Answers a reconcile or get request; sizes are counted here, off the
    /// swarm task (a message can be 1 MiB).
    async fn answer_sync(self, r: InboundSync) {
        let InboundSync {
            request, channel, ..
        } = r;
        let metrics = self.metrics.clone();
        Metrics::add(&metrics.sync_bytes_received, request.encode().len() as u64);
        let response = match request {
            SyncRequest::Reconcile(ranges) => {
                let catalog = self.catalog.clone();
                let ready = tokio::time::timeout(CATALOG_READY_WAIT, catalog.ready()).await;
                if ready.is_err() {
                    SyncResponse::Refused
                } else {
                    tokio::task::spawn_blocking(move || {
                        let items = catalog.sorted_ids();
                        SyncResponse::Reconcile(reconcile(&items, &ranges, None, FRAME_BYTES))
                    })
                    .await
                    .unwrap_or(SyncResponse::Refused)
                }
            }
            SyncRequest::Get(ids) => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let mut out = Vec::with_capacity(ids.len());
                    for id in ids {
                        match store.get_announcement(&id) {
                            Ok(Some(bytes)) => out.push(bytes),
                            Ok(None) => {}
                            Err(_) => return SyncResponse::Refused,
                        }
                    }
                    SyncResponse::Entries(out)
                })
                .await
                .unwrap_or(SyncResponse::Refused)
            }
            // The swarm task answers hints itself; one that arrives here
            // is acknowledged all the same.
            SyncRequest::Hint => SyncResponse::Ack,
        };
        Metrics::add(&metrics.sync_bytes_sent, response.encode().len() as u64);
        self.net.respond_sync(channel, response).await;
    }
}
