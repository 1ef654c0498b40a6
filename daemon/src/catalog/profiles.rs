//! Publishers' profiles in the catalog: the latest one of each publisher,
//! and which display names two publishers share (by their confusable
//! skeleton, [`weft_protocol::words::name_skeleton`]).

use std::collections::{BTreeSet, HashMap};

use weft_protocol::words::name_skeleton;
use weft_protocol::{BundleId, Profile, PublisherId};

struct Held {
    key: BundleId,
    profile: Profile,
    size: u32,
}

/// The latest profile of each publisher.
#[derive(Default)]
pub(super) struct Profiles {
    latest: HashMap<PublisherId, Held>,
    keys: HashMap<BundleId, PublisherId>,
    /// Publishers by the skeleton of each of their display names.
    skeletons: HashMap<String, BTreeSet<PublisherId>>,
}

impl Profiles {
    pub(super) fn contains(&self, key: &BundleId) -> bool {
        self.keys.contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &BundleId> {
        self.keys.keys()
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The publisher and size of a held profile.
    pub(super) fn signer(&self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let p = self.keys.get(key)?;
        self.latest.get(p).map(|h| (*p, h.size))
    }

    /// The entry key of a publisher's profile.
    pub(super) fn key_of(&self, publisher: &PublisherId) -> Option<BundleId> {
        self.latest.get(publisher).map(|h| h.key)
    }

    pub(super) fn get(&self, publisher: &PublisherId) -> Option<&Profile> {
        self.latest.get(publisher).map(|h| &h.profile)
    }

    /// Whether a profile as new or newer than `p` (by `seq`, then entry
    /// key) is held for its publisher.
    pub(super) fn superseded(&self, p: &Profile, key: &BundleId) -> bool {
        self.latest
            .get(&p.publisher)
            .is_some_and(|h| (h.profile.seq, h.key) >= (p.seq, *key))
    }

    /// Holds `p` as its publisher's profile; returns the key of the one it
    /// replaces.
    pub(super) fn insert(&mut self, key: BundleId, p: &Profile, size: u32) -> Option<BundleId> {
        let old = self.key_of(&p.publisher);
        if let Some(old) = old {
            self.remove(&old);
        }
        for t in &p.texts {
            self.skeletons
                .entry(name_skeleton(&t.name))
                .or_default()
                .insert(p.publisher);
        }
        self.keys.insert(key, p.publisher);
        self.latest.insert(
            p.publisher,
            Held {
                key,
                profile: p.clone(),
                size,
            },
        );
        old
    }

    /// Forgets a profile; returns its publisher and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let publisher = self.keys.remove(key)?;
        let held = self.latest.remove(&publisher)?;
        for t in &held.profile.texts {
            let s = name_skeleton(&t.name);
            if let Some(set) = self.skeletons.get_mut(&s) {
                set.remove(&publisher);
                if set.is_empty() {
                    self.skeletons.remove(&s);
                }
            }
        }
        Some((publisher, held.size))
    }

    /// Whether another publisher's profile claims a name that reads like
    /// one of `publisher`'s (a lookup per name, whatever the number of
    /// lookalikes).
    pub(super) fn has_same_name(&self, publisher: &PublisherId) -> bool {
        self.get(publisher).is_some_and(|p| {
            p.texts.iter().any(|t| {
                self.skeletons
                    .get(&name_skeleton(&t.name))
                    .is_some_and(|set| set.iter().any(|o| o != publisher))
            })
        })
    }

    /// Other publishers whose profile claims a name that reads like one of
    /// `publisher`'s, or like `name`.
    pub(super) fn same_name(
        &self,
        publisher: &PublisherId,
        name: Option<&str>,
    ) -> Vec<PublisherId> {
        let mut skeletons: Vec<String> = self
            .get(publisher)
            .map(|p| p.texts.iter().map(|t| name_skeleton(&t.name)).collect())
            .unwrap_or_default();
        skeletons.extend(name.map(name_skeleton));
        let mut out = BTreeSet::new();
        for s in skeletons {
            if let Some(set) = self.skeletons.get(&s) {
                out.extend(set.iter().filter(|p| *p != publisher).copied());
            }
        }
        out.into_iter().collect()
    }
}
