//! Trust tiers, computed in one place: which publishers this node trusts,
//! and why. Everything that treats publishers differently (what the
//! catalog keeps and evicts, what gossip forwards, what search lists
//! first, `weft why`) asks [`Trust`], never the rules or the holdings
//! directly.
//!
//! The inputs are set by their owners: the rules (followed and blocked
//! publishers), the holdings (publishers the user pinned a bundle of) and
//! the node's own publisher key. Each change recomputes the table at once
//! with the pure [`compute`], and bumps a generation so that caches (the
//! catalog's count of unknown entries) know to refresh.
//!
//! Tiers, most trusted first ([`Tier`]): trusted, vouched, seen, blocked.
//! A block outranks every reason to trust.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use weft_protocol::api::Tier;
use weft_protocol::PublisherId;

/// Why a publisher is in its tier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// The user blocked it.
    Blocked,
    /// It is this node's own publisher key.
    Own,
    /// A follow rule names it.
    Followed,
    /// The user pinned one of its bundles.
    Pinned,
}

impl Reason {
    /// The reason in a sentence, for `weft why`.
    pub fn sentence(&self) -> String {
        match self {
            Reason::Blocked => "you blocked this publisher".into(),
            Reason::Own => "it is this node's own publisher key".into(),
            Reason::Followed => "you follow this publisher".into(),
            Reason::Pinned => "you pinned a bundle it published".into(),
        }
    }
}

/// What the tiers are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// This node's publisher key, once it has one.
    pub own: Option<PublisherId>,
    /// Publishers named by follow rules.
    pub followed: BTreeSet<PublisherId>,
    /// Publishers of bundles the user pinned explicitly.
    pub pinned: BTreeSet<PublisherId>,
    /// Publishers blocked.
    pub blocked: BTreeSet<PublisherId>,
}

/// Every publisher not in the seen tier, with its tier and reasons
/// (strongest first).
pub type Table = HashMap<PublisherId, (Tier, Vec<Reason>)>;

/// Computes the tiers from the inputs. Pure.
pub fn compute(inputs: &Inputs) -> Table {
    let mut table: Table = HashMap::new();
    let mut add = |p: PublisherId, reason: Reason| {
        table
            .entry(p)
            .or_insert_with(|| (Tier::Trusted, Vec::new()))
            .1
            .push(reason);
    };
    for p in &inputs.blocked {
        add(*p, Reason::Blocked);
    }
    if let Some(p) = inputs.own {
        add(p, Reason::Own);
    }
    for p in &inputs.followed {
        add(*p, Reason::Followed);
    }
    for p in &inputs.pinned {
        add(*p, Reason::Pinned);
    }
    for (tier, reasons) in table.values_mut() {
        reasons.sort();
        if reasons.first() == Some(&Reason::Blocked) {
            *tier = Tier::Blocked;
        }
    }
    table
}

/// The tiers in force.
#[derive(Default)]
pub struct Trust {
    state: RwLock<(Inputs, Arc<Table>)>,
    generation: AtomicU64,
}

impl Trust {
    /// A publisher's tier.
    pub fn tier(&self, p: &PublisherId) -> Tier {
        tier_in(&self.table(), p)
    }

    /// A publisher's tier and the reasons for it.
    pub fn why(&self, p: &PublisherId) -> (Tier, Vec<Reason>) {
        self.table()
            .get(p)
            .cloned()
            .unwrap_or((Tier::Seen, Vec::new()))
    }

    /// The whole table, to look up many publishers without locking each
    /// time. Publishers not in it are in the seen tier ([`tier_in`]).
    pub fn table(&self) -> Arc<Table> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Changes the inputs and recomputes the tiers if they changed.
    pub fn update(&self, change: impl FnOnce(&mut Inputs)) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        let mut inputs = s.0.clone();
        change(&mut inputs);
        if inputs != s.0 {
            let table = Arc::new(compute(&inputs));
            *s = (inputs, table);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// Bumped on every change of the tiers.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// A publisher's tier in a table from [`Trust::table`].
pub fn tier_in(table: &Table, p: &PublisherId) -> Tier {
    table.get(p).map_or(Tier::Seen, |(t, _)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(b: u8) -> PublisherId {
        PublisherId::from_bytes([b; 32])
    }

    #[test]
    fn tiers_follow_the_inputs_and_a_block_outranks_every_reason_to_trust() {
        let trust = Trust::default();
        assert_eq!(trust.tier(&p(1)), Tier::Seen);
        let g = trust.generation();
        trust.update(|i| {
            i.own = Some(p(1));
            i.followed.insert(p(2));
            i.pinned.insert(p(2));
            i.pinned.insert(p(3));
            i.blocked.insert(p(3));
        });
        assert!(trust.generation() > g);
        assert_eq!(trust.why(&p(1)), (Tier::Trusted, vec![Reason::Own]));
        assert_eq!(
            trust.why(&p(2)),
            (Tier::Trusted, vec![Reason::Followed, Reason::Pinned])
        );
        assert_eq!(trust.tier(&p(3)), Tier::Blocked);
        assert_eq!(trust.why(&p(4)), (Tier::Seen, vec![]));
        // No change, no new generation.
        let g = trust.generation();
        trust.update(|i| {
            i.followed.insert(p(2));
        });
        assert_eq!(trust.generation(), g);
        trust.update(|i| {
            i.followed.clear();
            i.pinned.clear();
        });
        assert_eq!(trust.tier(&p(2)), Tier::Seen);
    }
}
