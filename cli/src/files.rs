//! Files only their owner can read (mode 0600): the publisher key and the
//! web UI's one-time login page.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

// The two writers differ on purpose. The publisher key is never
// overwritten (`weft init` refuses if one exists) and is synced to disk,
// with its folder, before `init` reports it saved. The login page is throwaway: an older one
// is replaced, removed first so that a file or link left in its place is
// never written through, and it is not synced.

/// Creates `path`, which must not exist yet, readable by its owner only,
/// and writes `bytes` into it.
fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<std::fs::File> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(f)
}

/// Writes a new file only its owner can read, and syncs it and its name
/// (the folder), so it survives a power cut; fails if `path` exists.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private(path, bytes)?.sync_all()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

/// Writes a file only its owner can read, replacing any file at `path`.
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    create_private(path, bytes).map(drop)
}
