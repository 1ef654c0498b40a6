//! Content-defined chunking, chunk indexes and per-chunk verification.
//!
//! A file is cut where its content says (FastCDC 2020, see [`cut_point`]),
//! so an insertion or a change moves only the cuts near it and a new
//! version of a file shares every other chunk with the old one. Each chunk
//! is named by its BLAKE3 hash, so every chunk can be checked on its own,
//! from any peer, in any order.
//!
//! The manifest keeps one 32-byte hash per file, whatever its size:
//! - an empty file is named by the hash of no bytes and has no chunks;
//! - a file of at most [`MIN_CHUNK`] bytes is one chunk, named by the hash
//!   of its bytes (the value `b3sum` prints);
//! - a larger file is named by the hash of its *chunk index* (see
//!   [`IndexNode`]): one blob listing its chunks (hash and length) or, for a
//!   file of more than [`INDEX_FANOUT`] chunks, its index pages, each of
//!   which lists up to [`INDEX_FANOUT`] chunks.

use crate::id::ContentHash;
use crate::limits::{
    AVG_CHUNK, INDEX_ENTRY_BYTES, INDEX_FANOUT, MAX_CHUNK, MAX_FILE_SIZE, MAX_INDEX_BYTES,
    MIN_CHUNK,
};

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
    /// A chunk index that hashes right but breaks the index rules: the
    /// publisher made a bundle no node accepts.
    #[error("chunk index {hash} breaks the rules: {why}")]
    BadIndex {
        /// The index blob.
        hash: ContentHash,
        /// Which rule, in words.
        why: String,
    },
}

// FastCDC 2020 masks for an average of 512 KiB (2^19) at normalization
// level 1: the stricter mask (2^20's) before the average, the looser
// (2^18's) after it.
const MASK_S: u64 = fastcdc::v2020::MASKS[20];
const MASK_L: u64 = fastcdc::v2020::MASKS[18];
const _: () = assert!(AVG_CHUNK == 1 << 19);

/// Length of the next chunk of `data`, which holds the rest of the file or
/// at least its next [`MAX_CHUNK`] bytes: FastCDC 2020 with the
/// `fastcdc` crate's gear table, minimum [`MIN_CHUNK`], average
/// [`AVG_CHUNK`], maximum [`MAX_CHUNK`], normalization level 1
/// (`docs/protocol.md` section 3 gives the algorithm in full). Zero only for
/// empty `data`.
pub fn cut_point(data: &[u8]) -> usize {
    if data.is_empty() {
        return 0;
    }
    fastcdc::v2020::cut(
        data,
        MIN_CHUNK as usize,
        AVG_CHUNK as usize,
        MAX_CHUNK as usize,
        MASK_S,
        MASK_L,
        MASK_S << 1,
        MASK_L << 1,
    )
    .1
}

/// The gear table the cut points are computed with.
pub fn gear_table() -> Box<[u64; 256]> {
    fastcdc::v2020::get_gear_with_seed(0).0
}

/// Reads a file and yields its chunks, cut by [`cut_point`].
pub struct ChunkReader<R: std::io::Read> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

/// The reader's buffer: large reads, and room for a whole chunk after a
/// compaction.
const READ_BUFFER: usize = 8 << 20;

impl<R: std::io::Read> ChunkReader<R> {
    /// Chunks what `r` yields until its end.
    pub fn new(r: R) -> Self {
        Self {
            r,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        while !self.eof && self.end - self.start < MAX_CHUNK as usize {
            if self.buf.len() - self.end < MAX_CHUNK as usize {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<R: std::io::Read> Iterator for ChunkReader<R> {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.fill() {
            return Some(Err(e));
        }
        let n = cut_point(&self.buf[self.start..self.end]);
        if n == 0 {
            return None;
        }
        let chunk = self.buf[self.start..self.start + n].to_vec();
        self.start += n;
        Some(Ok(chunk))
    }
}

/// How a file of a given size is named and cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// No bytes, no chunks.
    Empty,
    /// One chunk; the file hash is the chunk's hash.
    Single,
    /// The file hash names its chunk index.
    Indexed,
}

/// The layout of a file of `size` bytes.
pub fn layout(size: u64) -> Layout {
    match size {
        0 => Layout::Empty,
        s if s <= MIN_CHUNK => Layout::Single,
        _ => Layout::Indexed,
    }
}

/// One entry of a chunk index: a chunk (level 0) or an index page
/// (level 1), and the bytes of the file it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// The chunk's or page's hash.
    pub hash: ContentHash,
    /// Bytes of the file it covers.
    pub len: u64,
}

/// What an index blob's entries name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Level 0: chunks.
    Chunks,
    /// Level 1: index pages (level-0 blobs of [`INDEX_FANOUT`] chunks,
    /// the last one fewer).
    Pages,
}

/// A parsed chunk index blob: `level:u8` then 1 to [`INDEX_FANOUT`]
/// entries of `hash[32] len:u64-be`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNode {
    /// What the entries name.
    pub level: Level,
    /// The entries, in file order.
    pub entries: Vec<IndexEntry>,
}

impl IndexNode {
    /// The blob's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.entries.len() * INDEX_ENTRY_BYTES);
        out.push(match self.level {
            Level::Chunks => 0,
            Level::Pages => 1,
        });
        for e in &self.entries {
            out.extend_from_slice(e.hash.as_bytes());
            out.extend_from_slice(&e.len.to_be_bytes());
        }
        out
    }
}

/// Where an index blob sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexPlace {
    /// The blob the manifest's file hash names.
    Root,
    /// A page listed by a level-1 root; `last` if it is the root's last.
    Page {
        /// Whether this is the file's last page.
        last: bool,
    },
}

/// Checks a chunk index blob against its hash and its place, and parses
/// it. `covered` is the bytes it must cover: the file's size for a root,
/// the root's entry for a page.
///
/// The rules (every one checked, so no node accepts an index another
/// refuses): a root exists only for a file over [`MIN_CHUNK`] bytes; a
/// level-0 blob lists 1 to [`INDEX_FANOUT`] chunks of 1 to [`MAX_CHUNK`]
/// bytes, each but the file's last at least [`MIN_CHUNK`]; a level-1 blob
/// is a root listing 2 to [`INDEX_FANOUT`] pages, each page but the last
/// listing exactly [`INDEX_FANOUT`] chunks; the lengths sum to `covered`.
pub fn parse_index(
    hash: &ContentHash,
    covered: u64,
    place: IndexPlace,
    bytes: &[u8],
) -> Result<IndexNode, ChunkError> {
    if covered > MAX_FILE_SIZE {
        return Err(ChunkError::FileTooLarge(covered));
    }
    verify_hash(hash, bytes)?;
    let bad = |why: String| ChunkError::BadIndex { hash: *hash, why };
    if place == IndexPlace::Root && covered <= MIN_CHUNK {
        return Err(bad(format!(
            "a file of {covered} bytes is one chunk and has no index"
        )));
    }
    if bytes.len() > MAX_INDEX_BYTES
        || bytes.len() < 1 + INDEX_ENTRY_BYTES
        || (bytes.len() - 1) % INDEX_ENTRY_BYTES != 0
    {
        return Err(bad(format!(
            "{} bytes is not a level byte and 1 to {INDEX_FANOUT} entries of {INDEX_ENTRY_BYTES} bytes",
            bytes.len()
        )));
    }
    let level = match (bytes[0], place) {
        (0, _) => Level::Chunks,
        (1, IndexPlace::Root) => Level::Pages,
        (1, IndexPlace::Page { .. }) => return Err(bad("a page lists pages".into())),
        (l, _) => return Err(bad(format!("level {l} is not 0 or 1"))),
    };
    let entries: Vec<IndexEntry> = bytes[1..]
        .chunks_exact(INDEX_ENTRY_BYTES)
        .map(|e| {
            let (h, l) = e.split_at(32);
            IndexEntry {
                hash: ContentHash::from_slice(h).expect("32 bytes"),
                len: u64::from_be_bytes(l.try_into().expect("8 bytes")),
            }
        })
        .collect();
    let n = entries.len();
    // Bounds per entry: (smallest unless last, largest).
    let (min, max) = match level {
        Level::Chunks => (MIN_CHUNK, MAX_CHUNK),
        Level::Pages => (
            INDEX_FANOUT as u64 * MIN_CHUNK,
            INDEX_FANOUT as u64 * MAX_CHUNK,
        ),
    };
    let last_is_files_last = !matches!(place, IndexPlace::Page { last: false });
    match (level, place) {
        (Level::Pages, _) if n < 2 => {
            return Err(bad("a level-1 index lists fewer than 2 pages".into()))
        }
        (Level::Chunks, IndexPlace::Page { last: false }) if n != INDEX_FANOUT => {
            return Err(bad(format!(
                "a page before the last lists {n} chunks, not {INDEX_FANOUT}"
            )))
        }
        _ => {}
    }
    let mut sum: u64 = 0;
    for (i, e) in entries.iter().enumerate() {
        let floor = if i + 1 == n && last_is_files_last {
            1
        } else {
            min
        };
        if e.len < floor || e.len > max {
            return Err(bad(format!(
                "entry {i} covers {} bytes; {floor} to {max} are allowed there",
                e.len
            )));
        }
        sum = sum.saturating_add(e.len);
    }
    if sum != covered {
        return Err(bad(format!(
            "its entries cover {sum} bytes, not the {covered} it stands for"
        )));
    }
    Ok(IndexNode { level, entries })
}

/// Checks a blob against its hash alone (an index, whose length is
/// bounded by [`MAX_INDEX_BYTES`] and checked by [`parse_index`]).
pub fn verify_hash(expected: &ContentHash, bytes: &[u8]) -> Result<(), ChunkError> {
    let actual = ContentHash::of(bytes);
    if &actual != expected {
        return Err(ChunkError::HashMismatch {
            expected: *expected,
            actual,
        });
    }
    Ok(())
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
    verify_hash(expected, bytes)?;
    if bytes.len() as u64 != expected_len {
        return Err(ChunkError::WrongLength {
            expected: expected_len,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// What a blob is expected to be, which is how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A chunk of this length.
    Chunk(u64),
    /// A chunk index blob covering `covered` bytes of its file at `place`.
    Index {
        /// Bytes of the file it covers.
        covered: u64,
        /// Root or page.
        place: IndexPlace,
    },
}

impl Expect {
    /// The bytes it counts for in a fetch's progress (chunks only).
    pub fn progress(&self) -> u64 {
        match self {
            Expect::Chunk(len) => *len,
            Expect::Index { .. } => 0,
        }
    }

    /// Checks `bytes` as this blob named `hash`: its hash first (a
    /// mismatch is the sender's fault), then its length or index rules (a
    /// failure there is the manifest's).
    pub fn check(&self, hash: &ContentHash, bytes: &[u8]) -> Result<(), ChunkError> {
        match *self {
            Expect::Chunk(len) => verify_blob(hash, len, bytes),
            Expect::Index { covered, place } => {
                parse_index(hash, covered, place, bytes).map(|_| ())
            }
        }
    }
}

/// A chunk of a file: its hash, and where it lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// BLAKE3 of its bytes.
    pub hash: ContentHash,
    /// Offset of its first byte in the file.
    pub offset: u64,
    /// Its length.
    pub len: u64,
}

/// Every blob of a file: its index blobs (root first, then its pages) and
/// its chunks in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChunks {
    /// The file's index blobs, with their lengths.
    pub indexes: Vec<(ContentHash, u64)>,
    /// The chunks, in file order.
    pub chunks: Vec<Chunk>,
}

/// Why a file's chunks could not be listed.
#[derive(Debug)]
pub enum ResolveError<E> {
    /// These index blobs are not at hand (the root alone, or every missing
    /// page of a level-1 root); `partial` lists the blobs that are known
    /// (the root and the chunks of the pages at hand).
    Missing {
        /// The index blobs to fetch, and what each is.
        missing: Vec<(ContentHash, Expect)>,
        /// What is known without them.
        partial: FileChunks,
    },
    /// An index blob at hand is damaged or breaks the rules.
    Damaged(ChunkError),
    /// Reading a blob failed.
    Read(E),
}

/// Lists a file's chunks from its manifest hash and size, reading index
/// blobs with `get`, and checking each.
pub fn resolve_file<E>(
    hash: &ContentHash,
    size: u64,
    mut get: impl FnMut(&ContentHash) -> Result<Option<Vec<u8>>, E>,
) -> Result<FileChunks, ResolveError<E>> {
    let mut out = FileChunks::default();
    match layout(size) {
        Layout::Empty => return Ok(out),
        Layout::Single => {
            out.chunks.push(Chunk {
                hash: *hash,
                offset: 0,
                len: size,
            });
            return Ok(out);
        }
        Layout::Indexed => {}
    }
    let root_bytes =
        get(hash)
            .map_err(ResolveError::Read)?
            .ok_or_else(|| ResolveError::Missing {
                missing: vec![(
                    *hash,
                    Expect::Index {
                        covered: size,
                        place: IndexPlace::Root,
                    },
                )],
                partial: FileChunks::default(),
            })?;
    let root =
        parse_index(hash, size, IndexPlace::Root, &root_bytes).map_err(ResolveError::Damaged)?;
    out.indexes.push((*hash, root_bytes.len() as u64));
    let mut offset = 0;
    let push_chunks = |out: &mut FileChunks, offset: &mut u64, entries: &[IndexEntry]| {
        for e in entries {
            out.chunks.push(Chunk {
                hash: e.hash,
                offset: *offset,
                len: e.len,
            });
            *offset += e.len;
        }
    };
    match root.level {
        Level::Chunks => push_chunks(&mut out, &mut offset, &root.entries),
        Level::Pages => {
            let mut missing = Vec::new();
            let n = root.entries.len();
            for (i, p) in root.entries.iter().enumerate() {
                let place = IndexPlace::Page { last: i + 1 == n };
                let Some(bytes) = get(&p.hash).map_err(ResolveError::Read)? else {
                    let covered = p.len;
                    missing.push((p.hash, Expect::Index { covered, place }));
                    offset += p.len;
                    continue;
                };
                let page =
                    parse_index(&p.hash, p.len, place, &bytes).map_err(ResolveError::Damaged)?;
                out.indexes.push((p.hash, bytes.len() as u64));
                push_chunks(&mut out, &mut offset, &page.entries);
            }
            if !missing.is_empty() {
                return Err(ResolveError::Missing {
                    missing,
                    partial: out,
                });
            }
        }
    }
    Ok(out)
}

/// A file's name and index blobs, as [`FileIndexer::finish`] gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The hash the manifest lists for the file.
    pub hash: ContentHash,
    /// The file's size.
    pub size: u64,
    /// The index blobs to store with its chunks (none for a file of at
    /// most one chunk), root first.
    pub indexes: Vec<(ContentHash, Vec<u8>)>,
}

/// Builds a file's hash and chunk index from its chunks, in order.
#[derive(Default)]
pub struct FileIndexer {
    entries: Vec<IndexEntry>,
    size: u64,
}

impl FileIndexer {
    /// An indexer for a new file.
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
        self.entries.push(IndexEntry { hash, len });
        self.size += len;
    }

    /// The file hash, its size and its index blobs. The chunks must be
    /// the ones [`ChunkReader`] cuts.
    pub fn finish(self) -> FileDigest {
        let size = self.size;
        let node = |level, entries: &[IndexEntry]| {
            let bytes = IndexNode {
                level,
                entries: entries.to_vec(),
            }
            .encode();
            (ContentHash::of(&bytes), bytes)
        };
        let (hash, indexes) = match layout(size) {
            Layout::Empty => (ContentHash::of(b""), Vec::new()),
            Layout::Single => (self.entries[0].hash, Vec::new()),
            Layout::Indexed if self.entries.len() <= INDEX_FANOUT => {
                let root = node(Level::Chunks, &self.entries);
                (root.0, vec![root])
            }
            Layout::Indexed => {
                let pages: Vec<_> = self
                    .entries
                    .chunks(INDEX_FANOUT)
                    .map(|p| {
                        let (h, b) = node(Level::Chunks, p);
                        let len = p.iter().map(|e| e.len).sum();
                        (IndexEntry { hash: h, len }, b)
                    })
                    .collect();
                let entries: Vec<_> = pages.iter().map(|(e, _)| *e).collect();
                let root = node(Level::Pages, &entries);
                let mut all = vec![root.clone()];
                all.extend(pages.into_iter().map(|(e, b)| (e.hash, b)));
                (root.0, all)
            }
        };
        FileDigest {
            hash,
            size,
            indexes,
        }
    }
}

/// Chunks and indexes bytes in memory (tests, vectors, tools).
pub fn digest_bytes(data: &[u8]) -> (FileDigest, Vec<Vec<u8>>) {
    let mut ix = FileIndexer::new();
    let chunks: Vec<Vec<u8>> = ChunkReader::new(data)
        .map(|c| c.expect("reading memory"))
        .collect();
    for c in &chunks {
        ix.push_chunk(c);
    }
    (ix.finish(), chunks)
}

#[cfg(test)]
mod tests;
