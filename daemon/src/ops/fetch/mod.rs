//! Fetching a bundle from peers, verifying every byte before it is stored.
//!
//! 1. The signed manifest: asked of each connected peer in turn; accepted
//!    only if its blake3 hash is the bundle id and its signature verifies.
//! 2. Chunk indexes of large files, then the chunks, in batches of at most
//!    [`BATCH_BLOBS`]. Each batch is spread over every peer at once, in
//!    block streams (`/weft/xfer/2`, [`stream`]) of up to
//!    [`BLOCKS_PER_STREAM`] blobs, at most [`STREAMS_PER_PEER`] open to a
//!    peer, so the link never idles between answers. Each blob is checked
//!    against its hash, then its length, as it arrives, on the stream's own
//!    task.
//!    - Bytes that do not match their hash, or a frame the protocol does not
//!      allow: the peer lied. It is disconnected, banned for a while and
//!      never asked again; its blobs go to the others.
//!    - Bytes that match their hash but not the length the manifest states:
//!      the *manifest* is inconsistent. The fetch fails and no peer is
//!      blamed, so a crafted manifest cannot get honest peers banned.
//!    - "Not found": that peer is not asked for that blob again.
//!    - "Refused" (busy), timeouts and streams that end early: the peer's
//!      window of blobs in flight shrinks (additive increase,
//!      multiplicative decrease, between 1 and [`PER_PEER_WINDOW`]) and the
//!      blobs are retried after a pause, on that peer or another. A peer is
//!      dropped from the fetch only after [`MAX_PEER_FAILURES`] failures or
//!      [`MAX_PEER_REFUSALS`] refusals in a row of blobs asked at a window
//!      of 1.
//!    - A stream with no frame for [`STALL_TIMEOUT`] fails. At the end of a
//!      batch, blocks still waited for after [`ENDGAME_AFTER`] are asked of
//!      another peer too (BitTorrent's endgame), so one stalling peer
//!      cannot hold a fetch back.
//!    - Providers found in the DHT while the fetch runs join it.
//! 3. One synced batch stores the manifest (and the pin), which is what
//!    makes the bundle exist locally. Chunks that were already here (an
//!    interrupted fetch, or another bundle sharing them) are not fetched.
//!
//! From the moment the manifest is verified until the commit, the fetch is
//! recorded in the store (`fetches`), so a fetch cut short by a restart or
//! by providers leaving is resumed by the keeper (`ops::keeper`), and GC keeps
//! its chunks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::mpsc;
use tokio::time::Instant;
use weft_protocol::chunk::Expect;
use weft_protocol::identity::Authority;
use weft_protocol::{BundleId, ContentHash, Request, Response, SignedManifest};

use self::download::download;
use self::stream::{Arrival, Outcome, Want};

use crate::clock::now_secs;
use crate::error::NodeError;
use crate::jobs::Progress;
use crate::metrics::Metrics;
use crate::node::Node;
use crate::store::{
    chunks_of, BundleCommit, ChunkListError, FetchRecord, Pin, PinKind, StoreError, CF_FETCHES,
};

/// Largest window of blobs in flight to one peer.
pub const PER_PEER_WINDOW: usize = 64;
/// Blobs in flight for one fetch, over all peers.
pub const MAX_IN_FLIGHT: usize = 128;
/// Blobs asked for on one stream (at most the protocol's 64).
pub const BLOCKS_PER_STREAM: usize = 16;
/// Streams open to one peer at once (a server serves 8 of a peer's).
pub const STREAMS_PER_PEER: usize = 4;
/// Verified blobs waiting for the fetcher: what the streams may hold in
/// memory beyond the write batches.
const ARRIVALS: usize = 16;
/// Wants looked at to fill one stream's batch.
const SCAN_LIMIT: usize = 1024;
/// Verified bytes buffered before they are written in one batch.
pub const WRITE_BATCH_BYTES: usize = 8 << 20;
/// Blobs listed at once; bounds the fetcher's memory whatever sizes a
/// manifest declares.
pub const BATCH_BLOBS: usize = 4096;
/// Consecutive failures (timeouts, broken streams) of requests sent at a
/// window of 1 before a peer is dropped from a fetch.
pub const MAX_PEER_FAILURES: u32 = 4;
/// Consecutive "refused, busy" answers at a window of 1 before a peer is
/// dropped from a fetch: with the growing pauses between them, about two
/// minutes of patience with a busy hub.
pub const MAX_PEER_REFUSALS: u32 = 20;
/// Pause before asking a peer again after it refused or failed.
pub const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// A block stream with no frame for this long fails, and its blocks go
/// to another peer.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(20);
/// At the end of a batch, a block waited for this long is asked of a
/// second peer too.
pub const ENDGAME_AFTER: Duration = Duration::from_secs(2);
/// How often the endgame looks for late blocks while nothing arrives.
const ENDGAME_TICK: Duration = Duration::from_millis(250);

/// The peers a fetch may ask; grows while it runs (DHT providers).
pub type PeerSet = Arc<Mutex<Vec<PeerId>>>;

fn peer_list(set: &PeerSet) -> Vec<PeerId> {
    set.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

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

/// How long to wait for dialled providers to connect.
pub const PROVIDER_DIAL_WAIT: Duration = Duration::from_secs(10);

/// Providers of `id` from the DHT that this node could connect to.
async fn find_providers(node: &Node, id: BundleId) -> Vec<PeerId> {
    let found = match node.net.find_providers(id).await {
        Ok(f) if !f.is_empty() => f,
        _ => return Vec::new(),
    };
    tracing::info!(bundle = %id, providers = found.len(), "found providers in the DHT");
    let deadline = Instant::now() + PROVIDER_DIAL_WAIT;
    loop {
        let connected: HashSet<PeerId> = node
            .net
            .peers()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.peer_id.parse().ok())
            .collect();
        let ready: Vec<PeerId> = found
            .iter()
            .filter(|p| connected.contains(p))
            .copied()
            .collect();
        if ready.len() == found.len() || (!ready.is_empty() && Instant::now() > deadline) {
            return ready;
        }
        if Instant::now() > deadline {
            return Vec::new();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

/// Why a fetch cannot start: its publisher is blocked here.
fn refuse_blocked(node: &Node, id: &BundleId) -> Result<(), NodeError> {
    if let Some(a) = node.catalog.get(id) {
        if node.rules.is_blocked(&a.publisher) {
            return Err(NodeError::Conflict(format!(
                "bundle {id} is from publisher {}, which this node blocks; `weft unblock {}` first",
                a.publisher, a.publisher
            )));
        }
    }
    Ok(())
}

/// The pin to keep when a bundle already held is asked for again: an
/// explicit pin is never downgraded to a mirror pin.
fn merge_pin(have: Option<PinKind>, want: Option<PinKind>) -> Option<PinKind> {
    match (have, want) {
        (Some(PinKind::Explicit), _) | (_, Some(PinKind::Explicit)) => Some(PinKind::Explicit),
        (a, b) => a.or(b),
    }
}

/// Fetches bundle `id` (unless it is already here) and pins it if `pin`
/// says so. Resumes an interrupted fetch of it from the blocks already
/// stored.
pub async fn fetch(
    node: &Node,
    id: BundleId,
    pin: Option<PinKind>,
    progress: Arc<Progress>,
) -> Result<SignedManifest, NodeError> {
    use std::sync::atomic::Ordering::Relaxed;
    refuse_blocked(node, &id)?;
    // One fetch of a bundle at a time; a second caller waits for the first.
    let mut fetching = node.holdings.start_fetch_when_free(id).await;
    if let Some(m) = node.local_manifest(id).await? {
        progress.total.store(m.manifest().total_size(), Relaxed);
        progress.add(m.manifest().total_size());
        let have = node.holdings.pin_kind(&id);
        let keep = merge_pin(have, pin);
        let storage = node.holdings.clone();
        node.blocking(move |s| {
            if keep != have {
                let p = keep.map(|k| Pin {
                    at: now_secs(),
                    kind: k,
                });
                storage.set_pin(s, &id, p)?;
            }
            storage.touch(s, &id, now_secs())
        })
        .await?;
        return Ok(m);
    }
    let peers: PeerSet = Arc::new(Mutex::new(connected_peers(node).await.unwrap_or_default()));
    let pending = node
        .blocking(move |s| s.get_kv(CF_FETCHES, id.as_bytes()))
        .await?
        .and_then(|v| SignedManifest::decode_stored(FetchRecord::manifest_of(&v)).ok());
    // Providers from the DHT join the fetch as they are found.
    let finder = {
        let (node, peers) = (node.clone(), peers.clone());
        tokio::spawn(async move {
            for p in find_providers(&node, id).await {
                let mut g = peers.lock().unwrap_or_else(|e| e.into_inner());
                if !g.contains(&p) {
                    g.push(p);
                }
            }
        })
    };
    let _stop_finder = AbortOnDrop(finder);
    let signed = match pending {
        Some(m) => {
            tracing::info!(bundle = %id, "resuming an interrupted fetch");
            m
        }
        None => fetch_manifest_anywhere(node, id, &peers).await?,
    };
    let m = signed.manifest().clone();
    if node.rules.is_blocked(&m.publisher) {
        return Err(NodeError::Conflict(format!(
            "bundle {id} is from publisher {}, which this node blocks",
            m.publisher
        )));
    }
    node.catalog.ready().await;
    let asked: Vec<PeerId> = peers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    await_key_log(node, &signed, &asked).await;
    check_signer(node, &signed)?;
    progress.total.store(m.total_size(), Relaxed);
    // Room: evict the cache if needed; refuse if pins leave no room.
    let size = m.total_size();
    if node
        .holdings
        .max()
        .is_some_and(|max| node.holdings.usage().used + size > max)
    {
        let storage = node.holdings.clone();
        node.blocking(move |s| storage.gc(s, size)).await?;
    }
    node.holdings
        .check_room(size)
        .map_err(NodeError::Unavailable)?;
    if pin.is_some() {
        fetching
            .reserve_pinned(size)
            .map_err(NodeError::Unavailable)?;
    }
    {
        let record = FetchRecord::encode(pin, signed.bytes());
        node.blocking(move |s| s.put_kv(CF_FETCHES, id.as_bytes(), &record))
            .await?;
    }
    {
        // The manifest is the truth: claims on this id by another publisher,
        // or that describe it otherwise, are false from now on.
        let (catalog, m) = (node.catalog.clone(), signed.clone());
        let settled = node.blocking(move |s| catalog.settle(s, &m)).await?;
        if settled > 0 {
            tracing::warn!(bundle = %id, claims = settled, "dropped catalog entries that contradict the bundle's manifest");
        }
    }

    // Every blob this bundle needs is kept from GC until the commit.
    let mut protected = node.holdings.protect(m.files.iter().map(|f| f.hash));

    // Phase 1: chunk indexes of the large files (their roots, then the
    // pages of level-1 roots), each checked against the index rules.
    let mut rounds = 0;
    let lists = loop {
        rounds += 1;
        let mut lists = Vec::new();
        let mut missing = Vec::new();
        for f in &m.files {
            let file = f.clone();
            match node.blocking(move |s| Ok(chunks_of(s, &file))).await? {
                Ok(fc) => lists.push(fc),
                Err(ChunkListError::Missing { missing: m, .. }) => missing.extend(m),
                Err(ChunkListError::Damaged(e)) => {
                    return Err(NodeError::Internal(format!("stored index: {e}")))
                }
                Err(ChunkListError::Store(e)) => return Err(e.into()),
            }
        }
        if missing.is_empty() {
            break lists;
        }
        // Roots, then pages: a third round finds everything or nothing.
        if rounds > 2 {
            return Err(NodeError::Internal(format!(
                "bundle {id}: chunk indexes fetched twice are still missing"
            )));
        }
        missing.sort_by_key(|(h, _)| *h);
        missing.dedup_by_key(|(h, _)| *h);
        protected.extend(missing.iter().map(|(h, _)| *h));
        for batch in missing.chunks(BATCH_BLOBS) {
            download(node, id, &peers, batch.to_vec(), &Progress::default()).await?;
        }
    };

    // Phase 2: every chunk not already here, a batch at a time. Chunks
    // stored by an earlier batch are found by `has_blob`, so duplicates
    // across batches are fetched once too.
    let mut wanted = Vec::new();
    let mut in_batch = HashSet::new();
    for fc in lists {
        protected.extend(fc.indexes.iter().map(|(h, _)| *h));
        for c in fc.chunks {
            if !in_batch.insert(c.hash) {
                progress.add(c.len);
                continue;
            }
            protected.add(c.hash);
            let h = c.hash;
            if node.blocking(move |s| s.has_blob(&h)).await? {
                progress.add(c.len);
                continue;
            }
            wanted.push((c.hash, Expect::Chunk(c.len)));
            if wanted.len() >= BATCH_BLOBS {
                download(node, id, &peers, std::mem::take(&mut wanted), &progress).await?;
                in_batch.clear();
            }
        }
    }
    download(node, id, &peers, wanted, &progress).await?;

    let now = now_secs();
    let pin = pin.map(|kind| Pin { at: now, kind });
    let commit = BundleCommit {
        id,
        manifest: signed.bytes().to_vec(),
        announcement: None,
        pin,
        blobs: Vec::new(),
    };
    let (holdings, committed) = (node.holdings.clone(), signed.clone());
    node.blocking(move |s| holdings.commit(s, commit, &committed, None, now))
        .await?;
    drop(protected);
    drop(fetching);
    if node.holdings.over_quota() {
        node.rules.wake.notify_one();
    }
    tracing::info!(bundle = %id, size = m.total_size(), "fetched and verified");
    Ok(signed)
}

/// Why a fetch ended when weftd began to stop.
fn stopping() -> NodeError {
    NodeError::Unavailable("weftd is stopping; the fetch resumes when it starts again".into())
}

/// Refuses a manifest whose signer may not sign it for its publisher:
/// a revoked device (or replaced root) whose revocation does not keep it,
/// or a key the publisher's key log, as known here, does not certify.
pub fn check_signer(node: &Node, signed: &SignedManifest) -> Result<(), NodeError> {
    let (id, m, by) = (signed.id(), signed.manifest(), signed.signed_by());
    match node.catalog.authority(&m.publisher, &by, &id) {
        Authority::Valid | Authority::Kept => Ok(()),
        Authority::Revoked => Err(NodeError::Conflict(format!(
            "bundle {id} is signed by {by}, a key publisher {} revoked, and the revocation does not keep it",
            m.publisher
        ))),
        Authority::Unknown => Err(NodeError::Conflict(format!(
            "bundle {id} is signed by {by}, which publisher {} has not certified as far as this node knows (if the publisher added that device recently, try again once catch-up has brought its key log)",
            m.publisher
        ))),
    }
}

/// Longest a fetch waits for the key log of a manifest's signer.
const KEY_LOG_WAIT: Duration = Duration::from_secs(15);

/// When the manifest's signer is a key this node has no certificate for
/// (a node that just connected has not caught up yet), asks the peers it
/// fetches from for a catch-up, which brings the publisher's key log, and
/// waits for it, up to [`KEY_LOG_WAIT`].
async fn await_key_log(node: &Node, signed: &SignedManifest, peers: &[PeerId]) {
    let (id, m, by) = (signed.id(), signed.manifest(), signed.signed_by());
    let unknown = || node.catalog.authority(&m.publisher, &by, &id) == Authority::Unknown;
    if !unknown() {
        return;
    }
    for p in peers {
        node.net.catch_up_with(*p).await;
    }
    let deadline = Instant::now() + KEY_LOG_WAIT;
    while unknown() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Settles a contest between claims on bundle `id` by fetching only its
/// manifest from connected peers (verified like any manifest): the claims
/// it proves false go, each leaving a tombstone. Returns how many went.
pub async fn settle_claims(node: &Node, id: BundleId) -> Result<usize, NodeError> {
    let peers = connected_peers(node).await?;
    let manifest = fetch_manifest(node, id, &peers).await?;
    let catalog = node.catalog.clone();
    node.blocking(move |s| catalog.settle(s, &manifest)).await
}

/// The manifest from a connected peer, else from a DHT provider.
async fn fetch_manifest_anywhere(
    node: &Node,
    id: BundleId,
    peers: &PeerSet,
) -> Result<SignedManifest, NodeError> {
    let connected = peer_list(peers);
    match fetch_manifest(node, id, &connected).await {
        Ok(s) => Ok(s),
        Err(not_here) => {
            // No connected peer has it: ask the DHT for providers.
            let providers = find_providers(node, id).await;
            if providers.is_empty() {
                return Err(if connected.is_empty() {
                    not_connected()
                } else {
                    NodeError::NotFound(format!("{not_here}, and the DHT knows no provider of it"))
                });
            }
            let s = fetch_manifest(node, id, &providers).await?;
            let mut g = peers.lock().unwrap_or_else(|e| e.into_inner());
            for p in providers {
                if !g.contains(&p) {
                    g.insert(0, p);
                }
            }
            Ok(s)
        }
    }
}

mod download;
mod stream;
#[cfg(test)]
mod tests;
