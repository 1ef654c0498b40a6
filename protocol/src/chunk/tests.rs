use std::collections::HashMap;

use super::*;

/// Deterministic bytes that look random (a BLAKE3 stream).
fn noise(seed: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    blake3::Hasher::new_derive_key("weft chunk tests")
        .update(seed.as_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

/// Every blob of `data` by hash: chunks and index blobs.
fn blobs_of(data: &[u8]) -> (FileDigest, HashMap<ContentHash, Vec<u8>>) {
    let (d, chunks) = digest_bytes(data);
    let mut map: HashMap<_, _> = chunks
        .into_iter()
        .map(|c| (ContentHash::of(&c), c))
        .collect();
    for (h, b) in &d.indexes {
        map.insert(*h, b.clone());
    }
    (d, map)
}

fn resolve(d: &FileDigest, map: &HashMap<ContentHash, Vec<u8>>) -> FileChunks {
    resolve_file::<()>(&d.hash, d.size, |h| Ok(map.get(h).cloned())).unwrap()
}

/// The sizes that exercise each layout; the chunks put back together are
/// the file, and each lies where its index says.
#[test]
fn every_interesting_size_chunks_indexes_and_resolves() {
    let (min, max) = (MIN_CHUNK as usize, MAX_CHUNK as usize);
    for size in [0, 1, min - 1, min, min + 1, max, max + 1, 9 * max + 17] {
        let data = noise(&format!("size {size}"), size);
        let (d, map) = blobs_of(&data);
        assert_eq!(d.size, size as u64);
        let expected_layout = match size {
            0 => Layout::Empty,
            s if s <= min => Layout::Single,
            _ => Layout::Indexed,
        };
        assert_eq!(layout(d.size), expected_layout, "size {size}");
        assert_eq!(d.indexes.is_empty(), expected_layout != Layout::Indexed);
        if expected_layout != Layout::Indexed {
            assert_eq!(
                d.hash,
                ContentHash::of(&data),
                "small files hash like b3sum"
            );
        }
        let fc = resolve(&d, &map);
        let mut joined = Vec::new();
        for (i, c) in fc.chunks.iter().enumerate() {
            assert_eq!(c.offset, joined.len() as u64);
            let bytes = &map[&c.hash];
            verify_blob(&c.hash, c.len, bytes).unwrap();
            assert!(c.len <= MAX_CHUNK);
            if i + 1 < fc.chunks.len() {
                assert!(c.len >= MIN_CHUNK, "chunk {i} of {size} is {} bytes", c.len);
            }
            joined.extend_from_slice(bytes);
        }
        assert_eq!(joined, data, "size {size}");
    }
}

#[test]
fn cuts_land_near_the_average_and_never_outside_the_bounds() {
    let data = noise("average", 64 << 20);
    let (_, chunks) = digest_bytes(&data);
    let n = chunks.len() as u64;
    let mean = data.len() as u64 / n;
    assert!(
        (AVG_CHUNK / 2..=AVG_CHUNK * 2).contains(&mean),
        "mean chunk {mean} bytes over {n} chunks"
    );
    // Bytes with no cut point (zeros) are cut at the maximum.
    let (_, zeros) = digest_bytes(&vec![0u8; 5 * MAX_CHUNK as usize + 3]);
    let lens: Vec<usize> = zeros.iter().map(Vec::len).collect();
    let m = MAX_CHUNK as usize;
    assert_eq!(lens, vec![m, m, m, m, m, 3]);
}

/// Reads of any size find the same cuts as the whole file in memory.
#[test]
fn the_reader_cuts_the_same_whatever_the_reads() {
    struct Dribble<'a>(&'a [u8], usize);
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let data = noise("dribble", 20 << 20);
    let whole: Vec<Vec<u8>> = ChunkReader::new(&data[..]).map(Result::unwrap).collect();
    let mut at = 0;
    for c in &whole {
        assert_eq!(c.len(), cut_point(&data[at..]));
        at += c.len();
    }
    for step in [1000, 65_537, 3 << 20] {
        let dribbled: Vec<Vec<u8>> = ChunkReader::new(Dribble(&data, step))
            .map(Result::unwrap)
            .collect();
        assert_eq!(dribbled, whole, "reads of {step}");
    }
}

/// Bytes of the new version's chunks that the old version does not have.
fn new_bytes(old: &[u8], new: &[u8]) -> u64 {
    let (_, old_chunks) = digest_bytes(old);
    let have: std::collections::HashSet<_> =
        old_chunks.iter().map(|c| ContentHash::of(c)).collect();
    let (d, new_chunks) = digest_bytes(new);
    let index: u64 = d.indexes.iter().map(|(_, b)| b.len() as u64).sum();
    index
        + new_chunks
            .iter()
            .filter(|c| !have.contains(&ContentHash::of(c)))
            .map(|c| c.len() as u64)
            .sum::<u64>()
}

#[test]
fn an_insertion_or_an_edit_changes_only_the_chunks_near_it() {
    let old = noise("version 1", 48 << 20);
    let inserted = noise("inserted", (1 << 20) + 12_345);
    let at = (24 << 20) + 777;
    let mut new = old[..at].to_vec();
    new.extend_from_slice(&inserted);
    new.extend_from_slice(&old[at..]);
    let moved = new_bytes(&old, &new);
    // The inserted bytes plus the chunks cut anew on either side.
    assert!(
        moved <= inserted.len() as u64 + 4 * MAX_CHUNK,
        "{moved} bytes are new"
    );
    let mut edited = old.clone();
    edited[1000..1005].copy_from_slice(b"weft!");
    let moved = new_bytes(&old, &edited);
    assert!(
        moved <= 2 * MAX_CHUNK,
        "{moved} bytes are new after a 5-byte edit"
    );
}

/// A file of more chunks than one index holds gets a level-1 root over
/// pages, and every rule about pages is checked.
#[test]
fn a_file_of_many_chunks_gets_index_pages() {
    let n = INDEX_FANOUT + 5;
    let mut ix = FileIndexer::new();
    let hashes: Vec<ContentHash> = (0..n)
        .map(|i| ContentHash::of(&(i as u64).to_be_bytes()))
        .collect();
    for (i, h) in hashes.iter().enumerate() {
        let len = if i + 1 == n { 10 } else { MIN_CHUNK };
        ix.push_hash(*h, len);
    }
    let d = ix.finish();
    assert_eq!(d.indexes.len(), 3, "a root and two pages");
    let map: HashMap<_, _> = d.indexes.iter().cloned().collect();
    let fc = resolve_file::<()>(&d.hash, d.size, |h| Ok(map.get(h).cloned())).unwrap();
    assert_eq!(fc.chunks.len(), n);
    assert_eq!(fc.indexes.len(), 3);
    assert_eq!(fc.indexes[0].0, d.hash);
    assert!(fc.chunks.iter().map(|c| c.hash).eq(hashes.iter().copied()));
    assert_eq!(fc.chunks[n - 1].offset, (n as u64 - 1) * MIN_CHUNK);
    let root = parse_index(&d.hash, d.size, IndexPlace::Root, &map[&d.hash]).unwrap();
    assert_eq!(root.level, Level::Pages);
    assert_eq!(
        parse_index(&d.hash, d.size, IndexPlace::Root, &map[&d.hash])
            .unwrap()
            .entries
            .len(),
        2
    );

    // A missing page is named, with no partial list.
    let mut partial = map.clone();
    partial.remove(&root.entries[1].hash);
    match resolve_file::<()>(&d.hash, d.size, |h| Ok(partial.get(h).cloned())) {
        Err(ResolveError::Missing { missing, partial }) => {
            let place = IndexPlace::Page { last: true };
            let covered = root.entries[1].len;
            let page = Expect::Index { covered, place };
            assert_eq!(missing, vec![(root.entries[1].hash, page)]);
            assert_eq!(partial.indexes.len(), 2, "the root and the first page");
            assert_eq!(partial.chunks.len(), INDEX_FANOUT);
        }
        other => panic!("expected the missing page, got {other:?}"),
    }
    // A first page that is not full is refused.
    let short = IndexNode {
        level: Level::Chunks,
        entries: vec![IndexEntry {
            hash: hashes[0],
            len: MIN_CHUNK,
        }],
    }
    .encode();
    let h = ContentHash::of(&short);
    assert!(matches!(
        parse_index(&h, MIN_CHUNK, IndexPlace::Page { last: false }, &short),
        Err(ChunkError::BadIndex { .. })
    ));
    // Pages never list pages.
    let mut nested = short.clone();
    nested[0] = 1;
    let h = ContentHash::of(&nested);
    assert!(parse_index(&h, MIN_CHUNK, IndexPlace::Page { last: true }, &nested).is_err());
}

#[test]
fn an_index_breaking_a_rule_is_refused_even_when_it_hashes_right() {
    let e = |len| IndexEntry {
        hash: ContentHash::of(b"x"),
        len,
    };
    let check = |level, entries: Vec<IndexEntry>, covered| {
        let bytes = IndexNode { level, entries }.encode();
        parse_index(&ContentHash::of(&bytes), covered, IndexPlace::Root, &bytes)
    };
    let (min, max) = (MIN_CHUNK, MAX_CHUNK);
    // Sound: two chunks, the last short.
    check(Level::Chunks, vec![e(min), e(1)], min + 1).unwrap();
    let refused = [
        ("a small file with an index", vec![e(min)], min),
        ("a chunk over the maximum", vec![e(max + 1)], max + 1),
        ("a short chunk before the last", vec![e(1), e(min)], min + 1),
        ("lengths that do not add up", vec![e(min), e(5)], min + 6),
        ("an empty chunk", vec![e(min + 1), e(0)], min + 1),
    ];
    for (what, entries, covered) in refused {
        assert!(
            matches!(
                check(Level::Chunks, entries, covered),
                Err(ChunkError::BadIndex { .. })
            ),
            "{what}"
        );
    }
    // A level-1 root of one page.
    assert!(check(Level::Pages, vec![e(min + 1)], min + 1).is_err());
    // Level 2, a torn entry, no entries, a wrong hash, a file too large.
    let good = IndexNode {
        level: Level::Chunks,
        entries: vec![e(min), e(1)],
    }
    .encode();
    let mut lvl2 = good.clone();
    lvl2[0] = 2;
    let mut torn = good.clone();
    torn.pop();
    for bytes in [lvl2, torn, vec![0u8]] {
        let h = ContentHash::of(&bytes);
        assert!(matches!(
            parse_index(&h, min + 1, IndexPlace::Root, &bytes),
            Err(ChunkError::BadIndex { .. })
        ));
    }
    let h = ContentHash::of(b"other");
    assert!(matches!(
        parse_index(&h, min + 1, IndexPlace::Root, &good),
        Err(ChunkError::HashMismatch { .. })
    ));
    assert!(matches!(
        parse_index(
            &ContentHash::of(&good),
            MAX_FILE_SIZE + 1,
            IndexPlace::Root,
            &good
        ),
        Err(ChunkError::FileTooLarge(_))
    ));
}

#[test]
fn a_chunk_with_wrong_bytes_is_rejected() {
    let good = vec![7u8; 100];
    let h = ContentHash::of(&good);
    let mut bad = good.clone();
    bad[3] ^= 1;
    assert!(matches!(
        verify_blob(&h, 100, &bad),
        Err(ChunkError::HashMismatch { .. })
    ));
    assert!(matches!(
        verify_blob(&h, 100, &good[..99]),
        Err(ChunkError::HashMismatch { .. })
    ));
    // The right bytes with the wrong expected length: the manifest lies.
    assert!(matches!(
        verify_blob(&h, 99, &good),
        Err(ChunkError::WrongLength { .. })
    ));
}

/// `docs/protocol.md` section 3's `cut`, written out byte by byte as a
/// second implementation would, finds the same cuts as the crate.
#[test]
fn the_spec_pseudocode_cuts_where_the_crate_does() {
    let gear = gear_table();
    let (mask_s, mask_l) = (0x0000_d917_4753_7000u64, 0x0000_d907_0753_7000u64);
    assert_eq!((mask_s.count_ones(), mask_l.count_ones()), (20, 18));
    let spec_cut = |data: &[u8]| -> usize {
        let n = data.len();
        if n <= MIN_CHUNK as usize {
            return n;
        }
        let e = n.min(MAX_CHUNK as usize);
        let c = (AVG_CHUNK as usize).min(e);
        let mut h: u64 = 0;
        let mut p = MIN_CHUNK as usize;
        while p < 2 * (e / 2) {
            h = (h << 1).wrapping_add(gear[data[p] as usize]);
            let mask = if p < 2 * (c / 2) { mask_s } else { mask_l };
            if h & mask == 0 {
                return p;
            }
            p += 1;
        }
        e
    };
    for (seed, len) in [("a", 12 << 20), ("b", 600_001), ("c", 300_000)] {
        let data = noise(seed, len);
        let mut at = 0;
        while at < data.len() {
            let want = spec_cut(&data[at..]);
            assert_eq!(cut_point(&data[at..]), want, "{seed} at {at}");
            at += want;
        }
    }
}
