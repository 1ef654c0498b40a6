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
use weft_protocol::{BundleId, CatalogEntry, KeyKind, PublisherId, SignedKeyEvent};

use super::index::Index;
use super::{Added, Catalog, Dropped};
use crate::store::{Store, StoreError};
use crate::trust::Tier;

/// One identity's events, the chain that counts and its state (none
/// while no valid incept is held, as while loading in store order).
struct Log {
    events: Vec<SignedKeyEvent>,
    chain: Vec<usize>,
    state: Option<KeyState>,
}

/// What holding an event would do.
pub(super) struct Admit {
    /// Events to drop to make room: off the chain that counts.
    evict: Vec<BundleId>,
}

/// The key events held, by identity, and each identity's state.
#[derive(Default)]
pub(super) struct KeyLogs {
    logs: HashMap<PublisherId, Log>,
    /// Entry key to (identity, size).
    keys: HashMap<BundleId, (PublisherId, u32)>,
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

    /// Identities with a log.
    pub(super) fn identities(&self) -> Vec<PublisherId> {
        self.logs.keys().copied().collect()
    }

    /// Entry keys of every event held of `id`.
    pub(super) fn keys_of(&self, id: &PublisherId) -> Vec<BundleId> {
        self.logs
            .get(id)
            .map(|l| l.events.iter().map(SignedKeyEvent::entry_id).collect())
            .unwrap_or_default()
    }

    /// Whether `e` may be held: it must lie on a valid chain of its
    /// identity (an event whose predecessors are not here yet is refused
    /// without being remembered: catch-up brings them, in seq order, and it
    /// again). At [`MAX_KEY_EVENTS`], only an event that extends the chain
    /// that counts or rotates the root gets in, in place of events off
    /// that chain; so neither junk nor a thief's forks can keep the
    /// owner's revocation or rotation out.
    pub(super) fn admit(&self, e: &SignedKeyEvent) -> Result<Admit, Dropped> {
        let id = e.event().id;
        let held: &[SignedKeyEvent] = self.logs.get(&id).map_or(&[], |l| &l.events);
        let mut trial: Vec<SignedKeyEvent> = held.to_vec();
        trial.push(e.clone());
        let r = identity::resolve_all(&id, &trial).ok_or(Dropped::UnknownSigner)?;
        if !r.valid[held.len()] {
            return Err(Dropped::UnknownSigner);
        }
        if held.len() < MAX_KEY_EVENTS {
            return Ok(Admit { evict: Vec::new() });
        }
        let tip = self.state(&id).map(|s| s.tip);
        let extends = tip.is_some() && e.event().prev == tip;
        if !(extends || e.event().kind == KeyKind::Rotate) {
            return Err(Dropped::PublisherQuota);
        }
        let victim = (0..held.len())
            .rev()
            .find(|i| !r.chain.contains(i))
            .ok_or(Dropped::PublisherQuota)?;
        Ok(Admit {
            evict: vec![held[victim].entry_id()],
        })
    }

    /// Holds an event `admit` allowed; returns whether its identity's
    /// state now allows less than before (what the catalog must purge).
    pub(super) fn insert(&mut self, e: &SignedKeyEvent) -> bool {
        let key = e.entry_id();
        if self.keys.contains_key(&key) {
            return false;
        }
        let id = e.event().id;
        self.keys.insert(key, (id, e.bytes().len() as u32));
        let before = self.logs.get(&id).and_then(|l| l.state.clone());
        let mut events = self.logs.remove(&id).map(|l| l.events).unwrap_or_default();
        events.push(e.clone());
        self.resolve(id, events, before)
    }

    /// Forgets an event; returns its identity and size.
    pub(super) fn remove(&mut self, key: &BundleId) -> Option<(PublisherId, u32)> {
        let (id, size) = self.keys.remove(key)?;
        let before = self.logs.get(&id).and_then(|l| l.state.clone());
        let mut events = self.logs.remove(&id).map(|l| l.events).unwrap_or_default();
        events.retain(|e| e.entry_id() != *key);
        self.resolve(id, events, before);
        Some((id, size))
    }

    /// Resolves `events` as `id`'s log; returns whether it narrows what
    /// `before` allowed.
    fn resolve(
        &mut self,
        id: PublisherId,
        events: Vec<SignedKeyEvent>,
        before: Option<KeyState>,
    ) -> bool {
        let r = identity::resolve_all(&id, &events);
        let narrows = match (&before, &r) {
            (Some(b), Some(r)) => r.state.narrows(b),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if events.is_empty() {
            self.logs.remove(&id);
        } else {
            let (chain, state) = match r {
                Some(r) => (r.chain, Some(r.state)),
                None => (Vec::new(), None),
            };
            self.logs.insert(
                id,
                Log {
                    events,
                    chain,
                    state,
                },
            );
        }
        narrows
    }

    pub(super) fn state(&self, id: &PublisherId) -> Option<&KeyState> {
        self.logs.get(id).and_then(|l| l.state.as_ref())
    }

    /// The events of `id`'s chain that counts, in order.
    pub(super) fn chain(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        self.logs
            .get(id)
            .map(|l| l.chain.iter().map(|&i| l.events[i].clone()).collect())
            .unwrap_or_default()
    }

    /// Every event held of `id`, forks included.
    pub(super) fn all(&self, id: &PublisherId) -> Vec<SignedKeyEvent> {
        self.logs
            .get(id)
            .map(|l| l.events.clone())
            .unwrap_or_default()
    }

    pub(super) fn authority(
        &self,
        id: &PublisherId,
        signer: &PublisherId,
        item: &BundleId,
    ) -> Authority {
        authority(self.state(id), id, signer, item)
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

    /// Whether the key that signed `entry` may sign it for its publisher,
    /// as far as this node knows.
    pub fn signer_counts(&self, entry: &CatalogEntry) -> bool {
        signer_refused(&self.read().keylogs, entry).is_none()
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

    /// Entry keys of every announcement, retraction, vouch, profile and
    /// group entry of `id`.
    fn entry_keys_of(&self, id: &PublisherId) -> Vec<BundleId> {
        self.entry_keys_in(&self.read(), id)
    }

    fn entry_keys_in(&self, ix: &Index, id: &PublisherId) -> Vec<BundleId> {
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
        let profile = ix.profiles.key_of(id);
        anns.chain(retractions)
            .chain(vouches)
            .chain(profile)
            .chain(ix.groups.keys_of(id))
            .collect()
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
                    // An announcement's keep id is its own bytes; its
                    // bundle's manifest is kept by the bundle id.
                    if let CatalogEntry::Announcement(a) = &e {
                        out.push((a.announcement().id, e.created(), false));
                    }
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
                let mut ix = self.write();
                ix.remove(&key);
                // Never fetched again (until the tiers change).
                ix.quota.decline(key);
                gone += 1;
            }
        }
        if gone > 0 {
            tracing::info!(identity = %id, entries = gone, "catalog: removed entries its key log no longer allows");
            self.push_vouches();
        }
        Ok(gone)
    }

    /// Stores a key event and, if its identity's state now allows less,
    /// purges what no longer counts. A key event is not under its
    /// publisher's quota (a thief's flood of entries must not keep a
    /// revocation out); it lies on a valid chain or is dropped
    /// ([`KeyLogs::admit`]); in the unknown tier it takes a place of the
    /// share, and is evicted only with its whole identity. Refusals are not
    /// remembered: catch-up offers the event again. Blocking.
    pub(super) fn add_key_event(
        &self,
        store: &dyn Store,
        e: &SignedKeyEvent,
    ) -> Result<Added, StoreError> {
        let id = e.event().id;
        let key = e.entry_id();
        let _admit = self.admit.lock().unwrap_or_else(|p| p.into_inner());
        let (tier, admitted) = {
            let ix = self.read();
            if ix.contains(&key) {
                return Ok(Added::Known);
            }
            (ix.tier(&id), ix.keylogs.admit(e))
        };
        let admitted = match (tier, admitted) {
            (Tier::Blocked, _) => return Ok(Added::Dropped(Dropped::Blocked)),
            (_, Err(d)) => return Ok(Added::Dropped(d)),
            (_, Ok(a)) => a,
        };
        if tier == Tier::Seen {
            self.make_room(store)?;
            if self.read().quota.full() {
                return Ok(Added::Dropped(Dropped::CatalogFull));
            }
        }
        for old in admitted.evict {
            store.delete_announcement(&old)?;
            self.write().remove(&old);
        }
        store.put_announcement(&key, e.bytes())?;
        let (_, narrows) = self.write().insert_key(e);
        if narrows {
            self.purge_signers(store, &id)?;
        }
        self.changes.notify_one();
        Ok(Added::New)
    }

    /// Evicts an identity whole: its key log and every entry it signed,
    /// none fetched again until the tiers change. Call with `admit` held.
    /// Blocking.
    pub(super) fn evict_identity(
        &self,
        store: &dyn Store,
        id: &PublisherId,
    ) -> Result<usize, StoreError> {
        let keys: Vec<BundleId> = {
            let ix = self.read();
            let mut keys = ix.keylogs.keys_of(id);
            keys.extend(self.entry_keys_in(&ix, id));
            keys
        };
        for k in &keys {
            store.delete_announcement(k)?;
            let mut ix = self.write();
            ix.remove(k);
            ix.quota.decline(*k);
        }
        Ok(keys.len())
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

    fn signed(
        id: PublisherId,
        prev: Option<&SignedKeyEvent>,
        kind: KeyKind,
        root: &PublisherKey,
        device: Option<PublisherId>,
        next: Option<PublisherId>,
    ) -> SignedKeyEvent {
        SignedKeyEvent::sign(
            KeyEvent {
                v: VERSION,
                id,
                seq: prev.map_or(0, |p| p.event().seq + 1),
                keep: None,
                kind,
                name: (kind == KeyKind::Device).then(|| "d".into()),
                next: next.map(|n| next_commitment(&n)),
                prev: prev.map(SignedKeyEvent::hash),
                root: root.id(),
                device,
                created: 1,
            },
            root,
        )
        .unwrap()
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
        let incept = signed(
            id,
            None,
            KeyKind::Incept,
            &root,
            None,
            Some(paper.root(1).id()),
        );
        let cert = signed(
            id,
            Some(&incept),
            KeyKind::Device,
            &root,
            Some(device.id()),
            None,
        );
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
        let revoke = signed(
            id,
            Some(&cert),
            KeyKind::Revoke,
            &root,
            Some(device.id()),
            None,
        );
        assert_eq!(
            cat.add_entry(&store, &CatalogEntry::Key(revoke)).unwrap(),
            Added::New
        );
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

    #[test]
    fn junk_is_refused_and_a_full_log_still_takes_the_owners_rotation() {
        let (store, cat) = (MemStore::default(), Catalog::default());
        cat.mark_loaded();
        let paper = PaperBackup::from_entropy([5; 32]);
        let (r0, r1) = (paper.root(0), paper.root(1));
        let id = identity_id(&r0.id(), &next_commitment(&r1.id()));
        let incept = signed(id, None, KeyKind::Incept, &r0, None, Some(r1.id()));
        let add = |e: &SignedKeyEvent| {
            cat.add_entry(&store, &CatalogEntry::Key(e.clone()))
                .unwrap()
        };
        assert_eq!(add(&incept), Added::New);
        // Junk: a certificate for this identity signed by someone else's key.
        let stranger = PublisherKey::from_seed([66; 32]);
        let other = PublisherKey::from_seed([67; 32]).id();
        let junk = signed(
            id,
            Some(&incept),
            KeyKind::Device,
            &stranger,
            Some(other),
            None,
        );
        assert_eq!(add(&junk), Added::Dropped(Dropped::UnknownSigner));
        assert!(!cat.declined(&junk.entry_id()), "not remembered");
        // A thief with root 0 fills the log with forks off the incept.
        for n in 1..MAX_KEY_EVENTS {
            let dev = PublisherKey::from_seed([(n % 250) as u8 + 1; 32]).id();
            let mut e = signed(id, Some(&incept), KeyKind::Device, &r0, Some(dev), None);
            if cat.contains(&e.entry_id()) {
                // Same device twice: make the event differ by its name.
                let mut ev = e.event().clone();
                ev.name = Some(format!("d{n}"));
                e = SignedKeyEvent::sign(ev, &r0).unwrap();
            }
            assert_eq!(add(&e), Added::New, "fork {n}");
        }
        assert_eq!(cat.key_events(&id).len(), MAX_KEY_EVENTS);
        // Another fork is refused; the owner's rotation gets in.
        let spare = PublisherKey::from_seed([254; 32]).id();
        let extra = signed(id, Some(&incept), KeyKind::Device, &r0, Some(spare), None);
        assert_eq!(add(&extra), Added::Dropped(Dropped::PublisherQuota));
        let rotation = signed(
            id,
            Some(&incept),
            KeyKind::Rotate,
            &r1,
            None,
            Some(paper.root(2).id()),
        );
        assert_eq!(add(&rotation), Added::New);
        assert_eq!(cat.key_state(&id).unwrap().root, r1.id());
        assert_eq!(cat.key_events(&id).len(), MAX_KEY_EVENTS);
    }
}
