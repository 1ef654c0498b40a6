//! Serving block streams (`/weft/xfer/2`): each stream asks for up to 64
//! blobs by hash and gets one frame per hash, in order.
//!
//! Bounds, so that no peer can make this node hold more than a few MiB per
//! stream or keep a slot forever:
//! - at most [`MAX_STREAMS_PER_PEER`] streams of one peer and
//!   [`MAX_STREAMS_TOTAL`] of all peers are served at once; past either,
//!   the stream gets a single "refused" frame;
//! - a stream holds at most two blocks: the one being written and the next
//!   one, read from the store meanwhile;
//! - the request must arrive within [`REQUEST_WAIT`], and every frame must
//!   be taken by the peer within [`WRITE_WAIT`] (a peer that stops reading
//!   loses the stream);
//! - the upload limit, if set, is taken before each block is written.
//!
//! Blocks are read with the store's own check against their hash, so a
//! block rotted on disk is never served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use libp2p::PeerId;
use weft_protocol::blocks::{FrameHeader, FrameStatus};
use weft_protocol::ContentHash;

use crate::metrics::Metrics;
use crate::net::blocks::{read_request, write_frame, BlockStream};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::upload::RateLimit;

/// Block streams of one peer served at once.
pub const MAX_STREAMS_PER_PEER: usize = 8;
/// Block streams of all peers served at once: with two blocks of at most
/// 1 MiB each per stream, about 128 MiB at worst.
pub const MAX_STREAMS_TOTAL: usize = 64;
/// How long a peer has to send its request once the stream is open.
pub const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// How long a peer has to take one frame.
pub const WRITE_WAIT: Duration = Duration::from_secs(30);

/// What serving blocks needs.
#[derive(Clone)]
pub struct BlockServer {
    /// The blocks.
    pub store: Arc<dyn Store>,
    /// Byte counters.
    pub metrics: Arc<Metrics>,
    /// The upload limit, if one is set.
    pub upload: Option<Arc<RateLimit>>,
    /// Streams being served, per peer.
    pub open: Arc<Mutex<HashMap<PeerId, usize>>>,
}

/// A served stream's place under the limits, given back when dropped.
struct Admitted {
    open: Arc<Mutex<HashMap<PeerId, usize>>>,
    peer: PeerId,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

impl BlockServer {
    /// A server with no stream open.
    pub fn new(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        upload: Option<Arc<RateLimit>>,
    ) -> Self {
        BlockServer {
            store,
            metrics,
            upload,
            open: Arc::default(),
        }
    }

    /// Serves the streams `incoming` yields until it ends or shutdown is
    /// requested. Each stream is served on a task of its own, so this loop
    /// only admits: libp2p drops a stream that arrives while the previous
    /// one has not been taken.
    pub async fn run(
        self,
        mut incoming: impl Stream<Item = (PeerId, BlockStream)> + Unpin,
        shutdown: Shutdown,
    ) {
        loop {
            tokio::select! {
                next = incoming.next() => match next {
                    Some((peer, stream)) => {
                        let admitted = self.admit(peer);
                        shutdown.spawn(self.clone().serve(peer, stream, admitted, shutdown.clone()));
                    }
                    None => break,
                },
                _ = shutdown.requested() => break,
            }
        }
    }

    fn admit(&self, peer: PeerId) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        let mine = open.get(&peer).copied().unwrap_or(0);
        if total >= MAX_STREAMS_TOTAL || mine >= MAX_STREAMS_PER_PEER {
            return None;
        }
        *open.entry(peer).or_default() += 1;
        Some(Admitted {
            open: self.open.clone(),
            peer,
        })
    }

    fn lookup(
        &self,
        hash: ContentHash,
    ) -> tokio::task::JoinHandle<Result<Option<Vec<u8>>, StoreError>> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.get_blob(&hash))
    }

    /// Writes a "refused" frame: nothing more comes on this stream.
    async fn refuse(&self, s: &mut BlockStream) {
        Metrics::add(&self.metrics.requests_refused, 1);
        let header = FrameHeader::empty(FrameStatus::Refused);
        let _ = tokio::time::timeout(WRITE_WAIT, write_frame(s, header, &[])).await;
    }

    /// Serves one stream: reads its request, then writes a frame per hash
    /// (a refusal ends it), then closes.
    async fn serve(
        self,
        peer: PeerId,
        mut s: BlockStream,
        admitted: Option<Admitted>,
        shutdown: Shutdown,
    ) {
        use futures::AsyncWriteExt;
        let request = match tokio::time::timeout(REQUEST_WAIT, read_request(&mut s)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "a bad block request");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "no block request in time");
                return;
            }
        };
        if admitted.is_none() {
            self.refuse(&mut s).await;
            let _ = s.close().await;
            return;
        }
        let hashes = request.hashes;
        let mut next = Some(self.lookup(hashes[0]));
        for i in 0..hashes.len() {
            let found = match next.take() {
                Some(h) => h.await,
                None => break,
            };
            if i + 1 < hashes.len() && !shutdown.is_requested() {
                next = Some(self.lookup(hashes[i + 1]));
            }
            let written = match found {
                Ok(Ok(Some(bytes))) => {
                    if let Some(limit) = &self.upload {
                        limit.take(bytes.len() as u64).await;
                    }
                    let header = FrameHeader::found(bytes.len());
                    let w =
                        tokio::time::timeout(WRITE_WAIT, write_frame(&mut s, header, &bytes)).await;
                    if matches!(w, Ok(Ok(()))) {
                        Metrics::add(&self.metrics.blobs_served, 1);
                        Metrics::add(&self.metrics.bytes_served, bytes.len() as u64);
                    }
                    w
                }
                Ok(Ok(None)) => {
                    let header = FrameHeader::empty(FrameStatus::NotFound);
                    tokio::time::timeout(WRITE_WAIT, write_frame(&mut s, header, &[])).await
                }
                // A store error, or weftd stopping: the rest is refused.
                _ => {
                    self.refuse(&mut s).await;
                    break;
                }
            };
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "a block stream broke");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "the peer took no block for {} s; dropping its stream", WRITE_WAIT.as_secs());
                    return;
                }
            }
            if next.is_none() && i + 1 < hashes.len() {
                // weftd is stopping.
                self.refuse(&mut s).await;
                break;
            }
        }
        let _ = tokio::time::timeout(WRITE_WAIT, s.close()).await;
    }
}
