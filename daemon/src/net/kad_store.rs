//! The DHT's record store: provider records only, kept compactly.
//!
//! weftd uses the DHT for one thing, finding who provides a bundle. libp2p's
//! `MemoryStore` keeps every key's providers in an inline array sized for
//! 20 records, about 3 KiB per key whether one provider is known or twenty,
//! and keeps this node's own records twice; on a hub providing 100,000
//! bundles that was most of its memory. This store keeps this node's own
//! records once, others' in a vector sized to what is known, refuses DHT
//! values (weftd stores none, so a peer cannot fill memory with them), and
//! keeps at most [`MAX_PROVIDER_ADDRS`] addresses per record.

use std::borrow::Cow;
use std::collections::{hash_map, HashMap};

use libp2p::kad::store::{Error, RecordStore, Result};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::PeerId;

/// Addresses kept per provider record.
pub const MAX_PROVIDER_ADDRS: usize = 8;

/// See the module docs.
pub struct ProviderStore {
    me: PeerId,
    /// Keys this node provides itself, at most `max_provided`.
    provided: HashMap<RecordKey, ProviderRecord>,
    max_provided: usize,
    /// Other peers' records, at most `max_keys` keys and `per_key` each.
    others: HashMap<RecordKey, Vec<ProviderRecord>>,
    max_keys: usize,
    per_key: usize,
}

impl ProviderStore {
    /// A store for node `me`: at most `max_provided` keys of its own, and
    /// other peers' records for at most `max_keys` keys, `per_key` each.
    pub fn new(me: PeerId, max_provided: usize, max_keys: usize, per_key: usize) -> Self {
        ProviderStore {
            me,
            provided: HashMap::new(),
            max_provided,
            others: HashMap::new(),
            max_keys,
            per_key,
        }
    }
}

fn borrowed(r: &ProviderRecord) -> Cow<'_, ProviderRecord> {
    Cow::Borrowed(r)
}

impl RecordStore for ProviderStore {
    type RecordsIter<'a> = std::iter::Empty<Cow<'a, Record>>;
    type ProvidedIter<'a> = std::iter::Map<
        hash_map::Values<'a, RecordKey, ProviderRecord>,
        fn(&'a ProviderRecord) -> Cow<'a, ProviderRecord>,
    >;

    fn get(&self, _: &RecordKey) -> Option<Cow<'_, Record>> {
        None
    }

    /// weftd keeps no DHT values.
    fn put(&mut self, _: Record) -> Result<()> {
        Err(Error::MaxRecords)
    }

    fn remove(&mut self, _: &RecordKey) {}

    fn records(&self) -> Self::RecordsIter<'_> {
        std::iter::empty()
    }

    fn add_provider(&mut self, mut record: ProviderRecord) -> Result<()> {
        record.addresses.truncate(MAX_PROVIDER_ADDRS);
        if record.provider == self.me {
            let n = self.provided.len();
            match self.provided.entry(record.key.clone()) {
                hash_map::Entry::Occupied(mut e) => {
                    e.insert(record);
                }
                hash_map::Entry::Vacant(_) if n >= self.max_provided => {
                    return Err(Error::MaxProvidedKeys)
                }
                hash_map::Entry::Vacant(e) => {
                    e.insert(record);
                }
            }
            return Ok(());
        }
        let n = self.others.len();
        let list = match self.others.entry(record.key.clone()) {
            hash_map::Entry::Occupied(e) => e.into_mut(),
            hash_map::Entry::Vacant(_) if n >= self.max_keys => return Err(Error::MaxProvidedKeys),
            hash_map::Entry::Vacant(e) => e.insert(Vec::with_capacity(1)),
        };
        if let Some(known) = list.iter_mut().find(|p| p.provider == record.provider) {
            *known = record;
        } else if list.len() < self.per_key {
            // A full list ignores newcomers, as libp2p's store does: a
            // flood of fake providers cannot push out the known ones.
            list.push(record);
        }
        Ok(())
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        let mut all: Vec<ProviderRecord> = self.provided.get(key).cloned().into_iter().collect();
        if let Some(list) = self.others.get(key) {
            all.extend(list.iter().cloned());
        }
        all
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        self.provided.values().map(borrowed)
    }

    fn remove_provider(&mut self, key: &RecordKey, provider: &PeerId) {
        if *provider == self.me {
            self.provided.remove(key);
            return;
        }
        if let hash_map::Entry::Occupied(mut e) = self.others.entry(key.clone()) {
            e.get_mut().retain(|p| p.provider != *provider);
            if e.get().is_empty() {
                e.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::Multiaddr;

    fn key(i: u8) -> RecordKey {
        RecordKey::new(&[i; 32])
    }

    fn record(k: u8, provider: PeerId, addrs: usize) -> ProviderRecord {
        let addresses = (0..addrs)
            .map(|p| {
                format!("/ip4/127.0.0.1/tcp/{}", 4000 + p)
                    .parse::<Multiaddr>()
                    .unwrap()
            })
            .collect();
        ProviderRecord::new(key(k), provider, addresses)
    }

    #[test]
    fn own_records_are_provided_once_and_capped() {
        let me = PeerId::random();
        let mut s = ProviderStore::new(me, 2, 10, 3);
        s.add_provider(record(1, me, 1)).unwrap();
        s.add_provider(record(1, me, 2)).unwrap();
        s.add_provider(record(2, me, 0)).unwrap();
        assert!(matches!(
            s.add_provider(record(3, me, 0)),
            Err(Error::MaxProvidedKeys)
        ));
        assert_eq!(s.provided().count(), 2);
        // The update replaced the record.
        assert_eq!(s.providers(&key(1)), vec![record(1, me, 2)]);
        s.remove_provider(&key(1), &me);
        assert!(s.providers(&key(1)).is_empty());
        assert_eq!(s.provided().count(), 1);
    }

    #[test]
    fn others_records_are_bounded_per_key_in_keys_and_in_addresses() {
        let me = PeerId::random();
        let mut s = ProviderStore::new(me, 10, 1, 2);
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        s.add_provider(record(1, a, 20)).unwrap();
        s.add_provider(record(1, b, 1)).unwrap();
        // A full list ignores a newcomer but updates a known provider.
        s.add_provider(record(1, c, 1)).unwrap();
        s.add_provider(record(1, b, 3)).unwrap();
        let got = s.providers(&key(1));
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|p| p.provider != c));
        assert_eq!(got[0].addresses.len(), MAX_PROVIDER_ADDRS);
        assert_eq!(got[1].addresses.len(), 3);
        // One key of others' at most.
        assert!(matches!(
            s.add_provider(record(2, a, 0)),
            Err(Error::MaxProvidedKeys)
        ));
        // Own records and others' answer together; no provided record of
        // others is republished as ours.
        s.add_provider(record(1, me, 0)).unwrap();
        assert_eq!(s.providers(&key(1)).len(), 3);
        assert_eq!(s.provided().count(), 1);
        s.remove_provider(&key(1), &a);
        s.remove_provider(&key(1), &b);
        assert_eq!(s.providers(&key(1)), vec![record(1, me, 0)]);
        // The key's slot is free again.
        s.add_provider(record(2, a, 0)).unwrap();
    }

    #[test]
    fn values_are_refused() {
        let mut s = ProviderStore::new(PeerId::random(), 1, 1, 1);
        let r = Record::new(key(1), vec![1, 2, 3]);
        assert!(s.put(r).is_err());
        assert!(s.get(&key(1)).is_none());
        assert_eq!(s.records().count(), 0);
    }
}
