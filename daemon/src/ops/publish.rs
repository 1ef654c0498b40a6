//! Publishing a folder: walk it, check every path, hash and store every
//! chunk, sign the manifest and the announcement, commit, then gossip.
//!
//! Nothing is visible until the final batch: a publish that fails part-way
//! (bad path, file changed under us, crash) leaves no bundle, no catalog
//! entry and no pin behind, only unreferenced chunks.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_protocol::chunk::ChunkReader;
use weft_protocol::limits::{MAX_FILES, MAX_FILE_SIZE};
use weft_protocol::manifest::{normalize_lang, normalize_tag, validate_name};
use weft_protocol::{
    ContentHash, FileEntry, FileIndexer, LangText, Manifest, PublisherKey, SignedAnnouncement,
    SignedManifest, VERSION,
};

use weft_protocol::api::PublishResult;

use crate::clock::now_secs;
use crate::error::NodeError;
use crate::jobs::Progress;
use crate::node::Node;
use crate::store::{BundleCommit, Pin, StoreError};

/// Chunks written per batch while publishing.
const CHUNKS_PER_BATCH: usize = 16;
/// Batches queued between the reading thread and the writing thread.
const WRITE_QUEUE: usize = 2;
/// Files larger than this are cut on a thread of their own while the
/// publishing thread hashes the chunks already cut.
const CUT_APART_ABOVE: u64 = 8 << 20;
/// Chunks cut and not hashed yet (at most 2 MiB each).
const CUT_QUEUE: usize = 4;

pub use weft_protocol::api::PublishRequest;

pub(super) fn bad(msg: impl Into<String>) -> NodeError {
    NodeError::BadRequest(msg.into())
}

/// A file found in the folder: its bundle path and where it is on disk.
pub(super) struct Found {
    pub(super) rel: String,
    pub(super) abs: PathBuf,
    pub(super) size: u64,
}

fn walk(root: &Path) -> Result<Vec<Found>, NodeError> {
    let meta = std::fs::symlink_metadata(root)
        .map_err(|e| bad(format!("cannot publish {}: {e}", root.display())))?;
    if meta.file_type().is_symlink() {
        return Err(bad(format!(
            "{} is a symbolic link; publish the folder it points to instead",
            root.display()
        )));
    }
    if meta.is_file() {
        let rel = root.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            bad(format!(
                "{} has a file name that is not UTF-8",
                root.display()
            ))
        })?;
        return Ok(vec![Found {
            rel: rel.to_string(),
            abs: root.to_path_buf(),
            size: meta.len(),
        }]);
    }
    if !meta.is_dir() {
        return Err(bad(format!(
            "{} is neither a file nor a folder",
            root.display()
        )));
    }
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                bad(format!(
                    "{} has a name that is not UTF-8",
                    entry.path().display()
                ))
            })?;
            let rel = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            let ft = entry
                .file_type()
                .map_err(|e| bad(format!("cannot read {}: {e}", entry.path().display())))?;
            if ft.is_symlink() {
                let target = std::fs::canonicalize(entry.path()).ok();
                let inside = target.as_ref().is_some_and(|t| t.starts_with(root));
                return Err(bad(if inside {
                    format!("{rel} is a symbolic link; weft publishes regular files only, so copy the file instead")
                } else {
                    format!("{rel} is a symbolic link that escapes the folder; weft only publishes files inside {}", root.display())
                }));
            } else if ft.is_dir() {
                stack.push((entry.path(), rel));
            } else if ft.is_file() {
                let size = entry
                    .metadata()
                    .map_err(|e| bad(format!("cannot read {rel}: {e}")))?
                    .len();
                if size > MAX_FILE_SIZE {
                    return Err(bad(format!(
                        "{rel} is larger than the {MAX_FILE_SIZE}-byte limit per file"
                    )));
                }
                out.push(Found {
                    rel,
                    abs: entry.path(),
                    size,
                });
                if out.len() > MAX_FILES {
                    return Err(bad(format!(
                        "the folder has more than {MAX_FILES} files, the limit per bundle"
                    )));
                }
            } else {
                return Err(bad(format!(
                    "{rel} is not a regular file (a socket, device or pipe)"
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(bad(format!("{} has no files to publish", root.display())));
    }
    out.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    Ok(out)
}

/// Turns a folder name into a valid bundle name.
fn default_name(path: &Path) -> String {
    let raw = path
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("bundle")
        .to_lowercase();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name
        .trim_start_matches(['.', '-'])
        .chars()
        .take(128)
        .collect();
    if name.is_empty() {
        "bundle".into()
    } else {
        name
    }
}

/// Normalizes and checks everything a user typed, before any file is read.
fn prepare(
    req: &PublishRequest,
    found: &[Found],
) -> Result<(String, Vec<LangText>, Vec<String>), NodeError> {
    weft_protocol::path::validate_paths(found.iter().map(|f| f.rel.as_str()))
        .map_err(|e| bad(e.to_string()))?;
    let name = match &req.name {
        Some(n) => n.clone(),
        None => default_name(&req.path),
    };
    validate_name(&name).map_err(|e| bad(format!("{e}; choose one with --name")))?;
    let mut texts = Vec::new();
    for t in &req.texts {
        let lang = normalize_lang(&t.lang).ok_or_else(|| {
            bad(format!(
                "{:?} is not a language tag such as en, es or pt-BR",
                t.lang
            ))
        })?;
        if texts.iter().any(|x: &LangText| x.lang == lang) {
            return Err(bad(format!("two titles are given for language {lang}")));
        }
        texts.push(LangText {
            lang,
            title: t.title.trim().to_string(),
            description: t.description.trim().to_string(),
        });
    }
    if texts.is_empty() {
        texts.push(LangText {
            lang: "und".into(),
            title: name.clone(),
            description: String::new(),
        });
    }
    let mut tags = Vec::new();
    for t in &req.tags {
        tags.push(normalize_tag(t).ok_or_else(|| {
            bad(format!(
                "tag {t:?} must be a single word or-hyphenated-phrase"
            ))
        })?);
    }
    Ok((name, texts, tags))
}

pub(super) type Batch = Vec<(ContentHash, Vec<u8>)>;

/// Reads and hashes every file on this thread while a second thread
/// writes the chunks, so hashing and storing overlap. Returns the manifest
/// entries in order.
fn store_files(
    node: &Node,
    found: &[Found],
    progress: &Progress,
    protected: &mut crate::holdings::Protected,
) -> Result<Vec<FileEntry>, NodeError> {
    with_writer(node, |batch, tx| {
        found
            .iter()
            .map(|f| store_file(f, progress, batch, tx, protected))
            .collect()
    })
}

/// Runs `read` on this thread while a second thread writes the chunk
/// batches it sends; then sends what is left in its batch.
pub(super) fn with_writer<T>(
    node: &Node,
    read: impl FnOnce(&mut Batch, &std::sync::mpsc::SyncSender<Batch>) -> Result<T, NodeError>,
) -> Result<T, NodeError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(WRITE_QUEUE);
    let store = node.store.clone();
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Result<(), StoreError> {
            for batch in rx {
                store.put_blobs(&batch)?;
            }
            Ok(())
        });
        let mut batch = Batch::with_capacity(CHUNKS_PER_BATCH);
        let read = read(&mut batch, &tx).and_then(|out| {
            send(&tx, std::mem::take(&mut batch))?;
            Ok(out)
        });
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| NodeError::Internal("the chunk writer panicked".into()))?;
        // A write error explains a read side that stopped because the
        // writer had gone.
        written?;
        read
    })
}

fn send(tx: &std::sync::mpsc::SyncSender<Batch>, batch: Batch) -> Result<(), NodeError> {
    if batch.is_empty() {
        return Ok(());
    }
    tx.send(batch)
        .map_err(|_| NodeError::Internal("the chunk writer stopped".into()))
}

/// Reads and hashes one file, queueing its chunks (and its chunk index)
/// for the writer; returns its manifest entry. A large file is read and
/// cut by content on a second thread (cutting is a quarter of a core's
/// time at this speed) while this one hashes.
fn store_file(
    f: &Found,
    progress: &Progress,
    batch: &mut Batch,
    tx: &std::sync::mpsc::SyncSender<Batch>,
    protected: &mut crate::holdings::Protected,
) -> Result<FileEntry, NodeError> {
    let file = File::open(&f.abs).map_err(|e| bad(format!("cannot read {}: {e}", f.rel)))?;
    // One byte more than the walk saw, to notice a file that grew.
    let chunks = ChunkReader::new(file.take(f.size + 1));
    if f.size <= CUT_APART_ABOVE {
        return index_file(f, chunks, progress, batch, tx, protected);
    }
    let (cut_tx, cut_rx) = std::sync::mpsc::sync_channel(CUT_QUEUE);
    std::thread::scope(|s| {
        s.spawn(move || {
            for chunk in chunks {
                let failed = chunk.is_err();
                // A closed channel: the hashing side stopped.
                if cut_tx.send(chunk).is_err() || failed {
                    return;
                }
            }
        });
        // Returning drops the receiver, which ends the cutting thread.
        index_file(f, cut_rx.into_iter(), progress, batch, tx, protected)
    })
}

/// Hashes the chunks of one file as they come, queueing them (and the
/// file's chunk index) for the writer.
pub(super) fn index_file(
    f: &Found,
    chunks: impl Iterator<Item = std::io::Result<Vec<u8>>>,
    progress: &Progress,
    batch: &mut Batch,
    tx: &std::sync::mpsc::SyncSender<Batch>,
    protected: &mut crate::holdings::Protected,
) -> Result<FileEntry, NodeError> {
    let mut indexer = FileIndexer::new();
    let mut seen: u64 = 0;
    for chunk in chunks {
        let chunk = chunk.map_err(|e| bad(format!("cannot read {}: {e}", f.rel)))?;
        seen += chunk.len() as u64;
        if seen > f.size {
            break;
        }
        progress.add(chunk.len() as u64);
        let h = indexer.push_chunk(&chunk);
        // Kept from GC from before it is written until the commit.
        protected.add(h);
        batch.push((h, chunk));
        if batch.len() >= CHUNKS_PER_BATCH {
            send(
                tx,
                std::mem::replace(batch, Batch::with_capacity(CHUNKS_PER_BATCH)),
            )?;
        }
    }
    if seen != f.size {
        return Err(bad(format!(
            "{} changed while it was being published ({seen} bytes read where {} were listed); try again",
            f.rel, f.size
        )));
    }
    let digest = indexer.finish();
    for (h, index) in digest.indexes {
        protected.add(h);
        batch.push((h, index));
    }
    Ok(FileEntry {
        hash: digest.hash,
        path: f.rel.clone(),
        size: digest.size,
    })
}

/// Publishes a folder. Runs as a job; reports bytes hashed as progress.
pub async fn publish(
    node: Node,
    req: PublishRequest,
    progress: Arc<Progress>,
) -> Result<PublishResult, NodeError> {
    if !req.path.is_absolute() {
        return Err(bad("the path to publish must be absolute"));
    }
    let key = node.signing_key(req.passphrase.clone()).await?;
    let root = req.path.clone();
    let found = tokio::task::spawn_blocking(move || walk(&root))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))??;
    let (name, texts, tags) = prepare(&req, &found)?;
    let seq = match req.seq {
        Some(0) => return Err(bad("seq starts at 1")),
        Some(s) => s,
        None => node.latest_seq(key.identity, &name).await + 1,
    };
    if let Some(group) = &req.group {
        let draft = Manifest {
            v: VERSION,
            seq,
            name,
            tags,
            files: Vec::new(),
            texts,
            created: now_secs(),
            licence: req.licence.trim().to_string(),
            publisher: key.identity,
        };
        return super::private::publish(node, key, group, found, draft, progress).await;
    }
    progress.total.store(
        found.iter().map(|f| f.size).sum(),
        std::sync::atomic::Ordering::Relaxed,
    );
    let n2 = node.clone();
    let p2 = progress.clone();
    let (files, protected) = tokio::task::spawn_blocking(move || {
        let mut protected = n2.holdings.protect([]);
        store_files(&n2, &found, &p2, &mut protected).map(|f| (f, protected))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    let mut manifest = Manifest {
        v: VERSION,
        seq,
        name,
        tags,
        files,
        texts,
        created: now_secs(),
        licence: req.licence.trim().to_string(),
        publisher: key.identity,
    };
    manifest.canonicalize();
    let (signed, ann) = sign(manifest, &key.key)?;
    let id = signed.id();
    let now = now_secs();
    let pin = Some(Pin::explicit(now));
    let commit = BundleCommit {
        id,
        manifest: signed.bytes().to_vec(),
        announcement: Some((ann.announcement().claim_key(), ann.bytes().to_vec())),
        pin,
        blobs: Vec::new(),
    };
    let (holdings, committed, a) = (node.holdings.clone(), signed.clone(), ann.clone());
    node.blocking(move |s| holdings.commit(s, commit, &committed, Some(&a), now))
        .await?;
    drop(protected);
    node.net.announce(ann.bytes().to_vec()).await?;
    tracing::info!(bundle = %id, name = %signed.manifest().name, seq, "published");
    Ok(PublishResult {
        files: signed.manifest().files.len() as u64,
        id,
        name: signed.manifest().name.clone(),
        publisher: key.identity,
        seq,
        size: signed.manifest().total_size(),
    })
}

pub(super) fn sign(
    manifest: Manifest,
    key: &PublisherKey,
) -> Result<(SignedManifest, SignedAnnouncement), NodeError> {
    let signed = SignedManifest::sign(manifest, key).map_err(|e| bad(e.to_string()))?;
    let ann = SignedAnnouncement::sign(&signed, key)
        .map_err(|e| bad(format!("{e}; use shorter titles or fewer tags")))?;
    Ok((signed, ann))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `store_file` on `f` with a writer that only collects.
    fn store_one(f: &Found) -> (Result<FileEntry, NodeError>, Vec<ContentHash>) {
        use crate::holdings::Holdings;
        use crate::store::MemStore;
        let store = MemStore::default();
        let (provide, _) = tokio::sync::mpsc::channel(16);
        let holdings = Arc::new(Holdings::load(&store, None, Default::default(), provide).unwrap());
        let mut protected = holdings.protect([]);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(64);
        let mut batch = Batch::new();
        let r = store_file(f, &Progress::default(), &mut batch, &tx, &mut protected);
        drop(tx);
        let mut stored: Vec<ContentHash> = rx.into_iter().flatten().map(|(h, _)| h).collect();
        stored.extend(batch.iter().map(|(h, _)| *h));
        (r, stored)
    }

    #[test]
    fn a_large_file_cut_apart_hashes_as_the_protocol_says_and_a_grown_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let size = CUT_APART_ABOVE + (3 << 20) + 12_345;
        let mut x = 7u64;
        let bytes: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let found = |size| Found {
            rel: "big.bin".into(),
            abs: path.clone(),
            size,
        };
        let (entry, stored) = store_one(&found(size));
        let entry = entry.unwrap();
        let (digest, chunks) = weft_protocol::chunk::digest_bytes(&bytes);
        assert_eq!((entry.hash, entry.size), (digest.hash, size));
        assert!(chunks.len() > 4, "{} chunks", chunks.len());
        for c in &chunks {
            let h = ContentHash::of(c);
            assert!(stored.contains(&h), "chunk {h} not stored");
        }
        for (h, _) in &digest.indexes {
            assert!(stored.contains(h), "index {h} not stored");
        }
        // The walk saw fewer bytes than the file now holds: refused, and
        // the cutting thread ends although it has more to send.
        let (grown, _) = store_one(&found(size - (2 << 20)));
        let err = grown.err().unwrap().to_string();
        assert!(
            err.contains("changed while it was being published"),
            "{err}"
        );
    }

    #[test]
    fn names_are_derived_safely_from_folder_names() {
        assert_eq!(
            default_name(Path::new("/x/My Guide (2024)")),
            "my-guide--2024-"
        );
        assert_eq!(default_name(Path::new("/x/.hidden")), "hidden");
        assert_eq!(default_name(Path::new("/x/notes.md")), "notes");
    }

    #[test]
    fn walking_refuses_a_symlink_that_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        let err = walk(dir.path()).err().unwrap().to_string();
        assert!(err.contains("escapes the folder"), "{err}");
    }

    #[test]
    fn walking_lists_nested_files_in_byte_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/d.txt"), b"d").unwrap();
        std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
        std::fs::write(dir.path().join("B.txt"), b"").unwrap();
        let found: Vec<String> = walk(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.rel)
            .collect();
        assert_eq!(found, ["B.txt", "a.txt", "b/c/d.txt"]);
    }
}
