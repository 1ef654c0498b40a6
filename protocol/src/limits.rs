//! Every limit of protocol version 1, in one place. `docs/protocol.md`
//! repeats this table; decoders check these before they allocate.

/// Size of every chunk except the last chunk of a file: 1 MiB.
pub const CHUNK_SIZE: u64 = 1 << 20;
/// Largest file a bundle may list: 64 GiB (65,536 chunks, a 2 MiB index).
pub const MAX_FILE_SIZE: u64 = 64 << 30;
/// Largest chunk index blob: 32 bytes per chunk of the largest file.
pub const MAX_INDEX_BYTES: usize = (MAX_FILE_SIZE / CHUNK_SIZE) as usize * 32;
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
/// Largest blob: a chunk or, larger, the chunk index of the largest file.
pub const MAX_BLOB_BYTES: usize = if MAX_INDEX_BYTES > CHUNK_SIZE as usize {
    MAX_INDEX_BYTES
} else {
    CHUNK_SIZE as usize
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
