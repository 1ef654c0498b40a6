//! Sneakernet archives: bundles in one file, to carry where there is no
//! network, verified in full before anything is stored.
//!
//! ```text
//! archive = MAGIC record* end
//! record  = kind:u8 len:u32-be payload[len]
//! kind    1 signed manifest        (len <= MAX_MANIFEST_BYTES)
//!         2 signed announcement    (len <= MAX_ANNOUNCEMENT_BYTES, optional)
//!         3 blob: chunk index or chunk (a chunk's len exactly what its
//!           index says; an index's at most MAX_INDEX_BYTES)
//!         4 signed key event       (len <= MAX_ANNOUNCEMENT_BYTES; only between bundles)
//! end     = kind 0xff, len 8, payload = number of bundles, u64 big endian
//! ```
//!
//! Key events come before the bundles of their identity, so that a node
//! that learns of the identity from the archive alone can check that the
//! device that signed each manifest was certified (and not revoked).
//!
//! Each bundle is its manifest, then at most one announcement, then every
//! blob its files need, in manifest order: for each file, its chunk index
//! root (files over one chunk) and then, for a root of chunks, its chunks,
//! or for a root of pages, each page followed by its chunks. Nothing else is
//! allowed, so a reader knows the hash and the length (or, for an index, a
//! bound on it) of every blob before reading it, checks the length before
//! allocating, and the hash before handing the bytes on.
//! Blobs are repeated if two files share them, so an archive never depends
//! on anything outside itself.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use crate::chunk::{
    layout, parse_index, resolve_file, verify_blob, Expect, IndexPlace, Layout, Level, ResolveError,
};
use crate::id::ContentHash;
use crate::limits::{INDEX_FANOUT, MAX_ANNOUNCEMENT_BYTES, MAX_INDEX_BYTES, MAX_MANIFEST_BYTES};
use crate::manifest::{CatalogEntry, SignedAnnouncement, SignedKeyEvent, SignedManifest};

/// The first bytes of every archive.
pub const MAGIC: &[u8; 16] = b"weft archive v1\n";
/// Record kind: a signed manifest.
pub const KIND_MANIFEST: u8 = 1;
/// Record kind: a signed announcement.
pub const KIND_ANNOUNCEMENT: u8 = 2;
/// Record kind: a chunk index or a chunk.
pub const KIND_BLOB: u8 = 3;
/// Record kind: a signed key event.
pub const KIND_KEY_EVENT: u8 = 4;
/// Record kind: a private group's signed record, key box or private
/// announcement (protocol section 6.6).
pub const KIND_GROUP: u8 = 5;
/// Record kind: the end.
pub const KIND_END: u8 = 0xff;
/// The file extension of archives.
pub const EXTENSION: &str = "weft";

/// Why an archive was refused, with where in it.
#[derive(Debug, thiserror::Error)]
#[error("at byte {offset}: {reason}")]
pub struct ArchiveError {
    /// Offset of the record (or the byte) at fault.
    pub offset: u64,
    /// What is wrong, in words.
    pub reason: String,
}

/// What a reader hands on, every part verified.
#[derive(Debug)]
pub enum Item {
    /// A bundle starts: its manifest verified against its signature.
    Manifest(SignedManifest),
    /// An identity's key event, verified on its own (whether it fits the
    /// identity's log is the importer's check).
    KeyEvent(SignedKeyEvent),
    /// A private group's record, key box or private announcement,
    /// verified on its own (whether it fits its group is the importer's
    /// check).
    Group(CatalogEntry),
    /// A verified blob of the current bundle.
    Blob(ContentHash, Vec<u8>),
    /// The current bundle is complete; its announcement, if it had one,
    /// verified and consistent with the manifest.
    Complete {
        /// The manifest.
        manifest: SignedManifest,
        /// The announcement.
        announcement: Option<SignedAnnouncement>,
    },
}

/// Writes an archive.
pub struct Writer<W: Write> {
    w: W,
    bundles: u64,
    written: u64,
}

impl<W: Write> Writer<W> {
    /// Starts an archive.
    pub fn new(mut w: W) -> io::Result<Self> {
        w.write_all(MAGIC)?;
        Ok(Self {
            w,
            bundles: 0,
            written: MAGIC.len() as u64,
        })
    }

    fn record(&mut self, kind: u8, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record over 4 GiB"))?;
        self.w.write_all(&[kind])?;
        self.w.write_all(&len.to_be_bytes())?;
        self.w.write_all(payload)?;
        self.written += 5 + payload.len() as u64;
        Ok(())
    }

    /// Starts a bundle. Its blobs must follow in manifest order.
    pub fn manifest(
        &mut self,
        signed: &SignedManifest,
        ann: Option<&SignedAnnouncement>,
    ) -> io::Result<()> {
        self.bundles += 1;
        self.record(KIND_MANIFEST, signed.bytes())?;
        if let Some(a) = ann {
            self.record(KIND_ANNOUNCEMENT, a.bytes())?;
        }
        Ok(())
    }

    /// Writes a key event; only between bundles.
    pub fn key_event(&mut self, e: &SignedKeyEvent) -> io::Result<()> {
        self.record(KIND_KEY_EVENT, e.bytes())
    }

    /// Writes a private group's record, key box or private announcement;
    /// only between bundles.
    pub fn group_entry(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.record(KIND_GROUP, bytes)
    }

    /// Writes one blob.
    pub fn blob(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.record(KIND_BLOB, bytes)
    }

    /// Writes the end record and returns the writer and the bytes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let n = self.bundles.to_be_bytes();
        self.record(KIND_END, &n)?;
        self.w.flush()?;
        Ok((self.w, self.written))
    }
}

/// The blobs a bundle needs, in archive order, produced lazily (a file's
/// chunk list is known only once its index has been read).
struct Plan {
    manifest: SignedManifest,
    announcement: Option<SignedAnnouncement>,
    /// Next file whose blobs are to be planned.
    file: usize,
    /// Blobs expected next, and what each is.
    queue: VecDeque<(ContentHash, Expect)>,
    /// Whether a blob has been read (an announcement must come before).
    started: bool,
}

impl Plan {
    fn new(manifest: SignedManifest) -> Self {
        Self {
            manifest,
            announcement: None,
            file: 0,
            queue: VecDeque::new(),
            started: false,
        }
    }

    /// Plans files until a blob is expected; false when none is left.
    fn fill(&mut self) -> bool {
        while self.queue.is_empty() {
            let Some(f) = self.manifest.manifest().files.get(self.file) else {
                return false;
            };
            self.file += 1;
            match layout(f.size) {
                Layout::Empty => {}
                Layout::Single => self.queue.push_back((f.hash, Expect::Chunk(f.size))),
                Layout::Indexed => self.queue.push_back((
                    f.hash,
                    Expect::Index {
                        covered: f.size,
                        place: IndexPlace::Root,
                    },
                )),
            }
        }
        true
    }
}

/// Reads and verifies an archive, one item at a time.
pub struct Reader<R: Read> {
    r: R,
    offset: u64,
    bundles: u64,
    plan: Option<Plan>,
    out: VecDeque<Item>,
    ended: bool,
}

impl<R: Read> Reader<R> {
    /// Checks the magic bytes.
    pub fn new(mut r: R) -> Result<Self, ArchiveError> {
        let mut magic = [0u8; 16];
        read_full(&mut r, &mut magic).map_err(|e| ArchiveError {
            offset: 0,
            reason: match e {
                Short::Eof(_) => "too short to be a weft archive".into(),
                Short::Io(e) => format!("cannot read it: {e}"),
            },
        })?;
        if &magic != MAGIC {
            return Err(ArchiveError {
                offset: 0,
                reason: "not a weft archive (it does not start with \"weft archive v1\")".into(),
            });
        }
        Ok(Self {
            r,
            offset: MAGIC.len() as u64,
            bundles: 0,
            plan: None,
            out: VecDeque::new(),
            ended: false,
        })
    }

    /// Bundles completed so far.
    pub fn bundles(&self) -> u64 {
        self.bundles
    }

    fn fail<T>(&self, at: u64, reason: impl Into<String>) -> Result<T, ArchiveError> {
        Err(ArchiveError {
            offset: at,
            reason: reason.into(),
        })
    }

    fn short(&self, at: u64, e: Short, what: &str) -> ArchiveError {
        ArchiveError {
            offset: at,
            reason: match e {
                Short::Eof(got) => format!(
                    "truncated: the file ends {got} bytes into {what}; {} bundles were complete before it",
                    self.bundles
                ),
                Short::Io(e) => format!("cannot read it: {e}"),
            },
        }
    }

    /// Ends the current bundle, if any, before a new one or the end.
    fn close_bundle(&mut self, at: u64, next: &str) -> Result<(), ArchiveError> {
        let Some(mut plan) = self.plan.take() else {
            return Ok(());
        };
        if plan.fill() {
            let id = plan.manifest.id();
            let (hash, ..) = plan.queue[0];
            return self.fail(
                at,
                format!("truncated: {next} comes before bundle {id} has all its blocks (block {hash} is missing)"),
            );
        }
        self.bundles += 1;
        self.out.push_back(Item::Complete {
            manifest: plan.manifest,
            announcement: plan.announcement,
        });
        Ok(())
    }

    /// The next verified item, or `None` after a valid end record.
    pub fn next_item(&mut self) -> Result<Option<Item>, ArchiveError> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Ok(Some(item));
            }
            if self.ended {
                return Ok(None);
            }
            self.read_record()?;
        }
    }

    fn read_record(&mut self) -> Result<(), ArchiveError> {
        let at = self.offset;
        let mut head = [0u8; 5];
        match read_full(&mut self.r, &mut head) {
            Ok(()) => {}
            Err(Short::Eof(0)) => {
                return self.fail(
                    at,
                    format!(
                    "truncated: the file ends after {} complete bundles, without its end record",
                    self.bundles
                ),
                )
            }
            Err(e) => return Err(self.short(at, e, "a record header")),
        }
        let kind = head[0];
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as u64;
        self.offset += 5;
        let within = match &self.plan {
            Some(p) => format!(" in bundle {}", p.manifest.id()),
            None => String::new(),
        };
        match kind {
            KIND_MANIFEST => {
                self.close_bundle(at, "a new bundle")?;
                if len as usize > MAX_MANIFEST_BYTES {
                    return self.fail(
                        at,
                        format!(
                            "a manifest of {len} bytes is over the limit of {MAX_MANIFEST_BYTES}"
                        ),
                    );
                }
                let bytes = self.payload(at, len, "a manifest")?;
                let signed = SignedManifest::decode(&bytes)
                    .or_else(|e| self.fail(at, format!("a manifest does not verify: {e}")))?;
                self.plan = Some(Plan::new(signed.clone()));
                self.out.push_back(Item::Manifest(signed));
            }
            KIND_KEY_EVENT => {
                self.close_bundle(at, "a key event")?;
                if len as usize > MAX_ANNOUNCEMENT_BYTES {
                    return self.fail(
                        at,
                        format!(
                            "a key event of {len} bytes is over the limit of {MAX_ANNOUNCEMENT_BYTES}"
                        ),
                    );
                }
                let bytes = self.payload(at, len, "a key event")?;
                let e = SignedKeyEvent::decode(&bytes)
                    .or_else(|e| self.fail(at, format!("a key event does not verify: {e}")))?;
                self.out.push_back(Item::KeyEvent(e));
            }
            KIND_GROUP => {
                self.close_bundle(at, "a group entry")?;
                if len as usize > MAX_ANNOUNCEMENT_BYTES {
                    return self.fail(
                        at,
                        format!(
                            "a group entry of {len} bytes is over the limit of {MAX_ANNOUNCEMENT_BYTES}"
                        ),
                    );
                }
                let bytes = self.payload(at, len, "a group entry")?;
                let e = CatalogEntry::decode(&bytes)
                    .or_else(|e| self.fail(at, format!("a group entry does not verify: {e}")))?;
                if !matches!(
                    e,
                    CatalogEntry::Group(_) | CatalogEntry::KeyBox(_) | CatalogEntry::Private(_)
                ) {
                    return self.fail(at, "a group record holds another kind of entry");
                }
                self.out.push_back(Item::Group(e));
            }
            KIND_ANNOUNCEMENT => {
                let Some(plan) = &self.plan else {
                    return self.fail(at, "an announcement comes before any manifest");
                };
                if plan.started || plan.announcement.is_some() {
                    return self.fail(
                        at,
                        format!("an announcement{within} comes after its blocks or twice"),
                    );
                }
                if len as usize > MAX_ANNOUNCEMENT_BYTES {
                    return self.fail(
                        at,
                        format!(
                            "an announcement of {len} bytes is over the limit of {MAX_ANNOUNCEMENT_BYTES}"
                        ),
                    );
                }
                let bytes = self.payload(at, len, "an announcement")?;
                let ann = SignedAnnouncement::decode(&bytes).or_else(|e| {
                    self.fail(at, format!("the announcement{within} does not verify: {e}"))
                })?;
                let plan = self.plan.as_mut().expect("checked above");
                if !ann.announcement().matches(&plan.manifest) {
                    return self.fail(
                        at,
                        format!("the announcement{within} does not describe its manifest"),
                    );
                }
                plan.announcement = Some(ann);
            }
            KIND_BLOB => {
                let Some(plan) = &mut self.plan else {
                    return self.fail(at, "a block comes before any manifest");
                };
                plan.started = true;
                if !plan.fill() {
                    return self.fail(at, format!("a block{within} that its files do not need"));
                }
                let (hash, expect) = plan.queue.pop_front().expect("filled");
                let fits = match expect {
                    Expect::Chunk(want) => len == want,
                    Expect::Index { .. } => len as usize <= MAX_INDEX_BYTES,
                };
                if !fits {
                    let want = match expect {
                        Expect::Chunk(want) => format!("{want} bytes"),
                        Expect::Index { .. } => format!("at most {MAX_INDEX_BYTES} bytes"),
                    };
                    return self.fail(
                        at,
                        format!(
                            "block {hash}{within} should be {want}, but its record holds {len}"
                        ),
                    );
                }
                let bytes = self.payload(at, len, "a block")?;
                // An index is checked by parsing it, once.
                let checked = match expect {
                    Expect::Chunk(want) => verify_blob(&hash, want, &bytes).map(|()| None),
                    Expect::Index { covered, place } => {
                        parse_index(&hash, covered, place, &bytes).map(Some)
                    }
                };
                let node = match checked {
                    Ok(node) => node,
                    Err(e) => {
                        return self.fail(at, format!("block {hash}{within} is damaged: {e}"))
                    }
                };
                if let Some(node) = node {
                    let plan = self.plan.as_mut().expect("checked above");
                    let n = node.entries.len();
                    for (i, e) in node.entries.into_iter().enumerate().rev() {
                        let next = match node.level {
                            Level::Chunks => Expect::Chunk(e.len),
                            Level::Pages => Expect::Index {
                                covered: e.len,
                                place: IndexPlace::Page { last: i + 1 == n },
                            },
                        };
                        plan.queue.push_front((e.hash, next));
                    }
                }
                self.out.push_back(Item::Blob(hash, bytes));
            }
            KIND_END => {
                self.close_bundle(at, "the end record")?;
                if len != 8 {
                    return self.fail(at, format!("the end record is {len} bytes, not 8"));
                }
                let bytes = self.payload(at, 8, "the end record")?;
                let n = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
                if n != self.bundles {
                    return self.fail(
                        at,
                        format!(
                            "the end record says {n} bundles but the archive holds {}",
                            self.bundles
                        ),
                    );
                }
                let mut extra = [0u8; 1];
                match self.r.read(&mut extra) {
                    Ok(0) => {}
                    Ok(_) => return self.fail(self.offset, "bytes follow the end record"),
                    Err(e) => return self.fail(self.offset, format!("cannot read it: {e}")),
                }
                self.ended = true;
            }
            other => return self.fail(at, format!("unknown record kind {other}")),
        }
        Ok(())
    }

    fn payload(&mut self, at: u64, len: u64, what: &str) -> Result<Vec<u8>, ArchiveError> {
        // Every caller bounds `len` before this allocation.
        let mut buf = vec![0u8; len as usize];
        read_full(&mut self.r, &mut buf).map_err(|e| self.short(at, e, what))?;
        self.offset += len;
        Ok(buf)
    }
}

enum Short {
    /// End of file after this many bytes.
    Eof(usize),
    Io(io::Error),
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<(), Short> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(Short::Eof(got)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Short::Io(e)),
        }
    }
    Ok(())
}

/// The blobs of a bundle in archive order with their lengths, given a way
/// to read stored blobs (needed for chunk indexes). Used by writers.
pub fn blob_order(
    manifest: &SignedManifest,
    mut get: impl FnMut(&ContentHash) -> Option<Vec<u8>>,
) -> Result<Vec<(ContentHash, u64)>, String> {
    let mut out = Vec::new();
    for f in &manifest.manifest().files {
        let fc = resolve_file::<()>(&f.hash, f.size, |h| Ok(get(h))).map_err(|e| match e {
            ResolveError::Missing { .. } | ResolveError::Read(()) => {
                format!("the chunk index of {} is missing", f.path)
            }
            ResolveError::Damaged(e) => format!("the chunk index of {}: {e}", f.path),
        })?;
        // Pre-order: the root, then each page before its own chunks (every
        // page but the last lists exactly INDEX_FANOUT of them).
        let mut indexes = fc.indexes.into_iter();
        out.extend(indexes.next());
        let pages: Vec<_> = indexes.collect();
        if pages.is_empty() {
            out.extend(fc.chunks.iter().map(|c| (c.hash, c.len)));
        }
        for (page, chunks) in pages.into_iter().zip(fc.chunks.chunks(INDEX_FANOUT)) {
            out.push(page);
            out.extend(chunks.iter().map(|c| (c.hash, c.len)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::digest_bytes;
    use crate::limits::MAX_CHUNK;
    use crate::manifest::{FileEntry, LangText, Manifest};
    use crate::{BundleId, PublisherKey, VERSION};
    use std::collections::HashMap;

    /// A bundle with an empty file, a small one and a three-chunk one.
    fn bundle(
        key: &PublisherKey,
    ) -> (
        SignedManifest,
        SignedAnnouncement,
        HashMap<ContentHash, Vec<u8>>,
    ) {
        let mut blobs = HashMap::new();
        let mut big = vec![0u8; 5 * MAX_CHUNK as usize + 10];
        blake3::Hasher::new()
            .update(b"archive test")
            .finalize_xof()
            .fill(&mut big);
        let (digest, chunks) = digest_bytes(&big);
        for c in chunks {
            blobs.insert(ContentHash::of(&c), c);
        }
        let big_hash = digest.hash;
        blobs.extend(digest.indexes);
        let small = b"hello".to_vec();
        let small_hash = ContentHash::of(&small);
        blobs.insert(small_hash, small.clone());
        let m = Manifest {
            v: VERSION,
            seq: 1,
            name: "kit".into(),
            tags: vec![],
            files: vec![
                FileEntry {
                    hash: big_hash,
                    path: "big.bin".into(),
                    size: big.len() as u64,
                },
                FileEntry {
                    hash: ContentHash::of(b""),
                    path: "empty".into(),
                    size: 0,
                },
                FileEntry {
                    hash: small_hash,
                    path: "small.txt".into(),
                    size: 5,
                },
            ],
            texts: vec![LangText {
                lang: "en".into(),
                title: "Kit".into(),
                description: String::new(),
            }],
            created: 1,
            licence: String::new(),
            publisher: key.id(),
        };
        let signed = SignedManifest::sign(m, key).unwrap();
        let ann = SignedAnnouncement::sign(&signed, key).unwrap();
        (signed, ann, blobs)
    }

    fn write(key: &PublisherKey) -> (Vec<u8>, SignedManifest) {
        let (signed, ann, blobs) = bundle(key);
        let mut w = Writer::new(Vec::new()).unwrap();
        w.manifest(&signed, Some(&ann)).unwrap();
        for (h, _) in blob_order(&signed, |h| blobs.get(h).cloned()).unwrap() {
            w.blob(&blobs[&h]).unwrap();
        }
        (w.finish().unwrap().0, signed)
    }

    fn read_all(bytes: &[u8]) -> Result<(usize, Vec<BundleId>), ArchiveError> {
        let mut r = Reader::new(bytes)?;
        let (mut blobs, mut done) = (0, Vec::new());
        while let Some(item) = r.next_item()? {
            match item {
                Item::Blob(..) => blobs += 1,
                Item::Complete {
                    manifest,
                    announcement,
                } => {
                    assert!(announcement.is_some());
                    done.push(manifest.id());
                }
                Item::Manifest(_) | Item::KeyEvent(_) | Item::Group(_) => {}
            }
        }
        Ok((blobs, done))
    }

    #[test]
    fn an_archive_round_trips() {
        let key = PublisherKey::from_seed([7; 32]);
        let (bytes, signed) = write(&key);
        // The index, the big file's chunks and the small file: every blob
        // of the bundle once (none repeats).
        let (_, _, blobs) = bundle(&key);
        assert!(blobs.len() > 4, "the big file has several chunks");
        assert_eq!(read_all(&bytes).unwrap(), (blobs.len(), vec![signed.id()]));
    }

    #[test]
    fn every_truncation_is_refused_with_a_reason() {
        let key = PublisherKey::from_seed([7; 32]);
        let (bytes, _) = write(&key);
        // Every cut point near record boundaries and some inside payloads.
        let mut cuts: Vec<usize> = (0..40).collect();
        cuts.extend((0..bytes.len()).step_by(997));
        cuts.extend(bytes.len() - 20..bytes.len());
        for n in cuts {
            let err = read_all(&bytes[..n]).unwrap_err();
            assert!(
                err.reason.contains("truncated") || err.reason.contains("short") || n < 16,
                "cut at {n}: {err}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(read_all(&long)
            .unwrap_err()
            .reason
            .contains("follow the end"));
    }

    #[test]
    fn a_flipped_byte_anywhere_is_refused() {
        let key = PublisherKey::from_seed([7; 32]);
        let (bytes, _) = write(&key);
        for at in (16..bytes.len())
            .step_by(4099)
            .chain([20, 100, bytes.len() - 1])
        {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            assert!(read_all(&bad).is_err(), "flip at {at} passed");
        }
        let mut bad = bytes.clone();
        bad[0] = b'W';
        assert!(read_all(&bad)
            .unwrap_err()
            .reason
            .contains("not a weft archive"));
    }

    #[test]
    fn a_huge_claimed_length_is_refused_before_allocating() {
        let mut bytes = MAGIC.to_vec();
        bytes.push(KIND_MANIFEST);
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(read_all(&bytes)
            .unwrap_err()
            .reason
            .contains("over the limit"));
        let key = PublisherKey::from_seed([7; 32]);
        let (good, _) = write(&key);
        // The first blob record claims 4 GiB.
        let at = MAGIC.len() + 5 + u32::from_be_bytes(good[17..21].try_into().unwrap()) as usize;
        let mut bad = good[..at].to_vec();
        // Skip the announcement record.
        let ann_len = u32::from_be_bytes(good[at + 1..at + 5].try_into().unwrap()) as usize;
        bad.extend_from_slice(&good[at..at + 5 + ann_len]);
        bad.push(KIND_BLOB);
        bad.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(read_all(&bad).unwrap_err().reason.contains("should be"));
    }
}
