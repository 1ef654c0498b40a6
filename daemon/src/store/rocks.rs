//! The RocksDB engine (see the module docs of [`crate::store`]).

use std::path::Path;
use std::sync::Mutex;

use weft_protocol::{BundleId, ContentHash};

use super::segments::{Loc, Segments, INLINE_MIN};
use super::*;

/// The folder, inside the store's, of the segments.
pub const SEGMENTS_DIR: &str = "blocks";

fn io(e: rocksdb::Error) -> StoreError {
    let msg = e.into_string();
    if msg.contains("No space left on device") {
        return StoreError::Io(format!(
            "the disk holding the data dir is full; free some space and try again ({msg})"
        ));
    }
    StoreError::Io(msg)
}

fn bundle_key(key: &[u8]) -> Option<BundleId> {
    BundleId::from_slice(key).ok()
}

/// Block cache shared by every column family.
pub const BLOCK_CACHE_BYTES: usize = 8 << 20;
/// Memtable size of the small families (manifests, catalog, pins).
pub const SMALL_MEMTABLE_BYTES: usize = 4 << 20;
/// Bytes written to a file between background writeback requests.
pub const BYTES_PER_SYNC: u64 = 4 << 20;
/// Cap on all memtables together.
pub const TOTAL_MEMTABLE_BYTES: usize = 192 << 20;

/// The first byte of a chunks-family value: the blob's bytes follow.
const INLINE: u8 = 0;
/// The first byte of a chunks-family value: a [`Loc`] in the segments
/// follows.
const IN_SEGMENT: u8 = 1;

fn seg_io(e: std::io::Error) -> StoreError {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        return StoreError::Io(format!(
            "the disk holding the data dir is full; free some space and try again ({e})"
        ));
    }
    StoreError::Io(format!("block segments: {e}"))
}

/// RocksDB-backed store, with large blobs in segment files beside it.
pub struct RocksStore {
    db: rocksdb::DB,
    /// Large blobs ([`Segments`]), in `blocks/` inside the store folder.
    segments: Segments,
    /// Blobs that failed their hash check on read (see [`Store::take_damaged`]).
    damaged: Mutex<Vec<ContentHash>>,
}

impl RocksStore {
    /// Opens or creates the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_open_files(256);
        opts.set_keep_log_file_num(4);
        // One small block cache for every family (each would otherwise get
        // its own 32 MiB), and a cap on all memtables together: an idle
        // laptop node should stay in tens of MB.
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        opts.set_db_write_buffer_size(TOTAL_MEMTABLE_BYTES);
        // Start writeback while a flush is still writing, so the sync at its
        // end does not wait for the whole file at once.
        opts.set_bytes_per_sync(BYTES_PER_SYNC);
        let small = || {
            let mut o = rocksdb::Options::default();
            let mut t = rocksdb::BlockBasedOptions::default();
            t.set_block_cache(&cache);
            o.set_block_based_table_factory(&t);
            o.set_write_buffer_size(SMALL_MEMTABLE_BYTES);
            o
        };
        // The chunks family holds small blobs and the places of large ones
        // (in the segments), so compaction never rewrites a large blob.
        let chunk_opts = small();
        let cfs = vec![
            rocksdb::ColumnFamilyDescriptor::new(CF_MANIFESTS, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_CHUNKS, chunk_opts),
            rocksdb::ColumnFamilyDescriptor::new(CF_CATALOG, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_PINS, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_PEERS, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_RULES, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_ACCESS, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_FETCHES, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_TOMBSTONES, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_NAMES, small()),
            rocksdb::ColumnFamilyDescriptor::new(CF_GROUP_KEYS, small()),
        ];
        let db = rocksdb::DB::open_cf_descriptors(&opts, dir, cfs).map_err(|e| {
            let reason = e.into_string();
            if reason.contains("lock") || reason.contains("LOCK") {
                StoreError::Locked(dir.to_path_buf())
            } else {
                StoreError::Open {
                    path: dir.to_path_buf(),
                    reason,
                }
            }
        })?;
        let segments = Segments::open(&dir.join(SEGMENTS_DIR)).map_err(|e| StoreError::Open {
            path: dir.join(SEGMENTS_DIR),
            reason: e.to_string(),
        })?;
        Ok(Self {
            db,
            segments,
            damaged: Mutex::new(Vec::new()),
        })
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::Io(format!("column family {name} is missing")))
    }

    fn synced() -> rocksdb::WriteOptions {
        let mut w = rocksdb::WriteOptions::default();
        w.set_sync(true);
        w
    }

    /// Whether `key` is in family `cf`, without copying its value (and
    /// without reading at all when the bloom filter rules it out).
    fn has(&self, cf: &str, key: &[u8]) -> Result<bool, StoreError> {
        let cf = self.cf(cf)?;
        if !self.db.key_may_exist_cf(cf, key) {
            return Ok(false);
        }
        Ok(self.db.get_pinned_cf(cf, key).map_err(io)?.is_some())
    }

    /// Reads of chunks: RocksDB's own blob checksums are not checked, as a
    /// failed check would stop a scan of the whole family at the first bad
    /// block. Every chunk is checked against its blake3 hash instead
    /// ([`Store::get_blob`]), which catches the same damage and more.
    fn chunk_reads() -> rocksdb::ReadOptions {
        let mut r = rocksdb::ReadOptions::default();
        r.set_verify_checksums(false);
        r
    }

    /// A blob's bytes from its chunks-family value, unchecked; or why they
    /// cannot be had.
    fn blob_bytes(&self, v: &[u8]) -> Result<Vec<u8>, String> {
        match v.split_first() {
            Some((&INLINE, b)) => Ok(b.to_vec()),
            Some((&IN_SEGMENT, l)) => {
                let loc = Loc::decode(l).ok_or("its record is damaged")?;
                self.segments
                    .read(loc)
                    .map_err(|e| format!("its segment cannot be read: {e}"))
            }
            _ => Err("its record is damaged".into()),
        }
    }

    /// The record of a blob: inline bytes, or a place in a segment.
    fn blob_record(&self, b: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut v = Vec::with_capacity(1 + b.len().min(INLINE_MIN));
        if b.len() >= INLINE_MIN {
            let loc = self.segments.append(b).map_err(seg_io)?;
            v.push(IN_SEGMENT);
            v.extend_from_slice(&loc.encode());
        } else {
            v.push(INLINE);
            v.extend_from_slice(b);
        }
        Ok(v)
    }

    /// The segment place in a chunks-family value, if it has one.
    fn loc_of(v: &[u8]) -> Option<Loc> {
        match v.split_first() {
            Some((&IN_SEGMENT, l)) => Loc::decode(l),
            _ => None,
        }
    }

    /// Bytes a chunks-family value stands for.
    fn blob_len(v: &[u8]) -> u64 {
        match Self::loc_of(v) {
            Some(l) => l.len as u64,
            None => v.len().saturating_sub(1) as u64,
        }
    }

    fn count(&self, cf: &str) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut it = self.db.raw_iterator_cf(self.cf(cf)?);
        it.seek_to_first();
        while it.valid() {
            n += 1;
            it.next();
        }
        it.status().map_err(io)?;
        Ok(n)
    }
}

impl Store for RocksStore {
    fn get_blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        let cf = self.cf(CF_CHUNKS)?;
        // Every read is checked against the hash it is stored under: a disk
        // that rots must not make this node serve or write out bad bytes.
        let damage = match self
            .db
            .get_pinned_cf_opt(cf, hash.as_bytes(), &Self::chunk_reads())
        {
            Ok(Some(v)) => match self.blob_bytes(&v) {
                Ok(b) if blake3::hash(&b).as_bytes() == hash.as_bytes() => return Ok(Some(b)),
                Ok(_) => "its bytes do not match its hash".to_string(),
                Err(why) => why,
            },
            Ok(None) => return Ok(None),
            Err(e) if e.kind() == rocksdb::ErrorKind::Corruption => e.into_string(),
            Err(e) => return Err(io(e)),
        };
        tracing::error!(block = %hash, reason = %damage, "a stored block is damaged; deleting it so it is fetched again");
        self.delete_blobs(std::slice::from_ref(hash))?;
        self.damaged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(*hash);
        Ok(None)
    }

    fn take_damaged(&self) -> Vec<ContentHash> {
        std::mem::take(&mut *self.damaged.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn reopen_bundle(&self, id: &BundleId, record: &[u8]) -> Result<(), StoreError> {
        let mut batch = rocksdb::WriteBatch::default();
        batch.delete_cf(self.cf(CF_MANIFESTS)?, id.as_bytes());
        batch.put_cf(self.cf(CF_FETCHES)?, id.as_bytes(), record);
        self.db.write_opt(batch, &Self::synced()).map_err(io)
    }

    fn has_blob(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        let cf = self.cf(CF_CHUNKS)?;
        if !self.db.key_may_exist_cf(cf, hash.as_bytes()) {
            return Ok(false);
        }
        Ok(self
            .db
            .get_pinned_cf_opt(cf, hash.as_bytes(), &Self::chunk_reads())
            .map_err(io)?
            .is_some())
    }

    fn put_blobs(&self, blobs: &[(ContentHash, Vec<u8>)]) -> Result<(), StoreError> {
        let cf = self.cf(CF_CHUNKS)?;
        let mut batch = rocksdb::WriteBatch::default();
        for (h, b) in blobs {
            // A large blob already here is not appended again.
            if b.len() >= INLINE_MIN && self.has_blob(h)? {
                continue;
            }
            batch.put_cf(cf, h.as_bytes(), self.blob_record(b)?);
        }
        // Logged but not synced: a commit syncs the segments, then the log.
        self.db.write(batch).map_err(io)
    }

    fn get_manifest(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(CF_MANIFESTS)?, id.as_bytes())
            .map_err(io)
    }

    fn has_manifest(&self, id: &BundleId) -> Result<bool, StoreError> {
        self.has(CF_MANIFESTS, id.as_bytes())
    }

    fn bundle_ids(&self) -> Result<Vec<BundleId>, StoreError> {
        let mut out = Vec::new();
        let mut it = self.db.raw_iterator_cf(self.cf(CF_MANIFESTS)?);
        it.seek_to_first();
        while let Some(k) = it.key() {
            if let Some(id) = bundle_key(k) {
                out.push(id);
            }
            it.next();
        }
        it.status().map_err(io)?;
        Ok(out)
    }

    fn commit_bundle(&self, c: BundleCommit) -> Result<(), StoreError> {
        let chunks = self.cf(CF_CHUNKS)?;
        let mut batch = rocksdb::WriteBatch::default();
        for (h, b) in &c.blobs {
            batch.put_cf(chunks, h.as_bytes(), self.blob_record(b)?);
        }
        // Every block appended so far reaches the disk before the manifest
        // that refers to it; the synced batch below syncs the log, and with
        // it the records of blocks written earlier.
        self.segments.sync().map_err(seg_io)?;
        batch.put_cf(self.cf(CF_MANIFESTS)?, c.id.as_bytes(), &c.manifest);
        batch.delete_cf(self.cf(CF_FETCHES)?, c.id.as_bytes());
        if let Some((key, a)) = &c.announcement {
            batch.put_cf(self.cf(CF_CATALOG)?, key.as_bytes(), a);
        }
        if let Some(p) = c.pin {
            batch.put_cf(self.cf(CF_PINS)?, c.id.as_bytes(), p.encode());
        }
        self.db.write_opt(batch, &Self::synced()).map_err(io)
    }

    fn get_announcement(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(CF_CATALOG)?, id.as_bytes())
            .map_err(io)
    }

    fn put_announcement(&self, id: &BundleId, bytes: &[u8]) -> Result<bool, StoreError> {
        if self.has(CF_CATALOG, id.as_bytes())? {
            return Ok(false);
        }
        let cf = self.cf(CF_CATALOG)?;
        let mut batch = rocksdb::WriteBatch::default();
        batch.put_cf(cf, id.as_bytes(), bytes);
        self.db.write(batch).map_err(io)?;
        Ok(true)
    }

    fn delete_announcement(&self, id: &BundleId) -> Result<(), StoreError> {
        let mut batch = rocksdb::WriteBatch::default();
        batch.delete_cf(self.cf(CF_CATALOG)?, id.as_bytes());
        self.db.write(batch).map_err(io)
    }

    fn for_each_announcement(&self, f: &mut dyn FnMut(BundleId, &[u8])) -> Result<(), StoreError> {
        let mut it = self.db.raw_iterator_cf(self.cf(CF_CATALOG)?);
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if let Some(id) = bundle_key(k) {
                f(id, v);
            }
            it.next();
        }
        it.status().map_err(io)
    }

    fn set_pin(&self, id: &BundleId, pin: Option<Pin>) -> Result<(), StoreError> {
        let cf = self.cf(CF_PINS)?;
        let mut batch = rocksdb::WriteBatch::default();
        match pin {
            Some(p) => batch.put_cf(cf, id.as_bytes(), p.encode()),
            None => batch.delete_cf(cf, id.as_bytes()),
        }
        self.db.write_opt(batch, &Self::synced()).map_err(io)
    }

    fn pins(&self) -> Result<Vec<(BundleId, Pin)>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_PINS)?, rocksdb::IteratorMode::Start)
        {
            let (k, v) = item.map_err(io)?;
            if let Some(id) = bundle_key(&k) {
                out.push((id, Pin::decode(&v)));
            }
        }
        Ok(out)
    }

    fn get_pin(&self, id: &BundleId) -> Result<Option<Pin>, StoreError> {
        Ok(self
            .db
            .get_pinned_cf(self.cf(CF_PINS)?, id.as_bytes())
            .map_err(io)?
            .map(|v| Pin::decode(&v)))
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        let catalog_estimate = self
            .db
            .property_int_value_cf(self.cf(CF_CATALOG)?, "rocksdb.estimate-num-keys")
            .map_err(io)?
            .unwrap_or(0);
        Ok(StoreCounts {
            bundles: self.count(CF_MANIFESTS)?,
            pins: self.count(CF_PINS)?,
            catalog_estimate,
        })
    }

    fn put_kv(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db.put_cf(self.kv(cf)?, key, value).map_err(io)
    }

    fn delete_kv(&self, cf: &str, key: &[u8]) -> Result<(), StoreError> {
        self.db.delete_cf(self.kv(cf)?, key).map_err(io)
    }

    fn get_kv(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.kv(cf)?, key).map_err(io)
    }

    fn list_kv(&self, cf: &str) -> Result<Vec<KeyValue>, StoreError> {
        self.db
            .iterator_cf(self.kv(cf)?, rocksdb::IteratorMode::Start)
            .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io))
            .collect()
    }

    fn delete_bundle(&self, id: &BundleId) -> Result<(), StoreError> {
        self.delete_bundles(std::slice::from_ref(id))
    }

    fn delete_bundles(&self, ids: &[BundleId]) -> Result<(), StoreError> {
        let mut batch = rocksdb::WriteBatch::default();
        for id in ids {
            for cf in [CF_MANIFESTS, CF_PINS, CF_ACCESS, CF_FETCHES] {
                batch.delete_cf(self.cf(cf)?, id.as_bytes());
            }
        }
        self.db.write_opt(batch, &Self::synced()).map_err(io)
    }

    fn for_each_blob_key(&self, f: &mut dyn FnMut(ContentHash)) -> Result<(), StoreError> {
        let mut it = self
            .db
            .raw_iterator_cf_opt(self.cf(CF_CHUNKS)?, Self::chunk_reads());
        it.seek_to_first();
        while let Some(k) = it.key() {
            if let Ok(h) = ContentHash::from_slice(k) {
                f(h);
            }
            it.next();
        }
        it.status().map_err(io)
    }

    fn delete_blobs(&self, hashes: &[ContentHash]) -> Result<u64, StoreError> {
        let cf = self.cf(CF_CHUNKS)?;
        let mut freed = 0u64;
        let mut holes = Vec::new();
        let mut batch = rocksdb::WriteBatch::default();
        for h in hashes {
            if let Some(v) = self
                .db
                .get_pinned_cf_opt(cf, h.as_bytes(), &Self::chunk_reads())
                .map_err(io)?
            {
                freed += Self::blob_len(&v);
                holes.extend(Self::loc_of(&v));
            }
            batch.delete_cf(cf, h.as_bytes());
        }
        // The records go first, so no record ever points at a hole.
        self.db.write_opt(batch, &Self::synced()).map_err(io)?;
        for loc in holes {
            self.segments.punch(loc).map_err(seg_io)?;
        }
        Ok(freed)
    }

    /// Nothing to do: deleted large blobs gave their space back when they
    /// were deleted (holes in their segments), and RocksDB's own background
    /// compactions reclaim small ones. A forced compaction here would
    /// rewrite every small blob still held (the hub bench measured 195 MiB
    /// written to evict a tenth of 100,000 small bundles).
    fn compact_blobs(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn reclaim_debris(&self) -> Result<u64, StoreError> {
        let mut live = Vec::new();
        let mut it = self
            .db
            .raw_iterator_cf_opt(self.cf(CF_CHUNKS)?, Self::chunk_reads());
        it.seek_to_first();
        while let Some(v) = it.value() {
            live.extend(Self::loc_of(v));
            it.next();
        }
        it.status().map_err(io)?;
        self.segments.reclaim(live).map_err(seg_io)
    }

    fn disk_usage(&self) -> Result<u64, StoreError> {
        let mut total = self.segments.disk_usage().map_err(seg_io)?;
        for name in [CF_MANIFESTS, CF_CHUNKS, CF_CATALOG, CF_PINS]
            .into_iter()
            .chain(KV_FAMILIES)
        {
            let cf = self.cf(name)?;
            for prop in [
                "rocksdb.total-sst-files-size",
                "rocksdb.total-blob-file-size",
                "rocksdb.cur-size-all-mem-tables",
            ] {
                total += self
                    .db
                    .property_int_value_cf(cf, prop)
                    .map_err(io)?
                    .unwrap_or(0);
            }
        }
        Ok(total)
    }
}

impl RocksStore {
    fn kv(&self, cf: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        if !KV_FAMILIES.contains(&cf) {
            return Err(StoreError::Io(format!("{cf} is not a key-value family")));
        }
        self.cf(cf)
    }
}
