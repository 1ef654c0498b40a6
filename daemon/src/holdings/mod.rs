//! What the node holds, within its quota: pins, the LRU cache, eviction and
//! garbage collection.
//!
//! Every complete bundle is either pinned (explicitly by the user, or by a
//! follow rule) or cached. `storage.max` bounds the content held: when a
//! commit takes the total over it, cached bundles are evicted least
//! recently used first (a bundle is used when it is fetched, exported,
//! read through the API or served to a peer). Pinned bundles are never
//! evicted; when pins alone exceed the quota, mirroring pauses and
//! `weft status` says so.
//!
//! Evicting a bundle removes its manifest; its chunks are then garbage
//! unless another held bundle, an interrupted fetch (kept in `fetches`) or
//! an operation in progress ([`Protected`]) needs them. A sweep deletes the
//! garbage and a compaction with blob GC gives the space back to the disk.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use weft_protocol::chunk::{has_index, parse_index, small_file_chunks};
use weft_protocol::{BundleId, ContentHash, PublisherId, SignedManifest};

use crate::store::{Pin, PinKind, Store, StoreError, CF_ACCESS, CF_FETCHES};

/// A last-use time is written again only when it is older than this.
pub const TOUCH_EVERY_SECS: u64 = 60;
/// Blobs deleted per batch by a sweep.
const SWEEP_BATCH: usize = 4096;

/// One held bundle.
#[derive(Debug, Clone)]
pub struct Held {
    /// Bytes of content.
    pub size: u64,
    /// Publisher.
    pub publisher: PublisherId,
    /// Name.
    pub name: String,
    /// Version.
    pub seq: u64,
    /// Its pin, if pinned.
    pub pin: Option<Pin>,
    /// Last use, seconds since the Unix epoch.
    pub used: u64,
    /// The last use as stored.
    stored_used: u64,
}

/// Storage figures, for `weft status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Usage {
    /// Content bytes of every held bundle.
    pub used: u64,
    /// Of which pinned.
    pub pinned: u64,
    /// Of which cached (evictable).
    pub cached: u64,
    /// Held bundles.
    pub bundles: u64,
    /// The quota, if set.
    pub max: Option<u64>,
}

/// What a GC run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GcReport {
    /// Bundles evicted from the cache.
    pub evicted: Vec<BundleId>,
    /// Their content bytes.
    pub evicted_bytes: u64,
    /// Blobs deleted (evicted bundles' chunks and orphans).
    pub blobs_deleted: u64,
    /// Bytes those blobs held.
    pub blob_bytes: u64,
    /// Bytes the store took on disk before and after.
    pub disk_before: u64,
    /// After.
    pub disk_after: u64,
}

/// What `weft check` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    /// Complete bundles checked.
    pub bundles: u64,
    /// Blocks read back and found to match their hashes.
    pub blocks: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bundles with a block missing or damaged: reopened, so the keeper
    /// fetches what they lack from peers.
    pub damaged: Vec<BundleId>,
    /// Blocks that no held bundle, interrupted fetch or operation in
    /// progress needs (the next sweep deletes them).
    pub orphans: u64,
    /// Interrupted fetches, including the bundles just reopened.
    pub interrupted_fetches: u64,
}

/// Holdings, quota and the guard that keeps GC off chunks in use.
pub struct Storage {
    max: Option<u64>,
    held: Mutex<HashMap<BundleId, Held>>,
    /// Blob hashes that operations in progress need, with a count.
    protected: Mutex<HashMap<ContentHash, u32>>,
    /// Held for writing for a whole sweep; protecting a hash takes it for
    /// reading, so a hash is either in the sweep's snapshot or protected
    /// only after the sweep has finished.
    sweep: RwLock<()>,
    /// Bundles being fetched now.
    fetching: Mutex<HashSet<BundleId>>,
    /// Signalled whenever a fetch ends.
    fetch_ended: tokio::sync::Notify,
    /// Bytes that fetches to be pinned have reserved, so that two of them
    /// cannot together take pins over the quota.
    reserved: Mutex<u64>,
}

/// Blob hashes kept from GC until this is dropped.
pub struct Protected {
    storage: Arc<Storage>,
    hashes: Vec<ContentHash>,
}

impl Protected {
    /// Protects one more hash. Call before checking or writing the blob.
    pub fn add(&mut self, h: ContentHash) {
        self.storage.protect_one(h);
        self.hashes.push(h);
    }
}

impl Drop for Protected {
    fn drop(&mut self) {
        let mut p = self
            .storage
            .protected
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for h in &self.hashes {
            if let Some(n) = p.get_mut(h) {
                *n -= 1;
                if *n == 0 {
                    p.remove(h);
                }
            }
        }
    }
}

/// Marks a bundle as being fetched while alive.
pub struct Fetching {
    storage: Arc<Storage>,
    id: BundleId,
    reserved: u64,
}

impl Fetching {
    /// Reserves room for a bundle that will be pinned, or says why there
    /// is none: pins, plus what other fetches reserved, plus this one must
    /// fit the quota.
    pub fn reserve_pinned(&mut self, size: u64) -> Result<(), String> {
        let s = &self.storage;
        let Some(max) = s.max else { return Ok(()) };
        let mut r = s.reserved.lock().unwrap_or_else(|e| e.into_inner());
        let pinned = s.usage().pinned;
        if pinned + *r + size > max {
            return Err(format!(
                "this bundle needs {}, but pinned bundles take {} (and fetches under way {}) of storage.max {}; \
                 unpin something or raise storage.max",
                human(size),
                human(pinned),
                human(*r),
                human(max)
            ));
        }
        *r += size;
        self.reserved += size;
        Ok(())
    }
}

impl Drop for Fetching {
    fn drop(&mut self) {
        *self
            .storage
            .reserved
            .lock()
            .unwrap_or_else(|e| e.into_inner()) -= self.reserved;
        self.storage
            .fetching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        self.storage.fetch_ended.notify_waiters();
    }
}

/// Every blob a manifest needs that can be known from the store: its
/// files' chunk indexes and, where an index is stored, the chunks it lists.
/// Adds the blocks a bundle needs to `out`. False when a chunk index is
/// missing or unreadable, so the chunks it lists are unknown.
fn needed_blobs(store: &dyn Store, m: &SignedManifest, out: &mut HashSet<ContentHash>) -> bool {
    let mut known = true;
    for f in &m.manifest().files {
        if has_index(f.size) {
            out.insert(f.hash);
            match store.get_blob(&f.hash) {
                Ok(Some(index)) => match parse_index(&f.hash, f.size, &index) {
                    Ok(chunks) => out.extend(chunks),
                    Err(_) => known = false,
                },
                _ => known = false,
            }
        } else {
            out.extend(small_file_chunks(&f.hash, f.size));
        }
    }
    known
}

/// Adds the blocks interrupted fetches (records of the fetches family) need.
fn add_fetch_records(
    store: &dyn Store,
    records: Vec<crate::store::KeyValue>,
    live: &mut HashSet<ContentHash>,
) {
    for (_, v) in records {
        if let Some(m) = v
            .get(1..)
            .and_then(|b| SignedManifest::decode_stored(b).ok())
        {
            needed_blobs(store, &m, live);
        }
    }
}

impl Storage {
    /// Reads what the store holds. Blocking.
    pub fn load(store: &dyn Store, max: Option<u64>) -> Result<Self, StoreError> {
        let pins: HashMap<BundleId, Pin> = store.pins()?.into_iter().collect();
        let access: HashMap<BundleId, u64> = store
            .list_kv(CF_ACCESS)?
            .into_iter()
            .filter_map(|(k, v)| {
                let id = BundleId::from_slice(&k).ok()?;
                Some((id, u64::from_be_bytes(v.get(..8)?.try_into().ok()?)))
            })
            .collect();
        let mut held = HashMap::new();
        for id in store.bundle_ids()? {
            let Some(bytes) = store.get_manifest(&id)? else {
                continue;
            };
            let Ok(m) = SignedManifest::decode_stored(&bytes) else {
                tracing::warn!(bundle = %id, "a stored manifest does not decode; leaving it out of the quota");
                continue;
            };
            let pin = pins.get(&id).copied();
            let used = access
                .get(&id)
                .copied()
                .unwrap_or_else(|| pin.map_or(0, |p| p.at));
            held.insert(id, Self::entry(&m, pin, used));
        }
        Ok(Self {
            max,
            held: Mutex::new(held),
            protected: Mutex::default(),
            sweep: RwLock::default(),
            fetching: Mutex::default(),
            fetch_ended: tokio::sync::Notify::new(),
            reserved: Mutex::default(),
        })
    }

    fn entry(m: &SignedManifest, pin: Option<Pin>, used: u64) -> Held {
        let x = m.manifest();
        Held {
            size: x.total_size(),
            publisher: x.publisher,
            name: x.name.clone(),
            seq: x.seq,
            pin,
            used,
            stored_used: used,
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<BundleId, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The quota.
    pub fn max(&self) -> Option<u64> {
        self.max
    }

    /// Records a commit (after it is durable).
    pub fn note_commit(&self, m: &SignedManifest, pin: Option<Pin>, now: u64) {
        let mut h = Self::entry(m, pin, now);
        h.stored_used = 0;
        self.held().insert(m.id(), h);
    }

    /// Records a pin change (after it is durable).
    pub fn note_pin(&self, id: &BundleId, pin: Option<Pin>) {
        if let Some(h) = self.held().get_mut(id) {
            h.pin = pin;
        }
    }

    /// A snapshot of every held bundle.
    pub fn snapshot(&self) -> Vec<(BundleId, Held)> {
        self.held().iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// Whether a bundle is held.
    pub fn holds(&self, id: &BundleId) -> bool {
        self.held().contains_key(id)
    }

    /// Marks a bundle as used now; writes the time at most once a minute.
    /// Blocking.
    pub fn touch(&self, store: &dyn Store, id: &BundleId, now: u64) -> Result<(), StoreError> {
        let write = match self.held().get_mut(id) {
            Some(h) => {
                h.used = now;
                if now >= h.stored_used + TOUCH_EVERY_SECS {
                    h.stored_used = now;
                    true
                } else {
                    false
                }
            }
            None => false,
        };
        if write {
            // Last use is a hint for eviction: a failed write (a full disk)
            // must not turn a read into an error.
            if let Err(e) = store.put_kv(CF_ACCESS, id.as_bytes(), &now.to_be_bytes()) {
                tracing::warn!(bundle = %id, error = %e, "cannot record a bundle's last use");
            }
        }
        Ok(())
    }

    /// Current figures.
    pub fn usage(&self) -> Usage {
        let held = self.held();
        let mut u = Usage {
            max: self.max,
            bundles: held.len() as u64,
            ..Usage::default()
        };
        for h in held.values() {
            u.used += h.size;
            if h.pin.is_some() {
                u.pinned += h.size;
            } else {
                u.cached += h.size;
            }
        }
        u
    }

    /// Why mirroring is paused, if it is: pins alone over the quota.
    pub fn pins_over_quota(&self, adding: u64) -> Option<String> {
        let max = self.max?;
        let u = self.usage();
        let reserved = *self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        (u.pinned + reserved + adding > max).then(|| {
            format!(
                "pinned bundles take {} and storage.max is {}: new mirroring is paused (nothing pinned is deleted); \
                 unpin or unfollow something, or raise storage.max",
                human(u.pinned),
                human(max)
            )
        })
    }

    /// Refuses a fetch that cannot fit even after evicting the whole
    /// cache.
    pub fn check_room(&self, size: u64) -> Result<(), String> {
        let Some(max) = self.max else { return Ok(()) };
        let u = self.usage();
        if u.pinned + size > max {
            return Err(format!(
                "this bundle needs {}, but pinned bundles already take {} of storage.max {}; \
                 unpin something or raise storage.max",
                human(size),
                human(u.pinned),
                human(max)
            ));
        }
        Ok(())
    }

    /// Marks a bundle as being fetched; `None` if it already is.
    pub fn start_fetch(self: &Arc<Self>, id: BundleId) -> Option<Fetching> {
        self.fetching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id)
            .then(|| Fetching {
                storage: self.clone(),
                id,
                reserved: 0,
            })
    }

    /// Marks a bundle as being fetched, waiting first for a fetch of it
    /// that is already under way to end.
    pub async fn start_fetch_when_free(self: &Arc<Self>, id: BundleId) -> Fetching {
        loop {
            // Registered before the check, so an end in between still wakes.
            let ended = self.fetch_ended.notified();
            if let Some(f) = self.start_fetch(id) {
                return f;
            }
            ended.await;
        }
    }

    /// Whether a bundle is being fetched.
    pub fn is_fetching(&self, id: &BundleId) -> bool {
        self.fetching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    /// Bundles being fetched.
    pub fn fetching(&self) -> Vec<BundleId> {
        self.fetching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect()
    }

    fn protect_one(&self, h: ContentHash) {
        let _not_sweeping = self.sweep.read().unwrap_or_else(|e| e.into_inner());
        *self
            .protected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(h)
            .or_default() += 1;
    }

    /// Keeps `hashes` from GC until the guard is dropped. Blocks while a
    /// sweep runs.
    pub fn protect(self: &Arc<Self>, hashes: impl IntoIterator<Item = ContentHash>) -> Protected {
        let mut p = Protected {
            storage: self.clone(),
            hashes: Vec::new(),
        };
        for h in hashes {
            p.add(h);
        }
        p
    }

    /// Removes a bundle now (retracted, blocked, or evicted). Its chunks go
    /// at the next sweep. Blocking.
    pub fn remove(&self, store: &dyn Store, id: &BundleId) -> Result<(), StoreError> {
        store.delete_bundle(id)?;
        self.held().remove(id);
        Ok(())
    }

    /// Evicts cached bundles, least recently used first, until the content
    /// held plus `need` fits the quota (or the cache is empty). Returns the
    /// evicted bundles and their bytes. Blocking.
    pub fn evict(&self, store: &dyn Store, need: u64) -> Result<(Vec<BundleId>, u64), StoreError> {
        let Some(max) = self.max else {
            return Ok((Vec::new(), 0));
        };
        let mut cached: Vec<(u64, BundleId, u64)> = self
            .held()
            .iter()
            .filter(|(_, h)| h.pin.is_none())
            .map(|(id, h)| (h.used, *id, h.size))
            .collect();
        cached.sort();
        let mut used = self.usage().used;
        let (mut out, mut bytes) = (Vec::new(), 0);
        for (_, id, size) in cached {
            if used + need <= max {
                break;
            }
            self.remove(store, &id)?;
            tracing::info!(bundle = %id, size, "evicted from the cache (least recently used)");
            used -= size;
            bytes += size;
            out.push(id);
        }
        Ok((out, bytes))
    }

    /// Whether no operation has blocks protected (nothing is being written
    /// outside a fetch record).
    pub fn idle(&self) -> bool {
        self.protected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// The blocks operations in progress have protected.
    fn protected_now(&self) -> HashSet<ContentHash> {
        self.protected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// Deletes every blob that no held bundle, interrupted fetch or
    /// operation in progress needs. Returns (blobs, bytes). Blocking.
    pub fn sweep(&self, store: &dyn Store) -> Result<(u64, u64), StoreError> {
        let _sweeping = self.sweep.write().unwrap_or_else(|e| e.into_inner());
        let mut live = self.protected_now();
        for id in store.bundle_ids()? {
            if let Some(bytes) = store.get_manifest(&id)? {
                match SignedManifest::decode_stored(&bytes) {
                    Ok(m) => {
                        needed_blobs(store, &m, &mut live);
                    }
                    Err(e) => {
                        // Keep everything rather than guess what it needs.
                        tracing::error!(bundle = %id, error = %e, "a stored manifest does not decode; not sweeping");
                        return Ok((0, 0));
                    }
                }
            }
        }
        add_fetch_records(store, store.list_kv(CF_FETCHES)?, &mut live);
        let mut garbage = Vec::new();
        store.for_each_blob_key(&mut |h| {
            if !live.contains(&h) {
                garbage.push(h);
            }
        })?;
        let mut bytes = 0;
        for batch in garbage.chunks(SWEEP_BATCH) {
            bytes += store.delete_blobs(batch)?;
        }
        Ok((garbage.len() as u64, bytes))
    }

    /// Reads and verifies every block of every held bundle, reopens those
    /// with a block missing or damaged (the keeper fetches it again), and
    /// counts the blocks that nothing needs. Blocking; `weft check`.
    pub fn check(&self, store: &dyn Store) -> Result<CheckReport, StoreError> {
        // As in a sweep: blocks protected now are in the snapshot, and no
        // operation protects new ones until the check ends, so a fetch that
        // completes meanwhile cannot make its blocks look like orphans.
        let _checking = self.sweep.write().unwrap_or_else(|e| e.into_inner());
        let mut live = self.protected_now();
        let mut report = CheckReport::default();
        for id in store.bundle_ids()? {
            let Some(bytes) = store.get_manifest(&id)? else {
                continue;
            };
            report.bundles += 1;
            let m = match SignedManifest::decode(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    // A manifest that no longer verifies cannot be fetched
                    // again by its own id either: drop the bundle.
                    tracing::error!(bundle = %id, error = %e, "a stored manifest is damaged; removing the bundle");
                    self.remove(store, &id)?;
                    report.damaged.push(id);
                    continue;
                }
            };
            let mut need = HashSet::new();
            let mut whole = needed_blobs(store, &m, &mut need);
            for h in &need {
                match store.get_blob(h)? {
                    Some(b) => {
                        report.blocks += 1;
                        report.bytes += b.len() as u64;
                    }
                    None => whole = false,
                }
            }
            if !whole {
                self.reopen(store, &id, &m)?;
                report.damaged.push(id);
            }
            live.extend(need);
        }
        let fetches = store.list_kv(CF_FETCHES)?;
        report.interrupted_fetches = fetches.len() as u64;
        add_fetch_records(store, fetches, &mut live);
        store.for_each_blob_key(&mut |h| {
            if !live.contains(&h) {
                report.orphans += 1;
            }
        })?;
        report.interrupted_fetches += report.damaged.len() as u64;
        Ok(report)
    }

    /// After blocks were found damaged on read: reopens every held bundle
    /// that now misses a block. Returns the bundles reopened. Blocking.
    pub fn repair(&self, store: &dyn Store) -> Result<Vec<BundleId>, StoreError> {
        let mut reopened = Vec::new();
        for id in store.bundle_ids()? {
            let Some(m) = store
                .get_manifest(&id)?
                .and_then(|b| SignedManifest::decode_stored(&b).ok())
            else {
                continue;
            };
            let mut need = HashSet::new();
            let mut whole = needed_blobs(store, &m, &mut need);
            for h in &need {
                whole = whole && store.has_blob(h)?;
            }
            if !whole {
                // Rot seldom stops at one block: read the rest of the
                // bundle too, so every bad block is dropped and fetched in
                // the same pass.
                for h in &need {
                    store.get_blob(h)?;
                }
                self.reopen(store, &id, &m)?;
                reopened.push(id);
            }
        }
        Ok(reopened)
    }

    /// Moves a held bundle back to an interrupted fetch, keeping its pin.
    fn reopen(
        &self,
        store: &dyn Store,
        id: &BundleId,
        m: &SignedManifest,
    ) -> Result<(), StoreError> {
        let pin = store.get_pin(id)?.map(|p| p.kind);
        let mut record = vec![crate::policy::pin_byte(pin)];
        record.extend_from_slice(m.bytes());
        store.reopen_bundle(id, &record)?;
        self.held().remove(id);
        tracing::warn!(bundle = %id, "a held bundle misses a block; fetching it again");
        Ok(())
    }

    /// Evicts down to the quota, sweeps, and gives the space back to the
    /// disk. Blocking.
    pub fn gc(&self, store: &dyn Store, need: u64) -> Result<GcReport, StoreError> {
        let disk_before = store.disk_usage()?;
        let (evicted, evicted_bytes) = self.evict(store, need)?;
        let (blobs_deleted, blob_bytes) = self.sweep(store)?;
        if blobs_deleted > 0 {
            store.compact_blobs()?;
        }
        let report = GcReport {
            evicted,
            evicted_bytes,
            blobs_deleted,
            blob_bytes,
            disk_before,
            disk_after: store.disk_usage()?,
        };
        if blobs_deleted > 0 {
            tracing::info!(
                evicted = report.evicted.len(),
                blobs = blobs_deleted,
                freed = blob_bytes,
                disk_after = report.disk_after,
                "garbage collected"
            );
        }
        Ok(report)
    }

    /// Whether the content held is over the quota.
    pub fn over_quota(&self) -> bool {
        self.max.is_some_and(|m| self.usage().used > m)
    }

    /// Pins or unpins a held bundle, durably. Blocking.
    pub fn set_pin(
        &self,
        store: &dyn Store,
        id: &BundleId,
        pin: Option<Pin>,
    ) -> Result<(), StoreError> {
        store.set_pin(id, pin)?;
        self.note_pin(id, pin);
        Ok(())
    }

    /// A held bundle's pin kind.
    pub fn pin_kind(&self, id: &BundleId) -> Option<PinKind> {
        self.held().get(id).and_then(|h| h.pin).map(|p| p.kind)
    }
}

pub use weft_protocol::units::{human, parse_size};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BundleCommit, MemStore};
    use weft_protocol::{FileEntry, LangText, Manifest, PublisherKey, VERSION};

    fn bundle(key: &PublisherKey, n: u8, size: usize) -> (SignedManifest, Vec<u8>) {
        let data = vec![n; size];
        let m = Manifest {
            v: VERSION,
            seq: 1,
            name: format!("b{n}"),
            tags: vec![],
            files: vec![FileEntry {
                hash: ContentHash::of(&data),
                path: "f".into(),
                size: size as u64,
            }],
            texts: vec![LangText {
                lang: "en".into(),
                title: "t".into(),
                description: String::new(),
            }],
            created: 1,
            licence: String::new(),
            publisher: key.id(),
        };
        (SignedManifest::sign(m, key).unwrap(), data)
    }

    fn commit(
        store: &dyn Store,
        s: &Storage,
        m: &SignedManifest,
        data: Vec<u8>,
        pin: Option<Pin>,
        t: u64,
    ) {
        store
            .commit_bundle(BundleCommit {
                id: m.id(),
                manifest: m.bytes().to_vec(),
                announcement: None,
                pin,
                blobs: vec![(ContentHash::of(&data), data)],
            })
            .unwrap();
        s.note_commit(m, pin, t);
    }

    #[test]
    fn eviction_takes_the_least_recently_used_cache_first_and_never_a_pin() {
        let store = MemStore::default();
        let s = Arc::new(Storage::load(&store, Some(3000)).unwrap());
        let key = PublisherKey::from_seed([1; 32]);
        let (b1, d1) = bundle(&key, 1, 1000);
        let (b2, d2) = bundle(&key, 2, 1000);
        let (b3, d3) = bundle(&key, 3, 1000);
        let (b4, d4) = bundle(&key, 4, 1000);
        commit(&store, &s, &b1, d1, Some(Pin::explicit(1)), 1);
        commit(&store, &s, &b2, d2, None, 2);
        commit(&store, &s, &b3, d3, None, 3);
        // b2 is used after b3: b3 is now the least recently used.
        s.touch(&store, &b2.id(), 100).unwrap();
        commit(&store, &s, &b4, d4, None, 4);
        assert!(s.over_quota());
        let r = s.gc(&store, 0).unwrap();
        assert_eq!(r.evicted, vec![b3.id()]);
        assert_eq!((r.blobs_deleted, r.blob_bytes), (1, 1000));
        assert!(!store.has_manifest(&b3.id()).unwrap());
        assert!(store.has_manifest(&b1.id()).unwrap());
        assert_eq!(s.usage().used, 3000);
        // Pins alone over the quota: the cache empties, the pin stays.
        let r = s.gc(&store, 5000).unwrap();
        assert_eq!(r.evicted.len(), 2);
        assert!(store.has_manifest(&b1.id()).unwrap());
        assert!(s.pins_over_quota(5000).is_some());
        assert!(s.check_room(2001).is_err());
    }

    #[test]
    fn a_sweep_keeps_protected_and_interrupted_fetch_blobs() {
        let store = MemStore::default();
        let s = Arc::new(Storage::load(&store, None).unwrap());
        let key = PublisherKey::from_seed([1; 32]);
        let (b1, d1) = bundle(&key, 1, 10);
        let (b2, d2) = bundle(&key, 2, 10);
        let orphan = ContentHash::of(b"orphan");
        let kept = ContentHash::of(b"kept");
        let h2 = ContentHash::of(&d2);
        store
            .put_blobs(&[
                (orphan, b"orphan".to_vec()),
                (kept, b"kept".to_vec()),
                (h2, d2),
            ])
            .unwrap();
        commit(&store, &s, &b1, d1.clone(), None, 1);
        // b2 is an interrupted fetch.
        let mut rec = vec![0u8];
        rec.extend_from_slice(b2.bytes());
        store.put_kv(CF_FETCHES, b2.id().as_bytes(), &rec).unwrap();
        let guard = s.protect([kept]);
        assert_eq!(s.sweep(&store).unwrap(), (1, 6));
        assert!(store.has_blob(&kept).unwrap() && store.has_blob(&h2).unwrap());
        assert!(store.has_blob(&ContentHash::of(&d1)).unwrap());
        drop(guard);
        assert_eq!(s.sweep(&store).unwrap().0, 1);
    }
}
