//! Every limit of protocol version 1, in one place. `docs/protocol.md`
//! repeats this table; decoders check these before they allocate.

/// Smallest chunk, except the last chunk of a file: 128 KiB. A file of at
/// most this size is one chunk and needs no chunk index.
pub const MIN_CHUNK: u64 = 128 << 10;
/// Chunk size content-defined chunking aims at: 512 KiB.
pub const AVG_CHUNK: u64 = 512 << 10;
/// Largest chunk: 2 MiB.
pub const MAX_CHUNK: u64 = 2 << 20;
/// Largest file a bundle may list: 64 GiB.
pub const MAX_FILE_SIZE: u64 = 64 << 30;
/// Most entries in one chunk index blob.
pub const INDEX_FANOUT: usize = 16_384;
/// Bytes of one chunk index entry: a hash and a big-endian `u64` length.
pub const INDEX_ENTRY_BYTES: usize = 40;
/// Largest chunk index blob: a level byte and [`INDEX_FANOUT`] entries.
pub const MAX_INDEX_BYTES: usize = 1 + INDEX_FANOUT * INDEX_ENTRY_BYTES;
/// Largest signed manifest, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Largest signed announcement, in bytes. Announcements travel on gossip.
pub const MAX_ANNOUNCEMENT_BYTES: usize = 4096;
/// Most files in one bundle.
pub const MAX_FILES: usize = 10_000;
/// Longest file path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// Longest single path component, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Most components (directory levels plus the file name) in a path.
pub const MAX_PATH_DEPTH: usize = 32;
/// Longest bundle name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Most languages with a title and description.
pub const MAX_LANGS: usize = 32;
/// Longest BCP 47 language tag, in bytes.
pub const MAX_LANG_BYTES: usize = 35;
/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 256;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Most tags.
pub const MAX_TAGS: usize = 32;
/// Longest tag, in bytes.
pub const MAX_TAG_BYTES: usize = 64;
/// Longest licence string, in bytes.
pub const MAX_LICENCE_BYTES: usize = 128;
/// Largest blob: a chunk or, if larger, a chunk index.
pub const MAX_BLOB_BYTES: usize = if MAX_INDEX_BYTES > MAX_CHUNK as usize {
    MAX_INDEX_BYTES
} else {
    MAX_CHUNK as usize
};
/// Hashes in one request of the block protocol (`/weft/xfer/2`).
pub const MAX_BLOCKS_PER_REQUEST: usize = 64;
/// Largest request on the block protocol (64 hashes take 2,181 bytes).
pub const MAX_BLOCK_REQUEST_BYTES: usize = 4096;
/// Largest request on the transfer protocol.
pub const MAX_REQUEST_BYTES: usize = 128;
/// Largest response on the transfer protocol: the largest manifest plus
/// framing (chunks and indexes are smaller).
pub const MAX_RESPONSE_BYTES: usize = MAX_MANIFEST_BYTES + 64;
/// Largest message on the catalog reconciliation protocol: a full answer
/// of 256 announcements fits, with room for framing.
pub const MAX_SYNC_MESSAGE_BYTES: usize = (1 << 20) + (64 << 10);
