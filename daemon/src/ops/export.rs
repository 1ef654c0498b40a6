//! Writing a stored bundle out as files.
//!
//! Every target is checked before anything is written: a path that exists
//! already, or a symbolic link on the way to it, stops the export with
//! nothing changed. Each file is written inside a fresh staging folder and
//! renamed into place when complete, and every chunk is verified again on
//! its way out (by the store, which checks every read against its hash),
//! because the disk is not trusted either.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_protocol::chunk::Chunk;
use weft_protocol::SignedManifest;

use crate::error::NodeError;
use crate::jobs::Progress;
use crate::node::Node;
use crate::store::{chunks_of, start_writeback, ChunkListError, WRITEBACK_BYTES};

fn target_of(dest: &Path, rel: &str) -> PathBuf {
    let mut p = dest.to_path_buf();
    for c in rel.split('/') {
        p.push(c);
    }
    p
}

/// Refuses a target that exists, or that has a symlink or a non-directory
/// among its ancestors under `dest`.
fn check_target(dest: &Path, rel: &str) -> Result<(), NodeError> {
    let mut p = dest.to_path_buf();
    let comps: Vec<&str> = rel.split('/').collect();
    for (i, c) in comps.iter().enumerate() {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Err(_) => return Ok(()),
            Ok(m) if i + 1 == comps.len() => {
                let _ = m;
                return Err(NodeError::Conflict(format!(
                    "{} already exists; remove it or choose another output folder with -o",
                    p.display()
                )));
            }
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
                return Err(NodeError::Conflict(format!(
                    "{} is in the way (not a plain folder); choose another output folder with -o",
                    p.display()
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn export_blocking(
    node: &Node,
    signed: &SignedManifest,
    dest: &Path,
    progress: &Progress,
) -> Result<(), NodeError> {
    write_all(signed, dest, |f, file| {
        write_file(node, f, &target_of(dest, &f.path), file, progress)
    })
}

/// Writes every file of `signed` under `dest`: `fill` writes one file's
/// bytes into a new file, which is synced and then put in place. Nothing
/// that exists is overwritten.
pub(super) fn write_all(
    signed: &SignedManifest,
    dest: &Path,
    mut fill: impl FnMut(&weft_protocol::FileEntry, &mut std::fs::File) -> Result<(), NodeError>,
) -> Result<(), NodeError> {
    let m = signed.manifest();
    if let Ok(meta) = std::fs::symlink_metadata(dest) {
        if !meta.is_dir() {
            return Err(NodeError::Conflict(format!(
                "{} exists and is not a folder",
                dest.display()
            )));
        }
    }
    for f in &m.files {
        check_target(dest, &f.path)?;
    }
    let cant = |p: &Path, e: std::io::Error| {
        NodeError::BadRequest(format!("cannot create {}: {e}", p.display()))
    };
    std::fs::create_dir_all(dest).map_err(|e| cant(dest, e))?;
    // Files are written into a fresh private folder under short numeric
    // names (created with O_EXCL, so nothing there can be a symlink), then
    // renamed into place when complete.
    let staging = loop {
        let name = format!(".weft-staging-{:016x}", rand::random::<u64>());
        if m.files
            .iter()
            .any(|f| f.path.split('/').next() == Some(name.as_str()))
        {
            continue;
        }
        let p = dest.join(name);
        match std::fs::create_dir(&p) {
            Ok(()) => break p,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(cant(&p, e)),
        }
    };
    let result = m.files.iter().enumerate().try_for_each(|(k, f)| {
        let target = target_of(dest, &f.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cant(parent, e))?;
        }
        let tmp = staging.join(k.to_string());
        let io = |e: std::io::Error| {
            NodeError::BadRequest(format!("cannot write {}: {e}", target.display()))
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io)?;
        fill(f, &mut file)?;
        file.sync_all().map_err(io)?;
        place(&tmp, &target)
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Puts a complete file in place. A hard link fails if the target
/// appeared since the checks (another export, a case-insensitive file
/// system), where a rename would silently replace it. The staging copy
/// goes with the staging folder. File systems without hard links (FAT on a
/// USB stick) fall back to a checked rename.
fn place(tmp: &Path, target: &Path) -> Result<(), NodeError> {
    let appeared = || {
        NodeError::Conflict(format!(
            "{} appeared while exporting; nothing was overwritten, but files already \
             written stay; remove them or choose another output folder with -o",
            target.display()
        ))
    };
    match std::fs::hard_link(tmp, target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(appeared()),
        Err(_) if std::fs::symlink_metadata(target).is_ok() => Err(appeared()),
        Err(_) => std::fs::rename(tmp, target)
            .map_err(|e| NodeError::BadRequest(format!("cannot write {}: {e}", target.display()))),
    }
}

/// Writes one file of a held public bundle from its stored blocks.
fn write_file(
    node: &Node,
    f: &weft_protocol::FileEntry,
    target: &Path,
    file: &mut std::fs::File,
    progress: &Progress,
) -> Result<(), NodeError> {
    let chunks = match chunks_of(node.store.as_ref(), f) {
        Ok(c) => c.chunks,
        Err(ChunkListError::Missing { .. }) => {
            return Err(NodeError::Internal(format!(
                "index of {} is missing",
                f.path
            )))
        }
        Err(ChunkListError::Damaged(e)) => {
            return Err(NodeError::Internal(format!("{}: {e}", f.path)))
        }
        Err(ChunkListError::Store(e)) => return Err(e.into()),
    };
    let io = |e: std::io::Error| {
        NodeError::BadRequest(format!("cannot write {}: {e}", target.display()))
    };
    // One thread reads and verifies chunks while this one writes them, so
    // the two overlap; writeback starts every few MiB, so the disk works
    // meanwhile and the final sync finds little left.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, NodeError>>(4);
    std::thread::scope(|s| -> Result<(), NodeError> {
        s.spawn(move || {
            for c in &chunks {
                let read = read_chunk(node, c, &f.path);
                let failed = read.is_err();
                if tx.send(read).is_err() || failed {
                    return;
                }
            }
        });
        let (mut written, mut back) = (0u64, 0u64);
        for bytes in rx {
            let bytes = bytes?;
            file.write_all(&bytes).map_err(io)?;
            written += bytes.len() as u64;
            progress.add(bytes.len() as u64);
            if written - back >= WRITEBACK_BYTES {
                start_writeback(file, back, written - back);
                back = written;
            }
        }
        Ok(())
    })
}

/// Reads one stored chunk of a file being exported (the store checks its
/// hash on every read) and checks its length against the manifest's.
fn read_chunk(node: &Node, c: &Chunk, path: &str) -> Result<Vec<u8>, NodeError> {
    let bytes = node
        .store
        .get_blob(&c.hash)?
        .filter(|b| b.len() as u64 == c.len)
        .ok_or_else(|| {
            NodeError::Internal(format!(
                "a block of {path} is missing or damaged; `weft check` finds what to fetch again"
            ))
        })?;
    Ok(bytes)
}

/// Writes the files of a complete local bundle under `dest`. A sealed
/// bundle of a group this node holds the key of is opened and its files
/// written; the manifest returned is then the inner one, the files'.
pub async fn export(
    node: &Node,
    signed: SignedManifest,
    dest: PathBuf,
    progress: Arc<Progress>,
) -> Result<SignedManifest, NodeError> {
    if !dest.is_absolute() {
        return Err(NodeError::BadRequest(
            "the output folder must be an absolute path".into(),
        ));
    }
    if super::private::looks_sealed(&signed) {
        super::group::learn_all(node).await;
    }
    let node = node.clone();
    tokio::task::spawn_blocking(move || match super::private::sealed_key(&node, &signed)? {
        Some((header, secret)) => {
            super::private::export_sealed(&node, &signed, &header, &secret, &dest, &progress)
        }
        None => export_blocking(&node, &signed, &dest, &progress).map(|()| signed),
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?
}
