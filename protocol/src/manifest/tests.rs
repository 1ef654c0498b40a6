//! Unit tests of manifests, announcements, retractions and catalog
//! entries: round trips, tampering, truncation, canonical form, keys.

use super::envelope::Envelope;
use super::*;
use crate::cbor::{self, CborError};
use crate::id::{BundleId, ContentHash};
use crate::keys::{PublisherKey, ANNOUNCEMENT_DOMAIN, MANIFEST_DOMAIN, RETRACTION_DOMAIN};
use crate::limits::MAX_MANIFEST_BYTES;
use crate::{SignedVouch, Vouch};

pub(crate) fn sample(key: &PublisherKey) -> Manifest {
    Manifest {
        v: VERSION,
        seq: 1,
        name: "guide".into(),
        tags: vec!["organizing".into(), "training".into()],
        files: vec![
            FileEntry {
                hash: ContentHash::of(b"a"),
                path: "a.txt".into(),
                size: 1,
            },
            FileEntry {
                hash: ContentHash::of(b""),
                path: "docs/b.txt".into(),
                size: 0,
            },
        ],
        texts: vec![
            LangText {
                lang: "en".into(),
                title: "Guide".into(),
                description: "How to".into(),
            },
            LangText {
                lang: "es".into(),
                title: "Guía".into(),
                description: String::new(),
            },
        ],
        created: 1_700_000_000,
        licence: "CC-BY-4.0".into(),
        publisher: key.id(),
    }
}

#[test]
fn a_signed_manifest_round_trips_and_its_id_is_its_hash() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    cbor::check_canonical(signed.bytes(), MAX_MANIFEST_BYTES, "m").unwrap();
    let decoded = SignedManifest::decode(signed.bytes()).unwrap();
    assert_eq!(decoded, signed);
    assert_eq!(decoded.id(), BundleId::of_signed_manifest(signed.bytes()));
}

#[test]
fn a_tampered_manifest_fails_its_signature() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    let mut bytes = signed.bytes().to_vec();
    // Flip a byte of the title "Guide" inside the body.
    let pos = bytes.windows(5).position(|w| w == b"Guide").unwrap();
    bytes[pos] = b'X';
    assert!(matches!(
        SignedManifest::decode(&bytes),
        Err(DecodeError::Signature(_))
    ));
}

#[test]
fn every_truncation_of_a_manifest_is_rejected() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    for n in 0..signed.bytes().len() {
        assert!(
            SignedManifest::decode(&signed.bytes()[..n]).is_err(),
            "prefix {n}"
        );
    }
    let mut long = signed.bytes().to_vec();
    long.push(0);
    assert!(matches!(
        SignedManifest::decode(&long),
        Err(DecodeError::Cbor(CborError::TrailingBytes { .. }))
    ));
}

#[test]
fn an_unknown_version_is_named() {
    let key = PublisherKey::from_seed([3; 32]);
    let mut m = sample(&key);
    m.v = 2;
    let body = cbor::encode(&m);
    let sig = key.sign(MANIFEST_DOMAIN, &body).to_vec();
    let bytes = cbor::encode(&Envelope {
        by: None,
        sig,
        body,
    });
    assert_eq!(
        SignedManifest::decode(&bytes),
        Err(DecodeError::UnknownVersion {
            what: "manifest",
            version: 2
        })
    );
}

#[test]
fn bad_paths_are_refused_at_signing_and_at_decoding() {
    let key = PublisherKey::from_seed([3; 32]);
    for bad in ["../escape", "/abs", "", "a.txt"] {
        let mut m = sample(&key);
        m.files[1].path = bad.into();
        m.canonicalize();
        assert!(SignedManifest::sign(m.clone(), &key).is_err(), "{bad:?}");
        // A peer that skips the checks and signs anyway is caught on decode.
        let body = cbor::encode(&m);
        let sig = key.sign(MANIFEST_DOMAIN, &body).to_vec();
        let bytes = cbor::encode(&Envelope {
            by: None,
            sig,
            body,
        });
        assert!(
            matches!(SignedManifest::decode(&bytes), Err(DecodeError::Invalid(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn unsorted_lists_are_not_canonical() {
    let key = PublisherKey::from_seed([3; 32]);
    let mut m = sample(&key);
    m.tags.reverse();
    assert!(SignedManifest::sign(m, &key).is_err());
}

#[test]
fn a_non_canonical_encoding_of_a_valid_manifest_is_rejected() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    // Re-encode the envelope's "sig" length with a 2-byte length header.
    let mut bytes = signed.bytes().to_vec();
    let pos = bytes.windows(2).position(|w| w == [0x58, 64]).unwrap();
    bytes.splice(pos..pos + 2, [0x59, 0, 64]);
    assert!(matches!(
        SignedManifest::decode(&bytes),
        Err(DecodeError::Cbor(CborError::NotCanonical { .. }))
    ));
}

#[test]
fn a_signed_announcement_round_trips_and_matches_its_manifest() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    let ann = SignedAnnouncement::sign(&signed, &key).unwrap();
    assert!(ann.bytes().len() < 1024);
    let decoded = SignedAnnouncement::decode(ann.bytes()).unwrap();
    assert!(decoded.announcement().matches(&signed));
    assert_eq!(decoded.announcement().title_for(Some("es")), "Guía");
    let forged = SignedAnnouncement::forge(ann.announcement(), [9; 64]);
    assert!(matches!(
        SignedAnnouncement::decode(&forged),
        Err(DecodeError::Signature(_))
    ));
}

#[test]
fn another_key_signs_as_a_device_and_the_envelope_names_it() {
    let key = PublisherKey::from_seed([3; 32]);
    let device = PublisherKey::from_seed([4; 32]);
    let own = SignedManifest::sign(sample(&key), &key).unwrap();
    assert_eq!(own.signed_by(), key.id());
    let by_device = SignedManifest::sign(sample(&key), &device).unwrap();
    let back = SignedManifest::decode(by_device.bytes()).unwrap();
    assert_eq!(back.signed_by(), device.id());
    assert_eq!(back.manifest().publisher, key.id());
    assert_ne!(back.id(), own.id(), "the signer is part of the bundle id");
    // `by` naming the publisher itself is not canonical: it must be absent.
    let body = cbor::encode(own.manifest());
    let sig = key.sign(MANIFEST_DOMAIN, &body).to_vec();
    let bytes = cbor::encode(&Envelope {
        by: Some(key.id()),
        sig,
        body,
    });
    assert!(SignedManifest::decode(&bytes).is_err());
}

#[test]
fn language_tags_are_normalized() {
    assert_eq!(normalize_lang("pt-br").as_deref(), Some("pt-BR"));
    assert_eq!(normalize_lang("SR_latn").as_deref(), Some("sr-Latn"));
    assert_eq!(normalize_lang("es-419").as_deref(), Some("es-419"));
    assert_eq!(normalize_lang("e"), None);
    assert_eq!(normalize_lang("en--us"), None);
    assert_eq!(normalize_tag("  Rights "), Some("rights".into()));
    assert_eq!(normalize_tag("two words"), None);
}

#[test]
fn a_retraction_round_trips_and_is_told_apart_from_an_announcement() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    let ann = SignedAnnouncement::sign(&signed, &key).unwrap();
    let r = SignedRetraction::sign(
        Retraction {
            v: VERSION,
            created: 5,
            retracts: signed.id(),
            publisher: key.id(),
        },
        &key,
    )
    .unwrap();
    assert!(r.bytes().len() < 200);
    match CatalogEntry::decode(r.bytes()).unwrap() {
        CatalogEntry::Retraction(d) => {
            assert_eq!(d.retraction().retracts, signed.id());
            assert_eq!(d.entry_id(), retraction_entry_id(r.bytes()));
        }
        other => panic!("{other:?}"),
    }
    let a = CatalogEntry::decode(ann.bytes()).unwrap();
    assert_eq!(a.entry_id(), crate::claim_key(&signed.id(), &key.id()));
    assert_ne!(a.entry_id(), signed.id(), "a claim key, not the bundle id");
    assert_eq!(
        CatalogEntry::decode_stored(r.bytes()).unwrap().entry_id(),
        r.entry_id()
    );
    // Another key signs only as a device (the key log says whether it
    // may), and a forged signature fails.
    let other = PublisherKey::from_seed([4; 32]);
    let as_device = SignedRetraction::sign(r.retraction().clone(), &other).unwrap();
    assert_eq!(
        CatalogEntry::decode(as_device.bytes()).unwrap().signed_by(),
        other.id()
    );
    let body = cbor::encode(r.retraction());
    let sig = other.sign(RETRACTION_DOMAIN, &body).to_vec();
    let forged = cbor::encode(&Envelope {
        by: None,
        sig,
        body,
    });
    assert!(matches!(
        CatalogEntry::decode(&forged),
        Err(DecodeError::Signature(_))
    ));
    // An announcement's signature does not make a retraction.
    let body = cbor::encode(r.retraction());
    let sig = key.sign(ANNOUNCEMENT_DOMAIN, &body).to_vec();
    let cross = cbor::encode(&Envelope {
        by: None,
        sig,
        body,
    });
    assert!(CatalogEntry::decode(&cross).is_err());
}

#[test]
fn a_vouch_round_trips_and_is_told_apart_from_the_other_entries() {
    let (a, b) = (
        PublisherKey::from_seed([1; 32]),
        PublisherKey::from_seed([2; 32]),
    );
    let vouch = |by: &PublisherKey, vouchee, note: &str, created, expires| Vouch {
        v: VERSION,
        by: by.id(),
        vouchee,
        note: note.into(),
        active: 1,
        created,
        expires,
    };
    let v = SignedVouch::sign(vouch(&a, b.id(), "coalition member", 100, 200), &a).unwrap();
    match CatalogEntry::decode(v.bytes()).unwrap() {
        CatalogEntry::Vouch(d) => {
            assert_eq!(d.vouch().vouchee, b.id());
            assert_eq!(d.entry_id(), crate::retraction_entry_id(v.bytes()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        CatalogEntry::decode_stored(v.bytes()).unwrap().signer(),
        a.id()
    );
    assert!(v.vouch().in_force(199) && !v.vouch().in_force(200));
    // Refused: for itself, a note over 256 bytes, expiry not after
    // creation or more than a year on, signed by another key.
    for (bad, why) in [
        (vouch(&a, a.id(), "", 100, 200), "itself"),
        (vouch(&a, b.id(), &"x".repeat(257), 100, 200), "note"),
        (vouch(&a, b.id(), "", 100, 100), "expires"),
        (
            vouch(&a, b.id(), "", 100, 100 + MAX_VOUCH_SECS + 1),
            "expires",
        ),
    ] {
        let e = SignedVouch::sign(bad, &a).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
    let as_device = SignedVouch::sign(vouch(&a, b.id(), "", 100, 200), &b).unwrap();
    assert_eq!(as_device.signed_by(), b.id());
    // A forged signature fails.
    let mut forged = v.bytes().to_vec();
    let n = forged.len();
    forged[n - 1] ^= 1;
    assert!(CatalogEntry::decode(&forged).is_err());
}

#[test]
fn an_announcement_claims_no_more_than_a_manifest_can_hold() {
    let key = PublisherKey::from_seed([3; 32]);
    let signed = SignedManifest::sign(sample(&key), &key).unwrap();
    let mut a = Announcement::for_manifest(&signed);
    a.size = crate::limits::MAX_FILES as u64 * crate::limits::MAX_FILE_SIZE;
    assert!(SignedAnnouncement::sign_announcement(a.clone(), &key).is_ok());
    a.size += 1;
    let e = SignedAnnouncement::sign_announcement(a, &key).unwrap_err();
    assert!(e.to_string().contains("size"), "{e}");
}

#[test]
fn language_tags_follow_the_documented_grammar() {
    for (input, want) in [
        ("en", Some("en")),
        ("PT_br", Some("pt-BR")),
        ("sr-latn-rs", Some("sr-Latn-RS")),
        ("es-419", Some("es-419")),
        ("x-private", None),
        ("e", None),
        ("en-", None),
        ("en-toolongsubtag", None),
        ("ελ", None),
    ] {
        assert_eq!(normalize_lang(input).as_deref(), want, "{input}");
    }
}
