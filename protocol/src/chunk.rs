//! Chunking and per-chunk verification.
//!
//! A file is cut into [`CHUNK_SIZE`] chunks (the last one may be shorter; an
//! empty file has none). Each chunk is named by its blake3 hash, so every
//! chunk can be checked on its own, from any peer, in any order.
//!
//! The manifest keeps one 32-byte hash per file, whatever its size:
//! - a file of at most one chunk is named by the blake3 hash of its bytes
//!   (the same value `b3sum` prints); that hash is also its only chunk's hash;
//! - a larger file is named by the blake3 hash of its *chunk index*: the
//!   concatenated hashes of its chunks, in order. The index is a
//!   content-addressed blob of its own, fetched and checked like a chunk.
//!
//! | size                 | chunks | index blob        | file hash          |
//! |----------------------|--------|-------------------|--------------------|
//! | 0                    | 0      | none              | blake3("")         |
//! | 1 ..= CHUNK_SIZE     | 1      | none              | blake3(bytes)      |
//! | CHUNK_SIZE + 1 ..    | ceil   | 32 × chunks bytes | blake3(index)      |

use crate::id::ContentHash;
use crate::limits::{CHUNK_SIZE, MAX_FILE_SIZE};

/// A chunk or index did not match what the manifest promised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes do not hash to the expected value.
    #[error("content does not match its hash: expected {expected}, got {actual}")]
    HashMismatch {
        /// The hash that was asked for.
        expected: ContentHash,
        /// The hash of what arrived.
        actual: ContentHash,
    },
    /// The bytes have the wrong length for their place in the file.
    #[error("wrong length: expected {expected} bytes, got {actual}")]
    WrongLength {
        /// Length the manifest implies.
        expected: u64,
        /// Length that arrived.
        actual: u64,
    },
    /// The file is larger than the protocol allows.
    #[error("file of {0} bytes is larger than the limit of {MAX_FILE_SIZE} bytes")]
    FileTooLarge(u64),
}

/// Number of chunks in a file of `size` bytes.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_SIZE)
}

/// Length of chunk `index` in a file of `size` bytes.
pub fn chunk_len(size: u64, index: u64) -> u64 {
    let start = index * CHUNK_SIZE;
    size.saturating_sub(start).min(CHUNK_SIZE)
}

/// Whether a file of this size has a separate chunk index blob.
pub fn has_index(size: u64) -> bool {
    size > CHUNK_SIZE
}

/// Checks a chunk or blob against its hash and expected length.
///
/// The hash is checked first: bytes that hash correctly are the right bytes,
/// so a [`ChunkError::WrongLength`] means the *manifest* is inconsistent
/// (it states a size that does not fit the hash), not that the peer lied.
pub fn verify_blob(
    expected: &ContentHash,
    expected_len: u64,
    bytes: &[u8],
) -> Result<(), ChunkError> {
    let actual = ContentHash::of(bytes);
    if &actual != expected {
        return Err(ChunkError::HashMismatch {
            expected: *expected,
            actual,
        });
    }
    if bytes.len() as u64 != expected_len {
        return Err(ChunkError::WrongLength {
            expected: expected_len,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Parses a verified chunk index for a file of `size` bytes whose manifest
/// hash is `file_hash`. Returns the chunk hashes in order.
pub fn parse_index(
    file_hash: &ContentHash,
    size: u64,
    bytes: &[u8],
) -> Result<Vec<ContentHash>, ChunkError> {
    if size > MAX_FILE_SIZE {
        return Err(ChunkError::FileTooLarge(size));
    }
    verify_blob(file_hash, chunk_count(size) * 32, bytes)?;
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|c| ContentHash::from_slice(c).ok())
        .collect())
}

/// The chunk hashes of a file, given its manifest entry, when no index blob
/// is needed (files of at most one chunk).
pub fn small_file_chunks(file_hash: &ContentHash, size: u64) -> Vec<ContentHash> {
    if size == 0 {
        Vec::new()
    } else {
        vec![*file_hash]
    }
}

/// Hashes a file chunk by chunk as its bytes are fed in.
///
/// Feed whole chunks ([`CHUNK_SIZE`] bytes, the last one shorter) with
/// [`FileHasher::push_chunk`]; [`FileHasher::finish`] returns the file hash
/// and, for files over one chunk, the index blob.
#[derive(Default)]
pub struct FileHasher {
    index: Vec<u8>,
    size: u64,
}

impl FileHasher {
    /// A hasher for a new file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes one chunk and returns its hash.
    pub fn push_chunk(&mut self, chunk: &[u8]) -> ContentHash {
        let h = ContentHash::of(chunk);
        self.push_hash(h, chunk.len() as u64);
        h
    }

    /// Records a chunk hashed elsewhere (for example on another thread).
    pub fn push_hash(&mut self, hash: ContentHash, len: u64) {
        self.index.extend_from_slice(hash.as_bytes());
        self.size += len;
    }

    /// The file hash, its size, and the index blob if the file needs one.
    pub fn finish(self) -> (ContentHash, u64, Option<Vec<u8>>) {
        match self.index.len() {
            0 => (ContentHash::of(b""), 0, None),
            32 => (
                ContentHash::from_slice(&self.index).unwrap_or(ContentHash::of(b"")),
                self.size,
                None,
            ),
            _ => (ContentHash::of(&self.index), self.size, Some(self.index)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_file(data: &[u8]) -> (ContentHash, u64, Option<Vec<u8>>) {
        let mut h = FileHasher::new();
        for c in data.chunks(CHUNK_SIZE as usize) {
            h.push_chunk(c);
        }
        h.finish()
    }

    /// The sizes that exercise each branch of the chunking rules.
    #[test]
    fn every_interesting_size_hashes_and_verifies() {
        let c = CHUNK_SIZE as usize;
        for size in [0, 1, c - 1, c, c + 1, 5 * c + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let (hash, len, index) = hash_file(&data);
            assert_eq!(len, size as u64);
            assert_eq!(index.is_some(), has_index(len), "size {size}");
            let chunks = match &index {
                Some(ix) => parse_index(&hash, len, ix).unwrap(),
                None => small_file_chunks(&hash, len),
            };
            assert_eq!(chunks.len() as u64, chunk_count(len));
            for (i, (chunk, expected)) in data.chunks(c).zip(&chunks).enumerate() {
                assert_eq!(chunk.len() as u64, chunk_len(len, i as u64));
                verify_blob(expected, chunk_len(len, i as u64), chunk).unwrap();
            }
            if size <= c {
                assert_eq!(hash, ContentHash::of(&data), "small files hash like b3sum");
            }
        }
    }

    #[test]
    fn a_file_over_one_gib_keeps_a_bounded_index() {
        // 1 GiB + 1 byte of zeros: the index is 32 bytes per chunk and the
        // manifest entry stays a single hash.
        let size = (1u64 << 30) + 1;
        let zero = vec![0u8; CHUNK_SIZE as usize];
        let mut h = FileHasher::new();
        let full = ContentHash::of(&zero);
        for _ in 0..(size / CHUNK_SIZE) {
            h.push_hash(full, CHUNK_SIZE);
        }
        h.push_chunk(&[0u8]);
        let (hash, len, index) = h.finish();
        let index = index.unwrap();
        assert_eq!(len, size);
        assert_eq!(index.len() as u64, chunk_count(size) * 32);
        assert_eq!(chunk_count(size), 1025);
        assert_eq!(parse_index(&hash, size, &index).unwrap().len(), 1025);
    }

    #[test]
    fn a_chunk_with_wrong_bytes_is_rejected() {
        let good = vec![7u8; 100];
        let h = ContentHash::of(&good);
        let mut bad = good.clone();
        bad[3] ^= 1;
        assert!(matches!(
            verify_blob(&h, 100, &bad),
            Err(ChunkError::HashMismatch { .. })
        ));
        assert!(matches!(
            verify_blob(&h, 100, &good[..99]),
            Err(ChunkError::HashMismatch { .. })
        ));
        // The right bytes with the wrong expected length: the manifest lies.
        assert!(matches!(
            verify_blob(&h, 99, &good),
            Err(ChunkError::WrongLength { .. })
        ));
    }

    #[test]
    fn an_index_of_the_wrong_length_is_rejected() {
        let data = vec![1u8; CHUNK_SIZE as usize * 2];
        let (hash, len, index) = hash_file(&data);
        let index = index.unwrap();
        assert!(parse_index(&hash, len + CHUNK_SIZE, &index).is_err());
        assert!(parse_index(&hash, MAX_FILE_SIZE + 1, &index).is_err());
    }
}
