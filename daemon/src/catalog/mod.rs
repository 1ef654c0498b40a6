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

use weft_protocol::{Announcement, BundleId, CatalogEntry, PublisherId, SignedAnnouncement};

mod index;
pub mod ingest;
#[cfg(test)]
mod tests;

use index::Index;

use crate::store::{Store, StoreError};

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
        }
    }
}

/// One page of search results.
#[derive(Debug)]
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
}

/// A held bundle's standing in the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its publisher retracted it.
    pub retracted: bool,
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
}

impl Default for Catalog {
    fn default() -> Self {
        Self {
            index: RwLock::default(),
            loaded: tokio::sync::watch::channel(false).0,
            changes: tokio::sync::Notify::new(),
        }
    }
}

impl Catalog {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every stored entry into the index. Blocking; run it on the
    /// blocking pool. Entries that no longer decode are skipped with a
    /// warning (the store checksums its blocks, so this means a bug or a
    /// format change, not a flipped bit).
    pub fn load(&self, store: &dyn Store) -> Result<usize, StoreError> {
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
        let n = {
            let mut ix = self.write();
            ix.loaded = true;
            ix.removed_while_loading = HashSet::new();
            ix.by_id.len() + ix.retraction_keys.len()
        };
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

    /// Stores a verified entry (announcement or retraction) and indexes it.
    /// A retraction of a known bundle must be signed by that bundle's owner
    /// ([`Self::owner`]). A retraction of a bundle not known at all is kept:
    /// it counts only if the bundle turns out to be its signer's. Blocking.
    pub fn add_entry(&self, store: &dyn Store, entry: &CatalogEntry) -> Result<Added, StoreError> {
        if let CatalogEntry::Retraction(r) = entry {
            let r = r.retraction();
            // One read guard: taking a second while holding the first can
            // deadlock behind a waiting writer.
            let owner = self.owner(&r.retracts);
            if let Some(owner) = owner {
                if owner != r.publisher {
                    return Ok(Added::Refused(format!(
                        "a retraction of bundle {} is signed by {}, but that bundle is published by {owner}",
                        r.retracts, r.publisher
                    )));
                }
            }
        }
        let key = entry.entry_id();
        let new = store.put_announcement(&key, entry.bytes())?;
        // Index it even if the store had it: the loader may not have
        // reached it yet.
        let indexed = self.write().insert_entry(entry);
        if new || indexed {
            self.changes.notify_one();
            Ok(Added::New)
        } else {
            Ok(Added::Known)
        }
    }

    /// Indexes an announcement that a bundle commit just stored.
    pub fn note_committed(&self, ann: &Announcement) {
        if self.write().insert(ann.clone()) {
            self.changes.notify_one();
        }
    }

    /// Sets the publishers whose entries are never listed.
    pub fn set_blocked(&self, blocked: HashSet<PublisherId>) {
        self.write().blocked = blocked;
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

    /// An indexed announcement.
    pub fn get(&self, id: &BundleId) -> Option<Announcement> {
        let ix = self.read();
        ix.by_id.get(id).map(|&i| ix.entries[i].ann.clone())
    }

    /// Whether a bundle is retracted, and what supersedes it. Judged
    /// against the bundle's owner (see [`Self::owner`]): a retraction by
    /// any other key counts for nothing.
    pub fn standing(&self, id: &BundleId) -> Standing {
        let ix = self.read();
        let Some(owner) = ix.owner(id) else {
            return Standing::default();
        };
        let announced = ix
            .by_id
            .get(id)
            .map(|&i| (i, &ix.entries[i].ann))
            .filter(|(_, a)| a.publisher == owner);
        Standing {
            retracted: ix.retracted_by(id, &owner),
            superseded_by: announced.and_then(|(i, a)| {
                ix.latest_of(&a.publisher, &a.name)
                    .filter(|&l| l != i && ix.entries[l].ann.seq > a.seq)
                    .map(|l| ix.entries[l].ann.id)
            }),
        }
    }

    /// Who may retract bundle `id`: the publisher of its manifest when this
    /// node holds it (a manifest settles the question), else the publisher
    /// of its indexed announcement, else nobody known yet.
    pub fn owner(&self, id: &BundleId) -> Option<PublisherId> {
        self.read().owner(id)
    }

    /// Records the publisher of a held bundle's manifest (`None` when the
    /// bundle is no longer held). `holdings` calls this on load, commit and
    /// removal.
    pub fn set_held(&self, id: BundleId, publisher: Option<PublisherId>) {
        let mut ix = self.write();
        match publisher {
            Some(p) => ix.held.insert(id, p),
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
            if ix.blocked.contains(&key.0) {
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
            .by_id
            .keys()
            .chain(ix.retraction_keys.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        let ids = Arc::new(ids);
        ix.sorted = Some(ids.clone());
        ids
    }

    /// Whether an entry (announcement or retraction) is indexed.
    pub fn contains(&self, id: &BundleId) -> bool {
        let ix = self.read();
        ix.by_id.contains_key(id) || ix.retraction_keys.contains_key(id)
    }

    /// Entries indexed.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
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
