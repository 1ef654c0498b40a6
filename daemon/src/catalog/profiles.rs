//! Publishers' profiles in the catalog: the latest one of each publisher,
//! and which display names two publishers share (by their confusable
//! skeleton, [`weft_protocol::words::name_skeleton`]).

use std::collections::{BTreeSet, HashMap, HashSet};

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
    /// Publishers one of whose names reads like another publisher's, kept
    /// up to date on every change so that showing a name costs a lookup.
    flagged: HashSet<PublisherId>,
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
        let mut touched = Vec::new();
        for t in &p.texts {
            let s = name_skeleton(&t.name);
            self.skeletons
                .entry(s.clone())
                .or_default()
                .insert(p.publisher);
            touched.push(s);
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
        self.reflag(&touched);
        old
    }

    /// Recomputes the flag of every publisher with a name of these
    /// skeletons.
    fn reflag(&mut self, skeletons: &[String]) {
        let mut publishers = BTreeSet::new();
        for s in skeletons {
            if let Some(set) = self.skeletons.get(s) {
                publishers.extend(set.iter().copied());
            }
        }
        for p in publishers {
            let clash = self.latest.get(&p).is_some_and(|h| {
                h.profile.texts.iter().any(|t| {
                    self.skeletons
                        .get(&name_skeleton(&t.name))
                        .is_some_and(|set| set.len() > 1)
                })
            });
            if clash {
                self.flagged.insert(p);
            } else {
                self.flagged.remove(&p);
            }
        }
    }

    /// Forgets a profile; returns its publisher and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let publisher = self.keys.remove(key)?;
        let held = self.latest.remove(&publisher)?;
        let mut touched = Vec::new();
        for t in &held.profile.texts {
            let s = name_skeleton(&t.name);
            if let Some(set) = self.skeletons.get_mut(&s) {
                set.remove(&publisher);
                if set.is_empty() {
                    self.skeletons.remove(&s);
                }
            }
            touched.push(s);
        }
        self.flagged.remove(&publisher);
        self.reflag(&touched);
        Some((publisher, held.size))
    }

    /// Whether another publisher's profile claims a name that reads like
    /// one of `publisher`'s (a lookup per name, whatever the number of
    /// lookalikes).
    pub(super) fn has_same_name(&self, publisher: &PublisherId) -> bool {
        self.flagged.contains(publisher)
    }

    /// A publisher's display name for a reader of `lang`, and whether
    /// another publisher claims a name that reads the same.
    pub(super) fn shown(
        &self,
        publisher: &PublisherId,
        lang: Option<&str>,
    ) -> Option<(String, bool)> {
        self.get(publisher)
            .map(|p| (p.name_for(lang).to_string(), self.has_same_name(publisher)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use weft_protocol::ProfileText;

    fn profile(p: u8, name: &str) -> (BundleId, Profile) {
        let publisher = PublisherId::from_bytes([p; 32]);
        (
            BundleId::from_bytes([p; 32]),
            Profile {
                v: 1,
                seq: 1,
                links: vec![],
                texts: vec![ProfileText {
                    lang: "en".into(),
                    name: name.into(),
                    about: String::new(),
                }],
                contact: String::new(),
                created: 1,
                publisher,
            },
        )
    }

    #[test]
    fn lookalike_names_are_flagged_while_both_are_held() {
        let mut ps = Profiles::default();
        let (ka, a) = profile(1, "Coalition");
        let (kb, b) = profile(2, "Coa1ition");
        let (_, c) = profile(3, "Other");
        ps.insert(ka, &a, 10);
        assert!(!ps.has_same_name(&a.publisher));
        ps.insert(kb, &b, 10);
        ps.insert(BundleId::from_bytes([3; 32]), &c, 10);
        assert!(ps.has_same_name(&a.publisher) && ps.has_same_name(&b.publisher));
        assert!(!ps.has_same_name(&c.publisher));
        assert_eq!(ps.same_name(&a.publisher, None), vec![b.publisher]);
        ps.remove(&kb);
        assert!(!ps.has_same_name(&a.publisher));
        assert_eq!(
            ps.shown(&a.publisher, Some("en")),
            Some(("Coalition".into(), false))
        );
    }
}
