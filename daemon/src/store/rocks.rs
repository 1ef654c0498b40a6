//! The RocksDB engine (see the module docs of [`crate::store`]).

use std::path::Path;
use std::sync::Mutex;

use weft_protocol::{BundleId, ContentHash};

use super::*;

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
/// Memtable size of the chunks family; chunk values sit here until a
/// flush moves them to blob files.
pub const CHUNK_MEMTABLE_BYTES: usize = 64 << 20;
/// Bytes written to a file between background writeback requests.
pub const BYTES_PER_SYNC: u64 = 4 << 20;
/// Cap on all memtables together.
pub const TOTAL_MEMTABLE_BYTES: usize = 192 << 20;

/// Blob batches at least this large skip the write-ahead log (smaller ones
/// are logged: flushing for them would only make tiny files).
pub const UNLOGGED_MIN_BYTES: usize = 1 << 20;
/// Unlogged blob bytes after which the chunks family is flushed, so a
/// fetch killed part-way keeps all but this much of what it verified.
pub const UNLOGGED_FLUSH_BYTES: usize = 32 << 20;

/// RocksDB-backed store.
pub struct RocksStore {
    db: rocksdb::DB,
    /// Set after every unlogged write; cleared by the flush that follows.
    unlogged: std::sync::atomic::AtomicBool,
    /// Held across clearing `unlogged` and the flush, so a commit that
    /// finds it clear knows any flush that cleared it has finished.
    flush_lock: Mutex<()>,
    /// Unlogged bytes written since the last flush.
    unlogged_bytes: std::sync::atomic::AtomicUsize,
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
        let mut chunk_opts = small();
        // Chunks are large, written once and read whole: keep them in blob
        // files so compaction never rewrites them.
        chunk_opts.set_enable_blob_files(true);
        chunk_opts.set_min_blob_size(4096);
        chunk_opts.set_blob_file_size(256 << 20);
        // No blob garbage collection during ordinary compactions: it would
        // copy live chunks from old blob files to new ones while a fetch
        // writes (perf showed compaction threads rewriting chunk bytes).
        // Eviction turns it on for one compaction (`compact_blobs`).
        chunk_opts.set_enable_blob_gc(false);
        chunk_opts.set_write_buffer_size(CHUNK_MEMTABLE_BYTES);
        chunk_opts.set_max_write_buffer_number(3);
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
        Ok(Self {
            db,
            unlogged: std::sync::atomic::AtomicBool::new(false),
            flush_lock: Mutex::new(()),
            unlogged_bytes: std::sync::atomic::AtomicUsize::new(0),
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

    fn unlogged() -> rocksdb::WriteOptions {
        let mut w = rocksdb::WriteOptions::default();
        w.disable_wal(true);
        w
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
            .get_cf_opt(cf, hash.as_bytes(), &Self::chunk_reads())
        {
            Ok(Some(v)) if blake3::hash(&v).as_bytes() == hash.as_bytes() => return Ok(Some(v)),
            Ok(None) => return Ok(None),
            Ok(Some(_)) => "its bytes do not match its hash".to_string(),
            Err(e) if e.kind() == rocksdb::ErrorKind::Corruption => e.into_string(),
            Err(e) => return Err(io(e)),
        };
        tracing::error!(block = %hash, reason = %damage, "a stored block is damaged; deleting it so it is fetched again");
        self.db
            .delete_cf_opt(cf, hash.as_bytes(), &Self::synced())
            .map_err(io)?;
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
        let mut bytes = 0;
        for (h, b) in blobs {
            batch.put_cf(cf, h.as_bytes(), b);
            bytes += b.len();
        }
        if bytes < UNLOGGED_MIN_BYTES {
            return self.db.write(batch).map_err(io);
        }
        self.db.write_opt(batch, &Self::unlogged()).map_err(io)?;
        // Set after the write, so whoever clears it flushes this write too.
        self.unlogged
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let pending = self
            .unlogged_bytes
            .fetch_add(bytes, std::sync::atomic::Ordering::SeqCst)
            + bytes;
        if pending >= UNLOGGED_FLUSH_BYTES {
            self.flush_unlogged()?;
        }
        Ok(())
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
        // Chunks written without the log reach their synced blob files
        // before the manifest that refers to them is written.
        self.flush_unlogged()?;
        let mut batch = rocksdb::WriteBatch::default();
        for (h, b) in &c.blobs {
            batch.put_cf(chunks, h.as_bytes(), b);
        }
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
        let mut batch = rocksdb::WriteBatch::default();
        for cf in [CF_MANIFESTS, CF_PINS, CF_ACCESS, CF_FETCHES] {
            batch.delete_cf(self.cf(cf)?, id.as_bytes());
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
        let mut batch = rocksdb::WriteBatch::default();
        for h in hashes {
            // The size is read from the blob index, not the blob file.
            if let Some(v) = self
                .db
                .get_pinned_cf_opt(cf, h.as_bytes(), &Self::chunk_reads())
                .map_err(io)?
            {
                freed += v.len() as u64;
            }
            batch.delete_cf(cf, h.as_bytes());
        }
        self.db.write_opt(batch, &Self::synced()).map_err(io)?;
        Ok(freed)
    }

    /// Deleted chunks leave their bytes in blob files until a compaction
    /// with blob garbage collection rewrites the live blobs of the oldest
    /// files and drops the files. That is turned on for this one manual
    /// compaction of the chunks family (every blob file is eligible), then
    /// off again, so ordinary compactions during fetches never copy chunks.
    fn compact_blobs(&self) -> Result<(), StoreError> {
        let cf = self.cf(CF_CHUNKS)?;
        // Everything written so far must be in files to be compacted.
        let mut flush = rocksdb::FlushOptions::default();
        flush.set_wait(true);
        self.db.flush_cf_opt(cf, &flush).map_err(io)?;
        self.db
            .set_options_cf(
                cf,
                &[
                    ("enable_blob_garbage_collection", "true"),
                    ("blob_garbage_collection_age_cutoff", "1.0"),
                ],
            )
            .map_err(io)?;
        let mut opts = rocksdb::CompactOptions::default();
        opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &opts);
        self.db
            .set_options_cf(cf, &[("enable_blob_garbage_collection", "false")])
            .map_err(io)
    }

    fn disk_usage(&self) -> Result<u64, StoreError> {
        let mut total = 0;
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
    /// Flushes the chunks family if unlogged writes are pending.
    fn flush_unlogged(&self) -> Result<(), StoreError> {
        let chunks = self.cf(CF_CHUNKS)?;
        let _flushing = self.flush_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self
            .unlogged
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            self.unlogged_bytes
                .store(0, std::sync::atomic::Ordering::SeqCst);
            let mut flush = rocksdb::FlushOptions::default();
            flush.set_wait(true);
            if let Err(e) = self.db.flush_cf_opt(chunks, &flush) {
                self.unlogged
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                return Err(io(e));
            }
        }
        Ok(())
    }

    fn kv(&self, cf: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        if !KV_FAMILIES.contains(&cf) {
            return Err(StoreError::Io(format!("{cf} is not a key-value family")));
        }
        self.cf(cf)
    }
}
