//! The vouches the catalog holds: for each (voucher, vouchee) pair only
//! the latest statement (`docs/protocol.md`, section 6.3). Kept inside the
//! index, under its lock; the edges in force go to [`crate::trust`].

use std::collections::HashMap;

use weft_protocol::{BundleId, PublisherId, Vouch};

/// Vouches in force one publisher may have; more are not kept.
pub const MAX_VOUCHES_PER_PUBLISHER: usize = 256;

/// The latest statement of one pair.
#[derive(Debug, Clone)]
pub(super) struct VouchRec {
    pub(super) key: BundleId,
    pub(super) created: u64,
    pub(super) active: bool,
    pub(super) expires: u64,
    pub(super) size: u32,
}

#[derive(Default)]
pub(super) struct Vouches {
    by_pair: HashMap<(PublisherId, PublisherId), VouchRec>,
    keys: HashMap<BundleId, (PublisherId, PublisherId)>,
}

impl Vouches {
    /// Whether an entry key is a vouch held here.
    pub(super) fn contains(&self, key: &BundleId) -> bool {
        self.keys.contains_key(key)
    }

    /// Every vouch key, for reconciliation.
    pub(super) fn keys(&self) -> impl Iterator<Item = &BundleId> {
        self.keys.keys()
    }

    /// The signer and size of a vouch held here.
    pub(super) fn signer(&self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let pair = self.keys.get(key)?;
        Some((pair.0, self.by_pair.get(pair)?.size))
    }

    /// Whether `v` (with entry key `key`) is older than, or the same as,
    /// what is held for its pair.
    pub(super) fn superseded(&self, v: &Vouch, key: &BundleId) -> bool {
        self.by_pair
            .get(&(v.by, v.vouchee))
            .is_some_and(|r| (r.created, r.key) >= (v.created, *key))
    }

    /// The key of the statement held for a pair.
    pub(super) fn key_of(&self, by: &PublisherId, vouchee: &PublisherId) -> Option<BundleId> {
        self.by_pair.get(&(*by, *vouchee)).map(|r| r.key)
    }

    /// When the statement held for a pair was made.
    pub(super) fn made(&self, by: &PublisherId, vouchee: &PublisherId) -> Option<u64> {
        self.by_pair.get(&(*by, *vouchee)).map(|r| r.created)
    }

    /// How many statements are held.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Vouches of `by` in force at `now`.
    pub(super) fn in_force_by(&self, by: &PublisherId, now: u64) -> usize {
        self.by_pair
            .iter()
            .filter(|((b, _), r)| b == by && r.active && now < r.expires)
            .count()
    }

    /// Whether the statement held for a pair vouches at `now`.
    pub(super) fn in_force(&self, by: &PublisherId, vouchee: &PublisherId, now: u64) -> bool {
        self.by_pair
            .get(&(*by, *vouchee))
            .is_some_and(|r| r.active && now < r.expires)
    }

    /// Holds `v` as the latest of its pair. The caller forgets the
    /// statement it replaces first (`Index::insert_vouch`).
    pub(super) fn insert(&mut self, key: BundleId, v: &Vouch, size: u32) {
        let pair = (v.by, v.vouchee);
        self.keys.insert(key, pair);
        self.by_pair.insert(
            pair,
            VouchRec {
                key,
                created: v.created,
                active: v.active == 1,
                expires: v.expires,
                size,
            },
        );
    }

    /// Forgets a statement; returns its signer and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let pair = self.keys.remove(key)?;
        match self.by_pair.get(&pair) {
            Some(r) if r.key == *key => {
                let size = r.size;
                self.by_pair.remove(&pair);
                Some((pair.0, size))
            }
            _ => None,
        }
    }

    /// The (voucher, vouchee) pairs in force at `now`.
    pub(super) fn edges(&self, now: u64) -> Vec<(PublisherId, PublisherId)> {
        let mut out: Vec<_> = self
            .by_pair
            .iter()
            .filter(|(_, r)| r.active && now < r.expires)
            .map(|(pair, _)| *pair)
            .collect();
        out.sort();
        out
    }
}
