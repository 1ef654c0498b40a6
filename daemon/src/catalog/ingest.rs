//! One way in for catalog entries from peers, whether they came by gossip
//! or by catch-up:
//!
//! 1. read the signer without checking the signature (cheap), and drop
//!    at once what a blocked publisher signed, or, by gossip, what a
//!    publisher this node does not trust sent by a peer over its rate
//!    ([`Admission`]): a flood costs a decode per entry, not a signature
//!    check. Catch-up needs no rate: this node asks, and each session is
//!    capped in entries and bytes (`crate::sync`);
//! 2. decode and verify (signature and limits) and check that the entry
//!    was asked for where that matters;
//! 3. drop an entry dated further ahead than [`MAX_CLOCK_SKEW_SECS`];
//! 4. offer it to the catalog, which refuses a retraction not signed by
//!    the bundle's owner and keeps unknown publishers within their quotas.
//!
//! Every drop is counted by reason (`weft status`). The two paths differ
//! only in what they do with the outcome: gossip turns it into a
//! [`Verdict`] for gossipsub ([`verify_gossip`]), catch-up ends the session
//! and punishes the peer on an invalid entry (`crate::sync`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libp2p::PeerId;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use weft_protocol::{BundleId, CatalogEntry};

use super::{Added, Catalog, Dropped};
use crate::clock::now_secs;
use crate::metrics::Metrics;
use crate::net::{Client, GossipMessage, Verdict};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::trust::Tier;

/// How far ahead of this node's clock an entry may be dated.
pub const MAX_CLOCK_SKEW_SECS: u64 = 600;

/// Gossip messages checked in one batch.
const GOSSIP_BATCH: usize = 256;

/// Peers whose rate is remembered before idle ones are forgotten.
const MAX_TRACKED_PEERS: usize = 4096;

/// What became of one entry offered by a peer.
#[derive(Debug)]
pub enum Ingested {
    /// It does not decode or verify, or it was not asked for: the peer
    /// broke the protocol.
    Invalid(String),
    /// Offered to the catalog, or dropped before (see [`Added::Dropped`]).
    Offered {
        /// The entry's id.
        id: BundleId,
        /// "new bundle" or "retraction", for the log.
        what: &'static str,
        /// What the catalog made of it.
        added: Added,
    },
    /// The store failed; nothing is known about the entry.
    Failed(StoreError),
}

/// The rate at which each peer may bring entries of publishers in the seen
/// tier: a token bucket per peer, holding ten seconds' worth.
pub struct Admission {
    rate: f64,
    buckets: Mutex<HashMap<PeerId, (f64, Instant)>>,
}

impl Admission {
    /// `rate` entries a second per peer.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes one place for `peer`; false when it is over its rate.
    pub fn take(&self, peer: &PeerId, now: Instant) -> bool {
        let burst = self.rate * 10.0;
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() >= MAX_TRACKED_PEERS && !b.contains_key(peer) {
            // Forget peers whose bucket has refilled: they lose nothing.
            let full = |&(tokens, at): &(f64, Instant)| {
                tokens + now.duration_since(at).as_secs_f64() * self.rate >= burst
            };
            b.retain(|_, v| !full(v));
            if b.len() >= MAX_TRACKED_PEERS {
                return false;
            }
        }
        let (tokens, at) = b.entry(*peer).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The order a batch of entries is checked in: key events first, in seq
/// order (they say which devices may sign the rest, and each needs the
/// one before it); then group records in seq order, key boxes and private
/// announcements (each needs the records before it); then by the signer's
/// tier.
pub fn order_key(catalog: &Catalog, bytes: &[u8]) -> (u8, u64, Tier) {
    match CatalogEntry::decode_stored(bytes) {
        Ok(CatalogEntry::Key(k)) => (0, k.event().seq, Tier::Trusted),
        Ok(CatalogEntry::Group(r)) => (1, r.record().seq, Tier::Trusted),
        Ok(CatalogEntry::KeyBox(_)) => (2, 0, Tier::Trusted),
        Ok(CatalogEntry::Private(_)) => (3, 0, Tier::Trusted),
        Ok(e) => (4, 0, catalog.trust().tier(&e.signer())),
        Err(_) => (4, 0, Tier::Seen),
    }
}

/// Verifies one entry from `from` and offers it to the catalog. `asked`,
/// when given, is the set of ids the peer was asked for. Blocking.
pub fn ingest(
    catalog: &Catalog,
    store: &dyn Store,
    bytes: &[u8],
    asked: Option<&HashSet<BundleId>>,
    from: &PeerId,
) -> Ingested {
    let out = admit(catalog, store, bytes, asked, from);
    if let Ingested::Offered {
        added: Added::Dropped(d),
        ..
    } = &out
    {
        catalog.metrics.dropped(*d);
    }
    out
}

fn admit(
    catalog: &Catalog,
    store: &dyn Store,
    bytes: &[u8],
    asked: Option<&HashSet<BundleId>>,
    from: &PeerId,
) -> Ingested {
    let what = |e: &CatalogEntry| match e {
        CatalogEntry::Announcement(_) => "new bundle",
        CatalogEntry::Retraction(_) => "retraction",
        CatalogEntry::Vouch(_) => "vouch",
        CatalogEntry::Key(_) => "key event",
        CatalogEntry::Profile(_) => "profile",
        CatalogEntry::Group(_) => "group record",
        CatalogEntry::KeyBox(_) => "key box",
        CatalogEntry::Private(_) => "private bundle",
    };
    if let Ok(peek) = CatalogEntry::decode_stored(bytes) {
        let dropped = match catalog.trust().tier(&peek.signer()) {
            Tier::Blocked => Some(Dropped::Blocked),
            Tier::Seen if asked.is_none() && !catalog.admission.take(from, Instant::now()) => {
                Some(Dropped::PeerRate)
            }
            _ => None,
        };
        if let Some(d) = dropped {
            return Ingested::Offered {
                id: peek.entry_id(),
                what: what(&peek),
                added: Added::Dropped(d),
            };
        }
    }
    let entry = match CatalogEntry::decode(bytes) {
        Ok(e) => e,
        Err(e) => return Ingested::Invalid(format!("sent an invalid catalog entry: {e}")),
    };
    let id = entry.entry_id();
    if asked.is_some_and(|a| !a.contains(&id)) {
        return Ingested::Invalid("sent a catalog entry that was not asked for".into());
    }
    let what = what(&entry);
    if entry.created() > now_secs().saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Ingested::Offered {
            id,
            what,
            added: Added::Dropped(Dropped::Future),
        };
    }
    match catalog.add_entry(store, &entry) {
        Ok(added) => Ingested::Offered { id, what, added },
        Err(e) => Ingested::Failed(e),
    }
}

/// What gossipsub is told of one message.
fn verdict_of(outcome: &Ingested, source: &PeerId, metrics: &Metrics) -> Verdict {
    match outcome {
        Ingested::Invalid(why) => {
            Metrics::add(&metrics.gossip_rejected, 1);
            warn!(peer = %source, error = %why, "rejected an announcement");
            Verdict::Reject
        }
        Ingested::Offered {
            added: Added::Refused(why),
            ..
        } => {
            // Validly signed, but not by the bundle's owner. The forwarder
            // may not know the bundle: no penalty, but it goes no further.
            Metrics::add(&metrics.gossip_rejected, 1);
            warn!(peer = %source, "refused: {why}");
            Verdict::Ignore
        }
        Ingested::Offered {
            id: entry,
            added: Added::Contested,
            ..
        } => {
            // Kept, so that search can show both claims until a manifest
            // settles them, but not spread further.
            Metrics::add(&metrics.gossip_accepted, 1);
            info!(entry = %entry.fmt_short(), from = %source, "catalog: a contested claim (another publisher claims the same bundle)");
            Verdict::Ignore
        }
        Ingested::Offered {
            added: Added::Dropped(d),
            ..
        } => {
            // Valid, but not kept: not forwarded either, and no penalty
            // (the sender may trust what this node does not).
            debug!(peer = %source, "not kept: {}", d.as_str());
            Verdict::Ignore
        }
        Ingested::Offered {
            id: entry,
            what,
            added,
        } => {
            Metrics::add(&metrics.gossip_accepted, 1);
            if *added == Added::New {
                info!(entry = %entry.fmt_short(), from = %source, "catalog: {what}");
            }
            Verdict::Accept
        }
        Ingested::Failed(e) => {
            warn!(error = %e, "could not store an announcement; not forwarding it");
            Verdict::Ignore
        }
    }
}

/// Verifies gossip messages off the swarm task, in batches, stores the
/// good ones, and reports each verdict back so gossipsub forwards or
/// penalises. In each batch the messages of trusted and vouched
/// publishers go first. Runs until the channel closes or shutdown is
/// requested.
pub async fn verify_gossip(
    mut rx: mpsc::Receiver<GossipMessage>,
    net: Client,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) {
    loop {
        let first = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            _ = shutdown.requested() => break,
        };
        // Signers are judged against the key logs: wait until they are
        // all loaded.
        catalog.ready().await;
        let mut batch = vec![first];
        while batch.len() < GOSSIP_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        // Every message gets a verdict, even if checking fails: the swarm
        // counts each peer's messages waiting for one.
        let waiting: Vec<_> = batch.iter().map(|m| (m.id.clone(), m.source)).collect();
        let (store, catalog) = (store.clone(), catalog.clone());
        let checked = tokio::task::spawn_blocking(move || {
            batch.sort_by_cached_key(|m| order_key(&catalog, &m.data));
            batch
                .into_iter()
                .map(|m| {
                    let outcome = ingest(&catalog, store.as_ref(), &m.data, None, &m.source);
                    (m.id, m.source, outcome)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let Ok(checked) = checked else {
            warn!("checking a batch of gossip failed; it is not forwarded");
            for (id, source) in waiting {
                net.verdict(id, source, Verdict::Ignore).await;
            }
            continue;
        };
        let mut catch_up = HashSet::new();
        for (id, source, outcome) in checked {
            if let Ingested::Offered {
                added: Added::Dropped(Dropped::UnknownSigner),
                ..
            } = outcome
            {
                // The sender knows the signer's key log; a catch-up brings
                // it, and the entry with it.
                catch_up.insert(source);
            }
            let verdict = verdict_of(&outcome, &source, &metrics);
            net.verdict(id, source, verdict).await;
        }
        for peer in catch_up {
            net.catch_up_with(peer).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_peer_gets_a_burst_of_ten_seconds_then_its_rate() {
        let a = Admission::new(5);
        let (p, q) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        let taken = (0..100).filter(|_| a.take(&p, t0)).count();
        assert_eq!(taken, 50, "a burst of ten seconds' worth");
        assert!(a.take(&q, t0), "another peer has its own bucket");
        assert!(!a.take(&p, t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_secs(2);
        let taken = (0..100).filter(|_| a.take(&p, later)).count();
        assert_eq!(taken, 10, "two seconds at five a second");
    }
}
