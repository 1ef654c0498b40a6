//! Trust tiers, computed in one place: which publishers this node trusts,
//! and why. Everything that treats publishers differently (what the
//! catalog keeps and evicts, what gossip forwards, what search lists
//! first, `weft why`) asks [`Trust`], never the rules or the holdings
//! directly.
//!
//! The inputs are set by their owners: the rules (followed and blocked
//! publishers, and those whose vouches are followed), the holdings
//! (publishers the user pinned a bundle of), the node's own publisher key,
//! and the catalog (the vouches in force). Each change recomputes the table at once
//! with the pure [`compute`], and bumps a generation so that caches (the
//! catalog's count of unknown entries) know to refresh.
//!
//! Tiers, most trusted first ([`Tier`]): trusted, vouched, seen, blocked.
//! A block outranks every reason to trust. Vouching carries trust from the
//! trusted publishers outwards, [`Inputs::vouch_depth`] steps at most
//! (breadth first, so a loop of vouches changes nothing); a blocked
//! publisher's vouches carry nothing.

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
    /// The user gave it a name (a petname).
    Named,
    /// A follow rule names it for the publishers it vouches for.
    VouchRoot,
    /// A publisher this node trusts (or one vouched for, within the depth)
    /// vouches for it; the number is the steps from a trusted publisher.
    VouchedBy(PublisherId, u8),
}

impl Reason {
    /// The reason in a sentence, for `weft why`.
    pub fn sentence(&self) -> String {
        match self {
            Reason::Blocked => "you blocked this publisher".into(),
            Reason::Own => "it is this node's own publisher key".into(),
            Reason::Followed => "you follow this publisher".into(),
            Reason::Pinned => "you pinned a bundle it published".into(),
            Reason::Named => "you gave this publisher a name".into(),
            Reason::VouchRoot => "you follow the publishers it vouches for".into(),
            Reason::VouchedBy(by, 1) => format!("{by}, which you trust, vouches for it"),
            Reason::VouchedBy(by, n) => {
                format!("{by} vouches for it ({n} steps from a publisher you trust)")
            }
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
    /// Publishers the user named (petnames).
    pub named: BTreeSet<PublisherId>,
    /// Publishers whose vouchees follow rules name (`weft follow
    /// --vouched-by`): trusted themselves.
    pub vouch_roots: BTreeSet<PublisherId>,
    /// Vouches in force: (voucher, vouchee), sorted.
    pub vouches: Vec<(PublisherId, PublisherId)>,
    /// How many steps of vouching carry trust (0: none).
    pub vouch_depth: u8,
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
    for p in &inputs.named {
        add(*p, Reason::Named);
    }
    for p in &inputs.vouch_roots {
        add(*p, Reason::VouchRoot);
    }
    for (tier, reasons) in table.values_mut() {
        reasons.sort();
        if reasons.first() == Some(&Reason::Blocked) {
            *tier = Tier::Blocked;
        }
    }
    // Vouching, breadth first from the trusted publishers.
    let mut frontier: Vec<PublisherId> = table
        .iter()
        .filter(|(_, (t, _))| *t == Tier::Trusted)
        .map(|(p, _)| *p)
        .collect();
    for step in 1..=inputs.vouch_depth {
        let from: BTreeSet<PublisherId> = frontier.drain(..).collect();
        for (by, vouchee) in &inputs.vouches {
            if !from.contains(by) {
                continue;
            }
            match table.get_mut(vouchee) {
                // Already trusted or blocked, or reached in fewer steps.
                Some((Tier::Trusted | Tier::Blocked, _)) => {}
                Some((Tier::Vouched, reasons)) => {
                    if reasons
                        .iter()
                        .all(|r| !matches!(r, Reason::VouchedBy(_, s) if *s < step))
                    {
                        reasons.push(Reason::VouchedBy(*by, step));
                    }
                }
                Some((Tier::Seen, _)) | None => {
                    table.insert(
                        *vouchee,
                        (Tier::Vouched, vec![Reason::VouchedBy(*by, step)]),
                    );
                    frontier.push(*vouchee);
                }
            }
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

    /// Whether one of `roots` vouches directly for `p` (whatever else
    /// makes `p` trusted), and `p` is not blocked.
    pub fn vouched_by_any(&self, p: &PublisherId, roots: &BTreeSet<PublisherId>) -> bool {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        tier_in(&s.1, p) != Tier::Blocked
            && roots
                .iter()
                .any(|r| s.0.vouches.binary_search(&(*r, *p)).is_ok())
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

    #[test]
    fn vouching_carries_trust_as_far_as_the_depth_and_loops_and_blocks_change_nothing() {
        let inputs = |depth| Inputs {
            followed: [p(1)].into(),
            blocked: [p(9)].into(),
            // 1 -> 2 -> 3 -> 4, a loop 3 -> 2, 1 -> 9 (blocked), 9 -> 5
            // (a blocked voucher), 2 -> 1 (already trusted).
            vouches: vec![
                (p(1), p(2)),
                (p(2), p(3)),
                (p(3), p(4)),
                (p(3), p(2)),
                (p(1), p(9)),
                (p(9), p(5)),
                (p(2), p(1)),
            ],
            vouch_depth: depth,
            ..Inputs::default()
        };
        let t = compute(&inputs(1));
        let tier = |t: &Table, b| tier_in(t, &p(b));
        assert_eq!(tier(&t, 2), Tier::Vouched);
        assert_eq!(t[&p(2)].1, vec![Reason::VouchedBy(p(1), 1)]);
        assert_eq!(tier(&t, 3), Tier::Seen, "two steps away, depth 1");
        assert_eq!(tier(&t, 9), Tier::Blocked, "a block outranks a vouch");
        assert_eq!(tier(&t, 5), Tier::Seen, "a blocked voucher carries nothing");
        assert_eq!(tier(&t, 1), Tier::Trusted);
        let t = compute(&inputs(2));
        assert_eq!(tier(&t, 3), Tier::Vouched);
        assert_eq!(t[&p(3)].1, vec![Reason::VouchedBy(p(2), 2)]);
        assert_eq!(tier(&t, 4), Tier::Seen);
        let t = compute(&inputs(0));
        assert_eq!(tier(&t, 2), Tier::Seen, "depth 0: vouches carry nothing");
        // A root of a --vouched-by rule is trusted, and carries its vouches.
        let mut i = inputs(1);
        i.followed.clear();
        i.vouch_roots.insert(p(3));
        let t = compute(&i);
        assert_eq!(t[&p(3)].1, vec![Reason::VouchRoot]);
        assert_eq!(tier(&t, 4), Tier::Vouched);
        assert_eq!(tier(&t, 2), Tier::Vouched);
    }

    #[test]
    fn a_vouchee_trusted_for_another_reason_is_still_vouched_for_by_its_root() {
        let trust = Trust::default();
        trust.update(|i| {
            i.vouch_depth = 1;
            i.vouch_roots.insert(p(1));
            i.vouches = vec![(p(1), p(2)), (p(1), p(3))];
            i.pinned.insert(p(2));
            i.blocked.insert(p(3));
        });
        let roots = [p(1)].into();
        assert_eq!(trust.tier(&p(2)), Tier::Trusted);
        assert!(
            trust.vouched_by_any(&p(2), &roots),
            "pinned, and vouched for"
        );
        assert!(!trust.vouched_by_any(&p(3), &roots), "blocked");
        assert!(!trust.vouched_by_any(&p(4), &roots));
    }
}
