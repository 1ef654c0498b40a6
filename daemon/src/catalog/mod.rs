//! The catalog index: every accepted announcement, in memory, searchable.
//!
//! The store keeps the signed bytes; this index keeps the decoded
//! announcements plus one lowercase text arena that a search scans with a
//! SIMD substring finder. Searching 100,000 entries then costs a scan of a
//! few MiB instead of reading and decoding the whole catalog column family.
//!
//! Loading the index at start-up reads the whole catalog, so it runs in the
//! background while the API already answers; searches wait for it (see
//! [`Catalog::ready`]). Every write to the catalog goes through this type,
//! store first, so the index never lists what the store lacks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

pub use vouches::MAX_VOUCHES_PER_PUBLISHER;
use weft_protocol::{
    Announcement, BundleId, CatalogEntry, PublisherId, SignedAnnouncement, SignedKeyEvent,
    SignedManifest, Vouch,
};

mod groups;
mod identities;
mod index;
pub mod ingest;
mod profiles;
mod quota;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_groups;
mod vouches;

use index::Index;
pub use quota::Limits;

pub use crate::metrics::Dropped;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError, CF_TOMBSTONES};
use crate::trust::{Tier, Trust};

/// Entries decoded per batch while loading, between taking the lock.
const LOAD_BATCH: usize = 4096;

/// What to look for. Every part that is set must match.
#[derive(Debug, Default, Clone)]
pub struct Query {
    /// Words that must each appear (case-insensitively) in the name, a
    /// title or a tag. A single word may also be the start of the hex id.
    pub words: Vec<String>,
    /// A language the bundle has a title in (`es` matches `es-MX` too).
    pub lang: Option<String>,
    /// A tag the bundle carries.
    pub tag: Option<String>,
    /// The publisher.
    pub publisher: Option<PublisherId>,
    /// Every version, not only the latest of each (publisher, name).
    pub all_versions: bool,
    /// Only these bundles (the gateway lists what the node holds).
    pub only: Option<Arc<HashSet<BundleId>>>,
    /// Only trusted and vouched publishers.
    pub trusted_only: bool,
}

impl Query {
    /// Builds a query from the text a person typed and the filters.
    pub fn new(
        text: Option<&str>,
        lang: Option<&str>,
        tag: Option<&str>,
        publisher: Option<PublisherId>,
    ) -> Self {
        Self {
            words: text
                .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
                .unwrap_or_default(),
            lang: lang.map(str::to_ascii_lowercase).filter(|l| !l.is_empty()),
            tag: tag.map(str::to_lowercase).filter(|t| !t.is_empty()),
            publisher,
            all_versions: false,
            only: None,
            trusted_only: false,
        }
    }
}

/// One page of search results.
#[derive(Debug, Default)]
pub struct Found {
    /// Matching announcements, newest first.
    pub results: Vec<Announcement>,
    /// How many entries matched in all.
    pub matched: usize,
}

/// What became of an entry offered to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored and indexed.
    New,
    /// Already here.
    Known,
    /// Valid on its own but contradicts what is known: a retraction signed
    /// by another key than the bundle's publisher.
    Refused(String),
    /// Valid, but not kept: see the reason.
    Dropped(Dropped),
    /// Stored, but another publisher at least as trusted claims the same
    /// bundle: kept until a manifest settles it, not spread by gossip.
    Contested,
}

/// A held bundle's standing in the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its publisher retracted it.
    pub retracted: bool,
    /// Its manifest is signed by a key its identity revoked (or replaced),
    /// and the revocation does not keep it.
    pub revoked: bool,
    /// A newer version of the same (publisher, name), if one is known.
    pub superseded_by: Option<BundleId>,
}

pub fn lang_matches(have: &str, want: &str) -> bool {
    have.len() >= want.len()
        && have[..want.len()].eq_ignore_ascii_case(want)
        && (have.len() == want.len() || have.as_bytes()[want.len()] == b'-')
}

/// The catalog: writes go to the store and the index together.
pub struct Catalog {
    index: RwLock<Index>,
    loaded: tokio::sync::watch::Sender<bool>,
    /// Signalled when an entry is added; the keeper (`ops::keeper`) waits on it.
    pub changes: tokio::sync::Notify,
    trust: Arc<Trust>,
    metrics: Arc<Metrics>,
    /// Each peer's rate for entries of unknown publishers.
    admission: ingest::Admission,
    /// Held while an entry is checked against the quotas and stored, so
    /// that two writers cannot both take the last place.
    admit: std::sync::Mutex<()>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new(Arc::default(), Limits::default(), Arc::default())
    }
}

impl Catalog {
    /// An empty catalog that judges publishers by `trust` and keeps the
    /// unknown tier within `limits`.
    pub fn new(trust: Arc<Trust>, limits: Limits, metrics: Arc<Metrics>) -> Self {
        let mut index = Index::default();
        index.quota.limits = limits;
        Self {
            index: RwLock::new(index),
            loaded: tokio::sync::watch::channel(false).0,
            changes: tokio::sync::Notify::new(),
            trust,
            metrics,
            admission: ingest::Admission::new(limits.unknown_rate),
            admit: std::sync::Mutex::new(()),
        }
    }

    /// The trust tiers this catalog judges by.
    pub fn trust(&self) -> &Arc<Trust> {
        &self.trust
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        let ix = self.index.read().unwrap_or_else(|p| p.into_inner());
        if ix.tiers_generation == Some(self.trust.generation()) {
            return ix;
        }
        drop(ix);
        drop(self.write());
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The index for writing, with the trust tiers in force.
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        let mut ix = self.index.write().unwrap_or_else(|p| p.into_inner());
        ix.refresh(&self.trust);
        ix
    }

    /// Reads every stored entry into the index. Blocking; run it on the
    /// blocking pool. Entries that no longer decode are skipped with a
    /// warning (the store checksums its blocks, so this means a bug or a
    /// format change, not a flipped bit).
    pub fn load(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let tombstones: HashSet<BundleId> = store
            .list_kv(CF_TOMBSTONES)?
            .into_iter()
            .filter_map(|(k, _)| BundleId::from_slice(&k).ok())
            .collect();
        self.write().tombstones.extend(tombstones);
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let flush = |batch: &mut Vec<CatalogEntry>| {
            let mut ix = self.write();
            for e in batch.drain(..) {
                if !ix.removed_while_loading.contains(&e.entry_id()) {
                    ix.insert_entry(&e);
                }
            }
        };
        store.for_each_announcement(&mut |id, bytes| {
            match CatalogEntry::decode_stored(bytes) {
                Ok(e) if e.entry_id() == id => batch.push(e),
                _ => tracing::warn!(bundle = %id, "skipping a catalog entry that does not decode"),
            }
            if batch.len() >= LOAD_BATCH {
                flush(&mut batch);
            }
        })?;
        flush(&mut batch);
        // What was stored before a revocation reached this node, or before
        // a crash cut a purge short, goes now.
        let identities = self.read().keylogs.identities();
        for id in identities {
            self.purge_signers(store, &id)?;
        }
        let n = {
            let mut ix = self.write();
            ix.loaded = true;
            ix.removed_while_loading = HashSet::new();
            ix.by_key.len()
                + ix.retraction_keys.len()
                + ix.vouches.len()
                + ix.keylogs.len()
                + ix.profiles.len()
                + ix.groups.len()
        };
        self.push_vouches();
        self.loaded.send_replace(true);
        self.changes.notify_one();
        Ok(n)
    }

    /// Marks the index complete without loading (a new, empty store).
    pub fn mark_loaded(&self) {
        self.write().loaded = true;
        self.loaded.send_replace(true);
    }

    /// Waits until the start-up load has finished.
    pub async fn ready(&self) {
        let mut rx = self.loaded.subscribe();
        let _ = rx.wait_for(|l| *l).await;
    }

    /// Whether the start-up load has finished.
    pub fn is_loaded(&self) -> bool {
        *self.loaded.borrow()
    }

    /// Stores a verified announcement and indexes it; returns false if it
    /// was already there. Blocking.
    pub fn add(&self, store: &dyn Store, ann: &SignedAnnouncement) -> Result<bool, StoreError> {
        Ok(self.add_entry(store, &CatalogEntry::Announcement(ann.clone()))? == Added::New)
    }

    /// Stores a verified entry (announcement, retraction or vouch) and indexes it.
    /// A retraction of a known bundle must be signed by that bundle's owner
    /// ([`Self::owner`]). A retraction of a bundle not known at all is kept:
    /// it counts only if the bundle turns out to be its signer's.
    ///
    /// Entries of blocked publishers are dropped. Entries of publishers in
    /// the seen tier are kept only within their publisher's quota and the
    /// tier's share of the catalog; when the share is full the oldest such
    /// entry is evicted to make room. Blocking.
    pub fn add_entry(&self, store: &dyn Store, entry: &CatalogEntry) -> Result<Added, StoreError> {
        if let CatalogEntry::Key(e) = entry {
            return self.add_key_event(store, e);
        }
        let contradiction = self.read().contradiction(entry);
        if let Some(why) = contradiction {
            if let CatalogEntry::Announcement(a) = entry {
                // A false claim on a held bundle: never fetched again.
                self.tombstone(store, a.announcement().claim_key())?;
            }
            return Ok(Added::Refused(why));
        }
        let key = entry.entry_id();
        let signer = entry.signer();
        let size = entry.bytes().len() as u32;
        let _admit = self.admit.lock().unwrap_or_else(|p| p.into_inner());
        let mut replaced = None;
        let tier = {
            let ix = self.read();
            if ix.contains(&key) {
                return Ok(Added::Known);
            }
            if let Some(d) = identities::signer_refused(&ix.keylogs, entry) {
                if d == Dropped::Revoked {
                    // Revocations are never undone: not fetched again.
                    drop(ix);
                    self.write().quota.decline(key);
                }
                return Ok(Added::Dropped(d));
            }
            if let CatalogEntry::Profile(p) = entry {
                if ix.profiles.superseded(p.profile(), &key) {
                    drop(ix);
                    self.write().quota.decline(key);
                    return Ok(Added::Known);
                }
                replaced = ix.profiles.key_of(&p.profile().publisher);
            }
            if let CatalogEntry::Vouch(v) = entry {
                replaced = ix.vouches.key_of(&v.vouch().by, &v.vouch().vouchee);
                if let Some(d) = vouch_refused(&ix, v.vouch(), &key) {
                    drop(ix);
                    self.write().quota.decline(key);
                    return Ok(match d {
                        Some(d) => Added::Dropped(d),
                        None => Added::Known,
                    });
                }
            }
            let tier = ix.tier(&signer);
            match tier {
                Tier::Blocked => return Ok(Added::Dropped(Dropped::Blocked)),
                Tier::Seen => {
                    if let Err(d) = ix.quota.admits(&key, &signer, size) {
                        drop(ix);
                        if d == Dropped::PublisherQuota {
                            self.write().quota.decline(key);
                        }
                        return Ok(Added::Dropped(d));
                    }
                }
                Tier::Trusted | Tier::Vouched => {}
            }
            tier
        };
        if tier == Tier::Seen {
            self.make_room(store)?;
            if self.read().quota.full() {
                self.write().quota.decline(key);
                return Ok(Added::Dropped(Dropped::CatalogFull));
            }
        }
        let new = store.put_announcement(&key, entry.bytes())?;
        // Index it even if the store had it: the loader may not have
        // reached it yet.
        let (indexed, contested) = {
            let mut ix = self.write();
            let indexed = ix.insert_entry(entry);
            // Another publisher, at least as trusted, claims the same
            // bundle: keep both until a manifest settles it, but do not
            // spread this one by gossip.
            let contested = match entry {
                CatalogEntry::Announcement(a) => {
                    let a = a.announcement();
                    ix.claims_of(&a.id).iter().any(|&i| {
                        let other = &ix.entries[i].ann.publisher;
                        *other != a.publisher && ix.tier(other) <= tier
                    })
                }
                CatalogEntry::Retraction(_)
                | CatalogEntry::Vouch(_)
                | CatalogEntry::Key(_)
                | CatalogEntry::Profile(_)
                | CatalogEntry::Group(_)
                | CatalogEntry::KeyBox(_)
                | CatalogEntry::Private(_) => false,
            };
            (indexed, contested)
        };
        if let CatalogEntry::Vouch(_) | CatalogEntry::Profile(_) = entry {
            // The statement it replaces is gone from the index; delete it
            // from the store too, and never fetch it again.
            if let Some(old) = replaced.filter(|old| *old != key) {
                store.delete_announcement(&old)?;
                self.write().quota.decline(old);
            }
        }
        if let CatalogEntry::Vouch(_) = entry {
            self.push_vouches();
        }
        if new || indexed {
            self.changes.notify_one();
            Ok(if contested {
                Added::Contested
            } else {
                Added::New
            })
        } else {
            Ok(Added::Known)
        }
    }

    /// Removes every claim on a bundle that its manifest proves false (by
    /// another publisher, or describing it otherwise), and leaves a
    /// tombstone for each so that catch-up never brings it back. Returns
    /// how many went. Blocking.
    pub fn settle(
        &self,
        store: &dyn Store,
        manifest: &SignedManifest,
    ) -> Result<usize, StoreError> {
        let truth = Announcement::for_manifest(manifest);
        let false_claims: Vec<BundleId> = {
            let ix = self.read();
            ix.claims_of(&truth.id)
                .iter()
                .filter(|&&i| ix.entries[i].ann != truth)
                .map(|&i| ix.entries[i].key)
                .collect()
        };
        for key in &false_claims {
            store.delete_announcement(key)?;
            self.write().remove(key);
            self.tombstone(store, *key)?;
        }
        Ok(false_claims.len())
    }

    /// Records, durably, that the claim with entry key `key` is false.
    fn tombstone(&self, store: &dyn Store, key: BundleId) -> Result<(), StoreError> {
        if self.read().tombstones.len() >= MAX_TOMBSTONES {
            return Ok(());
        }
        if self.write().tombstones.insert(key) {
            store.put_kv(CF_TOMBSTONES, key.as_bytes(), b"")?;
        }
        Ok(())
    }

    /// A publisher's latest profile, if one is held.
    pub fn profile(&self, publisher: &PublisherId) -> Option<weft_protocol::Profile> {
        self.read().profiles.get(publisher).cloned()
    }

    /// The entry key of a publisher's profile, if one is held.
    pub fn profile_key(&self, publisher: &PublisherId) -> Option<BundleId> {
        self.read().profiles.key_of(publisher)
    }

    /// The display name a publisher's profile claims for a reader of
    /// `lang`, and whether another publisher claims a name that reads the
    /// same; one lookup, for every publisher a page shows.
    pub fn profile_name(
        &self,
        publisher: &PublisherId,
        lang: Option<&str>,
    ) -> Option<(String, bool)> {
        self.read().profiles.shown(publisher, lang)
    }

    /// Other publishers whose profile claims a display name that reads
    /// like one of `publisher`'s (or like `name`).
    pub fn same_name(&self, publisher: &PublisherId, name: Option<&str>) -> Vec<PublisherId> {
        self.read().profiles.same_name(publisher, name)
    }

    /// When `by` last made a statement about `vouchee`, if one is held.
    pub fn vouch_made(&self, by: &PublisherId, vouchee: &PublisherId) -> Option<u64> {
        self.read().vouches.made(by, vouchee)
    }

    /// Tells the trust tiers which vouches are in force now. The keeper
    /// calls it on every pass, so that a lapsed vouch stops counting.
    pub fn push_vouches(&self) {
        let edges = self.read().vouches.edges(crate::clock::now_secs());
        self.trust.update(|t| t.vouches = edges);
    }

    /// Up to `limit` bundles that more than one publisher claims and no
    /// held manifest settles.
    pub fn contested_ids(&self, limit: usize) -> Vec<BundleId> {
        let ix = self.read();
        ix.claims
            .iter()
            .filter(|(id, c)| c.len() > 1 && !ix.held.contains_key(*id))
            .map(|(id, _)| *id)
            .take(limit)
            .collect()
    }

    /// Whether another publisher claims the same bundle and no manifest
    /// held here settles which claim is true.
    pub fn contested(&self, id: &BundleId) -> bool {
        self.read().contested(id)
    }

    /// Evicts the oldest entries of seen publishers until the unknown
    /// share has a free place, or nothing more can go. Call with `admit`
    /// held. Blocking.
    fn make_room(&self, store: &dyn Store) -> Result<(), StoreError> {
        loop {
            let victim = {
                let mut ix = self.write();
                if !ix.quota.full() {
                    return Ok(());
                }
                match ix.eviction_candidate() {
                    Some(v) => v,
                    None => return Ok(()),
                }
            };
            // A key event goes only with its whole identity, so that no
            // revocation or rotation is ever undone by an eviction.
            let identity = self.read().keylogs.get(&victim).map(|(id, _)| id);
            if let Some(id) = identity {
                let n = self.evict_identity(store, &id)?;
                Metrics::add(&self.metrics.entries_evicted, n as u64);
                continue;
            }
            store.delete_announcement(&victim)?;
            let mut ix = self.write();
            ix.remove(&victim);
            ix.quota.decline(victim);
            Metrics::add(&self.metrics.entries_evicted, 1);
        }
    }

    /// Whether an entry was evicted to make room, or refused for a quota,
    /// and is not to be fetched again (until the trust tiers change).
    pub fn declined(&self, key: &BundleId) -> bool {
        let ix = self.read();
        ix.quota.declined(key) || ix.tombstones.contains(key)
    }

    /// How many entries of seen publishers the catalog keeps, and its limit.
    pub fn unknown_share(&self) -> (usize, usize) {
        let ix = self.read();
        (ix.quota.unknown(), ix.quota.limits.unknown_entries)
    }

    /// Entries of one publisher the catalog keeps.
    pub fn entries_of(&self, p: &PublisherId) -> u64 {
        u64::from(self.read().quota.usage(p).entries)
    }

    /// Indexes an announcement that a bundle commit just stored.
    pub fn note_committed(&self, ann: &SignedAnnouncement) {
        let size = ann.bytes().len() as u32;
        if self.write().insert(ann.announcement().clone(), size) {
            self.changes.notify_one();
        }
    }

    /// Marks a bundle as pinned by the user (listed even when retracted).
    pub fn set_exempt(&self, id: BundleId, exempt: bool) {
        let mut ix = self.write();
        if exempt {
            ix.exempt.insert(id);
        } else {
            ix.exempt.remove(&id);
        }
    }

    /// The announcement to go by for a bundle: its held manifest's
    /// publisher's, else the most trusted claim (see `Index::best_claim`).
    pub fn get(&self, id: &BundleId) -> Option<Announcement> {
        let ix = self.read();
        ix.best_claim(id).map(|i| ix.entries[i].ann.clone())
    }

    /// Whether a bundle is retracted, and what supersedes it. Judged
    /// against the bundle's owner (see [`Self::owner`]): a retraction by
    /// any other key counts for nothing.
    pub fn standing(&self, id: &BundleId) -> Standing {
        let ix = self.read();
        match ix.owner(id) {
            Some(owner) => standing_for(&ix, id, &owner),
            None => Standing::default(),
        }
    }

    /// The standing of one claim: retracted by its own publisher, or
    /// superseded by that publisher's newer version.
    pub fn standing_of(&self, a: &Announcement) -> Standing {
        standing_for(&self.read(), &a.id, &a.publisher)
    }

    /// Who may retract bundle `id`: the publisher of its manifest when this
    /// node holds it (a manifest settles the question), else the publisher
    /// of its indexed announcement, else nobody known yet.
    pub fn owner(&self, id: &BundleId) -> Option<PublisherId> {
        self.read().owner(id)
    }

    /// Records the publisher of a held bundle's manifest and the key that
    /// signed it ([`held_by`]; `None` when the bundle is no longer held). `holdings`
    /// calls this on load, commit and removal.
    pub fn set_held(&self, id: BundleId, held: Option<(PublisherId, PublisherId)>) {
        let mut ix = self.write();
        match held {
            Some(h) => ix.held.insert(id, h),
            None => ix.held.remove(&id),
        };
    }

    /// The latest unretracted version of (publisher, name).
    pub fn resolve(&self, publisher: &PublisherId, name: &str) -> Option<Announcement> {
        let ix = self.read();
        ix.latest_of(publisher, name)
            .map(|i| ix.entries[i].ann.clone())
    }

    /// Latest, unretracted entries of unblocked publishers that `wanted`
    /// picks: what mirroring should hold.
    pub fn latest_matching(&self, wanted: &dyn Fn(&Announcement) -> bool) -> Vec<Announcement> {
        let ix = self.read();
        let mut out = Vec::new();
        for key in ix.names.keys() {
            if ix.tier(&key.0) == Tier::Blocked {
                continue;
            }
            let Some(i) = ix.latest_of(&key.0, &key.1) else {
                continue;
            };
            let a = &ix.entries[i].ann;
            if wanted(a) {
                out.push(a.clone());
            }
        }
        out
    }

    /// Removes an entry from the store and the index. Blocking.
    pub fn remove(&self, store: &dyn Store, id: &BundleId) -> Result<(), StoreError> {
        store.delete_announcement(id)?;
        self.write().remove(id);
        Ok(())
    }

    /// Every indexed id in order. Cheap while nothing changes.
    pub fn sorted_ids(&self) -> Arc<Vec<BundleId>> {
        if let Some(s) = &self.read().sorted {
            return s.clone();
        }
        let mut ix = self.write();
        if let Some(s) = &ix.sorted {
            return s.clone();
        }
        let mut ids: Vec<BundleId> = ix
            .by_key
            .keys()
            .chain(ix.retraction_keys.keys())
            .chain(ix.vouches.keys())
            .chain(ix.keylogs.keys())
            .chain(ix.profiles.keys())
            .chain(ix.groups.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        let ids = Arc::new(ids);
        ix.sorted = Some(ids.clone());
        ids
    }

    /// Whether an entry (of any kind) is indexed.
    pub fn contains(&self, id: &BundleId) -> bool {
        self.read().contains(id)
    }

    /// Entries indexed.
    pub fn len(&self) -> usize {
        self.read().by_key.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest `limit` entries matching `q`. Call after [`Self::ready`].
    pub fn search(&self, q: &Query, limit: usize) -> Found {
        self.read().search(q, limit)
    }

    /// The highest seq known for (publisher, name), 0 if none.
    pub fn latest_seq(&self, publisher: &PublisherId, name: &str) -> u64 {
        let ix = self.read();
        ix.entries
            .iter()
            .filter(|e| e.alive && e.ann.publisher == *publisher && e.ann.name == name)
            .map(|e| e.ann.seq)
            .max()
            .unwrap_or(0)
    }
}

/// Why a vouch is not kept: `Some(None)` when an equal or newer statement
/// of its pair is held (nothing to do), `Some(Some(reason))` when its
/// voucher already has [`MAX_VOUCHES_PER_PUBLISHER`] vouches in force.
fn vouch_refused(ix: &Index, v: &Vouch, key: &BundleId) -> Option<Option<Dropped>> {
    if ix.vouches.superseded(v, key) {
        return Some(None);
    }
    let now = crate::clock::now_secs();
    (v.in_force(now)
        && !ix.vouches.in_force(&v.by, &v.vouchee, now)
        && ix.vouches.in_force_by(&v.by, now) >= MAX_VOUCHES_PER_PUBLISHER)
        .then_some(Some(Dropped::PublisherQuota))
}

/// What [`Catalog::set_held`] records of a manifest: its publisher and
/// the key that signed it.
pub fn held_by(m: &SignedManifest) -> (PublisherId, PublisherId) {
    (m.manifest().publisher, m.signed_by())
}

/// Tombstones kept at most; past it a false claim is still removed, but
/// catch-up may offer it again (and a held bundle refuses it again).
pub const MAX_TOMBSTONES: usize = 65_536;

/// The standing of `publisher`'s claim on bundle `id`.
fn standing_for(ix: &Index, id: &BundleId, publisher: &PublisherId) -> Standing {
    let claim = ix
        .claims_of(id)
        .iter()
        .copied()
        .find(|&i| ix.entries[i].ann.publisher == *publisher);
    let revoked = ix
        .held
        .get(id)
        .is_some_and(|(p, by)| p == publisher && !ix.keylogs.authority(p, by, id).counts());
    Standing {
        retracted: ix.retracted_by(id, publisher),
        revoked,
        superseded_by: claim.and_then(|i| {
            let a = &ix.entries[i].ann;
            ix.latest_of(&a.publisher, &a.name)
                .filter(|&l| l != i && ix.entries[l].ann.seq > a.seq)
                .map(|l| ix.entries[l].ann.id)
        }),
    }
}

/// Spawns the start-up load on the blocking pool.
pub fn spawn_load(catalog: Arc<Catalog>, store: Arc<dyn Store>) {
    /// Releases waiting searches even if loading panics.
    struct Release(Arc<Catalog>);
    impl Drop for Release {
        fn drop(&mut self) {
            if !self.0.is_loaded() {
                self.0.mark_loaded();
            }
        }
    }
    tokio::task::spawn_blocking(move || {
        let _release = Release(catalog.clone());
        let t = std::time::Instant::now();
        match catalog.load(store.as_ref()) {
            Ok(n) => tracing::info!(
                entries = n,
                ms = t.elapsed().as_millis() as u64,
                "catalog loaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the catalog; search sees only new entries");
                catalog.mark_loaded();
            }
        }
    });
}
