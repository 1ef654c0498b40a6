//! One way in for catalog entries from peers, whether they came by gossip
//! or by catch-up: decode (which verifies the signature and the limits),
//! check that the entry was asked for where that matters, and offer it to
//! the catalog, which refuses a retraction not signed by the bundle's
//! publisher.
//!
//! The two paths differ only in what they do with the outcome: gossip
//! turns it into a [`Verdict`] for gossipsub ([`verify_gossip`]), catch-up
//! ends the session and punishes the peer on an invalid entry
//! (`crate::sync`).

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{info, warn};
use weft_protocol::{BundleId, CatalogEntry};

use super::{Added, Catalog};
use crate::metrics::Metrics;
use crate::net::{Client, GossipMessage, Verdict};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};

/// What became of one entry offered by a peer.
#[derive(Debug)]
pub enum Ingested {
    /// It does not decode or verify, or it was not asked for: the peer
    /// broke the protocol.
    Invalid(String),
    /// Offered to the catalog.
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

/// Verifies one entry and offers it to the catalog. `asked`, when given,
/// is the set of ids the peer was asked for. Blocking.
pub fn ingest(
    catalog: &Catalog,
    store: &dyn Store,
    bytes: &[u8],
    asked: Option<&HashSet<BundleId>>,
) -> Ingested {
    let entry = match CatalogEntry::decode(bytes) {
        Ok(e) => e,
        Err(e) => return Ingested::Invalid(format!("sent an invalid catalog entry: {e}")),
    };
    let id = entry.entry_id();
    if asked.is_some_and(|a| !a.contains(&id)) {
        return Ingested::Invalid("sent a catalog entry that was not asked for".into());
    }
    let what = match &entry {
        CatalogEntry::Announcement(_) => "new bundle",
        CatalogEntry::Retraction(_) => "retraction",
    };
    match catalog.add_entry(store, &entry) {
        Ok(added) => Ingested::Offered { id, what, added },
        Err(e) => Ingested::Failed(e),
    }
}

/// Verifies gossip messages off the swarm task, stores the good ones, and
/// reports each verdict back so gossipsub forwards or penalises. Runs until
/// the channel closes or shutdown is requested.
pub async fn verify_gossip(
    mut rx: mpsc::Receiver<GossipMessage>,
    net: Client,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) {
    loop {
        let m = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            _ = shutdown.requested() => break,
        };
        let GossipMessage { id, source, data } = m;
        let (store, catalog) = (store.clone(), catalog.clone());
        let outcome =
            tokio::task::spawn_blocking(move || ingest(&catalog, store.as_ref(), &data, None))
                .await;
        let verdict = match outcome {
            Ok(Ingested::Invalid(why)) => {
                Metrics::add(&metrics.gossip_rejected, 1);
                warn!(peer = %source, error = %why, "rejected an announcement");
                Verdict::Reject
            }
            Ok(Ingested::Offered {
                added: Added::Refused(why),
                ..
            }) => {
                // Validly signed, but not by the bundle's publisher. The
                // forwarder may not know the bundle: no penalty, but it goes
                // no further.
                Metrics::add(&metrics.gossip_rejected, 1);
                warn!(peer = %source, "refused: {why}");
                Verdict::Ignore
            }
            Ok(Ingested::Offered {
                id: entry,
                what,
                added,
            }) => {
                Metrics::add(&metrics.gossip_accepted, 1);
                if added == Added::New {
                    info!(entry = %entry.fmt_short(), from = %source, "catalog: {what}");
                }
                Verdict::Accept
            }
            other => {
                warn!(?other, "could not store an announcement; not forwarding it");
                Verdict::Ignore
            }
        };
        net.verdict(id, source, verdict).await;
    }
}
