//! Writes the seed corpus, `fuzz/corpus/<target>/seed-*`: valid examples of
//! every format (so that the fuzzer starts from inputs that get past the
//! first checks) and a few known-bad ones. Run from the repository root:
//! `cargo run -p weft-fuzz --bin weft-fuzz-seeds`. Inputs that libFuzzer
//! found and that once crashed a decoder sit beside them as `crash-*` and
//! are never rewritten.

use std::path::Path;

use weft_protocol::archive::Writer;
use weft_protocol::blocks::{BlockRequest, FrameHeader, FrameStatus};
use weft_protocol::chunk::FileIndexer;
use weft_protocol::invite::Invite;
use weft_protocol::sync::{initiate, SyncRequest, SyncResponse};
use weft_protocol::{
    vectors, BundleId, CatalogEntry, ContentHash, FileEntry, LangText, Manifest, Request, Response,
    Retraction, SignedAnnouncement, SignedManifest, SignedRetraction, VERSION,
};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
}

fn small_manifest() -> (SignedManifest, Vec<Vec<u8>>) {
    let key = vectors::key();
    let contents: Vec<Vec<u8>> = vec![b"how to run a meeting\n".to_vec(), Vec::new()];
    let mut files = Vec::new();
    for (i, data) in contents.iter().enumerate() {
        let mut h = FileIndexer::new();
        if !data.is_empty() {
            h.push_chunk(data);
        }
        let d = h.finish();
        let (hash, size) = (d.hash, d.size);
        files.push(FileEntry {
            hash,
            path: format!("doc-{i}.txt"),
            size,
        });
    }
    let m = Manifest {
        v: VERSION,
        seq: 2,
        name: "meeting-guide".into(),
        tags: vec!["training".into()],
        files,
        texts: vec![LangText {
            lang: "es".into(),
            title: "Guía".into(),
            description: "Cómo organizar una reunión".into(),
        }],
        created: 1_700_000_100,
        licence: "CC-BY-4.0".into(),
        publisher: key.id(),
    };
    (SignedManifest::sign(m, &key).expect("valid"), contents)
}

fn main() {
    let key = vectors::key();
    let (vector, vector_files) = vectors::signed_manifest();
    let (small, contents) = small_manifest();
    write("manifest", "vector", vector.bytes());
    write("manifest", "small", small.bytes());
    let mut flipped = small.bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    write("manifest", "bad-signature", &flipped);

    let ann = SignedAnnouncement::sign(&small, &key).expect("valid");
    write("announcement", "small", ann.bytes());
    write(
        "announcement",
        "vector",
        SignedAnnouncement::sign(&vector, &key)
            .expect("valid")
            .bytes(),
    );
    // A map header claiming 2^64 - 1 entries.
    write(
        "announcement",
        "huge-map",
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    // A byte string claiming 2^64 - 1 bytes.
    write(
        "announcement",
        "huge-bytes",
        &[
            0xa1, 0x61, 0x73, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );

    let retraction = SignedRetraction::sign(
        Retraction {
            v: VERSION,
            created: 1_700_000_200,
            retracts: small.id(),
            publisher: key.id(),
        },
        &key,
    )
    .expect("valid");
    write("catalog_entry", "announcement", ann.bytes());
    write("catalog_entry", "retraction", retraction.bytes());
    assert!(CatalogEntry::decode(retraction.bytes()).is_ok());

    write(
        "xfer_request",
        "manifest",
        &Request::Manifest(small.id()).encode(),
    );
    let hashes: Vec<ContentHash> = small.manifest().files.iter().map(|f| f.hash).collect();
    write(
        "block_request",
        "two",
        &BlockRequest {
            hashes: hashes.clone(),
        }
        .encode(),
    );
    let mut frames = FrameHeader::found(contents[0].len()).encode().to_vec();
    frames.extend_from_slice(&contents[0]);
    frames.extend_from_slice(&FrameHeader::empty(FrameStatus::NotFound).encode());
    frames.extend_from_slice(&FrameHeader::empty(FrameStatus::Refused).encode());
    write("block_frames", "found-not-found-refused", &frames);
    // Known-bad: a header announcing a byte more than any blob can have,
    // a request naming one hash twice, and a manifest request of the blob
    // kind that version 1 dropped.
    let mut over = vec![0u8];
    over.extend_from_slice(&(weft_protocol::limits::MAX_BLOB_BYTES as u32 + 1).to_be_bytes());
    write("block_frames", "oversized", &over);
    write(
        "block_request",
        "duplicate",
        &BlockRequest {
            hashes: vec![hashes[0], hashes[0]],
        }
        .encode(),
    );
    let mut blob_kind = Request::Manifest(small.id()).encode();
    if let Some(k) = blob_kind.last_mut() {
        *k = 1;
    }
    assert!(Request::decode(&blob_kind).is_err());
    write("xfer_request", "blob-kind", &blob_kind);
    write(
        "xfer_response",
        "found",
        &Response::Found(contents[0].clone()).encode(),
    );
    write("xfer_response", "not-found", &Response::NotFound.encode());
    write("xfer_response", "refused", &Response::Refused.encode());

    let ids: Vec<BundleId> = (0u8..40)
        .map(|i| BundleId::from_slice(blake3::hash(&[i]).as_bytes()).expect("32"))
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    write(
        "sync_request",
        "reconcile",
        &SyncRequest::Reconcile(initiate(&sorted)).encode(),
    );
    write(
        "sync_request",
        "get",
        &SyncRequest::Get(ids[..3].to_vec()).encode(),
    );
    write("sync_request", "hint", &SyncRequest::Hint.encode());
    write(
        "sync_response",
        "reconcile",
        &SyncResponse::Reconcile(initiate(&sorted[..5])).encode(),
    );
    write(
        "sync_response",
        "entries",
        &SyncResponse::Entries(vec![ann.bytes().to_vec(), retraction.bytes().to_vec()]).encode(),
    );
    write("sync_response", "ack", &SyncResponse::Ack.encode());
    write("sync_response", "refused", &SyncResponse::Refused.encode());

    // The vector's big file has a level-0 root.
    for (path, _, index) in &vector_files {
        if let Some(index) = index {
            let size = vector
                .manifest()
                .files
                .iter()
                .find(|f| &f.path == path)
                .expect("file")
                .size;
            let mut seed = vec![0u8];
            seed.extend_from_slice(&size.to_be_bytes());
            seed.extend_from_slice(index);
            write("chunk_index", "vector", &seed);
        }
    }
    // A level-1 root and its last page, as in the spec's vectors.
    let mut ix = FileIndexer::new();
    let n = weft_protocol::limits::INDEX_FANOUT + 1;
    for i in 0..n {
        let len = if i + 1 == n {
            1
        } else {
            weft_protocol::limits::MIN_CHUNK
        };
        ix.push_hash(ContentHash::of(&(i as u64).to_be_bytes()), len);
    }
    let paged = ix.finish();
    let mut seed = vec![0u8];
    seed.extend_from_slice(&paged.size.to_be_bytes());
    seed.extend_from_slice(&paged.indexes[0].1);
    write("chunk_index", "level-1-root", &seed);
    let mut seed = vec![2u8];
    seed.extend_from_slice(&1u64.to_be_bytes());
    seed.extend_from_slice(&paged.indexes[2].1);
    write("chunk_index", "last-page", &seed);

    let mut huge = vec![0u8];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    huge.extend_from_slice(&[0xab; 81]);
    write("chunk_index", "size-2-to-the-64", &huge);

    let mut w = Writer::new(Vec::new()).expect("writer");
    w.manifest(&small, Some(&ann)).expect("write");
    for c in contents.iter().filter(|c| !c.is_empty()) {
        w.blob(c).expect("write");
    }
    let (archive, _) = w.finish().expect("finish");
    write("archive", "one-bundle", &archive);
    write("archive", "truncated", &archive[..archive.len() / 2]);
    let (empty, _) = Writer::new(Vec::new())
        .expect("writer")
        .finish()
        .expect("finish");
    write("archive", "empty", &empty);

    // /ip4/127.0.0.1/tcp/4141/p2p/<an ed25519 peer id>, in binary.
    let mut addr = vec![
        4, 127, 0, 0, 1, 6, 0x10, 0x2d, 0xa5, 0x03, 0x26, 0x00, 0x24, 0x08, 0x01, 0x12, 0x20,
    ];
    addr.extend_from_slice(key.id().as_bytes());
    let invite = Invite {
        addrs: vec![addr],
        network: None,
        publisher: Some(key.id()),
        name: Some("Coalition".into()),
    };
    write("invite", "one-addr", invite.encode().as_bytes());
    write("invite", "garbage", b"weft1:not-an-invite");

    write(
        "text_fields",
        "bundle-id",
        small.id().to_string().as_bytes(),
    );
    write("text_fields", "path", b"guides/../../etc/passwd");
    write("text_fields", "size", b"1.5 GiB");
    write("text_fields", "lang", b"pt-br");
    write("text_fields", "name", b"meeting-guide");

    write("api_json", "publish", br#"{"path":"/tmp/x","name":"n","texts":[{"lang":"en","title":"T","description":""}],"tags":["a"],"licence":"","seq":3}"#);
    write("api_json", "fetch", br#"{"id":"0000000000000000000000000000000000000000000000000000000000000000","out":"/tmp/o","pin":true}"#);
    write(
        "api_json",
        "export",
        br#"{"bundles":["a/b"],"out":"/tmp/a.weft","dir":false}"#,
    );
    write(
        "api_json",
        "rule",
        br#"{"publisher":"ab","tag":null,"lang":"es"}"#,
    );
    write("api_json", "deep", "[".repeat(4096).as_bytes());
    println!("wrote the seed corpus under fuzz/corpus");
}
