//! A group's life: create, add, remove, resolve, and its sealed parts.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::id::PublisherId;
use crate::keys::PublisherKey;
use crate::manifest::{GroupKind, SignedAnnouncement, SignedGroupRecord};

struct World {
    rng: ChaCha20Rng,
    ana: PublisherKey,
    bo: PublisherKey,
    cy: PublisherKey,
}

fn world() -> World {
    World {
        rng: ChaCha20Rng::from_seed([9; 32]),
        ana: PublisherKey::from_seed([1; 32]),
        bo: PublisherKey::from_seed([2; 32]),
        cy: PublisherKey::from_seed([3; 32]),
    }
}

fn ch(
    kind: GroupKind,
    member: PublisherId,
    history: bool,
    admins: Vec<PublisherId>,
    members: Vec<PublisherId>,
) -> Change {
    Change {
        kind,
        member: Some(member),
        history,
        name: "legal team".into(),
        members,
        admins,
    }
}

fn admin(k: &PublisherKey) -> Admin<'_> {
    Admin {
        key: k,
        admin: k.id(),
    }
}

#[test]
fn a_group_is_created_grows_and_shrinks_and_every_node_resolves_the_same_chain() {
    let mut w = world();
    let (create, s0) = create(&admin(&w.ana), "legal team", 100, &mut w.rng).unwrap();
    let g = create.record().group;
    let c = open_change(create.record(), &s0).unwrap();
    assert_eq!(
        (c.name.as_str(), c.members.as_slice()),
        ("legal team", &[w.ana.id()][..])
    );
    let mut records = vec![create.clone()];
    let st = resolve(&g, &records).unwrap();
    assert_eq!(
        (st.epoch(), st.admins(), st.founder),
        (0, &[w.ana.id()][..], w.ana.id())
    );

    let add_bo = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Add,
            w.bo.id(),
            true,
            vec![w.ana.id()],
            vec![w.ana.id(), w.bo.id()],
        ),
        &s0,
        101,
        &mut w.rng,
    )
    .unwrap();
    records.push(add_bo.clone());
    let st = resolve(&g, &records).unwrap();
    let add_cy = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Add,
            w.cy.id(),
            false,
            vec![w.ana.id(), w.cy.id()],
            vec![w.ana.id(), w.bo.id(), w.cy.id()],
        ),
        &s0,
        102,
        &mut w.rng,
    )
    .unwrap();
    records.push(add_cy.clone());
    let st = resolve(&g, &records).unwrap();
    assert_eq!(st.chain.len(), 3);
    assert!(st.admins().contains(&w.cy.id()));

    // The removal starts epoch 1 under a new secret.
    let s1 = EpochSecret::generate(&mut w.rng);
    let rm_bo = change(
        &admin(&w.cy),
        &st,
        ch(
            GroupKind::Remove,
            w.bo.id(),
            false,
            st.admins().to_vec(),
            vec![w.ana.id(), w.cy.id()],
        ),
        &s1,
        103,
        &mut w.rng,
    )
    .unwrap();
    records.push(rm_bo.clone());
    // Any order of the same records resolves to the same state.
    let st = resolve(&g, &records).unwrap();
    records.reverse();
    assert_eq!(resolve(&g, &records).unwrap(), st);
    assert_eq!(st.epoch(), 1);
    assert_eq!(st.epochs[1].key, s1.epoch_key());
    assert_eq!(st.epochs[1].started, 103);
    assert_eq!(
        open_change(rm_bo.record(), &s1).unwrap().member,
        Some(w.bo.id())
    );
    // The change of the removal does not open with the old secret.
    assert!(open_change(rm_bo.record(), &s0).is_err());

    // Boxes: the removal's secret goes to ana and cy, never to bo.
    let contents = BoxContents::new(vec![(1, &s1)]);
    let bx = boxes(
        &admin(&w.cy),
        &g,
        &rm_bo.hash(),
        &[w.ana.id(), w.cy.id()],
        &contents,
        103,
        &mut w.rng,
    )
    .unwrap();
    let opens = |k: &PublisherKey| {
        bx.iter()
            .filter_map(|b| open_box(k, &b.key_box().info(), &b.key_box().sealed).ok())
            .count()
    };
    assert_eq!((opens(&w.ana), opens(&w.cy), opens(&w.bo)), (1, 1, 0));
}

#[test]
fn a_record_that_does_not_extend_the_chain_counts_for_nothing() {
    let mut w = world();
    let (create, s0) = create(&admin(&w.ana), "g", 1, &mut w.rng).unwrap();
    let g = create.record().group;
    let st = resolve(&g, std::slice::from_ref(&create)).unwrap();
    // bo is no admin: his record is ignored.
    let by_bo = change(
        &admin(&w.bo),
        &st,
        ch(
            GroupKind::Add,
            w.cy.id(),
            false,
            vec![w.ana.id()],
            vec![w.ana.id(), w.cy.id()],
        ),
        &s0,
        2,
        &mut w.rng,
    )
    .unwrap();
    // A removal that keeps the old epoch key is no removal.
    let stale = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Remove,
            w.cy.id(),
            false,
            vec![w.ana.id()],
            vec![w.ana.id()],
        ),
        &s0,
        2,
        &mut w.rng,
    )
    .unwrap();
    let got = resolve(&g, &[create.clone(), by_bo, stale]).unwrap();
    assert_eq!(got.chain.len(), 1);
    // Another group's records are not this group's.
    let (other, _) = create_other(&mut w);
    assert_eq!(resolve(&g, &[create, other]).unwrap().chain.len(), 1);
    assert!(resolve(&g, &[]).is_none());
}

fn create_other(w: &mut World) -> (SignedGroupRecord, EpochSecret) {
    create(&admin(&w.cy), "other", 1, &mut w.rng).unwrap()
}

#[test]
fn at_a_fork_the_founder_wins_then_the_lowest_hash() {
    let mut w = world();
    let (create, s0) = create(&admin(&w.ana), "g", 1, &mut w.rng).unwrap();
    let g = create.record().group;
    let st = resolve(&g, std::slice::from_ref(&create)).unwrap();
    let add_bo = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Add,
            w.bo.id(),
            false,
            vec![w.ana.id(), w.bo.id()],
            vec![w.ana.id(), w.bo.id()],
        ),
        &s0,
        2,
        &mut w.rng,
    )
    .unwrap();
    let st = resolve(&g, &[create.clone(), add_bo.clone()]).unwrap();
    // bo, an admin, removes ana's friend cy while ana adds cy: both extend
    // the same head; ana's wins.
    let s1 = EpochSecret::generate(&mut w.rng);
    let by_bo = change(
        &admin(&w.bo),
        &st,
        ch(
            GroupKind::Remove,
            w.cy.id(),
            false,
            vec![w.ana.id(), w.bo.id()],
            vec![w.ana.id(), w.bo.id()],
        ),
        &s1,
        3,
        &mut w.rng,
    )
    .unwrap();
    let by_ana = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Add,
            w.cy.id(),
            false,
            vec![w.ana.id(), w.bo.id()],
            vec![w.ana.id(), w.bo.id(), w.cy.id()],
        ),
        &s0,
        3,
        &mut w.rng,
    )
    .unwrap();
    let all = [
        create.clone(),
        add_bo.clone(),
        by_bo.clone(),
        by_ana.clone(),
    ];
    assert_eq!(resolve(&g, &all).unwrap().head().hash, by_ana.hash());
    // The founder cannot be removed from the admins.
    let oust = change(
        &admin(&w.bo),
        &st,
        ch(
            GroupKind::Remove,
            w.ana.id(),
            false,
            vec![w.bo.id()],
            vec![w.bo.id()],
        ),
        &s1,
        3,
        &mut w.rng,
    )
    .unwrap();
    assert_eq!(
        resolve(&g, &[create, add_bo.clone(), oust])
            .unwrap()
            .head()
            .hash,
        add_bo.hash()
    );
}

#[test]
fn a_private_announcement_opens_for_members_only_and_names_its_inner_publisher() {
    let mut w = world();
    let (create, s0) = create(&admin(&w.ana), "g", 1, &mut w.rng).unwrap();
    let g = create.record().group;
    let inner = SignedAnnouncement::sign_announcement(
        crate::manifest::Announcement {
            v: crate::manifest::VERSION,
            id: crate::id::BundleId::from_bytes([3; 32]),
            seq: 1,
            name: "procedures".into(),
            size: 10,
            tags: vec![],
            files: 1,
            titles: vec![crate::manifest::LangTitle {
                lang: "en".into(),
                title: "Safeguarding procedures".into(),
            }],
            created: 5,
            publisher: w.bo.id(),
        },
        &w.bo,
    )
    .unwrap();
    let outer = crate::id::BundleId::from_bytes([4; 32]);
    let p = announce(&s0, &g, 0, outer, 123_456, &inner, 5, &mut w.rng).unwrap();
    assert_eq!(p.private().key, s0.epoch_key());
    assert_eq!(p.signed_by(), s0.epoch_key());
    let back = crate::manifest::SignedPrivate::decode(p.bytes()).unwrap();
    assert_eq!(open_announcement(back.private(), &s0).unwrap(), inner);
    let other = EpochSecret::generate(&mut w.rng);
    assert!(open_announcement(back.private(), &other).is_err());
    // The catalog tells the three kinds apart from every other entry.
    use crate::manifest::CatalogEntry;
    assert!(matches!(
        CatalogEntry::decode(p.bytes()).unwrap(),
        CatalogEntry::Private(_)
    ));
    assert!(matches!(
        CatalogEntry::decode(create.bytes()).unwrap(),
        CatalogEntry::Group(_)
    ));
    let st = resolve(&g, std::slice::from_ref(&create)).unwrap();
    let bx = boxes(
        &admin(&w.ana),
        &g,
        &st.head().hash,
        &[w.bo.id()],
        &BoxContents::new(vec![(0, &s0)]),
        6,
        &mut w.rng,
    )
    .unwrap();
    let e = CatalogEntry::decode(bx[0].bytes()).unwrap();
    assert!(matches!(e, CatalogEntry::KeyBox(_)));
    assert_eq!((e.signer(), e.signed_by()), (w.ana.id(), w.ana.id()));
    // A private announcement signed with `by` by anyone but the epoch key
    // itself is refused.
    assert!(crate::manifest::SignedPrivate::sign(p.private().clone(), &w.bo).is_err());
    // Nothing of the inner announcement shows in the bytes outsiders see.
    let title = inner.announcement().titles[0].title.as_bytes();
    assert!(!p.bytes().windows(title.len()).any(|x| x == title));
}

#[test]
fn a_rekey_starts_an_epoch_with_the_same_members_and_admins_only() {
    let mut w = world();
    let (create, s0) = create(&admin(&w.ana), "legal team", 100, &mut w.rng).unwrap();
    let g = create.record().group;
    let mut records = vec![create];
    let st = resolve(&g, &records).unwrap();
    let add_bo = change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Add,
            w.bo.id(),
            false,
            vec![w.ana.id()],
            vec![w.ana.id(), w.bo.id()],
        ),
        &s0,
        101,
        &mut w.rng,
    )
    .unwrap();
    records.push(add_bo);
    let st = resolve(&g, &records).unwrap();
    let ana = PublisherKey::from_seed([1; 32]);
    let both = vec![w.ana.id(), w.bo.id()];
    let rekey =
        |st: &GroupState, admins: Vec<PublisherId>, s: &EpochSecret, rng: &mut ChaCha20Rng| {
            change(
                &admin(&ana),
                st,
                Change {
                    kind: GroupKind::Rekey,
                    member: None,
                    history: false,
                    name: "legal team".into(),
                    members: both.clone(),
                    admins,
                },
                s,
                102,
                rng,
            )
        };
    // A rekey that would change the admins extends nothing.
    let s1 = EpochSecret::generate(&mut w.rng);
    let sneaky = rekey(&st, vec![w.ana.id(), w.bo.id()], &s1, &mut w.rng).unwrap();
    let mut with_sneaky = records.clone();
    with_sneaky.push(sneaky);
    assert_eq!(resolve(&g, &with_sneaky).unwrap().epoch(), 0);
    // Nor does one that reuses an epoch's key.
    let reused = rekey(&st, vec![w.ana.id()], &s0, &mut w.rng).unwrap();
    let mut with_reused = records.clone();
    with_reused.push(reused);
    assert_eq!(resolve(&g, &with_reused).unwrap().epoch(), 0);
    // The real one: epoch 1 under a new secret, same admins; its change
    // names no member and lists the same members.
    let good = rekey(&st, vec![w.ana.id()], &s1, &mut w.rng).unwrap();
    records.push(good.clone());
    let st = resolve(&g, &records).unwrap();
    assert_eq!((st.epoch(), st.admins()), (1, &[w.ana.id()][..]));
    assert_eq!(st.epochs[1].key, s1.epoch_key());
    let c = open_change(good.record(), &s1).unwrap();
    assert_eq!(c.member, None);
    assert_eq!(c.members, {
        let mut m = vec![w.ana.id(), w.bo.id()];
        m.sort();
        m
    });
    // A rekey that names a member does not validate.
    let bad = Change {
        kind: GroupKind::Rekey,
        member: Some(w.bo.id()),
        history: false,
        name: "legal team".into(),
        members: vec![w.ana.id(), w.bo.id()],
        admins: vec![w.ana.id()],
    };
    let s2 = EpochSecret::generate(&mut w.rng);
    assert!(change(&admin(&w.ana), &st, bad, &s2, 103, &mut w.rng).is_err());
}
