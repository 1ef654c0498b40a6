//! Giving space back: eviction down to the quota, sweeps of blocks that
//! nothing needs, `weft check`, and repair of bundles whose blocks were
//! found damaged.

use super::*;

impl Holdings {
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
        let record = FetchRecord::encode(pin, m.bytes());
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
            used -= size;
            bytes += size;
            out.push((id, size));
        }
        // One synced batch for the whole round, not one per bundle.
        for batch in out.chunks(EVICT_BATCH) {
            let ids: Vec<BundleId> = batch.iter().map(|(id, _)| *id).collect();
            store.delete_bundles(&ids)?;
            for (id, size) in batch {
                self.forget(id);
                tracing::info!(bundle = %id, size, "evicted from the cache (least recently used)");
            }
        }
        Ok((out.into_iter().map(|(id, _)| id).collect(), bytes))
    }
}

/// Every blob a manifest needs that can be known from the store: its
/// files' chunk indexes and, where an index is stored, the chunks it lists.
/// Adds the blocks a bundle needs to `out`. False when a chunk index is
/// missing or unreadable, so the chunks it lists are unknown.
pub(super) fn needed_blobs(
    store: &dyn Store,
    m: &SignedManifest,
    out: &mut HashSet<ContentHash>,
) -> bool {
    let mut known = true;
    for f in &m.manifest().files {
        if layout(f.size) == Layout::Indexed {
            out.insert(f.hash);
        }
        let fc = match chunks_of(store, f) {
            Ok(fc) => fc,
            Err(crate::store::ChunkListError::Missing { missing, partial }) => {
                // An interrupted fetch may hold some of a file's index
                // pages: they, and the chunks they list, stay.
                out.extend(missing.into_iter().map(|(h, _)| h));
                known = false;
                partial
            }
            Err(_) => {
                known = false;
                continue;
            }
        };
        out.extend(fc.indexes.iter().map(|(h, _)| *h));
        out.extend(fc.chunks.iter().map(|c| c.hash));
    }
    known
}

/// Adds the blocks interrupted fetches (records of the fetches family) need.
pub(super) fn add_fetch_records(
    store: &dyn Store,
    records: Vec<crate::store::KeyValue>,
    live: &mut HashSet<ContentHash>,
) {
    for (_, v) in records {
        if let Ok(m) = SignedManifest::decode_stored(FetchRecord::manifest_of(&v)) {
            needed_blobs(store, &m, live);
        }
    }
}
