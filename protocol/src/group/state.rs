//! A group's state: the chain of records that counts, as every node
//! computes it from the records it holds (section 6.6).
//!
//! From the `create` record (the one with the lowest hash, should its
//! founder have signed two), each step takes a record that extends the
//! state: its `prev` is the head, its `seq` one more, its signer an admin,
//! and its epoch, epoch key and admins change as its kind allows. Where
//! several extend it, the one the founder signed wins, then the lowest
//! hash. So every node holding the same records reaches the same state,
//! and no other admin can fork the founder's changes away.

use std::collections::HashSet;

use crate::id::{ContentHash, GroupId, PublisherId};
use crate::manifest::{GroupKind, GroupRecord, SignedGroupRecord};

/// One epoch of a group, as the chain says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochInfo {
    /// Its public key, which signs its private announcements.
    pub key: PublisherId,
    /// The record that started it (`create` or a `remove`).
    pub record: ContentHash,
    /// That record's `created`.
    pub started: u64,
}

/// A record on the chain that counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    /// BLAKE3 of its bytes.
    pub hash: ContentHash,
    /// Its kind.
    pub kind: GroupKind,
    /// The epoch after it.
    pub epoch: u64,
    /// The admins after it.
    pub admins: Vec<PublisherId>,
}

/// What a group's records say, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The group.
    pub group: GroupId,
    /// Who created it; always an admin.
    pub founder: PublisherId,
    /// The chain that counts, from `create` to its head.
    pub chain: Vec<ChainLink>,
    /// Every epoch so far, in order (index = epoch number).
    pub epochs: Vec<EpochInfo>,
}

impl GroupState {
    /// The last record of the chain.
    pub fn head(&self) -> &ChainLink {
        self.chain.last().expect("a chain starts with create")
    }

    /// The epoch in force.
    pub fn epoch(&self) -> u64 {
        self.head().epoch
    }

    /// The admins in force.
    pub fn admins(&self) -> &[PublisherId] {
        &self.head().admins
    }

    /// The chain link of record `hash`, if it is on the chain.
    pub fn link(&self, hash: &ContentHash) -> Option<&ChainLink> {
        self.chain.iter().find(|l| &l.hash == hash)
    }

    fn extends(&self, r: &GroupRecord) -> bool {
        let head = self.head();
        if !head.admins.contains(&r.admin) {
            return false;
        }
        let before: HashSet<_> = head.admins.iter().collect();
        let after: HashSet<_> = r.admins.iter().collect();
        match r.kind {
            GroupKind::Create => false,
            GroupKind::Add => {
                r.epoch == head.epoch
                    && r.epoch_key == self.epochs[head.epoch as usize].key
                    && after.is_superset(&before)
                    && after.difference(&before).count() <= 1
            }
            GroupKind::Remove => {
                r.epoch == head.epoch + 1
                    && self.epochs.iter().all(|e| e.key != r.epoch_key)
                    && after.is_subset(&before)
                    && before.difference(&after).count() <= 1
                    && after.contains(&self.founder)
            }
            GroupKind::Rekey => {
                r.epoch == head.epoch + 1
                    && self.epochs.iter().all(|e| e.key != r.epoch_key)
                    && after == before
            }
        }
    }
}

/// Resolves a group's chain from the records held (any order, any
/// number of forks). `None` when no valid `create` is among them.
pub fn resolve(group: &GroupId, records: &[SignedGroupRecord]) -> Option<GroupState> {
    let mine: Vec<&SignedGroupRecord> = records
        .iter()
        .filter(|r| &r.record().group == group)
        .collect();
    let create = mine
        .iter()
        .filter(|r| r.record().kind == GroupKind::Create)
        .min_by_key(|r| r.hash())?;
    let c = create.record();
    let mut state = GroupState {
        group: *group,
        founder: c.admin,
        chain: vec![ChainLink {
            hash: create.hash(),
            kind: GroupKind::Create,
            epoch: 0,
            admins: c.admins.clone(),
        }],
        epochs: vec![EpochInfo {
            key: c.epoch_key,
            record: create.hash(),
            started: c.created,
        }],
    };
    loop {
        let head = state.head().hash;
        let seq = state.chain.len() as u64;
        let next = mine
            .iter()
            .filter(|r| {
                let v = r.record();
                v.prev == Some(head) && v.seq == seq && state.extends(v)
            })
            .min_by_key(|r| (r.record().admin != state.founder, r.hash()));
        let Some(next) = next else {
            return Some(state);
        };
        let v = next.record();
        if matches!(v.kind, GroupKind::Remove | GroupKind::Rekey) {
            state.epochs.push(EpochInfo {
                key: v.epoch_key,
                record: next.hash(),
                started: v.created,
            });
        }
        state.chain.push(ChainLink {
            hash: next.hash(),
            kind: v.kind,
            epoch: v.epoch,
            admins: v.admins.clone(),
        });
    }
}
