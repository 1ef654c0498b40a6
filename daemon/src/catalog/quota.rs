//! The unknown tier's share of the catalog: how many entries and bytes
//! each publisher has, how many belong to publishers in the seen tier, and
//! which of those go first when the share is full (the oldest to arrive).
//! Entries of trusted and vouched publishers are counted but never limited
//! or evicted. Kept inside the index, under its lock.

use std::collections::{HashMap, HashSet, VecDeque};

use weft_protocol::{BundleId, PublisherId};

use super::Dropped;
use crate::trust::{tier_in, Table, Tier};

/// How much of the catalog the unknown (seen) tier may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries of seen publishers kept in all; past it, the oldest go
    /// first. 0 keeps none: only trusted and vouched publishers' entries
    /// are stored, forwarded and offered.
    pub unknown_entries: usize,
    /// Entries one seen publisher may have.
    pub unknown_per_publisher: u32,
    /// Bytes of signed entries one seen publisher may have.
    pub unknown_bytes_per_publisher: u64,
    /// Entries of seen publishers taken from one peer per second, by
    /// gossip and catch-up together (a burst of ten seconds' worth).
    pub unknown_rate: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            unknown_entries: 10_000,
            unknown_per_publisher: 1_000,
            unknown_bytes_per_publisher: 2 << 20,
            unknown_rate: 20,
        }
    }
}

/// What one publisher has in the catalog.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Usage {
    pub(super) entries: u32,
    pub(super) bytes: u64,
}

/// Entries declined (evicted, or refused for a quota) that catch-up does
/// not fetch again, as a multiple of the unknown share; forgotten when
/// the tiers change, since a publisher may now be trusted.
const DECLINED_REMEMBERED: usize = 2;

#[derive(Default)]
pub(super) struct Quota {
    pub(super) limits: Limits,
    usage: HashMap<PublisherId, Usage>,
    /// Entries of publishers in the seen tier.
    unknown: usize,
    /// Keys of seen publishers' entries, oldest first. May hold keys
    /// already removed or whose publisher is now trusted: checked when
    /// popped.
    fifo: VecDeque<BundleId>,
    declined: HashSet<BundleId>,
    declined_order: VecDeque<BundleId>,
}

impl Quota {
    pub(super) fn added(&mut self, key: BundleId, p: PublisherId, size: u32, tier: Tier) {
        let u = self.usage.entry(p).or_default();
        u.entries += 1;
        u.bytes += u64::from(size);
        if tier == Tier::Seen {
            self.unknown += 1;
            self.fifo.push_back(key);
        }
    }

    pub(super) fn removed(&mut self, p: PublisherId, size: u32, tier: Tier) {
        if let Some(u) = self.usage.get_mut(&p) {
            u.entries = u.entries.saturating_sub(1);
            u.bytes = u.bytes.saturating_sub(u64::from(size));
            if u.entries == 0 {
                self.usage.remove(&p);
            }
        }
        if tier == Tier::Seen {
            self.unknown = self.unknown.saturating_sub(1);
        }
    }

    /// Counts the seen tier's entries again after the tiers changed, and
    /// starts the eviction order afresh from `seen` (oldest first).
    pub(super) fn recount(&mut self, tiers: &Table, seen: impl Iterator<Item = BundleId>) {
        self.unknown = self
            .usage
            .iter()
            .filter(|(p, _)| tier_in(tiers, p) == Tier::Seen)
            .map(|(_, u)| u.entries as usize)
            .sum();
        self.fifo = seen.collect();
        self.declined.clear();
        self.declined_order.clear();
    }

    /// Whether the eviction order has collected enough stale keys to be
    /// rebuilt.
    pub(super) fn stale(&self) -> bool {
        self.fifo.len() > 2 * self.unknown + 1024
    }

    /// Entries of seen publishers.
    pub(super) fn unknown(&self) -> usize {
        self.unknown
    }

    /// What a publisher has in the catalog.
    pub(super) fn usage(&self, p: &PublisherId) -> Usage {
        self.usage.get(p).copied().unwrap_or_default()
    }

    /// Whether a new entry of seen publisher `p` fits its own quota, and
    /// was not evicted before.
    pub(super) fn admits(&self, key: &BundleId, p: &PublisherId, size: u32) -> Result<(), Dropped> {
        if self.declined.contains(key) {
            return Err(Dropped::Evicted);
        }
        let u = self.usage(p);
        if u.entries >= self.limits.unknown_per_publisher
            || u.bytes + u64::from(size) > self.limits.unknown_bytes_per_publisher
        {
            return Err(Dropped::PublisherQuota);
        }
        Ok(())
    }

    /// Whether the unknown share is full.
    pub(super) fn full(&self) -> bool {
        self.unknown >= self.limits.unknown_entries
    }

    /// The next candidate for eviction, oldest first.
    pub(super) fn next_candidate(&mut self) -> Option<BundleId> {
        self.fifo.pop_front()
    }

    /// Remembers an entry evicted or refused for a quota, so that
    /// catch-up does not fetch it again and again.
    pub(super) fn decline(&mut self, key: BundleId) {
        let cap = (self.limits.unknown_entries * DECLINED_REMEMBERED).max(1024);
        if self.declined.insert(key) {
            self.declined_order.push_back(key);
        }
        while self.declined_order.len() > cap {
            if let Some(k) = self.declined_order.pop_front() {
                self.declined.remove(&k);
            }
        }
    }

    /// Whether an entry was declined (and is not to be fetched again).
    pub(super) fn declined(&self, key: &BundleId) -> bool {
        self.declined.contains(key)
    }
}
