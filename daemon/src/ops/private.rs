//! Private bundles (protocol section 6.6): publishing a folder to a group,
//! sealed, and writing a sealed bundle out on a member's node.
//!
//! Publishing reads the folder twice: once to hash the files into the
//! inner manifest, which the sealed file starts with, and once to seal the
//! inner manifest and the files into one sealed file, which is stored like
//! any file of a public bundle. No plaintext block is ever stored: what
//! this node holds and serves is the outer bundle, which any node can check
//! and none but members can read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use rand::rngs::OsRng;
use weft_protocol::api::PublishResult;
use weft_protocol::chunk::{ChunkReader, FileIndexer};
use weft_protocol::group::{
    self, padme, plain_len, sealed_len, EpochSecret, Opener, SealedHeader, Sealer, HEADER_BYTES,
};
use weft_protocol::manifest::MAX_PRIVATE_INNER_BYTES;
use weft_protocol::{CatalogEntry, FileEntry, GroupId, Manifest, SignedManifest};

use super::publish::{bad, index_file, sign, with_writer, Found};
use crate::catalog::Added;
use crate::clock::now_secs;
use crate::error::NodeError;
use crate::jobs::Progress;
use crate::node::{Node, Signer};
use crate::store::{chunks_of, BundleCommit, Pin};

/// Bytes read from a file at a time while sealing.
const READ_BYTES: usize = 1 << 20;
/// Sealed chunks waiting to be hashed.
const SEAL_QUEUE: usize = 4;
/// Opened chunks waiting to be hashed and written.
const OPEN_QUEUE: usize = 4;

/// Hashes one file as the protocol does, storing nothing.
fn hash_file(f: &Found, progress: &Progress) -> Result<FileEntry, NodeError> {
    let file = File::open(&f.abs).map_err(|e| bad(format!("cannot read {}: {e}", f.rel)))?;
    let mut ix = FileIndexer::new();
    let mut seen = 0u64;
    for chunk in ChunkReader::new(file.take(f.size + 1)) {
        let chunk = chunk.map_err(|e| bad(format!("cannot read {}: {e}", f.rel)))?;
        seen += chunk.len() as u64;
        progress.add(chunk.len() as u64);
        ix.push_chunk(&chunk);
    }
    if seen != f.size {
        return Err(changed(&f.rel));
    }
    let d = ix.finish();
    Ok(FileEntry {
        hash: d.hash,
        path: f.rel.clone(),
        size: d.size,
    })
}

fn changed(rel: &str) -> NodeError {
    bad(format!(
        "{rel} changed while it was being published; try again"
    ))
}

/// The sealed file, read as it is made: the inner manifest's length and
/// bytes, then each file, sealed segment by segment.
struct SealingReader {
    sealer: Option<Sealer>,
    head: Option<Vec<u8>>,
    files: VecDeque<(File, u64, String)>,
    out: Vec<u8>,
    pos: usize,
    buf: Vec<u8>,
}

impl SealingReader {
    /// The sealed file of `head` (the inner manifest's length and bytes)
    /// then `files`, after the 75-byte `header`.
    fn new(
        sealer: Sealer,
        header: &[u8],
        head: Vec<u8>,
        files: VecDeque<(File, u64, String)>,
    ) -> Self {
        Self {
            sealer: Some(sealer),
            head: Some(head),
            files,
            out: header.to_vec(),
            pos: 0,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let Some(sealer) = self.sealer.as_mut() else {
            return Ok(());
        };
        let seal_err = |e: group::GroupError| std::io::Error::other(e.to_string());
        if let Some(head) = self.head.take() {
            return sealer.write(&head, &mut self.out).map_err(seal_err);
        }
        while self.out.is_empty() {
            let Some((file, left, rel)) = self.files.front_mut() else {
                let sealer = self.sealer.take().expect("checked");
                return sealer.finish(&mut self.out).map_err(seal_err);
            };
            let want = (*left).min(READ_BYTES as u64) as usize;
            if want == 0 {
                // One byte more would mean the file grew.
                if file.read(&mut [0u8; 1])? != 0 {
                    return Err(std::io::Error::other(format!("{rel} grew")));
                }
                self.files.pop_front();
                continue;
            }
            self.buf.resize(want, 0);
            let n = file.read(&mut self.buf)?;
            if n == 0 {
                return Err(std::io::Error::other(format!("{rel} shrank")));
            }
            *left -= n as u64;
            sealer
                .write(&self.buf[..n], &mut self.out)
                .map_err(seal_err)?;
        }
        Ok(())
    }
}

impl Read for SealingReader {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        // A piece of plaintext may complete no segment yet: fill until
        // there is output, or the sealer has finished.
        while self.pos == self.out.len() {
            if self.sealer.is_none() {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Publishes `found` to `group`, sealed: `draft` is the inner manifest
/// without its files.
pub(super) async fn publish(
    node: Node,
    key: Signer,
    group: &str,
    found: Vec<Found>,
    mut draft: Manifest,
    progress: Arc<Progress>,
) -> Result<PublishResult, NodeError> {
    let gid = super::group::resolve(&node, group)?;
    let state = node
        .catalog
        .group_state(&gid)
        .ok_or_else(|| NodeError::NotFound(format!("group {gid} is not known here")))?;
    let epoch = state.epoch();
    let secret = node.keyring.get(&gid, epoch).ok_or_else(|| {
        NodeError::Forbidden(format!(
            "this node does not hold the current key of group {gid}: only its members publish to it"
        ))
    })?;
    let total: u64 = found.iter().map(|f| f.size).sum();
    progress
        .total
        .store(2 * total, std::sync::atomic::Ordering::Relaxed);
    let p2 = progress.clone();
    let (found, files) = tokio::task::spawn_blocking(move || {
        let files = found
            .iter()
            .map(|f| hash_file(f, &p2))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, NodeError>((found, files))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    draft.files = files;
    draft.canonicalize();
    let (inner, inner_ann) = sign(draft, &key.key)?;
    if inner_ann.bytes().len() > MAX_PRIVATE_INNER_BYTES {
        return Err(bad(format!(
            "the titles and tags take {} bytes signed; a private bundle's may take {MAX_PRIVATE_INNER_BYTES}: shorten them",
            inner_ann.bytes().len()
        )));
    }
    let (sealed_size, entry, protected) =
        seal_and_store(&node, &inner, found, &secret, gid, epoch, &progress).await?;
    let created = now_secs();
    let outer = group::outer_manifest(&secret, entry.hash, sealed_size, created)
        .map_err(|e| NodeError::Internal(format!("the outer manifest: {e}")))?;
    let id = outer.id();
    let announcement = group::announce(
        &secret,
        &gid,
        epoch,
        id,
        sealed_size,
        &inner_ann,
        created,
        &mut OsRng,
    )
    .map_err(|e| NodeError::Internal(format!("the private announcement: {e}")))?;
    let commit = BundleCommit {
        id,
        manifest: outer.bytes().to_vec(),
        announcement: None,
        pin: Some(Pin::explicit(created)),
        blobs: Vec::new(),
    };
    let (holdings, committed) = (node.holdings.clone(), outer.clone());
    node.blocking(move |s| holdings.commit(s, commit, &committed, None, created))
        .await?;
    drop(protected);
    let entry = CatalogEntry::Private(announcement.clone());
    let catalog = node.catalog.clone();
    match node.blocking(move |s| catalog.add_entry(s, &entry)).await? {
        Added::New | Added::Known => {}
        other => {
            return Err(NodeError::Internal(format!(
                "this node's catalog did not keep its own private announcement: {other:?}"
            )))
        }
    }
    node.net.announce(announcement.bytes().to_vec()).await?;
    let m = inner.manifest();
    tracing::info!(bundle = %id, group = %gid.fmt_short(), "published privately");
    Ok(PublishResult {
        files: m.files.len() as u64,
        id,
        name: m.name.clone(),
        publisher: key.identity,
        seq: m.seq,
        size: m.total_size(),
    })
}

/// Seals the inner manifest and the files into the store as one file;
/// returns its size and entry, and the guard that keeps its blocks until
/// the commit.
async fn seal_and_store(
    node: &Node,
    inner: &SignedManifest,
    found: Vec<Found>,
    secret: &EpochSecret,
    gid: GroupId,
    epoch: u64,
    progress: &Arc<Progress>,
) -> Result<(u64, FileEntry, crate::holdings::Protected), NodeError> {
    let total: u64 = found.iter().map(|f| f.size).sum();
    let padded = padme(plain_len(inner.bytes().len(), total));
    let size = sealed_len(padded);
    let mut head = (inner.bytes().len() as u32).to_be_bytes().to_vec();
    head.extend_from_slice(inner.bytes());
    let (sealer, header) = Sealer::new(secret, gid, epoch, padded, &mut OsRng);
    let (n2, p2) = (node.clone(), progress.clone());
    tokio::task::spawn_blocking(move || {
        let mut files = VecDeque::new();
        for f in &found {
            let file =
                File::open(&f.abs).map_err(|e| bad(format!("cannot read {}: {e}", f.rel)))?;
            files.push_back((file, f.size, f.rel.clone()));
        }
        let reader = SealingReader::new(sealer, &header, head, files);
        let sealed = Found {
            rel: group::OUTER_NAME.into(),
            abs: Default::default(),
            size,
        };
        let mut protected = n2.holdings.protect([]);
        // Reading, sealing and cutting run on a thread of their own while
        // this one hashes the sealed chunks and a third writes them.
        let (cut_tx, cut_rx) = std::sync::mpsc::sync_channel(SEAL_QUEUE);
        let entry = std::thread::scope(|s| {
            s.spawn(move || {
                for chunk in ChunkReader::new(reader) {
                    let failed = chunk.is_err();
                    // A closed channel: the hashing side stopped.
                    if cut_tx.send(chunk).is_err() || failed {
                        return;
                    }
                }
            });
            with_writer(&n2, |batch, tx| {
                index_file(&sealed, cut_rx.into_iter(), &p2, batch, tx, &mut protected)
            })
        })?;
        Ok((size, entry, protected))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?
}

/// Whether a manifest has the shape of a sealed bundle's outer manifest
/// (one file named as the protocol names it).
pub fn looks_sealed(signed: &SignedManifest) -> bool {
    let m = signed.manifest();
    m.name == group::OUTER_NAME
        && matches!(m.files.as_slice(), [f] if f.path == group::OUTER_NAME && f.size >= HEADER_BYTES as u64)
}

/// The group key that opens a held bundle, when it is a sealed bundle:
/// `None` for a public bundle; an error for a sealed one this node cannot
/// open.
pub fn sealed_key(
    node: &Node,
    signed: &SignedManifest,
) -> Result<Option<(SealedHeader, EpochSecret)>, NodeError> {
    if !looks_sealed(signed) {
        return Ok(None);
    }
    let m = signed.manifest();
    let f = &m.files[0];
    let chunks = chunks_of(node.store.as_ref(), f)
        .map_err(|e| NodeError::Internal(format!("the sealed file's blocks: {e:?}")))?;
    let first = chunks
        .chunks
        .first()
        .ok_or_else(|| NodeError::Internal("an empty sealed file".into()))?;
    let bytes = node
        .store
        .get_blob(&first.hash)?
        .ok_or_else(|| NodeError::Internal("the sealed file's first block is missing".into()))?;
    let Ok(header) = SealedHeader::parse(&bytes) else {
        return Ok(None);
    };
    match node.keyring.get(&header.group, header.epoch) {
        Some(secret) if secret.epoch_key() == m.publisher => Ok(Some((header, secret))),
        _ => Err(NodeError::Forbidden(format!(
            "bundle {} is sealed for group {} (epoch {}), whose key this node does not hold",
            signed.id(),
            header.group,
            header.epoch
        ))),
    }
}

/// The plaintext of a held sealed file, read as it is opened.
struct OpeningReader<'a> {
    node: &'a Node,
    chunks: std::vec::IntoIter<weft_protocol::chunk::Chunk>,
    opener: Option<Opener>,
    skip: usize,
    out: Vec<u8>,
    pos: usize,
}

impl Read for OpeningReader<'_> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            let Some(opener) = self.opener.as_mut() else {
                return Ok(0);
            };
            let open_err = |e: group::GroupError| std::io::Error::other(e.to_string());
            match self.chunks.next() {
                Some(c) => {
                    let bytes = self
                        .node
                        .store
                        .get_blob(&c.hash)
                        .map_err(std::io::Error::other)?
                        .filter(|b| b.len() as u64 == c.len)
                        .ok_or_else(|| {
                            std::io::Error::other(
                                "a block of the sealed file is missing or damaged",
                            )
                        })?;
                    let skip = std::mem::take(&mut self.skip).min(bytes.len());
                    opener
                        .write(&bytes[skip..], &mut self.out)
                        .map_err(open_err)?;
                }
                None => {
                    let opener = self.opener.take().expect("checked");
                    opener.finish(&mut self.out).map_err(open_err)?;
                }
            }
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// An error for a sealed bundle that does not open as it should.
fn damaged(signed: &SignedManifest, e: std::io::Error) -> NodeError {
    NodeError::Internal(format!(
        "bundle {} does not open: {e} (damaged, or tampered with)",
        signed.id()
    ))
}

/// Opens a held sealed file up to the end of its inner manifest: the
/// reader, positioned at the first file's plaintext, and the inner
/// manifest, whose signer is checked to count for its publisher as for
/// any manifest. Blocking.
fn open_inner<'a>(
    node: &'a Node,
    signed: &SignedManifest,
    header: &SealedHeader,
    secret: &EpochSecret,
) -> Result<(OpeningReader<'a>, SignedManifest), NodeError> {
    let f = &signed.manifest().files[0];
    let chunks = chunks_of(node.store.as_ref(), f)
        .map_err(|e| NodeError::Internal(format!("the sealed file's blocks: {e:?}")))?;
    let mut r = OpeningReader {
        node,
        chunks: chunks.chunks.into_iter(),
        opener: Some(
            Opener::new(secret, header, f.size).map_err(|e| NodeError::Internal(e.to_string()))?,
        ),
        skip: HEADER_BYTES,
        out: Vec::new(),
        pos: 0,
    };
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(|e| damaged(signed, e))?;
    let len = u32::from_be_bytes(len) as usize;
    if len > weft_protocol::limits::MAX_MANIFEST_BYTES {
        return Err(damaged(
            signed,
            std::io::Error::other("its inner manifest is too long"),
        ));
    }
    let mut m = vec![0u8; len];
    r.read_exact(&mut m).map_err(|e| damaged(signed, e))?;
    let inner = SignedManifest::decode(&m).map_err(|e| {
        damaged(
            signed,
            std::io::Error::other(format!("its inner manifest: {e}")),
        )
    })?;
    super::fetch::check_signer(node, &inner)?;
    Ok((r, inner))
}

/// The inner manifest of a held bundle, when it is a sealed bundle this
/// node can open: `None` for a public bundle; an error for a sealed one it
/// cannot open. Blocking.
pub fn inner_manifest(
    node: &Node,
    signed: &SignedManifest,
) -> Result<Option<SignedManifest>, NodeError> {
    match sealed_key(node, signed)? {
        Some((header, secret)) => Ok(Some(open_inner(node, signed, &header, &secret)?.1)),
        None => Ok(None),
    }
}

/// Opens a held sealed bundle and writes its files under `dest`, checking
/// the inner manifest's signature and every file's hash. Blocking.
pub fn export_sealed(
    node: &Node,
    signed: &SignedManifest,
    header: &SealedHeader,
    secret: &EpochSecret,
    dest: &Path,
    progress: &Progress,
) -> Result<SignedManifest, NodeError> {
    let (mut r, inner) = open_inner(node, signed, header, secret)?;
    let damaged = |e: std::io::Error| damaged(signed, e);
    // One thread opens the sealed file and cuts each file's plaintext into
    // chunks while this one hashes and writes them.
    let sizes: Vec<u64> = inner.manifest().files.iter().map(|f| f.size).collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(OPEN_QUEUE);
    std::thread::scope(|s| {
        let opening = s.spawn(move || -> std::io::Result<()> {
            for size in sizes {
                for chunk in ChunkReader::new((&mut r).take(size)) {
                    let failed = chunk.is_err();
                    if tx.send(chunk).is_err() || failed {
                        return Ok(());
                    }
                }
            }
            // The rest is padding: zeros, up to the last segment's tag.
            let mut rest = Vec::new();
            r.read_to_end(&mut rest)?;
            if rest.iter().any(|&b| b != 0) {
                return Err(std::io::Error::other("its padding is not zeros"));
            }
            Ok(())
        });
        let mut rx = rx.into_iter();
        super::export::write_all(&inner, dest, |file, out| {
            let mut ix = FileIndexer::new();
            let mut seen = 0u64;
            while seen < file.size {
                let chunk = rx
                    .next()
                    .unwrap_or_else(|| Err(std::io::Error::other("it ends early")))
                    .map_err(damaged)?;
                seen += chunk.len() as u64;
                ix.push_chunk(&chunk);
                out.write_all(&chunk).map_err(|e| {
                    NodeError::BadRequest(format!("cannot write {}: {e}", file.path))
                })?;
                progress.add(chunk.len() as u64);
            }
            let d = ix.finish();
            if d.size != file.size || d.hash != file.hash {
                return Err(damaged(std::io::Error::other(format!(
                    "{} does not match its hash in the inner manifest",
                    file.path
                ))));
            }
            Ok(())
        })?;
        drop(rx);
        opening
            .join()
            .map_err(|_| NodeError::Internal("the opening thread panicked".into()))?
            .map_err(damaged)
    })?;
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealing_reader_yields_the_sealed_file_the_protocol_describes() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [300_000usize, 18, 0, 65_536];
        let mut files = VecDeque::new();
        let mut plain = Vec::new();
        let head = b"\0\0\0\x03abc".to_vec();
        plain.extend_from_slice(&head);
        for (i, n) in sizes.iter().enumerate() {
            let bytes: Vec<u8> = (0..*n).map(|k| (k % 253) as u8 ^ i as u8).collect();
            let p = dir.path().join(i.to_string());
            std::fs::write(&p, &bytes).unwrap();
            plain.extend_from_slice(&bytes);
            files.push_back((File::open(&p).unwrap(), *n as u64, i.to_string()));
        }
        let secret = EpochSecret::from_bytes([3; 32]);
        let padded = padme(plain.len() as u64);
        let (sealer, header) =
            Sealer::new(&secret, GroupId::from_bytes([1; 32]), 2, padded, &mut OsRng);
        let mut r = SealingReader::new(sealer, &header, head, files);
        let mut sealed = Vec::new();
        r.read_to_end(&mut sealed).unwrap();
        assert_eq!(sealed.len() as u64, sealed_len(padded));
        let h = SealedHeader::parse(&sealed).unwrap();
        let mut o = Opener::new(&secret, &h, sealed.len() as u64).unwrap();
        let mut back = Vec::new();
        o.write(&sealed[HEADER_BYTES..], &mut back).unwrap();
        o.finish(&mut back).unwrap();
        assert_eq!(&back[..plain.len()], &plain[..]);
    }
}
