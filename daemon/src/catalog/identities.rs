//! Identities' key logs in the catalog: every key event held, each
//! identity's resolved [`KeyState`], and what changes when a log does.
//!
//! Key events are catalog entries like the others (stored, gossiped,
//! reconciled, under the tiers' quotas). What every other entry may do
//! depends on them: an announcement, retraction or vouch counts only if
//! the key that signed it may sign for its identity
//! ([`weft_protocol::identity::authority`]). When a log changes (a
//! revocation, a rotation), the catalog removes what its identity's keys no
//! longer sign for; the keeper then drops held copies that are not pinned
//! by hand (`crate::ops::keeper`).

use std::collections::HashMap;

use weft_protocol::identity::{self, authority, Authority, KeyState, MAX_KEY_EVENTS};
use weft_protocol::{BundleId, CatalogEntry, PublisherId, SignedKeyEvent};

use super::{Added, Catalog, Dropped};
use crate::store::{Store, StoreError};

/// The key events held, by identity, and each identity's state.
#[derive(Default)]
pub(super) struct KeyLogs {
    events: HashMap<PublisherId, Vec<SignedKeyEvent>>,
    /// Entry key to (identity, size).
    keys: HashMap<BundleId, (PublisherId, u32)>,
    states: HashMap<PublisherId, KeyState>,
}

impl KeyLogs {
    pub(super) fn contains(&self, key: &BundleId) -> bool {
        self.keys.contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &BundleId> {
        self.keys.keys()
    }

    /// The identity and size of a held event.
    pub(super) fn get(&self, key: &BundleId) -> Option<(PublisherId, u32)> {
        self.keys.get(key).copied()
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether another event of `id` fits under [`MAX_KEY_EVENTS`].
    pub(super) fn has_room(&self, id: &PublisherId) -> bool {
        self.events.get(id).map_or(0, Vec::len) < MAX_KEY_EVENTS
    }

    /// Holds an event; returns whether its identity's state changed.
    pub(super) fn insert(&mut self, e: &SignedKeyEvent) -> bool {
        let key = e.entry_id();
        if self.keys.contains_key(&key) {
            return false;
        }
        let id = e.event().id;
        self.keys.insert(key, (id, e.bytes().len() as u32));
        self.events.entry(id).or_default().push(e.clone());
        self.resolve(&id)
    }

    /// Forgets an event; returns its identity and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let (id, size) = self.keys.remove(key)?;
        if let Some(v) = self.events.get_mut(&id) {
            v.retain(|e| e.entry_id() != *key);
            if v.is_empty() {
                self.events.remove(&id);
            }
        }
        self.resolve(&id);
        Some((id, size))
    }

    fn resolve(&mut self, id: &PublisherId) -> bool {
        let new = self
            .events
            .get(id)
            .and_then(|v| identity::resolve(id, v))
            .map(|(s, _)| s);
        let changed = self.states.get(id) != new.as_ref();
        match new {
            Some(s) => self.states.insert(*id, s),
            None => self.states.remove(id),
        };
        changed
    }

    pub(super) fn state(&self, id: &PublisherId) -> Option<&KeyState> {
        self.states.get(id)
    }

    /// The events of `id`'s chain that counts, in order.
    pub(super) fn chain(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        let Some(events) = self.events.get(id) else {
            return Vec::new();
        };
        identity::resolve(id, events)
            .map(|(_, path)| path.into_iter().map(|i| events[i].clone()).collect())
            .unwrap_or_default()
    }

    /// Every event held of `id`, forks included.
    pub(super) fn all(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        self.events.get(id).cloned().unwrap_or_default()
    }

    pub(super) fn authority(
        &self,
        id: &PublisherId,
        signer: &PublisherId,
        item: &BundleId,
    ) -> Authority {
        authority(self.states.get(id), id, signer, item)
    }
}

/// Why an entry is not kept for its signer's sake, if it is not.
pub(super) fn signer_refused(logs: &KeyLogs, entry: &CatalogEntry) -> Option<Dropped> {
    if let CatalogEntry::Key(_) = entry {
        return None;
    }
    match logs.authority(&entry.signer(), &entry.signed_by(), &entry.keep_id()) {
        Authority::Valid | Authority::Kept => None,
        Authority::Revoked => Some(Dropped::Revoked),
        Authority::Unknown => Some(Dropped::UnknownSigner),
    }
}

impl Catalog {
    /// Whether `signer` may sign item `item` (a bundle id, or the entry key
    /// of a retraction or vouch) for identity `id`, as far as this node
    /// knows.
    pub fn authority(&self, id: &PublisherId, signer: &PublisherId, item: &BundleId) -> Authority {
        self.read().keylogs.authority(id, signer, item)
    }

    /// An identity's key state, if its log is known here.
    pub fn key_state(&self, id: &PublisherId) -> Option<KeyState> {
        self.read().keylogs.state(id).cloned()
    }

    /// The events of an identity's chain that counts, in order.
    pub fn key_chain(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        self.read().keylogs.chain(id)
    }

    /// Every event held of an identity, forks included (to pass on).
    pub fn key_events(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        self.read().keylogs.all(id)
    }

    /// Entry keys of every announcement, retraction, vouch and profile of
    /// `id`.
    fn entry_keys_of(&self, id: &PublisherId) -> Vec<BundleId> {
        let ix = self.read();
        let anns = ix
            .names
            .iter()
            .filter(|((p, _), _)| p == id)
            .flat_map(|(_, v)| v.iter())
            .filter(|&&i| ix.entries[i].alive)
            .map(|&i| ix.entries[i].key);
        let retractions = ix
            .retraction_keys
            .iter()
            .filter(|(_, r)| r.by == *id)
            .map(|(k, _)| *k);
        let vouches = ix
            .vouches
            .keys()
            .filter(|k| ix.vouches.signer(k).is_some_and(|(by, _)| by == *id))
            .copied();
        anns.chain(retractions).chain(vouches).collect()
    }

    /// What key `signer` signed for identity `id`, as far as this node
    /// knows: each entry's keep id ([`CatalogEntry::keep_id`]), when it
    /// says it was made, and whether it is a retraction; held manifests
    /// too. For the keep list of a revocation. Blocking.
    pub fn signed_by_key(
        &self,
        store: &dyn Store,
        id: &PublisherId,
        signer: &PublisherId,
    ) -> Result<Vec<(BundleId, u64, bool)>, StoreError> {
        let mut out = Vec::new();
        for key in self.entry_keys_of(id) {
            let Some(bytes) = store.get_announcement(&key)? else {
                continue;
            };
            if let Ok(e) = CatalogEntry::decode_stored(&bytes) {
                if e.signed_by() == *signer {
                    let retraction = matches!(e, CatalogEntry::Retraction(_));
                    out.push((e.keep_id(), e.created(), retraction));
                }
            }
        }
        let held: Vec<BundleId> = {
            let ix = self.read();
            ix.held
                .iter()
                .filter(|(_, (p, by))| p == id && by == signer)
                .map(|(b, _)| *b)
                .collect()
        };
        for b in held {
            if let Some(bytes) = store.get_manifest(&b)? {
                if let Ok(m) = weft_protocol::SignedManifest::decode_stored(&bytes) {
                    out.push((b, m.manifest().created, false));
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// After `id`'s key log changed: removes from the store and the index
    /// every entry of `id` whose signer no longer counts. Held bundles are
    /// left to the keeper, which asks [`Catalog::standing`]. Returns how
    /// many entries went. Blocking.
    pub(super) fn purge_signers(
        &self,
        store: &dyn Store,
        id: &PublisherId,
    ) -> Result<usize, StoreError> {
        let mut gone = 0;
        for key in self.entry_keys_of(id) {
            let Some(bytes) = store.get_announcement(&key)? else {
                continue;
            };
            let Ok(entry) = CatalogEntry::decode_stored(&bytes) else {
                continue;
            };
            let refused = signer_refused(&self.read().keylogs, &entry);
            if refused.is_some() {
                store.delete_announcement(&key)?;
                self.write().remove(&key);
                gone += 1;
            }
        }
        if gone > 0 {
            tracing::info!(identity = %id, entries = gone, "catalog: removed entries its key log no longer allows");
            self.push_vouches();
        }
        Ok(gone)
    }

    /// Stores a key event (its tier and quota already checked) and, if its
    /// identity's state changed, purges what no longer counts.
    pub(super) fn add_key_event(
        &self,
        store: &dyn Store,
        e: &SignedKeyEvent,
    ) -> Result<Added, StoreError> {
        let id = e.event().id;
        if !self.read().keylogs.has_room(&id) {
            return Ok(Added::Dropped(Dropped::PublisherQuota));
        }
        store.put_announcement(&e.entry_id(), e.bytes())?;
        let (_, changed) = self.write().insert_key(e);
        if changed {
            self.purge_signers(store, &id)?;
        }
        self.changes.notify_one();
        Ok(Added::New)
    }
}

#[cfg(test)]
mod tests {
    use weft_protocol::manifest::{identity_id, next_commitment};
    use weft_protocol::words::PaperBackup;
    use weft_protocol::{
        Announcement, KeyEvent, KeyKind, PublisherKey, SignedAnnouncement, VERSION,
    };

    use super::*;
    use crate::store::MemStore;

    fn event(
        id: PublisherId,
        prev: Option<&SignedKeyEvent>,
        kind: KeyKind,
        root: &PublisherKey,
        device: Option<PublisherId>,
    ) -> KeyEvent {
        KeyEvent {
            v: VERSION,
            id,
            seq: prev.map_or(0, |p| p.event().seq + 1),
            keep: None,
            kind,
            name: (kind == KeyKind::Device).then(|| "laptop".into()),
            next: None,
            prev: prev.map(SignedKeyEvent::hash),
            root: root.id(),
            device,
            created: 1,
        }
    }

    #[test]
    fn a_device_counts_once_certified_and_what_it_signed_goes_when_revoked() {
        let (store, cat) = (MemStore::default(), Catalog::default());
        cat.mark_loaded();
        let paper = PaperBackup::from_entropy([9; 32]);
        let root = paper.root(0);
        let next = next_commitment(&paper.root(1).id());
        let id = identity_id(&root.id(), &next);
        let device = PublisherKey::from_seed([10; 32]);
        let incept = SignedKeyEvent::sign(
            KeyEvent {
                next: Some(next),
                ..event(id, None, KeyKind::Incept, &root, None)
            },
            &root,
        )
        .unwrap();
        let cert = SignedKeyEvent::sign(
            event(id, Some(&incept), KeyKind::Device, &root, Some(device.id())),
            &root,
        )
        .unwrap();
        let ann = CatalogEntry::Announcement(
            SignedAnnouncement::sign_announcement(
                Announcement {
                    v: VERSION,
                    id: BundleId::from_bytes([7; 32]),
                    seq: 1,
                    name: "guide".into(),
                    size: 1,
                    tags: vec![],
                    files: 1,
                    titles: vec![weft_protocol::LangTitle {
                        lang: "en".into(),
                        title: "Guide".into(),
                    }],
                    created: 1,
                    publisher: id,
                },
                &device,
            )
            .unwrap(),
        );
        // Before the certificate: not kept, and not remembered as refused.
        assert_eq!(
            cat.add_entry(&store, &ann).unwrap(),
            Added::Dropped(Dropped::UnknownSigner)
        );
        assert!(!cat.declined(&ann.entry_id()));
        for e in [&incept, &cert] {
            assert_eq!(
                cat.add_entry(&store, &CatalogEntry::Key(e.clone()))
                    .unwrap(),
                Added::New
            );
        }
        assert_eq!(cat.add_entry(&store, &ann).unwrap(), Added::New);
        assert_eq!(cat.key_chain(&id).len(), 2);
        // Revoked, keeping nothing: the announcement goes, and comes back
        // no more.
        let revoke = SignedKeyEvent::sign(
            event(id, Some(&cert), KeyKind::Revoke, &root, Some(device.id())),
            &root,
        )
        .unwrap();
        cat.add_entry(&store, &CatalogEntry::Key(revoke)).unwrap();
        assert!(!cat.contains(&ann.entry_id()));
        assert!(store.get_announcement(&ann.entry_id()).unwrap().is_none());
        assert_eq!(
            cat.add_entry(&store, &ann).unwrap(),
            Added::Dropped(Dropped::Revoked)
        );
        // A held manifest signed by it stands revoked.
        let held = BundleId::from_bytes([7; 32]);
        cat.set_held(held, Some((id, device.id())));
        assert!(cat.standing(&held).revoked);
    }
}
