//! Counters a user can read through `weft status`, so that what the daemon
//! refused is visible, not just logged.

use std::sync::atomic::{AtomicU64, Ordering};

use weft_protocol::api::{Counters, EntriesDropped};

/// Why a valid entry was not kept. Each reason has its counter in
/// `weft status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Dropped {
    /// Its publisher is blocked.
    Blocked,
    /// Dated further in the future than the allowed clock skew.
    Future,
    /// The peer that sent it is over its rate for unknown publishers.
    PeerRate,
    /// Its publisher, in the seen tier, is over its own quota.
    PublisherQuota,
    /// The unknown tier's share is full of entries that cannot be evicted.
    CatalogFull,
    /// It was evicted, or refused for a quota, before, and is not taken
    /// back.
    Evicted,
    /// Gossip arrived faster than it could be checked.
    QueueFull,
    /// Signed by a revoked device or a former root of its identity, and
    /// not kept by the revocation.
    Revoked,
    /// Signed by a key its identity has not certified, as far as this
    /// node knows yet (catch-up brings it again once the certificate is
    /// here).
    UnknownSigner,
}

impl Dropped {
    /// Every reason, in the order of their counters.
    pub const ALL: [Dropped; 9] = [
        Dropped::Blocked,
        Dropped::Future,
        Dropped::PeerRate,
        Dropped::PublisherQuota,
        Dropped::CatalogFull,
        Dropped::Evicted,
        Dropped::QueueFull,
        Dropped::Revoked,
        Dropped::UnknownSigner,
    ];

    /// The reason in a few words, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::Blocked => "its publisher is blocked",
            Dropped::Future => "it is dated in the future",
            Dropped::PeerRate => "the sender is over its rate for unknown publishers",
            Dropped::PublisherQuota => "its publisher is over its quota",
            Dropped::CatalogFull => "the unknown publishers' share of the catalog is full",
            Dropped::Evicted => "it was evicted or refused for a quota before",
            Dropped::QueueFull => "the validation queue is full",
            Dropped::Revoked => "it is signed by a revoked key",
            Dropped::UnknownSigner => "it is signed by a key its identity has not certified here",
        }
    }
}

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
    /// Bytes sent and received over relayed connections (shared with the
    /// relay transport, which counts them).
    pub bytes_relayed: std::sync::Arc<AtomicU64>,
    /// Blocks fetched and verified.
    pub blobs_fetched: AtomicU64,
    /// Stored blocks found damaged on read (deleted and fetched again).
    pub blocks_damaged: AtomicU64,
    /// Inbound requests refused because a peer or the node was over its limit.
    pub requests_refused: AtomicU64,
    /// Provider records published to the DHT (one per held bundle).
    pub providers_published: AtomicU64,
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
    /// Valid catalog entries not kept, by [`Dropped`] reason.
    pub entries_dropped: [AtomicU64; 9],
    /// Entries of unknown publishers evicted to make room.
    pub entries_evicted: AtomicU64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one entry dropped for `reason`.
    pub fn dropped(&self, reason: Dropped) {
        Self::add(&self.entries_dropped[reason as usize], 1);
    }

    /// A plain copy for the API.
    pub fn snapshot(&self) -> Counters {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let d = |r: Dropped| g(&self.entries_dropped[r as usize]);
        Counters {
            entries_dropped: EntriesDropped {
                blocked: d(Dropped::Blocked),
                catalog_full: d(Dropped::CatalogFull),
                evicted_before: d(Dropped::Evicted),
                future: d(Dropped::Future),
                peer_rate: d(Dropped::PeerRate),
                publisher_quota: d(Dropped::PublisherQuota),
                queue_full: d(Dropped::QueueFull),
                revoked: d(Dropped::Revoked),
                unknown_signer: d(Dropped::UnknownSigner),
            },
            entries_evicted: g(&self.entries_evicted),
            gossip_accepted: g(&self.gossip_accepted),
            gossip_rejected: g(&self.gossip_rejected),
            chunks_rejected: g(&self.chunks_rejected),
            manifests_rejected: g(&self.manifests_rejected),
            peers_punished: g(&self.peers_punished),
            providers_published: g(&self.providers_published),
            blobs_served: g(&self.blobs_served),
            bytes_served: g(&self.bytes_served),
            bytes_fetched: g(&self.bytes_fetched),
            bytes_relayed: g(&self.bytes_relayed),
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
