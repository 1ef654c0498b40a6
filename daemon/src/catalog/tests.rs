//! The catalog index: search, versions, retractions.

use super::*;
use crate::store::MemStore;
use weft_protocol::{LangTitle, PublisherKey, VERSION};

fn ann(
    key: &PublisherKey,
    n: u8,
    name: &str,
    titles: &[(&str, &str)],
    tags: &[&str],
) -> SignedAnnouncement {
    SignedAnnouncement::sign_announcement(
        Announcement {
            v: VERSION,
            id: BundleId::from_bytes([n; 32]),
            seq: 1,
            name: name.into(),
            size: 10,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            files: 1,
            titles: titles
                .iter()
                .map(|(l, t)| LangTitle {
                    lang: l.to_string(),
                    title: t.to_string(),
                })
                .collect(),
            created: u64::from(n),
            publisher: key.id(),
        },
        key,
    )
    .unwrap()
}

/// The entry key of `key`'s announcement of bundle `[n; 32]`.
fn key_of(key: &PublisherKey, n: u8) -> BundleId {
    weft_protocol::claim_key(&BundleId::from_bytes([n; 32]), &key.id())
}

fn ids(f: &Found) -> Vec<u8> {
    f.results.iter().map(|a| a.id.as_bytes()[0]).collect()
}

fn world() -> (MemStore, Catalog, PublisherKey, PublisherKey) {
    let store = MemStore::default();
    let (k1, k2) = (
        PublisherKey::from_seed([1; 32]),
        PublisherKey::from_seed([2; 32]),
    );
    let cat = Catalog::default();
    cat.mark_loaded();
    for a in [
        ann(
            &k1,
            1,
            "guide",
            &[("en", "Organizing Guide"), ("es", "Guía para organizar")],
            &["training"],
        ),
        ann(
            &k1,
            2,
            "flyers",
            &[("en", "Flyer templates")],
            &["design", "print"],
        ),
        ann(
            &k2,
            3,
            "radio",
            &[("pt-BR", "Rádio comunitária")],
            &["media"],
        ),
        ann(&k2, 4, "safety", &[("en", "Digital safety GUIDE")], &[]),
    ] {
        assert!(cat.add(&store, &a).unwrap());
    }
    (store, cat, k1, k2)
}

#[test]
fn words_match_names_titles_and_tags_in_any_case_newest_first() {
    let (_, cat, k1, _) = world();
    let s = |text: &str| cat.search(&Query::new(Some(text), None, None, None), 50);
    assert_eq!(ids(&s("guide")), vec![4, 1]);
    assert_eq!(ids(&s("GUÍA")), vec![1]);
    assert_eq!(ids(&s("organ guide")), vec![1], "every word must match");
    assert_eq!(ids(&s("print")), vec![2]);
    assert_eq!(ids(&s("radio")), vec![3]);
    assert_eq!(ids(&s("nothing-like-this")), Vec::<u8>::new());
    assert_eq!(s("guide").matched, 2);
    let all = cat.search(&Query::new(None, None, None, None), 50);
    assert_eq!(ids(&all), vec![4, 3, 2, 1]);
    let by_k1 = cat.search(&Query::new(None, None, None, Some(k1.id())), 50);
    assert_eq!(ids(&by_k1), vec![2, 1]);
    let page = cat.search(&Query::new(None, None, None, None), 2);
    assert_eq!((ids(&page), page.matched), (vec![4, 3], 4));
}

#[test]
fn filters_by_language_prefix_tag_and_id_prefix() {
    let (_, cat, _, _) = world();
    let lang = |l: &str| ids(&cat.search(&Query::new(None, Some(l), None, None), 50));
    assert_eq!(lang("pt"), vec![3]);
    assert_eq!(lang("PT-br"), vec![3]);
    assert_eq!(lang("es"), vec![1]);
    assert_eq!(lang("p"), Vec::<u8>::new());
    let tag = ids(&cat.search(&Query::new(Some("guide"), None, Some("training"), None), 50));
    assert_eq!(tag, vec![1]);
    let by_id = cat.search(&Query::new(Some("0303"), None, None, None), 50);
    assert_eq!(ids(&by_id), vec![3]);
}

#[test]
fn removal_hides_an_entry_and_compaction_keeps_the_rest() {
    let (store, cat, k1, _) = world();
    cat.remove(&store, &key_of(&k1, 1)).unwrap();
    let s = |text: &str| ids(&cat.search(&Query::new(Some(text), None, None, None), 50));
    assert_eq!(s("guide"), vec![4]);
    assert_eq!(cat.len(), 3);
    assert!(store.get_announcement(&key_of(&k1, 1)).unwrap().is_none());
    // Enough churn to compact: the survivors are still found.
    for n in 10..=250u8 {
        cat.add(
            &store,
            &ann(&k1, n, &format!("b{n}"), &[("en", "churn")], &[]),
        )
        .unwrap();
    }
    for n in 10..=250u8 {
        cat.remove(&store, &key_of(&k1, n)).unwrap();
    }
    cat.write().compact();
    assert_eq!(s("guide"), vec![4]);
    assert_eq!(s("flyer"), vec![2]);
    assert_eq!(cat.len(), 3);
}

#[test]
fn loading_reads_the_store_and_skips_what_was_removed_meanwhile() {
    let (store, _, k1, _) = world();
    let cat = Catalog::default();
    assert!(!cat.is_loaded());
    // Removed before the loader reaches it.
    cat.remove(&store, &key_of(&k1, 2)).unwrap();
    store
        .put_announcement(
            &key_of(&k1, 2),
            ann(&k1, 2, "flyers", &[("en", "x")], &[]).bytes(),
        )
        .unwrap();
    cat.load(&store).unwrap();
    assert!(cat.is_loaded());
    assert_eq!(cat.len(), 3);
    assert_eq!(cat.latest_seq(&k1.id(), "guide"), 1);
    assert_eq!(cat.latest_seq(&k1.id(), "missing"), 0);
}

fn version(key: &PublisherKey, n: u8, name: &str, seq: u64) -> SignedAnnouncement {
    let mut a = ann(key, n, name, &[("en", "Kit")], &[])
        .announcement()
        .clone();
    a.seq = seq;
    SignedAnnouncement::sign_announcement(a, key).unwrap()
}

fn retraction(key: &PublisherKey, of: u8, by: PublisherId) -> CatalogEntry {
    let r = weft_protocol::Retraction {
        v: VERSION,
        created: 9,
        retracts: BundleId::from_bytes([of; 32]),
        publisher: by,
    };
    CatalogEntry::Retraction(weft_protocol::SignedRetraction::sign(r, key).unwrap())
}

#[test]
fn the_latest_version_is_listed_and_a_retraction_hides_it_unless_pinned() {
    let (store, cat, k1, k2) = world();
    let all = |all_versions: bool| {
        let mut q = Query::new(Some("kit"), None, None, None);
        q.all_versions = all_versions;
        ids(&cat.search(&q, 50))
    };
    cat.add(&store, &version(&k1, 20, "kit", 1)).unwrap();
    cat.add(&store, &version(&k1, 21, "kit", 2)).unwrap();
    assert_eq!(all(false), vec![21]);
    assert_eq!(all(true), vec![21, 20]);
    assert_eq!(
        cat.resolve(&k1.id(), "kit").unwrap().id,
        BundleId::from_bytes([21; 32])
    );
    let old = cat.standing(&BundleId::from_bytes([20; 32]));
    assert_eq!(old.superseded_by, Some(BundleId::from_bytes([21; 32])));
    // Another key cannot retract it.
    let forged = retraction(&k2, 21, k2.id());
    assert!(matches!(
        cat.add_entry(&store, &forged).unwrap(),
        Added::Refused(_)
    ));
    assert_eq!(all(false), vec![21]);
    // The publisher can; the previous version is the latest again.
    let real = retraction(&k1, 21, k1.id());
    assert_eq!(cat.add_entry(&store, &real).unwrap(), Added::New);
    assert_eq!(cat.add_entry(&store, &real).unwrap(), Added::Known);
    assert!(cat.standing(&BundleId::from_bytes([21; 32])).retracted);
    assert_eq!(all(false), vec![20]);
    assert!(
        cat.contains(&real.entry_id()),
        "retractions are reconciled too"
    );
    assert!(cat.sorted_ids().contains(&real.entry_id()));
    // A pinned copy stays listed.
    cat.set_exempt(BundleId::from_bytes([21; 32]), true);
    assert_eq!(all(false), vec![21, 20]);
    // Blocking hides every entry of a publisher.
    cat.trust().update(|t| {
        t.blocked.insert(k1.id());
    });
    assert_eq!(all(true), Vec::<u8>::new());
    // The retraction survives a reload.
    let again = Catalog::default();
    again.load(&store).unwrap();
    assert!(again.standing(&BundleId::from_bytes([21; 32])).retracted);
}

#[test]
fn a_held_bundle_is_retracted_only_by_its_manifests_publisher() {
    let (store, cat, k1, k2) = world();
    let held = BundleId::from_bytes([30; 32]);
    // Held with no announcement indexed (fetched by id, or its announcement
    // was dropped as false): the manifest names k1.
    cat.set_held(held, Some((k1.id(), k1.id())));
    let forged = retraction(&k2, 30, k2.id());
    assert!(matches!(
        cat.add_entry(&store, &forged).unwrap(),
        Added::Refused(_)
    ));
    assert!(!cat.contains(&forged.entry_id()));
    assert!(!cat.standing(&held).retracted);

    // A retraction stored before the bundle was known counts for nothing
    // once the manifest names another publisher.
    let early = BundleId::from_bytes([31; 32]);
    assert_eq!(
        cat.add_entry(&store, &retraction(&k2, 31, k2.id()))
            .unwrap(),
        Added::New
    );
    assert!(!cat.standing(&early).retracted, "nobody known owns it yet");
    cat.set_held(early, Some((k1.id(), k1.id())));
    assert!(!cat.standing(&early).retracted);

    // A claim on a held bundle by another publisher is refused outright,
    // and never fetched again: the manifest outranks it.
    let claim = SignedAnnouncement::sign_announcement(
        Announcement {
            id: held,
            ..ann(&k2, 30, "claim", &[("en", "Forged")], &[])
                .announcement()
                .clone()
        },
        &k2,
    )
    .unwrap();
    assert!(matches!(
        cat.add_entry(&store, &CatalogEntry::Announcement(claim.clone()))
            .unwrap(),
        Added::Refused(_)
    ));
    assert!(cat.declined(&claim.announcement().claim_key()));
    assert!(matches!(
        cat.add_entry(&store, &forged).unwrap(),
        Added::Refused(_)
    ));
    assert!(!cat.standing(&held).retracted);

    // The owner's own retraction counts.
    assert_eq!(
        cat.add_entry(&store, &retraction(&k1, 30, k1.id()))
            .unwrap(),
        Added::New
    );
    assert!(cat.standing(&held).retracted);
    // Once no longer held, nobody known owns it.
    cat.set_held(held, None);
    assert_eq!(cat.owner(&held), None);
}

/// A catalog keeping at most `unknown` entries of unknown publishers, two
/// each.
fn capped(unknown: usize) -> (MemStore, Catalog) {
    let limits = Limits {
        unknown_entries: unknown,
        unknown_per_publisher: 2,
        ..Limits::default()
    };
    let cat = Catalog::new(Arc::default(), limits, Arc::default());
    cat.mark_loaded();
    (MemStore::default(), cat)
}

fn entry(key: &PublisherKey, n: u8) -> CatalogEntry {
    CatalogEntry::Announcement(ann(key, n, "kit", &[("en", "Kit")], &[]))
}

#[test]
fn unknown_publishers_share_a_capped_part_and_the_oldest_go_first() {
    let (store, cat) = capped(3);
    let keys: Vec<PublisherKey> = (10..16).map(|s| PublisherKey::from_seed([s; 32])).collect();
    let trusted = PublisherKey::from_seed([99; 32]);
    cat.trust().update(|t| {
        t.followed.insert(trusted.id());
    });
    // Trusted entries are never limited.
    for n in 200..210 {
        assert_eq!(
            cat.add_entry(&store, &entry(&trusted, n)).unwrap(),
            Added::New
        );
    }
    // Five unknown publishers, one entry each, into a share of three.
    for (i, k) in keys.iter().take(5).enumerate() {
        assert_eq!(
            cat.add_entry(&store, &entry(k, i as u8 + 1)).unwrap(),
            Added::New
        );
    }
    assert_eq!(cat.unknown_share(), (3, 3));
    assert_eq!(cat.len(), 13, "ten trusted and three unknown");
    // The two oldest unknown ones went, from the index and the store.
    for n in [1u8, 2] {
        let id = key_of(&keys[n as usize - 1], n);
        assert!(!cat.contains(&id) && store.get_announcement(&id).unwrap().is_none());
        assert!(cat.declined(&id));
        // Offered again (catch-up from a peer that still has it): not taken.
        assert_eq!(
            cat.add_entry(&store, &entry(&keys[n as usize - 1], n))
                .unwrap(),
            Added::Dropped(Dropped::Evicted)
        );
    }
    for n in 200..210 {
        assert!(
            cat.contains(&key_of(&trusted, n)),
            "nothing trusted evicted"
        );
    }
    // One publisher's own quota: two entries.
    let k = &keys[5];
    assert_eq!(cat.add_entry(&store, &entry(k, 30)).unwrap(), Added::New);
    assert_eq!(cat.add_entry(&store, &entry(k, 31)).unwrap(), Added::New);
    assert_eq!(
        cat.add_entry(&store, &entry(k, 32)).unwrap(),
        Added::Dropped(Dropped::PublisherQuota)
    );
    assert_eq!(cat.unknown_share().0, 3);
    // Following a publisher takes its entries out of the share.
    cat.trust().update(|t| {
        t.followed.insert(k.id());
    });
    assert_eq!(cat.unknown_share().0, 1);
    assert_eq!(cat.add_entry(&store, &entry(k, 32)).unwrap(), Added::New);
    // A blocked publisher's entries are not kept at all.
    cat.trust().update(|t| {
        t.blocked.insert(keys[4].id());
    });
    assert_eq!(
        cat.add_entry(&store, &entry(&keys[4], 40)).unwrap(),
        Added::Dropped(Dropped::Blocked)
    );
}

#[test]
fn a_share_of_zero_keeps_only_trusted_publishers_and_held_bundles_stay() {
    let (store, cat) = capped(0);
    let k = PublisherKey::from_seed([7; 32]);
    assert_eq!(
        cat.add_entry(&store, &entry(&k, 1)).unwrap(),
        Added::Dropped(Dropped::CatalogFull)
    );
    // A held bundle's announcement is never evicted, even when its
    // publisher is unknown.
    let (store, cat) = capped(1);
    let held = BundleId::from_bytes([1; 32]);
    cat.set_held(held, Some((k.id(), k.id())));
    assert_eq!(cat.add_entry(&store, &entry(&k, 1)).unwrap(), Added::New);
    let other = PublisherKey::from_seed([8; 32]);
    assert_eq!(
        cat.add_entry(&store, &entry(&other, 2)).unwrap(),
        Added::Dropped(Dropped::CatalogFull)
    );
    assert!(cat.contains(&key_of(&k, 1)));
}

#[test]
fn trusted_publishers_are_listed_first_and_can_be_listed_alone() {
    let (store, cat) = capped(10);
    let (seen, trusted) = (
        PublisherKey::from_seed([1; 32]),
        PublisherKey::from_seed([2; 32]),
    );
    // The unknown one is newer (created is the id byte).
    cat.add_entry(&store, &entry(&trusted, 1)).unwrap();
    cat.add_entry(&store, &entry(&seen, 9)).unwrap();
    let q = Query::new(Some("kit"), None, None, None);
    // kit is one name per publisher: both are the latest of their own.
    assert_eq!(ids(&cat.search(&q, 10)), vec![9, 1]);
    cat.trust().update(|t| {
        t.pinned.insert(trusted.id());
    });
    assert_eq!(ids(&cat.search(&q, 10)), vec![1, 9]);
    let mut only = q.clone();
    only.trusted_only = true;
    assert_eq!(ids(&cat.search(&only, 10)), vec![1]);
}

#[test]
fn two_claims_on_one_bundle_are_both_kept_until_its_manifest_settles_them() {
    let (store, cat) = capped(100);
    let (manifest, _) = weft_protocol::vectors::signed_manifest();
    let real = weft_protocol::vectors::key();
    let bundle = manifest.id();
    let genuine = SignedAnnouncement::sign(&manifest, &real).unwrap();
    // A forger claims the same id with its own key and a fake title, and
    // its claim arrives first.
    let forger = PublisherKey::from_seed([2; 32]);
    let mut lie = genuine.announcement().clone();
    lie.publisher = forger.id();
    lie.titles = vec![LangTitle {
        lang: "en".into(),
        title: "Fake title".into(),
    }];
    let fake = SignedAnnouncement::sign_announcement(lie, &forger).unwrap();
    assert!(cat.add(&store, &fake).unwrap());
    assert_eq!(
        cat.add_entry(&store, &CatalogEntry::Announcement(genuine.clone()))
            .unwrap(),
        Added::Contested,
        "kept, but not spread by gossip"
    );
    assert!(cat.contested(&bundle));
    let q = Query::new(Some("vector"), None, None, None);
    let found = cat.search(&q, 10);
    assert_eq!(
        found.matched, 2,
        "both claims listed, each under its publisher"
    );
    assert!(found
        .results
        .iter()
        .any(|a| a.publisher == real.id() && a.titles[0].title == "Test vector"));
    // Once the real publisher is trusted, its claim is the one to go by,
    // and listed first.
    cat.trust().update(|t| {
        t.followed.insert(real.id());
    });
    assert_eq!(cat.get(&bundle).unwrap().publisher, real.id());
    assert_eq!(cat.search(&q, 1).results[0].publisher, real.id());

    // The manifest settles it: the false claim goes, leaves a tombstone,
    // and is refused when offered again.
    assert_eq!(cat.settle(&store, &manifest).unwrap(), 1);
    assert!(!cat.contains(&fake.announcement().claim_key()));
    assert!(cat.declined(&fake.announcement().claim_key()));
    cat.set_held(bundle, Some((real.id(), real.id())));
    assert!(!cat.contested(&bundle));
    assert!(matches!(
        cat.add_entry(&store, &CatalogEntry::Announcement(fake.clone()))
            .unwrap(),
        Added::Refused(_)
    ));
    // The tombstone survives a restart.
    let again = Catalog::default();
    again.load(&store).unwrap();
    assert!(again.declined(&fake.announcement().claim_key()));
    assert_eq!(again.len(), 1);
}

fn vouch_entry(
    by: &PublisherKey,
    vouchee: PublisherId,
    active: bool,
    created: u64,
) -> CatalogEntry {
    let now = crate::clock::now_secs();
    CatalogEntry::Vouch(
        weft_protocol::SignedVouch::sign(
            weft_protocol::Vouch {
                v: VERSION,
                by: by.id(),
                vouchee,
                note: String::new(),
                active: u64::from(active),
                created: now - 1000 + created,
                expires: now + 1000,
            },
            by,
        )
        .unwrap(),
    )
}

#[test]
fn vouches_keep_only_the_latest_of_each_pair_are_bounded_and_feed_the_tiers() {
    let (store, cat) = capped(10_000);
    cat.trust().update(|t| t.vouch_depth = 1);
    let (coordinator, member) = (
        PublisherKey::from_seed([1; 32]),
        PublisherKey::from_seed([2; 32]),
    );
    cat.trust().update(|t| {
        t.followed.insert(coordinator.id());
    });
    let v1 = vouch_entry(&coordinator, member.id(), true, 1);
    assert_eq!(cat.add_entry(&store, &v1).unwrap(), Added::New);
    assert_eq!(cat.trust().tier(&member.id()), Tier::Vouched);
    // The withdrawal replaces it, in the index and the store; the old
    // statement is never taken back.
    let v2 = vouch_entry(&coordinator, member.id(), false, 2);
    assert_eq!(cat.add_entry(&store, &v2).unwrap(), Added::New);
    assert_eq!(cat.trust().tier(&member.id()), Tier::Seen);
    assert!(!cat.contains(&v1.entry_id()));
    assert!(store.get_announcement(&v1.entry_id()).unwrap().is_none());
    assert_eq!(cat.add_entry(&store, &v1).unwrap(), Added::Known);
    assert!(
        cat.declined(&v1.entry_id()),
        "catch-up does not fetch it again"
    );
    assert!(!cat.contains(&v1.entry_id()));
    // An older statement arriving late changes nothing.
    let v0 = vouch_entry(&coordinator, member.id(), true, 0);
    assert_eq!(cat.add_entry(&store, &v0).unwrap(), Added::Known);
    assert_eq!(cat.trust().tier(&member.id()), Tier::Seen);
    // At most 256 vouches in force per publisher.
    let busy = PublisherKey::from_seed([3; 32]);
    // (trusted, so that only the vouch limit applies)
    cat.trust().update(|t| {
        t.followed.insert(busy.id());
    });
    for i in 0..MAX_VOUCHES_PER_PUBLISHER {
        let vouchee = PublisherKey::from_seed([
            (i % 250) as u8 + 4,
            (i / 250) as u8 + 1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9,
        ]);
        assert_eq!(
            cat.add_entry(&store, &vouch_entry(&busy, vouchee.id(), true, 1))
                .unwrap(),
            Added::New
        );
    }
    assert_eq!(
        cat.add_entry(&store, &vouch_entry(&busy, member.id(), true, 1))
            .unwrap(),
        Added::Dropped(Dropped::PublisherQuota)
    );
    // A blocked publisher's vouches are not kept.
    let blocked = PublisherKey::from_seed([200; 32]);
    cat.trust().update(|t| {
        t.blocked.insert(blocked.id());
    });
    assert_eq!(
        cat.add_entry(&store, &vouch_entry(&blocked, member.id(), true, 5))
            .unwrap(),
        Added::Dropped(Dropped::Blocked)
    );
    // The vouches in force survive a reload.
    assert_eq!(
        cat.add_entry(&store, &vouch_entry(&coordinator, member.id(), true, 3))
            .unwrap(),
        Added::New
    );
    assert_eq!(cat.trust().tier(&member.id()), Tier::Vouched);
    let again = Catalog::default();
    again.trust().update(|t| {
        t.vouch_depth = 1;
        t.followed.insert(coordinator.id());
    });
    again.load(&store).unwrap();
    assert_eq!(again.trust().tier(&member.id()), Tier::Vouched);
}
