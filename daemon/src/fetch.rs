//! Fetching a bundle from peers, verifying every byte before it is stored.
//!
//! 1. The signed manifest: asked of each connected peer in turn; accepted
//!    only if its blake3 hash is the bundle id and its signature verifies.
//! 2. Chunk indexes of large files, then the chunks: spread over every peer
//!    at once, at most [`PER_PEER_WINDOW`] requests in flight per peer. Each
//!    blob is checked against its hash and length on arrival. A peer that
//!    sends bytes that do not match is disconnected, banned for a while and
//!    never asked again; its blobs go to the others.
//! 3. One synced batch stores the manifest (and the pin), which is what
//!    makes the bundle exist locally. Chunks that were already here (an
//!    interrupted fetch, or another bundle sharing them) are not fetched.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use libp2p::PeerId;
use weft_protocol::chunk::{chunk_count, has_index, parse_index, small_file_chunks, verify_blob};
use weft_protocol::limits::CHUNK_SIZE;
use weft_protocol::{BundleId, ContentHash, Request, Response, SignedAnnouncement, SignedManifest};

use crate::metrics::Metrics;
use crate::node::{now_secs, Node, NodeError, Progress};
use crate::store::BundleCommit;

/// Requests in flight to one peer.
pub const PER_PEER_WINDOW: usize = 8;
/// Requests in flight for one fetch, over all peers.
pub const MAX_IN_FLIGHT: usize = 32;
/// Verified bytes buffered before they are written in one batch.
pub const WRITE_BATCH_BYTES: usize = 8 << 20;
/// Failed requests (timeouts, closed streams) before a peer is dropped
/// from a fetch.
pub const MAX_PEER_FAILURES: u32 = 3;

fn not_connected() -> NodeError {
    NodeError::Unavailable(
        "this node is not connected to any peer; connect to one with `weft connect <multiaddr>`"
            .into(),
    )
}

async fn connected_peers(node: &Node) -> Result<Vec<PeerId>, NodeError> {
    let peers: Vec<PeerId> = node
        .net
        .peers()
        .await?
        .into_iter()
        .filter_map(|p| p.peer_id.parse().ok())
        .collect();
    if peers.is_empty() {
        return Err(not_connected());
    }
    Ok(peers)
}

async fn fetch_manifest(
    node: &Node,
    id: BundleId,
    peers: &[PeerId],
) -> Result<SignedManifest, NodeError> {
    for peer in peers {
        match node.net.request(*peer, Request::Manifest(id)).await {
            Ok(Response::Found(bytes)) => {
                let check = if BundleId::of_signed_manifest(&bytes) != id {
                    Err("its hash is not the bundle id".to_string())
                } else {
                    SignedManifest::decode(&bytes).map_err(|e| e.to_string())
                };
                match check {
                    Ok(m) => return Ok(m),
                    Err(why) => {
                        Metrics::add(&node.metrics.manifests_rejected, 1);
                        node.net
                            .punish(*peer, format!("sent a bad manifest for {id}: {why}"))
                            .await;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(%peer, error = %e, "manifest request failed"),
        }
    }
    Err(NodeError::NotFound(format!(
        "none of the {} connected peers has bundle {id}",
        peers.len()
    )))
}

struct Slot {
    peer: PeerId,
    in_flight: usize,
    failures: u32,
    good: bool,
}

struct Want {
    hash: ContentHash,
    len: u64,
    tried: HashSet<PeerId>,
}

/// Downloads `wanted` blobs from `peers`, verifying and storing each.
async fn download(
    node: &Node,
    peers: &[PeerId],
    wanted: Vec<(ContentHash, u64)>,
    progress: &Progress,
) -> Result<(), NodeError> {
    let mut slots: Vec<Slot> = peers
        .iter()
        .map(|p| Slot {
            peer: *p,
            in_flight: 0,
            failures: 0,
            good: true,
        })
        .collect();
    let mut queue: VecDeque<Want> = wanted
        .into_iter()
        .map(|(hash, len)| Want {
            hash,
            len,
            tried: HashSet::new(),
        })
        .collect();
    let mut in_flight = FuturesUnordered::new();
    let mut pending: Vec<(ContentHash, Vec<u8>)> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut next = 0usize;
    loop {
        // Hand out work: least-loaded good peer that has not yet failed
        // this blob, round-robin among equals.
        while in_flight.len() < MAX_IN_FLIGHT {
            let Some(want) = queue.pop_front() else { break };
            let n = slots.len();
            let pick = (0..n)
                .map(|i| (next + i) % n)
                .filter(|&i| {
                    slots[i].good
                        && slots[i].in_flight < PER_PEER_WINDOW
                        && !want.tried.contains(&slots[i].peer)
                })
                .min_by_key(|&i| slots[i].in_flight);
            match pick {
                Some(i) => {
                    next = (i + 1) % n;
                    slots[i].in_flight += 1;
                    let net = node.net.clone();
                    let peer = slots[i].peer;
                    in_flight.push(async move {
                        let r = net.request(peer, Request::Blob(want.hash)).await;
                        (i, want, r)
                    });
                }
                None => {
                    let someone_could = slots
                        .iter()
                        .any(|s| s.good && !want.tried.contains(&s.peer));
                    if !someone_could {
                        return Err(NodeError::NotFound(format!(
                            "no connected peer could provide block {} ({} peers tried)",
                            want.hash,
                            want.tried.len()
                        )));
                    }
                    queue.push_front(want);
                    break;
                }
            }
        }
        let Some((i, mut want, result)) = in_flight.next().await else {
            break;
        };
        slots[i].in_flight -= 1;
        let peer = slots[i].peer;
        match result {
            Ok(Response::Found(bytes)) => match verify_blob(&want.hash, want.len, &bytes) {
                Ok(()) => {
                    progress.add(if want.len <= CHUNK_SIZE { want.len } else { 0 });
                    Metrics::add(&node.metrics.bytes_fetched, bytes.len() as u64);
                    pending_bytes += bytes.len();
                    pending.push((want.hash, bytes));
                    if pending_bytes >= WRITE_BATCH_BYTES {
                        let batch = std::mem::take(&mut pending);
                        pending_bytes = 0;
                        node.blocking(move |s| s.put_blobs(&batch)).await?;
                    }
                }
                Err(e) => {
                    Metrics::add(&node.metrics.chunks_rejected, 1);
                    slots[i].good = false;
                    node.net
                        .punish(peer, format!("sent a block that does not verify: {e}"))
                        .await;
                    want.tried.insert(peer);
                    queue.push_back(want);
                }
            },
            Ok(Response::NotFound) | Ok(Response::Refused) => {
                want.tried.insert(peer);
                queue.push_back(want);
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "block request failed");
                slots[i].failures += 1;
                if slots[i].failures >= MAX_PEER_FAILURES {
                    slots[i].good = false;
                }
                want.tried.insert(peer);
                queue.push_back(want);
            }
        }
    }
    if !pending.is_empty() {
        node.blocking(move |s| s.put_blobs(&pending)).await?;
    }
    Ok(())
}

/// Fetches bundle `id` (unless it is already here) and optionally pins it.
pub async fn fetch(
    node: &Node,
    id: BundleId,
    pin: bool,
    progress: Arc<Progress>,
) -> Result<SignedManifest, NodeError> {
    if let Some(m) = node.local_manifest(id).await? {
        progress.total.store(
            m.manifest().total_size(),
            std::sync::atomic::Ordering::Relaxed,
        );
        progress.add(m.manifest().total_size());
        if pin {
            node.blocking(move |s| s.set_pin(&id, Some(now_secs())))
                .await?;
        }
        return Ok(m);
    }
    let peers = connected_peers(node).await?;
    let signed = fetch_manifest(node, id, &peers).await?;
    let m = signed.manifest().clone();
    progress
        .total
        .store(m.total_size(), std::sync::atomic::Ordering::Relaxed);
    if let Some(ann) = node.blocking(move |s| s.get_announcement(&id)).await? {
        if let Ok(ann) = SignedAnnouncement::decode(&ann) {
            if !ann.announcement().matches(&signed) {
                tracing::warn!(bundle = %id, "the publisher's announcement does not match its manifest");
            }
        }
    }

    // Phase 1: chunk indexes of the large files.
    let mut indexes = Vec::new();
    for f in m.files.iter().filter(|f| has_index(f.size)) {
        let h = f.hash;
        if !node.blocking(move |s| s.has_blob(&h)).await? {
            indexes.push((f.hash, chunk_count(f.size) * 32));
        }
    }
    indexes.sort();
    indexes.dedup();
    download(node, &peers, indexes, &Progress::default()).await?;

    // Phase 2: every chunk not already here.
    let mut wanted = Vec::new();
    let mut seen = HashSet::new();
    for f in &m.files {
        let chunks = if has_index(f.size) {
            let h = f.hash;
            let bytes = node
                .blocking(move |s| s.get_blob(&h))
                .await?
                .ok_or_else(|| NodeError::Internal(format!("index {h} vanished")))?;
            parse_index(&f.hash, f.size, &bytes)
                .map_err(|e| NodeError::Internal(format!("stored index: {e}")))?
        } else {
            small_file_chunks(&f.hash, f.size)
        };
        for (i, c) in chunks.into_iter().enumerate() {
            let len = weft_protocol::chunk::chunk_len(f.size, i as u64);
            if !seen.insert(c) {
                progress.add(len);
                continue;
            }
            if node.blocking(move |s| s.has_blob(&c)).await? {
                progress.add(len);
            } else {
                wanted.push((c, len));
            }
        }
    }
    download(node, &peers, wanted, &progress).await?;

    let commit = BundleCommit {
        id,
        manifest: signed.bytes().to_vec(),
        announcement: None,
        pin: pin.then(now_secs),
        blobs: Vec::new(),
    };
    node.blocking(move |s| s.commit_bundle(commit)).await?;
    tracing::info!(bundle = %id, size = m.total_size(), "fetched and verified");
    Ok(signed)
}
