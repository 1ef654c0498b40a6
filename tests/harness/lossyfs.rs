//! A filesystem that forgets, for power-cut tests: an in-memory FUSE
//! filesystem that keeps two states of everything, what the programs on it
//! see and what would survive a power cut, and can drop the first for the
//! second at any moment (LazyFS's technique, in a few hundred lines).
//!
//! What survives a cut, as POSIX promises and no more:
//! - a file's bytes and size as of its last `fsync` or `fdatasync`;
//! - a folder's entries (creations, renames, removals) as of its last
//!   `fsync` on the folder itself. A file fsynced into a folder that never
//!   was is lost with its name, as on a real disk after a crash.
//!
//! [`LossyFs::cut`] unmounts (the caller has killed every process using
//! it), reverts every file and folder to its durable state, drops what is
//! no longer reachable, and mounts again. Locks are left to the kernel.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};

const TTL: Duration = Duration::from_secs(1);
const ROOT: u64 = 1;

struct Node {
    dir: bool,
    perm: u16,
    /// A file's bytes as programs see them, and as of its last fsync.
    data: Vec<u8>,
    durable: Vec<u8>,
    /// A folder's entries as programs see them, and as of its last fsync.
    children: BTreeMap<OsString, u64>,
    durable_children: BTreeMap<OsString, u64>,
    mtime: SystemTime,
}

impl Node {
    fn new(dir: bool, perm: u16) -> Self {
        Node {
            dir,
            perm,
            data: Vec::new(),
            durable: Vec::new(),
            children: BTreeMap::new(),
            durable_children: BTreeMap::new(),
            mtime: SystemTime::now(),
        }
    }
}

/// What the cuts did, for the test's report.
#[derive(Debug, Default, Clone, Copy)]
pub struct CutStats {
    /// Cuts made.
    pub cuts: u64,
    /// File bytes written but never made durable, dropped by the cuts.
    pub bytes_dropped: u64,
    /// Files and folders that vanished because their names were never made
    /// durable.
    pub nodes_dropped: u64,
    /// fsync and fdatasync calls (FUSE's fsync), on files and folders.
    pub file_syncs: u64,
    /// FUSE's fsyncdir calls (an fsync of an open folder).
    pub dir_syncs: u64,
}

struct State {
    nodes: HashMap<u64, Node>,
    next: u64,
    stats: CutStats,
}

impl State {
    fn new() -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::new(true, 0o755));
        State {
            nodes,
            next: ROOT + 1,
            stats: CutStats::default(),
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        let size = if n.dir { 4096 } else { n.data.len() as u64 };
        Some(FileAttr {
            ino,
            size,
            blocks: size.div_ceil(512),
            atime: n.mtime,
            mtime: n.mtime,
            ctime: n.mtime,
            crtime: UNIX_EPOCH,
            kind: if n.dir {
                FileType::Directory
            } else {
                FileType::RegularFile
            },
            perm: n.perm,
            nlink: if n.dir { 2 } else { 1 },
            uid: unsafe { libc::geteuid() },
            gid: unsafe { libc::getegid() },
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.nodes.get(&parent)?.children.get(name).copied()
    }

    fn add(&mut self, parent: u64, name: &OsStr, node: Node) -> Result<u64, i32> {
        match self.nodes.get(&parent) {
            Some(p) if p.dir => {
                if p.children.contains_key(name) {
                    return Err(libc::EEXIST);
                }
            }
            Some(_) => return Err(libc::ENOTDIR),
            None => return Err(libc::ENOENT),
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(ino, node);
        let p = self.nodes.get_mut(&parent).expect("checked");
        p.children.insert(name.to_owned(), ino);
        p.mtime = SystemTime::now();
        Ok(ino)
    }

    /// An fsync: a file's bytes, or a folder's entries, as they are now
    /// survive a cut. False if there is no such node.
    fn make_durable(&mut self, ino: u64) -> bool {
        match self.nodes.get_mut(&ino) {
            Some(n) if n.dir => n.durable_children = n.children.clone(),
            Some(n) => n.durable = n.data.clone(),
            None => return false,
        }
        true
    }

    /// The power cut: everything goes back to its durable state.
    fn cut(&mut self) {
        self.stats.cuts += 1;
        for n in self.nodes.values_mut() {
            if n.dir {
                n.children = n.durable_children.clone();
            } else {
                self.stats.bytes_dropped += n.data.len().abs_diff(n.durable.len()) as u64
                    + n.data
                        .iter()
                        .zip(&n.durable)
                        .filter(|(a, b)| a != b)
                        .count() as u64;
                n.data = n.durable.clone();
            }
        }
        // Keep what the durable names still reach.
        let mut reach = vec![ROOT];
        let mut seen = std::collections::HashSet::new();
        while let Some(i) = reach.pop() {
            if seen.insert(i) {
                if let Some(n) = self.nodes.get(&i) {
                    reach.extend(n.children.values().copied());
                }
            }
        }
        let before = self.nodes.len();
        self.nodes.retain(|i, _| seen.contains(i));
        self.stats.nodes_dropped += (before - self.nodes.len()) as u64;
    }
}

struct Fs(Arc<Mutex<State>>);

impl Fs {
    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Filesystem for Fs {
    fn lookup(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let st = self.st();
        match st.child(parent, name).and_then(|i| st.attr(i)) {
            Some(a) => reply.entry(&TTL, &a, 0),
            None => reply.error(libc::ENOENT),
        }
    }

    fn getattr(&mut self, _r: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.st().attr(ino) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(libc::ENOENT),
        }
    }

    fn setattr(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let mut st = self.st();
        let Some(n) = st.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        if let Some(m) = mode {
            n.perm = (m & 0o7777) as u16;
        }
        if let Some(s) = size {
            if n.dir {
                return reply.error(libc::EISDIR);
            }
            n.data.resize(s as usize, 0);
            n.mtime = SystemTime::now();
        }
        match st.attr(ino) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(libc::ENOENT),
        }
    }

    fn mkdir(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        let mut st = self.st();
        match st.add(parent, name, Node::new(true, (mode & 0o7777) as u16)) {
            Ok(i) => reply.entry(&TTL, &st.attr(i).expect("just made"), 0),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut st = self.st();
        match st.add(parent, name, Node::new(false, (mode & 0o7777) as u16)) {
            Ok(i) => reply.created(&TTL, &st.attr(i).expect("just made"), 0, 0, 0),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut st = self.st();
        match st.child(parent, name) {
            Some(i) if st.nodes.get(&i).is_some_and(|n| n.dir) => reply.error(libc::EISDIR),
            Some(_) => {
                let p = st.nodes.get_mut(&parent).expect("has a child");
                p.children.remove(name);
                p.mtime = SystemTime::now();
                reply.ok()
            }
            None => reply.error(libc::ENOENT),
        }
    }

    fn rmdir(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut st = self.st();
        match st.child(parent, name) {
            Some(i) => {
                let n = st.nodes.get(&i).expect("child exists");
                if !n.dir {
                    return reply.error(libc::ENOTDIR);
                }
                if !n.children.is_empty() {
                    return reply.error(libc::ENOTEMPTY);
                }
                st.nodes
                    .get_mut(&parent)
                    .expect("has a child")
                    .children
                    .remove(name);
                reply.ok()
            }
            None => reply.error(libc::ENOENT),
        }
    }

    fn rename(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        let mut st = self.st();
        let Some(i) = st.child(parent, name) else {
            return reply.error(libc::ENOENT);
        };
        if !st.nodes.get(&newparent).is_some_and(|n| n.dir) {
            return reply.error(libc::ENOTDIR);
        }
        if let Some(old) = st.child(newparent, newname) {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return reply.error(libc::EEXIST);
            }
            if flags != 0 {
                return reply.error(libc::EINVAL);
            }
            let o = st.nodes.get(&old).expect("child exists");
            if o.dir && !o.children.is_empty() {
                return reply.error(libc::ENOTEMPTY);
            }
        }
        st.nodes
            .get_mut(&parent)
            .expect("has a child")
            .children
            .remove(name);
        let p = st.nodes.get_mut(&newparent).expect("checked");
        p.children.insert(newname.to_owned(), i);
        p.mtime = SystemTime::now();
        reply.ok()
    }

    fn open(&mut self, _r: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        if self.st().nodes.contains_key(&ino) {
            reply.opened(0, 0)
        } else {
            reply.error(libc::ENOENT)
        }
    }

    fn read(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock: Option<u64>,
        reply: ReplyData,
    ) {
        let st = self.st();
        let Some(n) = st.nodes.get(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let start = (offset as usize).min(n.data.len());
        let end = (start + size as usize).min(n.data.len());
        reply.data(&n.data[start..end])
    }

    fn write(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock: Option<u64>,
        reply: ReplyWrite,
    ) {
        let mut st = self.st();
        let Some(n) = st.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let end = offset as usize + data.len();
        if n.data.len() < end {
            n.data.resize(end, 0);
        }
        n.data[offset as usize..end].copy_from_slice(data);
        n.mtime = SystemTime::now();
        reply.written(data.len() as u32)
    }

    fn fsync(&mut self, _r: &Request<'_>, ino: u64, _fh: u64, _datasync: bool, reply: ReplyEmpty) {
        let mut st = self.st();
        st.stats.file_syncs += 1;
        if st.make_durable(ino) {
            reply.ok()
        } else {
            reply.error(libc::ENOENT)
        }
    }

    fn fsyncdir(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut st = self.st();
        st.stats.dir_syncs += 1;
        if st.make_durable(ino) {
            reply.ok()
        } else {
            reply.error(libc::ENOENT)
        }
    }

    fn readdir(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let st = self.st();
        let Some(n) = st.nodes.get(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let mut entries: Vec<(u64, FileType, OsString)> = vec![
            (ino, FileType::Directory, ".".into()),
            (ino, FileType::Directory, "..".into()),
        ];
        for (name, i) in &n.children {
            let kind = if st.nodes.get(i).is_some_and(|c| c.dir) {
                FileType::Directory
            } else {
                FileType::RegularFile
            };
            entries.push((*i, kind, name.clone()));
        }
        for (k, (i, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(i, (k + 1) as i64, kind, &name) {
                break;
            }
        }
        reply.ok()
    }

    fn statfs(&mut self, _r: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        reply.statfs(1 << 28, 1 << 27, 1 << 27, 1 << 20, 1 << 19, 4096, 255, 4096)
    }

    fn access(&mut self, _r: &Request<'_>, _ino: u64, _mask: i32, reply: ReplyEmpty) {
        reply.ok()
    }

    fn fallocate(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        length: i64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let mut st = self.st();
        let Some(n) = st.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let (start, end) = (offset as usize, (offset + length) as usize);
        if mode == 0 {
            if n.data.len() < end {
                n.data.resize(end, 0);
            }
        } else if mode == libc::FALLOC_FL_KEEP_SIZE {
        } else if mode == libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE {
            let end = end.min(n.data.len());
            if start < end {
                n.data[start..end].fill(0);
            }
        } else {
            return reply.error(libc::EOPNOTSUPP);
        }
        reply.ok()
    }
}

/// A mounted [`Fs`] and its state, which outlives each mount.
pub struct LossyFs {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    session: Option<fuser::BackgroundSession>,
    _dir: tempfile::TempDir,
}

impl LossyFs {
    /// Mounts an empty filesystem on a new temporary folder, or says why
    /// it cannot (no /dev/fuse, no right to mount).
    pub fn mount() -> Result<Self, String> {
        if !Path::new("/dev/fuse").exists() {
            return Err("/dev/fuse does not exist".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("weft-lossyfs-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let mut fs = LossyFs {
            state: Arc::new(Mutex::new(State::new())),
            mountpoint: dir.path().to_path_buf(),
            session: None,
            _dir: dir,
        };
        fs.attach()
            .map_err(|e| format!("cannot mount a FUSE filesystem: {e}"))?;
        Ok(fs)
    }

    fn attach(&mut self) -> std::io::Result<()> {
        let s = fuser::spawn_mount2(
            Fs(self.state.clone()),
            &self.mountpoint,
            &[MountOption::FSName("weft-lossyfs".into())],
        )?;
        self.session = Some(s);
        Ok(())
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// The power cut: unmounts, forgets everything not durable, mounts
    /// again. Every process using the filesystem must be gone.
    pub fn cut(&mut self) -> std::io::Result<()> {
        if let Some(s) = self.session.take() {
            drop(s);
        }
        self.state.lock().unwrap_or_else(|e| e.into_inner()).cut();
        self.attach()
    }

    /// What the cuts did so far.
    pub fn stats(&self) -> CutStats {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).stats
    }
}

impl Drop for LossyFs {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            drop(s);
        }
    }
}
