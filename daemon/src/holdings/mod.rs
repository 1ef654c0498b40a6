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

use weft_protocol::chunk::{layout, Layout};
use weft_protocol::{BundleId, ContentHash, PublisherId, SignedManifest};

mod gc;
#[cfg(test)]
mod tests;

use tokio::sync::mpsc;
use weft_protocol::SignedAnnouncement;

pub use weft_protocol::api::{CheckReport, GcReport};

use crate::catalog::Catalog;
use crate::store::{
    chunks_of, BundleCommit, FetchRecord, Pin, PinKind, Store, StoreError, CF_ACCESS, CF_FETCHES,
};

/// A last-use time is written again only when it is older than this.
pub const TOUCH_EVERY_SECS: u64 = 60;
/// Blobs deleted per batch by a sweep.
const SWEEP_BATCH: usize = 4096;
/// Bundles evicted in one synced batch.
const EVICT_BATCH: usize = 4096;

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

/// Holdings figures, for `weft status`.
#[derive(Debug, Clone, Default)]
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

/// Holdings, quota and the guard that keeps GC off chunks in use.
pub struct Holdings {
    /// Told which bundles are pinned explicitly, and of committed
    /// announcements.
    catalog: Arc<Catalog>,
    /// Bundles to provide in the DHT (see [`crate::ops::provide`]).
    provide: mpsc::Sender<BundleId>,
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
    storage: Arc<Holdings>,
    hashes: Vec<ContentHash>,
}

impl Protected {
    /// Protects one more hash. Call before checking or writing the blob.
    pub fn add(&mut self, h: ContentHash) {
        self.storage.protect_one(h);
        self.hashes.push(h);
    }

    /// Protects more hashes.
    pub fn extend(&mut self, hashes: impl IntoIterator<Item = ContentHash>) {
        for h in hashes {
            self.add(h);
        }
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
    storage: Arc<Holdings>,
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

impl Holdings {
    /// Reads what the store holds, and marks explicitly pinned bundles in
    /// the catalog. Committed bundles are announced to the DHT through
    /// `provide`. Blocking.
    pub fn load(
        store: &dyn Store,
        max: Option<u64>,
        catalog: Arc<Catalog>,
        provide: mpsc::Sender<BundleId>,
    ) -> Result<Self, StoreError> {
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
            if pin.is_some_and(|p| p.kind == PinKind::Explicit) {
                catalog.set_exempt(id, true);
            }
            catalog.set_held(id, Some(crate::catalog::held_by(&m)));
            held.insert(id, Self::entry(&m, pin, used));
        }
        let pinned = pinned_publishers(&held);
        catalog.trust().update(|t| t.pinned = pinned);
        Ok(Self {
            catalog,
            provide,
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

    /// Tells the trust tiers whose bundles the user pins now.
    fn tell_trust(&self) {
        let pinned = pinned_publishers(&self.held());
        self.catalog.trust().update(|t| t.pinned = pinned);
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<BundleId, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The quota.
    pub fn max(&self) -> Option<u64> {
        self.max
    }

    /// Commits a complete bundle, the one way a bundle becomes held: the
    /// store write (one batch), then what the node holds, the catalog (an
    /// explicit pin is listed even when retracted; the bundle's own
    /// announcement, if it comes with one, is indexed) and the DHT (a
    /// provider record is queued). `manifest` is `commit.manifest`,
    /// decoded. Blocking.
    pub fn commit(
        &self,
        store: &dyn Store,
        commit: BundleCommit,
        manifest: &SignedManifest,
        announcement: Option<&SignedAnnouncement>,
        now: u64,
    ) -> Result<(), StoreError> {
        let (id, pin) = (commit.id, commit.pin);
        store.commit_bundle(commit)?;
        let mut h = Self::entry(manifest, pin, now);
        h.stored_used = 0;
        let before = self.held().insert(id, h);
        self.catalog
            .set_held(id, Some(crate::catalog::held_by(manifest)));
        self.catalog.settle(store, manifest)?;
        self.catalog
            .set_exempt(id, pin.is_some_and(|p| p.kind == PinKind::Explicit));
        if let Some(a) = announcement {
            self.catalog.note_committed(a);
        }
        // Only an explicit pin, new or gone, changes whom the user pinned
        // from; reading every held bundle on each mirrored commit would not.
        if explicit(pin) || before.is_some_and(|h| explicit(h.pin)) {
            self.tell_trust();
        }
        if self.provide.try_send(id).is_err() {
            // The next reprovide round tells the DHT instead.
            tracing::debug!(bundle = %id, "provide queue full");
        }
        Ok(())
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
        self.forget(id);
        Ok(())
    }

    /// Forgets a bundle the store no longer holds.
    fn forget(&self, id: &BundleId) {
        let gone = self.held().remove(id);
        self.catalog.set_held(*id, None);
        self.catalog.set_exempt(*id, false);
        if gone.is_some_and(|h| explicit(h.pin)) {
            self.tell_trust();
        }
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
        if let Some(h) = self.held().get_mut(id) {
            h.pin = pin;
        }
        self.catalog
            .set_exempt(*id, pin.is_some_and(|p| p.kind == PinKind::Explicit));
        self.tell_trust();
        Ok(())
    }

    /// A held bundle's pin kind.
    pub fn pin_kind(&self, id: &BundleId) -> Option<PinKind> {
        self.held().get(id).and_then(|h| h.pin).map(|p| p.kind)
    }
}

/// Whether a pin is the user's own.
fn explicit(pin: Option<Pin>) -> bool {
    pin.is_some_and(|p| p.kind == PinKind::Explicit)
}

/// Publishers of the bundles the user pinned explicitly: trusted
/// ([`crate::trust`]).
fn pinned_publishers(held: &HashMap<BundleId, Held>) -> std::collections::BTreeSet<PublisherId> {
    held.values()
        .filter(|h| h.pin.is_some_and(|p| p.kind == PinKind::Explicit))
        .map(|h| h.publisher)
        .collect()
}

pub use weft_protocol::units::{human, parse_size};
