//! One function per fuzz target, each feeding arbitrary bytes to a decoder
//! that reads bytes from outside the node: peers' gossip, transfer and
//! catalog messages, archives on USB sticks, invites pasted from chats, and
//! the local API's JSON bodies.
//!
//! A target panics only when a decoder breaks a promise: it must return an
//! error (never panic, never allocate past its limit), and whatever it
//! accepts must re-encode to exactly the bytes it read, since every weft
//! format is canonical. `fuzz/libfuzzer` runs these under libFuzzer
//! (`./dev fuzz`); `tests/corpus.rs` replays the committed corpus in the
//! ordinary test suite.

use std::io::Cursor;
use std::str::FromStr;

use weft_protocol::api;
use weft_protocol::archive::{Item, Reader};
use weft_protocol::blocks::{BlockRequest, FrameHeader, FRAME_HEADER_BYTES};
use weft_protocol::sync::{SyncRequest, SyncResponse};
use weft_protocol::{
    BundleId, CatalogEntry, ContentHash, PublisherId, Request, Response, SignedAnnouncement,
    SignedManifest, SignedRetraction,
};

/// A named fuzz target.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by the name of its corpus folder and libFuzzer binary.
pub const TARGETS: &[Target] = &[
    ("manifest", manifest),
    ("announcement", announcement),
    ("catalog_entry", catalog_entry),
    ("xfer_request", xfer_request),
    ("xfer_response", xfer_response),
    ("block_request", block_request),
    ("block_frames", block_frames),
    ("sync_request", sync_request),
    ("sync_response", sync_response),
    ("chunk_index", chunk_index),
    ("archive", archive),
    ("invite", invite),
    ("text_fields", text_fields),
    ("api_json", api_json),
];

/// The target of a name.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// A signed manifest, as fetched from a peer or read from the store.
pub fn manifest(data: &[u8]) {
    if let Ok(m) = SignedManifest::decode(data) {
        assert_eq!(m.bytes(), data, "an accepted manifest is its own bytes");
        assert_eq!(m.id().as_bytes(), blake3::hash(data).as_bytes());
    }
    if let Ok(m) = SignedManifest::decode_stored(data) {
        assert_eq!(m.bytes(), data);
    }
}

/// A gossiped announcement.
pub fn announcement(data: &[u8]) {
    if let Ok(a) = SignedAnnouncement::decode(data) {
        assert_eq!(a.bytes(), data, "an accepted announcement is its own bytes");
    }
}

/// A catalog entry (announcement or retraction), from gossip or catch-up.
pub fn catalog_entry(data: &[u8]) {
    if let Ok(e) = CatalogEntry::decode(data) {
        assert_eq!(e.bytes(), data);
    }
    let _ = CatalogEntry::decode_stored(data);
    if let Ok(r) = SignedRetraction::decode(data) {
        assert_eq!(r.bytes(), data);
        assert_eq!(r.entry_id().as_bytes(), blake3::hash(data).as_bytes());
    }
}

/// A transfer request from a peer.
pub fn xfer_request(data: &[u8]) {
    if let Ok(r) = Request::decode(data) {
        assert_eq!(r.encode(), data, "an accepted request re-encodes to itself");
    }
}

/// A block request from a peer (`/weft/xfer/2`).
pub fn block_request(data: &[u8]) {
    if let Ok(r) = BlockRequest::decode(data) {
        assert_eq!(r.encode(), data, "an accepted request re-encodes to itself");
    }
}

/// The frames of a block stream from a peer: headers, each followed by as
/// many bytes of data as it announces.
pub fn block_frames(mut data: &[u8]) {
    while data.len() >= FRAME_HEADER_BYTES {
        let mut b = [0u8; FRAME_HEADER_BYTES];
        b.copy_from_slice(&data[..FRAME_HEADER_BYTES]);
        let Ok(h) = FrameHeader::decode(b) else {
            return;
        };
        assert_eq!(h.encode(), b, "an accepted header re-encodes to itself");
        assert!(h.len as usize <= weft_protocol::limits::MAX_BLOB_BYTES);
        data = &data[FRAME_HEADER_BYTES..];
        data = &data[(h.len as usize).min(data.len())..];
    }
}

/// A transfer response from a peer.
pub fn xfer_response(data: &[u8]) {
    if let Ok(r) = Response::decode(data) {
        assert_eq!(
            r.encode(),
            data,
            "an accepted response re-encodes to itself"
        );
    }
}

/// A catalog reconciliation request from a peer.
pub fn sync_request(data: &[u8]) {
    if let Ok(r) = SyncRequest::decode(data) {
        assert_eq!(r.encode(), data);
    }
}

/// A catalog reconciliation response from a peer.
pub fn sync_response(data: &[u8]) {
    if let Ok(r) = SyncResponse::decode(data) {
        assert_eq!(r.encode(), data);
    }
}

/// A chunk index fetched from a peer. The first byte gives its place (0 a
/// root, 1 a page before the last, 2 the last page), the next 8 the bytes
/// it must cover; the hash is taken of the rest so that the rules behind
/// the hash check are reached.
pub fn chunk_index(data: &[u8]) {
    use weft_protocol::chunk::{parse_index, IndexPlace};
    if data.len() < 9 {
        return;
    }
    let place = match data[0] {
        0 => IndexPlace::Root,
        1 => IndexPlace::Page { last: false },
        _ => IndexPlace::Page { last: true },
    };
    let covered = u64::from_be_bytes(data[1..9].try_into().expect("8 bytes"));
    let rest = &data[9..];
    let hash = ContentHash::from_slice(blake3::hash(rest).as_bytes()).expect("32 bytes");
    if let Ok(node) = parse_index(&hash, covered, place, rest) {
        assert_eq!(node.encode(), rest, "an accepted index is its own encoding");
        let n = node.entries.len();
        assert!((1..=weft_protocol::limits::INDEX_FANOUT).contains(&n));
        assert_eq!(node.entries.iter().map(|e| e.len).sum::<u64>(), covered);
    }
    let wrong = ContentHash::from_slice(&[0; 32]).expect("32 bytes");
    assert!(parse_index(&wrong, covered, place, rest).is_err());
}

/// An archive, as `weft import` reads it from a USB stick.
pub fn archive(data: &[u8]) {
    let Ok(mut reader) = Reader::new(Cursor::new(data)) else {
        return;
    };
    // Each item consumes input, so this ends; the bound is a safety net.
    for _ in 0..data.len() + 2 {
        match reader.next_item() {
            Ok(Some(Item::Blob(hash, bytes))) => {
                assert_eq!(hash.as_bytes(), blake3::hash(&bytes).as_bytes());
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the archive reader did not end");
}

/// An invite pasted from a message.
pub fn invite(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(i) = weft_protocol::invite::Invite::decode(s) {
            let again = weft_protocol::invite::Invite::decode(&i.encode()).expect("re-decodes");
            assert_eq!(again.encode(), i.encode());
        }
    }
}

/// Text a person or a peer hands the node: ids, paths, names, sizes and
/// language tags.
pub fn text_fields(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = BundleId::from_str(s) {
        assert_eq!(BundleId::from_str(&id.to_string()).ok(), Some(id));
    }
    if let Ok(id) = PublisherId::from_str(s) {
        assert_eq!(PublisherId::from_str(&id.to_string()).ok(), Some(id));
    }
    let _ = ContentHash::from_str(s);
    let _ = weft_protocol::path::validate_path(s);
    let _ = weft_protocol::manifest::validate_name(s);
    let _ = weft_protocol::manifest::normalize_lang(s);
    let _ = weft_protocol::units::parse_size(s);
}

/// A JSON body sent to the local API.
pub fn api_json(data: &[u8]) {
    let _ = serde_json::from_slice::<api::ConnectBody>(data);
    let _ = serde_json::from_slice::<api::JoinBody>(data);
    let _ = serde_json::from_slice::<api::FetchBody>(data);
    let _ = serde_json::from_slice::<api::IdBody>(data);
    let _ = serde_json::from_slice::<api::RuleBody>(data);
    let _ = serde_json::from_slice::<api::ExportBody>(data);
    let _ = serde_json::from_slice::<api::ImportBody>(data);
    let _ = serde_json::from_slice::<api::PublishRequest>(data);
    let _ = serde_json::from_slice::<api::SearchQuery>(data);
    let _ = serde_json::from_slice::<api::JobQuery>(data);
}
