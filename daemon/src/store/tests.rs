//! One scenario run against both backends.

use super::*;

/// One scenario, run against both backends.
fn scenario(store: &dyn Store) {
    let h = ContentHash::of(b"chunk");
    assert!(!store.has_blob(&h).unwrap());
    store.put_blobs(&[(h, b"chunk".to_vec())]).unwrap();
    assert!(store.has_blob(&h).unwrap());
    assert_eq!(store.get_blob(&h).unwrap().unwrap(), b"chunk");

    let id = BundleId::from_bytes([5; 32]);
    assert!(store.put_announcement(&id, b"ann").unwrap());
    assert!(!store.put_announcement(&id, b"ann").unwrap());
    assert!(store.get_manifest(&id).unwrap().is_none());
    let tail = ContentHash::of(b"tail");
    store
        .commit_bundle(BundleCommit {
            id,
            manifest: b"manifest".to_vec(),
            announcement: None,
            pin: Some(Pin::mirror(7)),
            blobs: vec![(tail, b"tail".to_vec())],
        })
        .unwrap();
    assert_eq!(store.get_manifest(&id).unwrap().unwrap(), b"manifest");
    assert_eq!(store.bundle_ids().unwrap(), vec![id]);
    assert!(store.has_blob(&tail).unwrap());
    assert!(store.is_pinned(&id).unwrap());
    assert_eq!(store.pins().unwrap(), vec![(id, Pin::mirror(7))]);
    store.set_pin(&id, None).unwrap();
    assert!(!store.is_pinned(&id).unwrap());
    let c = store.counts().unwrap();
    assert_eq!((c.bundles, c.pins), (1, 0));
    assert!(store.has_manifest(&id).unwrap());
    assert!(!store.has_manifest(&BundleId::from_bytes([6; 32])).unwrap());
    let mut seen = Vec::new();
    store
        .for_each_announcement(&mut |id, b| seen.push((id, b.to_vec())))
        .unwrap();
    assert_eq!(seen, vec![(id, b"ann".to_vec())]);
}

#[test]
fn the_memory_store_keeps_what_it_is_given() {
    scenario(&MemStore::default());
}

#[test]
fn the_rocksdb_store_keeps_what_it_is_given_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RocksStore::open(dir.path()).unwrap();
        scenario(&store);
    }
    let store = RocksStore::open(dir.path()).unwrap();
    assert_eq!(store.counts().unwrap().bundles, 1);
}

#[test]
fn a_second_open_of_the_same_store_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let _first = RocksStore::open(dir.path()).unwrap();
    let err = RocksStore::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Locked(_)), "{err}");
}

#[test]
fn deleted_chunks_give_their_disk_space_back_after_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = RocksStore::open(dir.path()).unwrap();
    let blobs: Vec<(ContentHash, Vec<u8>)> = (0..64u32)
        .map(|i| {
            let b: Vec<u8> = (0..(1 << 20))
                .map(|j: u32| (j ^ i.wrapping_mul(2654435761)) as u8)
                .collect();
            (ContentHash::of(&b), b)
        })
        .collect();
    for batch in blobs.chunks(8) {
        store.put_blobs(batch).unwrap();
    }
    store.compact_blobs().unwrap();
    let full = store.disk_usage().unwrap();
    assert!(full >= 64 << 20, "{full}");
    let gone: Vec<ContentHash> = blobs[..48].iter().map(|(h, _)| *h).collect();
    assert_eq!(store.delete_blobs(&gone).unwrap(), 48 << 20);
    store.compact_blobs().unwrap();
    let after = store.disk_usage().unwrap();
    assert!(after < full - (40 << 20), "{full} -> {after}");
    for (h, b) in &blobs[48..] {
        assert_eq!(&store.get_blob(h).unwrap().unwrap(), b);
    }
    assert!(!store.has_blob(&blobs[0].0).unwrap());
}
