//! The peer book: peers this node has been connected to, kept in the store
//! so that a restart, or a week offline, can redial them without help.
//!
//! Entries are capped at [`MAX_BOOK`]; past it the peer seen longest ago is
//! forgotten. Bootstrap entries (from `weft join`) are never forgotten and
//! are always redialled, like the `peers` of the config file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

pub use crate::net::{dialable, with_peer, MAX_ADDRS};
use crate::store::{Store, StoreError, CF_PEERS};

/// Most peers remembered.
pub const MAX_BOOK: usize = 1024;
/// Largest stored entry accepted when loading.
const MAX_ENTRY_BYTES: usize = 4096;

/// One remembered peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookEntry {
    /// Where it listened, newest first.
    pub addrs: Vec<String>,
    /// When it was last connected, in seconds since the Unix epoch.
    pub seen: u64,
    /// Added by `weft join`: never forgotten, always redialled.
    #[serde(default)]
    pub bootstrap: bool,
    /// The way that reached it last (`direct`, `websocket`, `relay`),
    /// tried first next time (see `net::ladder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub way: Option<String>,
}

/// The peer book, shared by the swarm task and the API.
pub struct PeerBook {
    store: Arc<dyn Store>,
    entries: Mutex<HashMap<PeerId, BookEntry>>,
}

impl PeerBook {
    /// Reads the book from the store. Blocking. Entries that do not parse
    /// are dropped from the store.
    pub fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let mut entries = HashMap::new();
        for (k, v) in store.list_kv(CF_PEERS)? {
            let parsed = PeerId::from_bytes(&k).ok().zip(
                (v.len() <= MAX_ENTRY_BYTES)
                    .then(|| serde_json::from_slice::<BookEntry>(&v).ok())
                    .flatten(),
            );
            match parsed {
                Some((peer, e)) => {
                    entries.insert(peer, e);
                }
                None => store.delete_kv(CF_PEERS, &k)?,
            }
        }
        Ok(Self {
            store,
            entries: Mutex::new(entries),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, BookEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers that `peer` was connected and listens on `addrs`. Blocking.
    pub fn record(
        &self,
        peer: PeerId,
        addrs: &[Multiaddr],
        bootstrap: bool,
    ) -> Result<(), StoreError> {
        let (value, evict) = {
            let mut book = self.lock();
            let e = book.entry(peer).or_insert(BookEntry {
                addrs: Vec::new(),
                seen: 0,
                bootstrap: false,
                way: None,
            });
            let mut fresh: Vec<String> = addrs
                .iter()
                .filter(|a| dialable(a))
                .map(|a| a.to_string())
                .collect();
            for old in e.addrs.drain(..) {
                if !fresh.contains(&old) {
                    fresh.push(old);
                }
            }
            fresh.truncate(MAX_ADDRS);
            e.addrs = fresh;
            e.seen = crate::clock::now_secs();
            e.bootstrap |= bootstrap;
            let value = serde_json::to_vec(&*e).unwrap_or_default();
            let evict = if book.len() > MAX_BOOK {
                let oldest = book
                    .iter()
                    .filter(|(_, e)| !e.bootstrap)
                    .min_by_key(|(_, e)| e.seen)
                    .map(|(p, _)| *p);
                oldest.inspect(|p| {
                    book.remove(p);
                })
            } else {
                None
            };
            (value, evict)
        };
        self.store.put_kv(CF_PEERS, &peer.to_bytes(), &value)?;
        if let Some(p) = evict {
            self.store.delete_kv(CF_PEERS, &p.to_bytes())?;
        }
        Ok(())
    }

    /// Peers to dial, bootstrap peers first, then the most recently seen,
    /// each with its addresses (ending in `/p2p/<peer>`).
    pub fn candidates(&self, limit: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let book = self.lock();
        let mut list: Vec<_> = book.iter().collect();
        list.sort_by_key(|(_, e)| (std::cmp::Reverse(e.bootstrap), std::cmp::Reverse(e.seen)));
        list.into_iter()
            .take(limit)
            .map(|(p, e)| {
                let addrs = e
                    .addrs
                    .iter()
                    .filter_map(|a| a.parse::<Multiaddr>().ok())
                    .map(|a| with_peer(a, *p))
                    .collect();
                (*p, addrs)
            })
            .collect()
    }

    /// Notes the way that reached `peer`, for next time. Blocking. A peer
    /// not in the book is left out (the book holds peers it has addresses
    /// for).
    pub fn set_way(&self, peer: PeerId, way: &str) -> Result<(), StoreError> {
        let value = {
            let mut book = self.lock();
            let Some(e) = book.get_mut(&peer) else {
                return Ok(());
            };
            if e.way.as_deref() == Some(way) {
                return Ok(());
            }
            e.way = Some(way.to_string());
            serde_json::to_vec(&*e).unwrap_or_default()
        };
        self.store.put_kv(CF_PEERS, &peer.to_bytes(), &value)
    }

    /// The way that reached `peer` last, if noted.
    pub fn way(&self, peer: &PeerId) -> Option<String> {
        self.lock().get(peer).and_then(|e| e.way.clone())
    }

    /// Bootstrap peers added by `weft join`.
    pub fn bootstrap(&self) -> Vec<PeerId> {
        let book = self.lock();
        book.iter()
            .filter(|(_, e)| e.bootstrap)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Peers remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl crate::net::AddressBook for PeerBook {
    fn record(&self, peer: PeerId, addrs: &[Multiaddr]) {
        if let Err(e) = PeerBook::record(self, peer, addrs, false) {
            tracing::warn!(error = %e, "could not write the peer book");
        }
    }

    fn candidates(&self, limit: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        PeerBook::candidates(self, limit)
    }

    fn bootstrap(&self) -> Vec<PeerId> {
        PeerBook::bootstrap(self)
    }

    fn way(&self, peer: &PeerId) -> Option<String> {
        PeerBook::way(self, peer)
    }

    fn set_way(&self, peer: PeerId, way: &str) {
        if let Err(e) = PeerBook::set_way(self, peer, way) {
            tracing::warn!(error = %e, "could not write the peer book");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;

    #[test]
    fn remembers_across_reload_and_forgets_the_oldest_past_the_cap() {
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let book = PeerBook::load(store.clone()).unwrap();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4141".parse().unwrap();
        let unspecified: Multiaddr = "/ip4/0.0.0.0/tcp/4141".parse().unwrap();
        let first = PeerId::random();
        book.record(first, &[addr.clone(), unspecified], true)
            .unwrap();
        for _ in 0..MAX_BOOK + 5 {
            book.record(PeerId::random(), std::slice::from_ref(&addr), false)
                .unwrap();
        }
        assert_eq!(book.len(), MAX_BOOK);
        let again = PeerBook::load(store).unwrap();
        assert_eq!(again.len(), MAX_BOOK);
        let c = again.candidates(1);
        assert_eq!(c[0].0, first, "bootstrap peers come first and stay");
        assert_eq!(c[0].1.len(), 1, "the unspecified address is not kept");
        assert!(c[0].1[0].to_string().ends_with(&first.to_string()));
    }
}
