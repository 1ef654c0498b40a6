//! Large blobs as files: append-only segment files in `<store>/blocks/`.
//!
//! A blob of at least [`INLINE_MIN`] bytes is appended to the current
//! segment at a 4 KiB-aligned offset, and RocksDB keeps only where it is
//! (a 21-byte record under its hash, [`Loc`]). Smaller blobs (chunk indexes,
//! small files) stay inline in RocksDB. A new segment starts at every start
//! and whenever the current one reaches [`SEGMENT_BYTES`].
//!
//! - **Durability.** Segments are written without syncing. [`Segments::sync`]
//!   makes every segment written since the last sync durable (fdatasync
//!   each, and the folder when a segment was created); a bundle's commit
//!   calls it before the synced batch that writes the manifest. The records
//!   go through RocksDB's log, which that batch syncs.
//! - **Deleting** a blob deletes its record (synced), then punches a hole
//!   over its bytes (`fallocate(PUNCH_HOLE)`): the disk space comes back at
//!   once, in proportion to what was deleted, and nothing is rewritten.
//! - **Debris.** Bytes appended whose record was never written (a crash
//!   between the two) belong to nothing. [`Segments::reclaim`] punches every
//!   range of a segment that no record points to, and removes segments no
//!   record points into; the sweep after an unclean stop runs it.
//! - **Rot** is caught by the caller, which checks every blob read against
//!   its hash.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Blobs at least this large go to segments; smaller ones stay in RocksDB.
pub const INLINE_MIN: usize = 64 << 10;
/// A segment is closed once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 1 << 30;
/// Bytes appended to a segment between requests to start writing them
/// back (`sync_file_range`, which does not wait): the disk works while the
/// network does, and a commit's sync finds little left to write.
pub const WRITEBACK_BYTES: u64 = 8 << 20;
/// Blobs start at multiples of this, the usual filesystem block: a hole
/// punched over one blob frees whole blocks and never touches another.
const ALIGN: u64 = 4096;

/// Asks the kernel to start writing `len` bytes of `file` from `from` to
/// the disk, without waiting (`sync_file_range`). Only a hint: an error
/// changes nothing, as the fsync that makes the bytes durable decides.
pub fn start_writeback(file: &File, from: u64, len: u64) {
    // SAFETY: sync_file_range on an open descriptor with integer arguments;
    // it touches no memory of ours.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            from as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

/// Reads `len` bytes at `off` into a new buffer that is not zeroed first:
/// the kernel writes straight into its spare capacity. Serving a block
/// spent 5% of the server's time zeroing buffers that `pread` overwrites
/// at once.
fn read_exact_at_uninit(file: &File, len: usize, off: u64) -> io::Result<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    while buf.len() < len {
        let at = buf.len();
        // SAFETY: pread writes at most `len - at` bytes into the spare
        // capacity starting at `at`, which the Vec owns; only bytes it
        // reports as read are then counted as initialized.
        let n = unsafe {
            libc::pread(
                file.as_raw_fd(),
                buf.as_mut_ptr().add(at).cast(),
                len - at,
                (off + at as u64) as libc::off_t,
            )
        };
        match n {
            n if n > 0 => {
                // SAFETY: pread initialized these `n` bytes (n ≤ len - at).
                unsafe { buf.set_len(at + n as usize) }
            }
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a stored block ends before its length",
                ))
            }
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(buf)
}

fn align_up(n: u64) -> u64 {
    n.div_ceil(ALIGN) * ALIGN
}

/// Where a blob is: segment, offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    /// The segment's number.
    pub seg: u64,
    /// Offset of the first byte.
    pub off: u64,
    /// Length in bytes.
    pub len: u32,
}

/// Bytes of an encoded [`Loc`].
pub const LOC_BYTES: usize = 20;

impl Loc {
    /// Big-endian segment, offset and length.
    pub fn encode(&self) -> [u8; LOC_BYTES] {
        let mut b = [0u8; LOC_BYTES];
        b[..8].copy_from_slice(&self.seg.to_be_bytes());
        b[8..16].copy_from_slice(&self.off.to_be_bytes());
        b[16..].copy_from_slice(&self.len.to_be_bytes());
        b
    }

    /// The inverse of [`Loc::encode`]; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Loc> {
        let b: &[u8; LOC_BYTES] = b.try_into().ok()?;
        Some(Loc {
            seg: u64::from_be_bytes(b[..8].try_into().ok()?),
            off: u64::from_be_bytes(b[8..16].try_into().ok()?),
            len: u32::from_be_bytes(b[16..].try_into().ok()?),
        })
    }

    fn end(&self) -> u64 {
        self.off + self.len as u64
    }
}

struct Writer {
    /// The segment being appended to, its file and its length so far.
    current: Option<(u64, Arc<File>, u64)>,
    /// Where writeback was last asked for in the current segment.
    written_back: u64,
    /// The next segment's number.
    next: u64,
    /// Segments written since the last sync.
    unsynced: BTreeMap<u64, Arc<File>>,
    /// Whether a segment was created since the last sync.
    dir_dirty: bool,
}

/// The segment files of one store.
pub struct Segments {
    dir: PathBuf,
    writer: Mutex<Writer>,
    files: Mutex<HashMap<u64, Arc<File>>>,
    /// Whether the filesystem refused to punch a hole (said once).
    no_punch: std::sync::atomic::AtomicBool,
}

fn name(seg: u64) -> String {
    format!("seg-{seg:016x}")
}

fn number(file: &str) -> Option<u64> {
    u64::from_str_radix(file.strip_prefix("seg-")?, 16).ok()
}

impl Segments {
    /// Opens (creating) the segment folder `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            // Its name is durable once the store's folder is synced.
            if let Some(parent) = dir.parent() {
                File::open(parent)?.sync_all()?;
            }
        }
        let next = Self::list(dir)?.last().map_or(0, |n| n + 1);
        Ok(Segments {
            dir: dir.to_path_buf(),
            writer: Mutex::new(Writer {
                current: None,
                written_back: 0,
                next,
                unsynced: BTreeMap::new(),
                dir_dirty: false,
            }),
            files: Mutex::new(HashMap::new()),
            no_punch: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The segments on disk, in order.
    fn list(dir: &Path) -> io::Result<Vec<u64>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            if let Some(n) = e?.file_name().to_str().and_then(number) {
                out.push(n);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn file(&self, seg: u64) -> io::Result<Arc<File>> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = files.get(&seg) {
            return Ok(f.clone());
        }
        let f = Arc::new(
            File::options()
                .read(true)
                .write(true)
                .open(self.dir.join(name(seg)))?,
        );
        files.insert(seg, f.clone());
        Ok(f)
    }

    /// Appends `data` (at least one byte) and says where it went. Not
    /// durable until [`Segments::sync`].
    pub fn append(&self, data: &[u8]) -> io::Result<Loc> {
        let (file, loc, back) = {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let full = w
                .current
                .as_ref()
                .is_none_or(|(_, _, len)| len + data.len() as u64 > SEGMENT_BYTES && *len > 0);
            if full {
                let seg = w.next;
                let f = Arc::new(
                    File::options()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .open(self.dir.join(name(seg)))?,
                );
                self.files
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(seg, f.clone());
                w.next += 1;
                w.current = Some((seg, f, 0));
                w.written_back = 0;
                w.dir_dirty = true;
            }
            let Some((seg, f, len)) = w.current.as_mut() else {
                return Err(io::Error::other("no current segment"));
            };
            let loc = Loc {
                seg: *seg,
                off: *len,
                len: data.len() as u32,
            };
            *len = align_up(loc.end());
            let (seg, f) = (*seg, f.clone());
            w.unsynced.insert(seg, f.clone());
            // Writeback of what was appended before this blob, once enough
            // has gathered (those writes have returned or are in flight on
            // other threads; asking early for a range still being written
            // is harmless).
            let back = (w.written_back < loc.off && loc.off - w.written_back >= WRITEBACK_BYTES)
                .then(|| (w.written_back, loc.off - w.written_back));
            if back.is_some() {
                w.written_back = loc.off;
            }
            (f, loc, back)
        };
        file.write_all_at(data, loc.off)?;
        if let Some((from, len)) = back {
            start_writeback(&file, from, len);
        }
        Ok(loc)
    }

    /// Reads a blob's bytes (unchecked: the caller checks the hash).
    pub fn read(&self, loc: Loc) -> io::Result<Vec<u8>> {
        let f = self.file(loc.seg)?;
        read_exact_at_uninit(&f, loc.len as usize, loc.off)
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> io::Result<()> {
        let (files, dir) = {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            (
                std::mem::take(&mut w.unsynced),
                std::mem::replace(&mut w.dir_dirty, false),
            )
        };
        let put_back = |files: BTreeMap<u64, Arc<File>>, dir: bool| {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            w.unsynced.extend(files);
            w.dir_dirty |= dir;
        };
        for f in files.values() {
            if let Err(e) = f.sync_data() {
                put_back(files, dir);
                return Err(e);
            }
        }
        if dir {
            if let Err(e) = File::open(&self.dir).and_then(|d| d.sync_all()) {
                put_back(BTreeMap::new(), true);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Gives the disk blocks of `loc` back (a hole; the file keeps its
    /// size). Where the filesystem cannot punch holes the bytes stay until
    /// [`Segments::reclaim`] removes a segment nothing points into.
    pub fn punch(&self, loc: Loc) -> io::Result<()> {
        self.punch_range(loc.seg, loc.off, align_up(loc.end()) - loc.off)
    }

    fn punch_range(&self, seg: u64, off: u64, len: u64) -> io::Result<()> {
        if len == 0 || self.no_punch.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        let f = self.file(seg)?;
        // SAFETY: fallocate on an open descriptor with plain integer
        // arguments; it touches no memory of ours.
        let r = unsafe {
            libc::fallocate(
                f.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off as libc::off_t,
                len as libc::off_t,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
            self.no_punch
                .store(true, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(dir = %self.dir.display(), "this filesystem cannot punch holes; deleted blocks keep their space until their whole segment is unused");
            return Ok(());
        }
        Err(e)
    }

    /// Punches every range that no location in `live` covers, in every
    /// segment but the one being written, and removes segments with no
    /// live location at all. Returns the disk bytes given back.
    pub fn reclaim(&self, live: impl IntoIterator<Item = Loc>) -> io::Result<u64> {
        let mut by_seg: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
        for l in live {
            by_seg.entry(l.seg).or_default().push((l.off, l.end()));
        }
        let current = {
            let w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            w.current.as_ref().map(|(s, _, _)| *s)
        };
        let before = self.disk_usage()?;
        let mut removed = false;
        for seg in Self::list(&self.dir)? {
            if Some(seg) == current {
                continue;
            }
            let path = self.dir.join(name(seg));
            let Some(ranges) = by_seg.get_mut(&seg) else {
                self.files
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&seg);
                std::fs::remove_file(&path)?;
                removed = true;
                continue;
            };
            ranges.sort_unstable();
            let size = std::fs::metadata(&path)?.len();
            let mut at = 0;
            for &(start, end) in ranges.iter() {
                let start = start - start % ALIGN;
                if start > at {
                    self.punch_range(seg, at, start - at)?;
                }
                at = at.max(align_up(end));
            }
            if size > at {
                self.punch_range(seg, at, align_up(size) - at)?;
            }
        }
        if removed {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(before.saturating_sub(self.disk_usage()?))
    }

    /// Disk bytes the segments take (holes excluded).
    pub fn disk_usage(&self) -> io::Result<u64> {
        let mut total = 0;
        for seg in Self::list(&self.dir)? {
            match std::fs::metadata(self.dir.join(name(seg))) {
                Ok(m) => total += m.blocks() * 512,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    #[test]
    fn blobs_come_back_aligned_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = Segments::open(dir.path()).unwrap();
        let a = s.append(&blob(100_000, 1)).unwrap();
        let b = s.append(&blob(70_000, 2)).unwrap();
        assert_eq!((a.seg, a.off), (b.seg, 0));
        assert_eq!(b.off % ALIGN, 0);
        assert!(b.off >= a.end());
        s.sync().unwrap();
        drop(s);
        let s = Segments::open(dir.path()).unwrap();
        assert_eq!(s.read(a).unwrap(), blob(100_000, 1));
        assert_eq!(s.read(b).unwrap(), blob(70_000, 2));
        // A new start writes a new segment.
        assert_eq!(s.append(&blob(10, 3)).unwrap().seg, a.seg + 1);
        assert_eq!(Loc::decode(&a.encode()), Some(a));
        assert_eq!(Loc::decode(&[0; 3]), None);
        // A location past the end of its segment (a truncated file) is an
        // error, not a short or zero-filled block.
        let past = Loc {
            off: b.off + 4096,
            ..b
        };
        let e = s.read(past).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    }

    #[test]
    fn punching_and_reclaiming_give_space_back_and_keep_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let s = Segments::open(dir.path()).unwrap();
        let locs: Vec<Loc> = (0..8)
            .map(|i| s.append(&blob(1 << 20, i)).unwrap())
            .collect();
        s.sync().unwrap();
        let full = s.disk_usage().unwrap();
        assert!(full >= 8 << 20, "{full}");
        s.punch(locs[0]).unwrap();
        let punched = s.disk_usage().unwrap();
        if punched == full {
            eprintln!("SKIPPED the hole checks: this filesystem does not punch holes");
            return;
        }
        assert!(full - punched >= 1 << 20, "{full} -> {punched}");
        // Debris: only records 1..4 are live; a new start closes the segment.
        drop(s);
        let s = Segments::open(dir.path()).unwrap();
        let freed = s.reclaim(locs[1..4].iter().copied()).unwrap();
        assert!(freed >= 4 << 20, "freed {freed}");
        for (i, l) in locs.iter().enumerate().take(4).skip(1) {
            assert_eq!(s.read(*l).unwrap(), blob(1 << 20, i as u8));
        }
        // Nothing live: the segment goes.
        s.reclaim([]).unwrap();
        assert_eq!(s.disk_usage().unwrap(), 0);
        assert!(Segments::list(dir.path()).unwrap().is_empty());
    }
}
