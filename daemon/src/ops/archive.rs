//! Sneakernet: writing bundles to archive files and importing them.
//!
//! The format is `weft_protocol::archive`. Export reads every blob from the
//! store and checks it against its hash on the way out. Import reads the
//! whole archive (or every `.weft` file of a folder) twice: the first pass
//! verifies every signature and every block and stores nothing; only if
//! all of it is sound does the second pass store it (verifying again, as
//! the file could change in between), one bundle per synced commit.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use weft_protocol::api::{ArchiveFile, ExportResult, ExportedBundle, ImportResult, ImportedBundle};
use weft_protocol::archive::{self, blob_order, Item, Reader, Writer};
use weft_protocol::{claim_key, BundleId, SignedAnnouncement, SignedManifest};

use crate::clock::now_secs;
use crate::error::NodeError;
use crate::jobs::Progress;
use crate::node::Node;
use crate::store::{BundleCommit, Pin};

/// Verified blob bytes buffered before they are written in one batch.
const IMPORT_BATCH_BYTES: usize = 8 << 20;
/// Most archive files read from one folder.
pub const MAX_ARCHIVE_FILES: usize = 10_000;

/// Counts bytes read, for progress.
struct Counting<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

fn bad(msg: impl Into<String>) -> NodeError {
    NodeError::BadRequest(msg.into())
}

/// The file name a bundle gets in a folder export.
fn file_name(m: &SignedManifest) -> String {
    format!(
        "{}-{}-{}.{}",
        m.manifest().name,
        m.manifest().seq,
        &m.id().to_string()[..12],
        archive::EXTENSION
    )
}

/// Writes one archive of `bundles` to `path`, which must not exist.
fn write_archive(
    node: &Node,
    bundles: &[SignedManifest],
    path: &Path,
    progress: &Progress,
) -> Result<u64, NodeError> {
    let store = node.store.as_ref();
    let tmp = path.with_extension("weft-partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| bad(format!("cannot create {}: {e}", tmp.display())))?;
    let result = (|| {
        let io =
            |e: std::io::Error| NodeError::Internal(format!("writing {}: {e}", path.display()));
        let mut w = Writer::new(BufWriter::with_capacity(1 << 20, file)).map_err(io)?;
        let mut logged = std::collections::HashSet::new();
        let mut groups_written = std::collections::HashSet::new();
        for m in bundles {
            // A sealed bundle: its group's entries first, so that a
            // member's node that was never online can read it.
            if let Some((gid, private)) = private_of(node, m) {
                let state = node.catalog.group_state(&gid);
                if groups_written.insert(gid) {
                    if let Some(state) = &state {
                        let admins: std::collections::BTreeSet<_> = state
                            .chain
                            .iter()
                            .flat_map(|l| l.admins.iter().copied())
                            .collect();
                        for a in admins {
                            if logged.insert(a) {
                                for e in node.catalog.key_chain(&a) {
                                    w.key_event(&e).map_err(io)?;
                                }
                            }
                        }
                        let records = node.catalog.group_records(&gid);
                        for link in &state.chain {
                            if let Some(r) = records.iter().find(|r| r.hash() == link.hash) {
                                w.group_entry(r.bytes()).map_err(io)?;
                            }
                        }
                        for b in node.catalog.group_boxes(&gid) {
                            if state.link(&b.key_box().record).is_some() {
                                w.group_entry(b.bytes()).map_err(io)?;
                            }
                        }
                    }
                }
                w.group_entry(private.bytes()).map_err(io)?;
            }

            // The publisher's key log first, so that a node that learns of
            // it only from this archive can check the manifest's signer.
            let publisher = m.manifest().publisher;
            if logged.insert(publisher) {
                for e in node.catalog.key_chain(&publisher) {
                    w.key_event(&e).map_err(io)?;
                }
            }
            let ann = store
                .get_announcement(&claim_key(&m.id(), &m.manifest().publisher))?
                .and_then(|b| SignedAnnouncement::decode(&b).ok())
                .filter(|a| a.announcement().matches(m));
            w.manifest(m, ann.as_ref()).map_err(io)?;
            let order = blob_order(m, |h| store.get_blob(h).ok().flatten())
                .map_err(|e| NodeError::Internal(format!("bundle {}: {e}", m.id())))?;
            for &(h, len) in &order {
                // The store checks every read against its hash.
                let bytes = store
                    .get_blob(&h)?
                    .filter(|b| b.len() as u64 == len)
                    .ok_or_else(|| {
                        NodeError::Internal(format!(
                            "block {h} of bundle {} is missing or damaged on this disk",
                            m.id()
                        ))
                    })?;
                w.blob(&bytes).map_err(io)?;
                progress.add(len);
            }
        }
        let (buf, written) = w.finish().map_err(io)?;
        let file = buf
            .into_inner()
            .map_err(|e| NodeError::Internal(format!("writing {}: {e}", path.display())))?;
        file.sync_all().map_err(io)?;
        Ok(written)
    })();
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, path).map_err(|e| {
                NodeError::Internal(format!("renaming into {}: {e}", path.display()))
            })?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Exports bundles to one file (`dir` false) or one file per bundle in a
/// folder. Nothing that exists is overwritten. Blocking.
pub fn export_blocking(
    node: &Node,
    bundles: &[SignedManifest],
    out: &Path,
    dir: bool,
    progress: &Progress,
) -> Result<ExportResult, NodeError> {
    progress.total.store(
        bundles.iter().map(|m| m.manifest().total_size()).sum(),
        Relaxed,
    );
    let mut files = Vec::new();
    if dir {
        match std::fs::symlink_metadata(out) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(bad(format!("{} exists and is not a folder", out.display()))),
            Err(_) => std::fs::create_dir_all(out)
                .map_err(|e| bad(format!("cannot create {}: {e}", out.display())))?,
        }
        let targets: Vec<PathBuf> = bundles.iter().map(|m| out.join(file_name(m))).collect();
        if let Some(t) = targets
            .iter()
            .find(|t| std::fs::symlink_metadata(t).is_ok())
        {
            return Err(NodeError::Conflict(format!(
                "{} already exists; remove it or export to another folder",
                t.display()
            )));
        }
        for (m, t) in bundles.iter().zip(targets) {
            let bytes = write_archive(node, std::slice::from_ref(m), &t, progress)?;
            files.push(ArchiveFile {
                bytes,
                id: Some(m.id()),
                path: t,
            });
        }
    } else {
        if std::fs::symlink_metadata(out).is_ok() {
            return Err(NodeError::Conflict(format!(
                "{} already exists; remove it or choose another file",
                out.display()
            )));
        }
        let bytes = write_archive(node, bundles, out, progress)?;
        files.push(ArchiveFile {
            bytes,
            id: None,
            path: out.to_path_buf(),
        });
    }
    for m in bundles {
        node.holdings
            .touch(node.store.as_ref(), &m.id(), now_secs())?;
    }
    Ok(ExportResult {
        bundles: bundles
            .iter()
            .map(|m| ExportedBundle {
                id: m.id(),
                name: m.manifest().name.clone(),
                seq: m.manifest().seq,
            })
            .collect(),
        files,
    })
}

/// The archive files at `path`: the file itself, or the `.weft` files of a
/// folder in name order.
fn archive_files(path: &Path) -> Result<Vec<PathBuf>, NodeError> {
    let meta =
        std::fs::metadata(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(path).map_err(|e| bad(format!("cannot list {}: {e}", path.display())))?;
    for e in entries {
        let e = e.map_err(|e| bad(format!("cannot list {}: {e}", path.display())))?;
        let p = e.path();
        let is_archive = p.extension().is_some_and(|x| x == archive::EXTENSION);
        if is_archive && e.file_type().is_ok_and(|t| t.is_file()) {
            out.push(p);
            if out.len() > MAX_ARCHIVE_FILES {
                return Err(bad(format!(
                    "{} holds more than {MAX_ARCHIVE_FILES} archives; import them in smaller folders",
                    path.display()
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(bad(format!("{} holds no .weft archives", path.display())));
    }
    out.sort();
    Ok(out)
}

fn open_reader<'a>(
    path: &Path,
    progress: &'a Progress,
) -> Result<Reader<Counting<'a, BufReader<File>>>, NodeError> {
    let f = File::open(path).map_err(|e| bad(format!("cannot open {}: {e}", path.display())))?;
    Reader::new(Counting {
        inner: BufReader::with_capacity(1 << 20, f),
        progress,
    })
    .map_err(|e| bad(format!("{}: {e}; nothing was imported", path.display())))
}

/// The group and private announcement of a sealed bundle, if it is one.
fn private_of(
    node: &Node,
    m: &SignedManifest,
) -> Option<(
    weft_protocol::GroupId,
    weft_protocol::manifest::SignedPrivate,
)> {
    if !crate::ops::private::looks_sealed(m) {
        return None;
    }
    let id = m.id();
    node.catalog.group_ids().into_iter().find_map(|g| {
        node.catalog
            .group_privates(&g)
            .into_iter()
            .find(|p| p.private().id == id)
            .map(|p| (g, p))
    })
}

/// What a verified archive holds.
struct Verified {
    bundles: Vec<(SignedManifest, Option<SignedAnnouncement>)>,
    key_events: Vec<weft_protocol::SignedKeyEvent>,
    groups: Vec<weft_protocol::CatalogEntry>,
}

/// Pass 1: reads every archive, verifying everything, storing nothing.
fn verify_all(files: &[PathBuf], progress: &Progress) -> Result<Verified, NodeError> {
    let mut bundles = Vec::new();
    let mut key_events = Vec::new();
    let mut groups = Vec::new();
    for path in files {
        let mut r = open_reader(path, progress)?;
        loop {
            match r.next_item() {
                Ok(Some(Item::Complete {
                    manifest,
                    announcement,
                })) => bundles.push((manifest, announcement)),
                Ok(Some(Item::KeyEvent(e))) => key_events.push(e),
                Ok(Some(Item::Group(e))) => groups.push(e),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    return Err(bad(format!(
                        "{}: {e}; nothing was imported",
                        path.display()
                    )))
                }
            }
        }
    }
    Ok(Verified {
        bundles,
        key_events,
        groups,
    })
}

/// Imports archives: verifies all, then stores all. Blocking.
pub fn import_blocking(
    node: &Node,
    path: &Path,
    progress: &Progress,
) -> Result<ImportResult, NodeError> {
    let files = archive_files(path)?;
    let size: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    progress.total.store(size * 2, Relaxed);
    let verified = verify_all(&files, progress)?;
    let store = node.store.as_ref();
    // Key logs first: they say which device may sign for whom.
    for e in &verified.key_events {
        node.catalog
            .add_entry(store, &weft_protocol::CatalogEntry::Key(e.clone()))?;
    }
    // Then private groups' entries, each after what it needs: records in
    // seq order, key boxes, private announcements. One that does not fit
    // its group here is refused by the catalog, as from a peer.
    let mut groups = verified.groups.clone();
    groups.sort_by_key(|e| match e {
        weft_protocol::CatalogEntry::Group(r) => (0, r.record().seq),
        weft_protocol::CatalogEntry::KeyBox(_) => (1, 0),
        _ => (2, 0),
    });
    for e in &groups {
        node.catalog.add_entry(store, e)?;
    }
    // Which bundles are new, and do they fit?
    let mut new = std::collections::HashSet::new();
    let mut blocked = Vec::new();
    let mut refused = Vec::new();
    let mut need = 0;
    for (m, _) in &verified.bundles {
        let id = m.id();
        if node.rules.is_blocked(&m.manifest().publisher) {
            blocked.push(id);
        } else if crate::ops::fetch::check_signer(node, m).is_err() {
            refused.push(id);
        } else if !store.has_manifest(&id)? && new.insert(id) {
            need += m.manifest().total_size();
        }
    }
    if let Some(max) = node.holdings.max() {
        if node.holdings.usage().pinned + need > max {
            return Err(NodeError::Unavailable(format!(
                "the archive holds {} of new bundles, which would take pinned data over storage.max ({}); \
                 nothing was imported",
                weft_protocol::units::human(need),
                weft_protocol::units::human(max)
            )));
        }
    }
    // Pass 2: store, verifying again.
    let mut protected = node.holdings.protect([]);
    let mut imported = Vec::new();
    for path in &files {
        let mut r = open_reader(path, progress)?;
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let mut skip = false;
        loop {
            let item = r.next_item().map_err(|e| {
                bad(format!(
                    "{}: {e}; it changed since it was verified; bundles completed before this point were imported",
                    path.display()
                ))
            })?;
            match item {
                Some(Item::Manifest(m)) => skip = !new.contains(&m.id()),
                Some(Item::KeyEvent(_) | Item::Group(_)) => {}
                Some(Item::Blob(h, bytes)) => {
                    if skip {
                        continue;
                    }
                    protected.add(h);
                    batch_bytes += bytes.len();
                    batch.push((h, bytes));
                    if batch_bytes >= IMPORT_BATCH_BYTES {
                        store.put_blobs(&std::mem::take(&mut batch))?;
                        batch_bytes = 0;
                    }
                }
                Some(Item::Complete {
                    manifest,
                    announcement,
                }) => {
                    if skip {
                        continue;
                    }
                    let id = manifest.id();
                    let now = now_secs();
                    let pin = Some(Pin::explicit(now));
                    // An announcement its publisher's key log does not let
                    // its signer make is left out; the bundle is not.
                    let announcement = announcement.filter(|a| {
                        node.catalog
                            .signer_counts(&weft_protocol::CatalogEntry::Announcement(a.clone()))
                    });
                    node.holdings.commit(
                        store,
                        BundleCommit {
                            id,
                            manifest: manifest.bytes().to_vec(),
                            announcement: announcement
                                .as_ref()
                                .map(|a| (a.announcement().claim_key(), a.bytes().to_vec())),
                            pin,
                            blobs: std::mem::take(&mut batch),
                        },
                        &manifest,
                        announcement.as_ref(),
                        now,
                    )?;
                    batch_bytes = 0;
                    new.remove(&id);
                    imported.push((manifest, announcement));
                }
                None => break,
            }
        }
    }
    drop(protected);
    let skipped: Vec<BundleId> = verified
        .bundles
        .iter()
        .map(|(m, _)| m.id())
        .filter(|id| {
            !imported.iter().any(|(m, _)| m.id() == *id)
                && !blocked.contains(id)
                && !refused.contains(id)
        })
        .collect();
    Ok(ImportResult {
        already_here: skipped,
        blocked,
        files: files.len() as u64,
        imported: imported
            .iter()
            .map(|(m, a)| ImportedBundle {
                announced: a.is_some(),
                id: m.id(),
                name: m.manifest().name.clone(),
                seq: m.manifest().seq,
                size: m.manifest().total_size(),
            })
            .collect(),
        refused,
    })
}

/// Runs an import as a job: then announces what it stored (committing
/// provided it).
pub async fn import(
    node: Node,
    path: PathBuf,
    progress: Arc<Progress>,
) -> Result<ImportResult, NodeError> {
    let n2 = node.clone();
    let result = tokio::task::spawn_blocking(move || import_blocking(&n2, &path, &progress))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))??;
    for b in result.imported.iter().filter(|b| b.announced) {
        let Some(m) = node.local_manifest(b.id).await? else {
            continue;
        };
        let key = claim_key(&b.id, &m.manifest().publisher);
        if let Some(ann) = node.blocking(move |s| s.get_announcement(&key)).await? {
            // Offline is fine: gossip waits for peers.
            let _ = node.net.announce(ann).await;
        }
    }
    Ok(result)
}
