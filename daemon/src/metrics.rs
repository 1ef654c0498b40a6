//! Counters a user can read through `weft status`, so that what the daemon
//! refused is visible, not just logged.

use std::sync::atomic::{AtomicU64, Ordering};

use weft_protocol::api::Counters;

/// Monotonic counters, shared by every actor.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Gossip announcements that verified and were accepted.
    pub gossip_accepted: AtomicU64,
    /// Gossip messages rejected (bad signature, bad encoding, over a limit).
    pub gossip_rejected: AtomicU64,
    /// Chunks or indexes from peers whose bytes did not match their hash.
    pub chunks_rejected: AtomicU64,
    /// Manifests from peers that did not decode, verify or match their id.
    pub manifests_rejected: AtomicU64,
    /// Peers disconnected and banned for sending bad data.
    pub peers_punished: AtomicU64,
    /// Blobs this node served to peers.
    pub blobs_served: AtomicU64,
    /// Bytes this node served to peers.
    pub bytes_served: AtomicU64,
    /// Verified bytes this node fetched from peers.
    pub bytes_fetched: AtomicU64,
    /// Blocks fetched and verified.
    pub blobs_fetched: AtomicU64,
    /// Stored blocks found damaged on read (deleted and fetched again).
    pub blocks_damaged: AtomicU64,
    /// Inbound requests refused because a peer or the node was over its limit.
    pub requests_refused: AtomicU64,
    /// Catalog reconciliation sessions this node started.
    pub sync_sessions: AtomicU64,
    /// Catalog entries learnt by reconciliation (verified and new).
    pub sync_entries_added: AtomicU64,
    /// Catalog entries from reconciliation that failed verification.
    pub sync_entries_rejected: AtomicU64,
    /// Reconciliation bytes sent (messages, both as initiator and responder).
    pub sync_bytes_sent: AtomicU64,
    /// Reconciliation bytes received.
    pub sync_bytes_received: AtomicU64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A plain copy for the API.
    pub fn snapshot(&self) -> Counters {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            gossip_accepted: g(&self.gossip_accepted),
            gossip_rejected: g(&self.gossip_rejected),
            chunks_rejected: g(&self.chunks_rejected),
            manifests_rejected: g(&self.manifests_rejected),
            peers_punished: g(&self.peers_punished),
            blobs_served: g(&self.blobs_served),
            bytes_served: g(&self.bytes_served),
            bytes_fetched: g(&self.bytes_fetched),
            blobs_fetched: g(&self.blobs_fetched),
            requests_refused: g(&self.requests_refused),
            blocks_damaged: g(&self.blocks_damaged),
            sync_sessions: g(&self.sync_sessions),
            sync_entries_added: g(&self.sync_entries_added),
            sync_entries_rejected: g(&self.sync_entries_rejected),
            sync_bytes_sent: g(&self.sync_bytes_sent),
            sync_bytes_received: g(&self.sync_bytes_received),
        }
    }
}
