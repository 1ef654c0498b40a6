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
    cat.remove(&store, &BundleId::from_bytes([1; 32])).unwrap();
    let s = |text: &str| ids(&cat.search(&Query::new(Some(text), None, None, None), 50));
    assert_eq!(s("guide"), vec![4]);
    assert_eq!(cat.len(), 3);
    assert!(store
        .get_announcement(&BundleId::from_bytes([1; 32]))
        .unwrap()
        .is_none());
    // Enough churn to compact: the survivors are still found.
    for n in 10..=250u8 {
        cat.add(
            &store,
            &ann(&k1, n, &format!("b{n}"), &[("en", "churn")], &[]),
        )
        .unwrap();
    }
    for n in 10..=250u8 {
        cat.remove(&store, &BundleId::from_bytes([n; 32])).unwrap();
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
    cat.remove(&store, &BundleId::from_bytes([2; 32])).unwrap();
    store
        .put_announcement(
            &BundleId::from_bytes([2; 32]),
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
    cat.set_blocked([k1.id()].into_iter().collect());
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
    cat.set_held(held, Some(k1.id()));
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
    cat.set_held(early, Some(k1.id()));
    assert!(!cat.standing(&early).retracted);

    // A forged announcement does not make its signer the owner of a held
    // bundle: the manifest outranks it.
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
    cat.add(&store, &claim).unwrap();
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
    // Once no longer held, the announcement's signer is the one known.
    cat.set_held(held, None);
    assert_eq!(cat.owner(&held), Some(k2.id()));
}
