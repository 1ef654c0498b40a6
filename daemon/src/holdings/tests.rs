//! Quota, eviction, sweeps and checks.

use super::*;
use crate::store::{BundleCommit, MemStore};
use weft_protocol::{FileEntry, LangText, Manifest, PublisherKey, VERSION};

fn bundle(key: &PublisherKey, n: u8, size: usize) -> (SignedManifest, Vec<u8>) {
    let data = vec![n; size];
    let m = Manifest {
        v: VERSION,
        seq: 1,
        name: format!("b{n}"),
        tags: vec![],
        files: vec![FileEntry {
            hash: ContentHash::of(&data),
            path: "f".into(),
            size: size as u64,
        }],
        texts: vec![LangText {
            lang: "en".into(),
            title: "t".into(),
            description: String::new(),
        }],
        created: 1,
        licence: String::new(),
        publisher: key.id(),
    };
    (SignedManifest::sign(m, key).unwrap(), data)
}

fn commit(
    store: &dyn Store,
    s: &Holdings,
    m: &SignedManifest,
    data: Vec<u8>,
    pin: Option<Pin>,
    t: u64,
) {
    s.commit(
        store,
        BundleCommit {
            id: m.id(),
            manifest: m.bytes().to_vec(),
            announcement: None,
            pin,
            blobs: vec![(ContentHash::of(&data), data)],
        },
        m,
        None,
        t,
    )
    .unwrap();
}

#[test]
fn eviction_takes_the_least_recently_used_cache_first_and_never_a_pin() {
    let store = MemStore::default();
    let s = Arc::new(
        Holdings::load(&store, Some(3000), Default::default(), mpsc::channel(16).0).unwrap(),
    );
    let key = PublisherKey::from_seed([1; 32]);
    let (b1, d1) = bundle(&key, 1, 1000);
    let (b2, d2) = bundle(&key, 2, 1000);
    let (b3, d3) = bundle(&key, 3, 1000);
    let (b4, d4) = bundle(&key, 4, 1000);
    commit(&store, &s, &b1, d1, Some(Pin::explicit(1)), 1);
    commit(&store, &s, &b2, d2, None, 2);
    commit(&store, &s, &b3, d3, None, 3);
    // b2 is used after b3: b3 is now the least recently used.
    s.touch(&store, &b2.id(), 100).unwrap();
    commit(&store, &s, &b4, d4, None, 4);
    assert!(s.over_quota());
    let r = s.gc(&store, 0).unwrap();
    assert_eq!(r.evicted, vec![b3.id()]);
    assert_eq!((r.blobs_deleted, r.blob_bytes), (1, 1000));
    assert!(!store.has_manifest(&b3.id()).unwrap());
    assert!(store.has_manifest(&b1.id()).unwrap());
    assert_eq!(s.usage().used, 3000);
    // Pins alone over the quota: the cache empties, the pin stays.
    let r = s.gc(&store, 5000).unwrap();
    assert_eq!(r.evicted.len(), 2);
    assert!(store.has_manifest(&b1.id()).unwrap());
    assert!(s.pins_over_quota(5000).is_some());
    assert!(s.check_room(2001).is_err());
}

#[test]
fn a_sweep_keeps_protected_and_interrupted_fetch_blobs() {
    let store = MemStore::default();
    let s =
        Arc::new(Holdings::load(&store, None, Default::default(), mpsc::channel(16).0).unwrap());
    let key = PublisherKey::from_seed([1; 32]);
    let (b1, d1) = bundle(&key, 1, 10);
    let (b2, d2) = bundle(&key, 2, 10);
    let orphan = ContentHash::of(b"orphan");
    let kept = ContentHash::of(b"kept");
    let h2 = ContentHash::of(&d2);
    store
        .put_blobs(&[
            (orphan, b"orphan".to_vec()),
            (kept, b"kept".to_vec()),
            (h2, d2),
        ])
        .unwrap();
    commit(&store, &s, &b1, d1.clone(), None, 1);
    // b2 is an interrupted fetch.
    let mut rec = vec![0u8];
    rec.extend_from_slice(b2.bytes());
    store.put_kv(CF_FETCHES, b2.id().as_bytes(), &rec).unwrap();
    let guard = s.protect([kept]);
    assert_eq!(s.sweep(&store).unwrap(), (1, 6));
    assert!(store.has_blob(&kept).unwrap() && store.has_blob(&h2).unwrap());
    assert!(store.has_blob(&ContentHash::of(&d1)).unwrap());
    drop(guard);
    assert_eq!(s.sweep(&store).unwrap().0, 1);
}
