use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::id::GroupId;
use crate::keys::PublisherKey;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([7; 32])
}

#[test]
fn padme_keeps_only_the_top_bits_and_adds_at_most_an_eighth() {
    assert_eq!(padme(0), 0);
    assert_eq!(padme(1), 1);
    assert_eq!(padme(7), 7);
    assert_eq!(padme(9), 10);
    assert_eq!(padme(1 << 30), 1 << 30);
    assert_eq!(padme((1 << 30) + 1), (1 << 30) + (1 << 25));
    for len in [100u64, 1000, 65_537, 1 << 20, 3_000_000_007, 1 << 40] {
        let p = padme(len);
        assert!(p >= len && p as f64 <= len as f64 * 1.125, "{len} -> {p}");
        assert_eq!(padme(p), p, "padding is idempotent");
    }
}

#[test]
fn a_box_opens_only_for_its_device_and_its_info() {
    let mut rng = rng();
    let device = PublisherKey::from_seed([1; 32]);
    let other = PublisherKey::from_seed([2; 32]);
    let s0 = EpochSecret::generate(&mut rng);
    let s1 = EpochSecret::generate(&mut rng);
    let contents = BoxContents::new(vec![(1, &s1), (0, &s0)]);
    let sealed = seal_box(&device.id(), b"info", &contents, &mut rng).unwrap();
    let opened = open_box(&device, b"info", &sealed).unwrap();
    assert_eq!(opened, contents);
    assert_eq!(opened.secrets(), vec![(0, s0), (1, s1)]);
    assert!(matches!(
        open_box(&other, b"info", &sealed),
        Err(GroupError::Open(_))
    ));
    assert!(matches!(
        open_box(&device, b"other info", &sealed),
        Err(GroupError::Open(_))
    ));
    let mut bad = sealed.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(matches!(
        open_box(&device, b"info", &bad),
        Err(GroupError::Open(_))
    ));
    assert!(open_box(&device, b"info", &sealed[..40]).is_err());
}

#[test]
fn metadata_is_padded_and_bound_to_its_context() {
    let mut rng = rng();
    let s = EpochSecret::generate(&mut rng);
    let a = seal_meta(&s, b"aad", b"short", 256, &mut rng).unwrap();
    let b = seal_meta(&s, b"aad", &[9u8; 200], 256, &mut rng).unwrap();
    assert_eq!(
        a.len(),
        b.len(),
        "the length does not say how long the text is"
    );
    assert_eq!(open_meta(&s, b"aad", &a).unwrap(), b"short");
    assert!(matches!(
        open_meta(&s, b"other", &a),
        Err(GroupError::Open(_))
    ));
    let other = EpochSecret::generate(&mut rng);
    assert!(matches!(
        open_meta(&other, b"aad", &a),
        Err(GroupError::Open(_))
    ));
    assert!(seal_meta(&s, b"aad", &[0u8; 253], 256, &mut rng).is_err());
}

fn seal_all(s: &EpochSecret, plain: &[u8], padded: u64, piece: usize) -> Vec<u8> {
    let mut rng = rng();
    let (mut sealer, header) = Sealer::new(s, GroupId::from_bytes([3; 32]), 5, padded, &mut rng);
    let mut out = header.to_vec();
    for p in plain.chunks(piece.max(1)) {
        sealer.write(p, &mut out).unwrap();
    }
    sealer.finish(&mut out).unwrap();
    out
}

fn open_all(s: &EpochSecret, sealed: &[u8], piece: usize) -> Result<Vec<u8>, GroupError> {
    let header = SealedHeader::parse(sealed)?;
    let mut opener = Opener::new(s, &header, sealed.len() as u64)?;
    let mut out = Vec::new();
    for p in sealed[HEADER_BYTES..].chunks(piece.max(1)) {
        opener.write(p, &mut out)?;
    }
    opener.finish(&mut out)?;
    Ok(out)
}

#[test]
fn content_round_trips_at_every_segment_edge_and_any_piece_size() {
    let s = EpochSecret::generate(&mut rng());
    let seg = SEGMENT_BYTES;
    for len in [0, 1, seg - 1, seg, seg + 1, 2 * seg, 3 * seg + 17] {
        let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let padded = padme(len as u64);
        for piece in [1000, seg, seg + 5, 3 * seg] {
            let sealed = seal_all(&s, &plain, padded, piece);
            assert_eq!(sealed.len() as u64, sealed_len(padded), "len {len}");
            let header = SealedHeader::parse(&sealed).unwrap();
            assert_eq!(
                (header.group, header.epoch),
                (GroupId::from_bytes([3; 32]), 5)
            );
            let opened = open_all(&s, &sealed, piece + 3).unwrap();
            assert_eq!(opened.len() as u64, padded);
            assert_eq!(&opened[..len], &plain[..]);
            assert!(opened[len..].iter().all(|&b| b == 0));
        }
    }
}

#[test]
fn sealed_content_refuses_tampering_truncation_reordering_and_other_keys() {
    let s = EpochSecret::generate(&mut rng());
    let plain = vec![5u8; 3 * SEGMENT_BYTES + 100];
    let sealed = seal_all(&s, &plain, plain.len() as u64, 4096);
    // A flipped bit anywhere: header (bound as associated data) or body.
    for at in [0, 20, 50, HEADER_BYTES + 10, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[at] ^= 1;
        assert!(open_all(&s, &bad, 4096).is_err(), "flip at {at}");
    }
    // Cut off a whole last segment: the new last one is not marked last.
    let cut = &sealed[..sealed.len() - (100 + 16)];
    assert!(open_all(&s, cut, 4096).is_err());
    // Two segments swapped.
    let seg = SEGMENT_BYTES + 16;
    let mut swapped = sealed.clone();
    let (a, b) = (HEADER_BYTES, HEADER_BYTES + seg);
    let first = sealed[a..a + seg].to_vec();
    swapped.copy_within(b..b + seg, a);
    swapped[b..b + seg].copy_from_slice(&first);
    assert!(open_all(&s, &swapped, 4096).is_err());
    let other = EpochSecret::generate(&mut ChaCha20Rng::from_seed([8; 32]));
    assert!(open_all(&other, &sealed, 4096).is_err());
    assert!(SealedHeader::parse(
        b"not sealed at all, and long enough to be read as a header of seventy-five bytes"
    )
    .is_err());
}

#[test]
fn a_sealer_refuses_more_than_it_announced() {
    let s = EpochSecret::generate(&mut rng());
    let (mut sealer, _) = Sealer::new(&s, GroupId::from_bytes([0; 32]), 0, 10, &mut rng());
    let mut out = Vec::new();
    assert!(sealer.write(&[0; 11], &mut out).is_err());
}

#[test]
fn the_epoch_keys_are_derived_and_distinct() {
    let s = EpochSecret::from_bytes([4; 32]);
    assert_eq!(s.epoch_key(), s.signing_key().id());
    assert_ne!(s.meta_key(), s.content_key());
    assert_ne!(EpochSecret::from_bytes([5; 32]).epoch_key(), s.epoch_key());
}
