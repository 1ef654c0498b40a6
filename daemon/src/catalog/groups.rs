//! Private groups in the catalog (protocol section 6.6): each group's
//! records, with the chain that counts resolved from them, its key boxes
//! and its private announcements. Every node keeps and checks these,
//! member or not; what members open is not here.

use std::collections::HashMap;
use std::sync::OnceLock;

use weft_protocol::group::{resolve, GroupState};
use weft_protocol::manifest::{GroupKind, SignedGroupRecord, SignedKeyBox, SignedPrivate};
use weft_protocol::{BundleId, CatalogEntry, GroupId, PublisherId};

/// Most records of one group this node keeps, forks included.
pub const MAX_RECORDS_PER_GROUP: usize = 1024;
/// How long after the record that ended an epoch a private announcement
/// of that epoch may be dated: the clock skew allowed elsewhere.
pub const ENDED_EPOCH_GRACE_SECS: u64 = super::ingest::MAX_CLOCK_SKEW_SECS;

#[derive(Default)]
struct Group {
    records: Vec<SignedGroupRecord>,
    /// Resolved from `records` when first asked for; replaced when they
    /// change.
    state: OnceLock<Option<GroupState>>,
    boxes: Vec<SignedKeyBox>,
    privates: Vec<SignedPrivate>,
}

impl Group {
    fn state(&self, id: &GroupId) -> Option<&GroupState> {
        self.state
            .get_or_init(|| resolve(id, &self.records))
            .as_ref()
    }
}

/// Every group this node has heard of.
#[derive(Default)]
pub(super) struct Groups {
    groups: HashMap<GroupId, Group>,
    /// Entry key to its group, signer (quota) and size.
    keys: HashMap<BundleId, (GroupId, PublisherId, u32)>,
}

fn group_of(entry: &CatalogEntry) -> Option<GroupId> {
    match entry {
        CatalogEntry::Group(r) => Some(r.record().group),
        CatalogEntry::KeyBox(b) => Some(b.key_box().group),
        CatalogEntry::Private(p) => Some(p.private().group),
        _ => None,
    }
}

impl Groups {
    pub(super) fn contains(&self, key: &BundleId) -> bool {
        self.keys.contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &BundleId> {
        self.keys.keys()
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The signer and size of a held entry.
    pub(super) fn signer(&self, key: &BundleId) -> Option<(PublisherId, u32)> {
        self.keys.get(key).map(|(_, p, s)| (*p, *s))
    }

    /// The resolved state of a group, if its `create` is here.
    pub(super) fn state(&self, id: &GroupId) -> Option<&GroupState> {
        self.groups.get(id)?.state(id)
    }

    /// Every group heard of.
    pub(super) fn ids(&self) -> Vec<GroupId> {
        self.groups.keys().copied().collect()
    }

    /// A group's records, key boxes and private announcements.
    pub(super) fn entries(
        &self,
        id: &GroupId,
    ) -> (
        Vec<SignedGroupRecord>,
        Vec<SignedKeyBox>,
        Vec<SignedPrivate>,
    ) {
        self.groups.get(id).map_or_else(Default::default, |g| {
            (g.records.clone(), g.boxes.clone(), g.privates.clone())
        })
    }

    /// Why this node refuses a group entry now, if it does: it does not
    /// fit the group as this node knows it. Entries that may fit once
    /// catch-up brings what comes before them are refused too, without
    /// being remembered, so catch-up offers them again.
    pub(super) fn refusal(&self, entry: &CatalogEntry) -> Option<String> {
        let gid = group_of(entry)?;
        let Some(group) = self.groups.get(&gid) else {
            return match entry {
                CatalogEntry::Group(r) if r.record().kind == GroupKind::Create => None,
                _ => Some(format!(
                    "group {} is not known here (its create record has not arrived)",
                    gid.fmt_short()
                )),
            };
        };
        match entry {
            CatalogEntry::Group(r) => {
                let v = r.record();
                if group.records.len() >= MAX_RECORDS_PER_GROUP {
                    return Some(format!(
                        "group {} already has {MAX_RECORDS_PER_GROUP} records here",
                        gid.fmt_short()
                    ));
                }
                if v.kind == GroupKind::Create {
                    return None;
                }
                let fits = group
                    .records
                    .iter()
                    .any(|p| Some(p.hash()) == v.prev && p.record().seq + 1 == v.seq);
                if !fits {
                    return Some(format!(
                        "group record {} follows a record not known here",
                        r.entry_id().fmt_short()
                    ));
                }
                // Its signer must be an admin after the record it follows
                // (on a fork off the chain, an admin at some point of it).
                let Some(state) = group.state(&gid) else {
                    return Some(format!("group {} does not resolve here", gid.fmt_short()));
                };
                let admin = match v.prev.and_then(|h| state.link(&h)) {
                    Some(link) => link.admins.contains(&v.admin),
                    None => state.chain.iter().any(|l| l.admins.contains(&v.admin)),
                };
                (!admin).then(|| {
                    format!(
                        "a change of group {} signed by {}, who is not one of its admins",
                        gid.fmt_short(),
                        v.admin.fmt_short()
                    )
                })
            }
            CatalogEntry::KeyBox(b) => {
                let b = b.key_box();
                let Some(state) = group.state(&gid) else {
                    return Some(format!("group {} does not resolve here", gid.fmt_short()));
                };
                match state.link(&b.record) {
                    None => Some(format!(
                        "a key box for record {} of group {}, which is not on its chain here",
                        b.record.fmt_short(),
                        gid.fmt_short()
                    )),
                    Some(link) if !link.admins.contains(&b.admin) => Some(format!(
                        "a key box signed by {}, who is not an admin of group {} at that record",
                        b.admin.fmt_short(),
                        gid.fmt_short()
                    )),
                    Some(_) => None,
                }
            }
            CatalogEntry::Private(p) => {
                let p = p.private();
                let Some(state) = group.state(&gid) else {
                    return Some(format!("group {} does not resolve here", gid.fmt_short()));
                };
                let Some(epoch) = state.epochs.get(p.epoch as usize) else {
                    return Some(format!(
                        "a private announcement of epoch {} of group {}, which is at epoch {} here",
                        p.epoch,
                        gid.fmt_short(),
                        state.epoch()
                    ));
                };
                if epoch.key != p.key {
                    return Some(format!(
                        "a private announcement signed by {}, not the key of epoch {} of group {}",
                        p.key.fmt_short(),
                        p.epoch,
                        gid.fmt_short()
                    ));
                }
                if let Some(next) = state.epochs.get(p.epoch as usize + 1) {
                    if p.created > next.started.saturating_add(ENDED_EPOCH_GRACE_SECS) {
                        return Some(format!(
                            "a private announcement of epoch {} of group {}, dated after that epoch ended (a removed member's key)",
                            p.epoch,
                            gid.fmt_short()
                        ));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// Holds a group entry (checked by [`Self::refusal`] on its way in, or
    /// loaded from the store); false if it is here already.
    pub(super) fn insert(&mut self, entry: &CatalogEntry, size: u32) -> bool {
        let Some(gid) = group_of(entry) else {
            return false;
        };
        let key = entry.entry_id();
        if self.keys.contains_key(&key) {
            return false;
        }
        let group = self.groups.entry(gid).or_default();
        match entry {
            CatalogEntry::Group(r) => {
                group.records.push(r.clone());
                group.state = OnceLock::new();
            }
            CatalogEntry::KeyBox(b) => group.boxes.push(b.clone()),
            CatalogEntry::Private(p) => group.privates.push(p.clone()),
            _ => return false,
        }
        self.keys.insert(key, (gid, entry.signer(), size));
        true
    }

    /// Forgets an entry; returns its signer and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let (gid, signer, size) = self.keys.remove(key)?;
        if let Some(group) = self.groups.get_mut(&gid) {
            let before = group.records.len();
            group.records.retain(|r| r.entry_id() != *key);
            if group.records.len() != before {
                group.state = OnceLock::new();
            }
            group.boxes.retain(|b| b.entry_id() != *key);
            group.privates.retain(|p| p.entry_id() != *key);
            if group.records.is_empty() && group.boxes.is_empty() && group.privates.is_empty() {
                self.groups.remove(&gid);
            }
        }
        Some((signer, size))
    }

    /// Entry keys of everything `signer` signed (admins' records and
    /// boxes, an epoch key's announcements).
    pub(super) fn keys_of(&self, signer: &PublisherId) -> impl Iterator<Item = BundleId> + '_ {
        let signer = *signer;
        self.keys
            .iter()
            .filter(move |(_, (_, p, _))| *p == signer)
            .map(|(k, _)| *k)
    }
}

/// Groups, as the rest of the daemon reads them.
impl super::Catalog {
    /// A private group's state as the records held here resolve it.
    pub fn group_state(
        &self,
        id: &weft_protocol::GroupId,
    ) -> Option<weft_protocol::group::GroupState> {
        self.read().groups.state(id).cloned()
    }

    /// Every group heard of.
    pub fn group_ids(&self) -> Vec<weft_protocol::GroupId> {
        self.read().groups.ids()
    }

    /// A group's records held here, on the chain or not.
    pub fn group_records(
        &self,
        id: &weft_protocol::GroupId,
    ) -> Vec<weft_protocol::manifest::SignedGroupRecord> {
        self.read().groups.entries(id).0
    }

    /// A group's key boxes held here.
    pub fn group_boxes(
        &self,
        id: &weft_protocol::GroupId,
    ) -> Vec<weft_protocol::manifest::SignedKeyBox> {
        self.read().groups.entries(id).1
    }

    /// A group's private announcements held here.
    pub fn group_privates(
        &self,
        id: &weft_protocol::GroupId,
    ) -> Vec<weft_protocol::manifest::SignedPrivate> {
        self.read().groups.entries(id).2
    }
}
