//! The node's storage, behind a small synchronous trait.
//!
//! [`RocksStore`] is the real engine: one RocksDB with a column family per
//! kind of record, every logical write in a single `WriteBatch`, and large
//! blobs (64 KiB and more: the chunks of all but small files) in
//! append-only segment files beside it (`segments`), where RocksDB keeps
//! only their place. [`MemStore`] exists for unit tests only. Callers run
//! store methods on `spawn_blocking`, never on the async runtime's threads.
//!
//! Invariant: a manifest is written only in the same batch that completes
//! its bundle, after every chunk and index it lists is stored. So a manifest
//! in the `manifests` family means "this bundle is here in full", and a crash
//! can leave at most unreferenced chunks behind, never a half bundle.
//!
//! Blobs are written once: large ones to a segment, unsynced, with their
//! record in RocksDB's log, unsynced; small ones in the log. Before the
//! synced batch that writes a manifest, [`Store::commit_bundle`] syncs every
//! segment written since the last commit, and the batch syncs the log. A
//! crash (or a power cut) can lose blocks written since the last commit,
//! which only means fetching or hashing them again; it cannot lose a block
//! of an acknowledged bundle. Deleting a large blob punches a hole over it:
//! eviction costs in proportion to what it removes and rewrites nothing.

use std::path::PathBuf;

use weft_protocol::{BundleId, ContentHash};

mod mem;
mod records;
mod rocks;
mod segments;
#[cfg(test)]
mod tests;

pub use mem::MemStore;
pub use records::{FetchRecord, Pin, PinKind};
pub use rocks::{
    RocksStore, BLOCK_CACHE_BYTES, BYTES_PER_SYNC, SEGMENTS_DIR, SMALL_MEMTABLE_BYTES,
    TOTAL_MEMTABLE_BYTES,
};
pub use segments::{start_writeback, INLINE_MIN, SEGMENT_BYTES, WRITEBACK_BYTES};

/// Column family: BundleId -> signed manifest bytes, for complete bundles.
pub const CF_MANIFESTS: &str = "manifests";
/// Column family: ContentHash -> chunk or chunk-index bytes.
pub const CF_CHUNKS: &str = "chunks";
/// Column family: entry key -> signed catalog entry bytes (announcements
/// under their claim key, retractions under the hash of their bytes).
pub const CF_CATALOG: &str = "catalog";
/// Column family: BundleId -> pin time (u64 seconds, big endian).
pub const CF_PINS: &str = "pins";
/// Column family: PeerId bytes -> peer book entry (see `peerbook`).
pub const CF_PEERS: &str = "peers";
/// Column family: follow and block rules (see `crate::rules`), rule text -> empty.
pub const CF_RULES: &str = "rules";
/// Column family: BundleId -> last use (u64 seconds, big endian), for LRU.
pub const CF_ACCESS: &str = "access";
/// Column family: BundleId -> interrupted fetch (pin kind byte + signed
/// manifest), so it resumes after a restart and GC keeps its chunks.
pub const CF_FETCHES: &str = "fetches";
/// Column family: entry key of a claim proven false by a manifest ->
/// empty, so catch-up never brings it back.
pub const CF_TOMBSTONES: &str = "tombstones";

/// Column family: publisher id -> petname (UTF-8), see `crate::names`.
pub const CF_NAMES: &str = "names";

/// Column family: group id and epoch (8 bytes, big-endian) -> that
/// epoch's 32-byte secret, see `crate::groups`.
pub const CF_GROUP_KEYS: &str = "group_keys";

/// The small key-value families reached through [`Store::put_kv`] and
/// friends.
pub const KV_FAMILIES: [&str; 7] = [
    CF_PEERS,
    CF_RULES,
    CF_ACCESS,
    CF_FETCHES,
    CF_TOMBSTONES,
    CF_NAMES,
    CF_GROUP_KEYS,
];

/// Why a file's chunk list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChunkListError {
    /// The file's chunk index (its root, or some of its pages) is not
    /// stored.
    #[error("the file's chunk index is missing")]
    Missing {
        /// The index blobs not stored, and what each is.
        missing: Vec<(ContentHash, weft_protocol::chunk::Expect)>,
        /// What is known without them.
        partial: weft_protocol::chunk::FileChunks,
    },
    /// The stored index does not parse against the file's hash and size.
    #[error("the file's chunk index is damaged: {0}")]
    Damaged(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every blob of one file: its stored index blobs and its chunks in order
/// (with offsets and lengths); from its hash alone when it is one chunk.
/// The one place a file's chunk list is made. Blocking.
pub fn chunks_of(
    store: &dyn Store,
    f: &weft_protocol::FileEntry,
) -> Result<weft_protocol::chunk::FileChunks, ChunkListError> {
    use weft_protocol::chunk::{resolve_file, ResolveError};
    resolve_file(&f.hash, f.size, |h| store.get_blob(h)).map_err(|e| match e {
        ResolveError::Missing { missing, partial } => ChunkListError::Missing { missing, partial },
        ResolveError::Damaged(e) => ChunkListError::Damaged(e.to_string()),
        ResolveError::Read(e) => ChunkListError::Store(e),
    })
}

/// A raw key and value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// A storage failure. Carries the engine's message, never its type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store.
    #[error("the store at {0} is in use by another weftd; stop it or pick another --data-dir")]
    Locked(PathBuf),
    /// The store could not be opened.
    #[error("cannot open the store at {path}: {reason}")]
    Open {
        /// Where.
        path: PathBuf,
        /// The engine's words.
        reason: String,
    },
    /// A read or write failed.
    #[error("storage error: {0}")]
    Io(String),
}

/// Everything that makes a bundle complete, written at once.
#[derive(Debug, Clone)]
pub struct BundleCommit {
    /// The bundle.
    pub id: BundleId,
    /// Its signed manifest bytes.
    pub manifest: Vec<u8>,
    /// Its signed announcement, when this node has one: its entry key
    /// (the claim key) and bytes.
    pub announcement: Option<(BundleId, Vec<u8>)>,
    /// The pin, if the bundle is to be pinned.
    pub pin: Option<Pin>,
    /// Blobs still to be written with it (the last few chunks).
    pub blobs: Vec<(ContentHash, Vec<u8>)>,
}

/// Record counts, for `weft status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StoreCounts {
    /// Complete bundles held.
    pub bundles: u64,
    /// Pins.
    pub pins: u64,
    /// Catalog entries, estimated without reading them (the catalog index
    /// has the exact count once loaded).
    pub catalog_estimate: u64,
}

/// The operations the daemon needs from storage.
pub trait Store: Send + Sync + 'static {
    /// A chunk or index by hash. Its bytes are checked against `hash` on
    /// every read (a blob that does not match is damaged: see
    /// [`Store::take_damaged`]), so callers need not hash them again; they
    /// still check the length their manifest states.
    fn get_blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError>;
    /// Blobs found damaged on disk since the last call. A damaged blob is
    /// deleted when it is read and the read answers "not here", so it is
    /// never served or written out; the keeper fetches it again.
    fn take_damaged(&self) -> Vec<ContentHash> {
        Vec::new()
    }
    /// Turns a complete bundle back into an interrupted fetch, in one synced
    /// batch: its manifest moves to the fetches family (`record` is the
    /// fetches value) and its pin stays, so the keeper fetches what is
    /// missing and completes it again.
    fn reopen_bundle(&self, id: &BundleId, record: &[u8]) -> Result<(), StoreError>;
    /// Whether a blob is present.
    fn has_blob(&self, hash: &ContentHash) -> Result<bool, StoreError>;
    /// Writes blobs in one batch. The caller has verified them.
    fn put_blobs(&self, blobs: &[(ContentHash, Vec<u8>)]) -> Result<(), StoreError>;
    /// The signed manifest of a complete bundle.
    fn get_manifest(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Whether a bundle is complete here.
    fn has_manifest(&self, id: &BundleId) -> Result<bool, StoreError>;
    /// Ids of every complete bundle held.
    fn bundle_ids(&self) -> Result<Vec<BundleId>, StoreError>;
    /// Completes a bundle in one synced batch.
    fn commit_bundle(&self, commit: BundleCommit) -> Result<(), StoreError>;
    /// A catalog entry.
    fn get_announcement(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Adds a verified announcement; returns false if it was already there.
    fn put_announcement(&self, id: &BundleId, bytes: &[u8]) -> Result<bool, StoreError>;
    /// Removes a catalog entry (one found to contradict its manifest).
    fn delete_announcement(&self, id: &BundleId) -> Result<(), StoreError>;
    /// Calls `f` with every catalog entry, in id order.
    fn for_each_announcement(&self, f: &mut dyn FnMut(BundleId, &[u8])) -> Result<(), StoreError>;
    /// Sets or clears a pin, in one synced write.
    fn set_pin(&self, id: &BundleId, pin: Option<Pin>) -> Result<(), StoreError>;
    /// Pinned bundles with their pins.
    fn pins(&self) -> Result<Vec<(BundleId, Pin)>, StoreError>;
    /// A bundle's pin.
    fn get_pin(&self, id: &BundleId) -> Result<Option<Pin>, StoreError>;
    /// Whether a bundle is pinned.
    fn is_pinned(&self, id: &BundleId) -> Result<bool, StoreError> {
        Ok(self.get_pin(id)?.is_some())
    }
    /// Record counts.
    fn counts(&self) -> Result<StoreCounts, StoreError>;
    /// Writes one entry of a small family ([`KV_FAMILIES`]).
    fn put_kv(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Deletes one entry of a small family.
    fn delete_kv(&self, cf: &str, key: &[u8]) -> Result<(), StoreError>;
    /// One entry of a small family.
    fn get_kv(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry of a small family, in key order.
    fn list_kv(&self, cf: &str) -> Result<Vec<KeyValue>, StoreError>;
    /// Removes a complete bundle (its manifest, pin, last use and any
    /// interrupted fetch) in one synced batch. Its chunks stay until
    /// [`Store::delete_blobs`]; its catalog entry stays.
    fn delete_bundle(&self, id: &BundleId) -> Result<(), StoreError>;
    /// Removes several complete bundles as [`Store::delete_bundle`] does,
    /// in one synced batch where the engine can.
    fn delete_bundles(&self, ids: &[BundleId]) -> Result<(), StoreError> {
        for id in ids {
            self.delete_bundle(id)?;
        }
        Ok(())
    }
    /// Calls `f` with the hash of every stored blob.
    fn for_each_blob_key(&self, f: &mut dyn FnMut(ContentHash)) -> Result<(), StoreError>;
    /// Deletes blobs, returning the bytes their values held.
    fn delete_blobs(&self, hashes: &[ContentHash]) -> Result<u64, StoreError>;
    /// Reclaims the space of deleted blobs (see [`RocksStore`]).
    fn compact_blobs(&self) -> Result<(), StoreError>;
    /// Gives back the space of bytes written for blobs whose record a
    /// crash lost (see `segments`). Returns the bytes given back.
    fn reclaim_debris(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
    /// Bytes the store takes on disk.
    fn disk_usage(&self) -> Result<u64, StoreError>;
}
