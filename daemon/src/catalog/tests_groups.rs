//! Private groups in the catalog: what every node, member or not, takes
//! and refuses.

use rand_chacha::rand_core::SeedableRng;
use weft_protocol::group::{self, Admin, BoxContents, EpochSecret};
use weft_protocol::manifest::{GroupKind, SignedGroupRecord, SignedPrivate};
use weft_protocol::{ContentHash, PublisherKey, SignedAnnouncement};

use super::*;
use crate::store::MemStore;

struct G {
    rng: rand_chacha::ChaCha20Rng,
    ana: PublisherKey,
    bo: PublisherKey,
    store: MemStore,
    cat: Catalog,
}

fn g() -> G {
    let cat = Catalog::default();
    cat.mark_loaded();
    G {
        rng: rand_chacha::ChaCha20Rng::from_seed([1; 32]),
        ana: PublisherKey::from_seed([1; 32]),
        bo: PublisherKey::from_seed([2; 32]),
        store: MemStore::default(),
        cat,
    }
}

fn ch(
    kind: GroupKind,
    member: PublisherId,
    history: bool,
    admins: Vec<PublisherId>,
    members: Vec<PublisherId>,
) -> group::Change {
    group::Change {
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

impl G {
    fn add(&self, e: CatalogEntry) -> Added {
        self.cat.add_entry(&self.store, &e).unwrap()
    }

    fn private(
        &mut self,
        s: &EpochSecret,
        gid: &weft_protocol::GroupId,
        epoch: u64,
        created: u64,
    ) -> SignedPrivate {
        let (m, _) = weft_protocol::vectors::signed_manifest();
        let inner = SignedAnnouncement::sign(&m, &weft_protocol::vectors::key()).unwrap();
        group::announce(
            s,
            gid,
            epoch,
            BundleId::from_bytes([created as u8; 32]),
            1000,
            &inner,
            created,
            &mut self.rng,
        )
        .unwrap()
    }
}

fn refused(a: Added) -> bool {
    matches!(a, Added::Refused(_))
}

#[test]
fn every_node_keeps_a_groups_chain_and_refuses_what_does_not_fit_it() {
    let mut w = g();
    let now = crate::clock::now_secs();
    let (create, s0) = group::create(&admin(&w.ana), "legal", now, &mut w.rng).unwrap();
    let gid = create.record().group;
    let st = group::resolve(&gid, std::slice::from_ref(&create)).unwrap();
    let add_bo = group::change(
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
        now,
        &mut w.rng,
    )
    .unwrap();
    // Before its create, nothing of the group is taken (catch-up brings it
    // again later).
    assert!(refused(w.add(CatalogEntry::Group(add_bo.clone()))));
    let p0 = w.private(&s0, &gid, 0, now);
    assert!(refused(w.add(CatalogEntry::Private(p0.clone()))));
    assert_eq!(w.add(CatalogEntry::Group(create.clone())), Added::New);
    assert_eq!(w.add(CatalogEntry::Group(add_bo.clone())), Added::New);
    assert_eq!(w.add(CatalogEntry::Private(p0)), Added::New);
    let st = w.cat.group_state(&gid).unwrap();
    assert_eq!(st.chain.len(), 2);

    // A box signed by an admin, for a record on the chain: kept. One
    // signed by a member who is no admin: refused.
    let c = BoxContents::new(vec![(0, &s0)]);
    let ok = group::boxes(
        &admin(&w.ana),
        &gid,
        &add_bo.hash(),
        &[w.bo.id()],
        &c,
        now,
        &mut w.rng,
    )
    .unwrap();
    assert_eq!(w.add(CatalogEntry::KeyBox(ok[0].clone())), Added::New);
    let bad = group::boxes(
        &admin(&w.bo),
        &gid,
        &add_bo.hash(),
        &[w.bo.id()],
        &c,
        now,
        &mut w.rng,
    )
    .unwrap();
    assert!(refused(w.add(CatalogEntry::KeyBox(bad[0].clone()))));
    let stray = group::boxes(
        &admin(&w.ana),
        &gid,
        &ContentHash::from_bytes([9; 32]),
        &[w.bo.id()],
        &c,
        now,
        &mut w.rng,
    )
    .unwrap();
    assert!(refused(w.add(CatalogEntry::KeyBox(stray[0].clone()))));

    // bo is removed: epoch 1. An announcement signed by a key that is not
    // the epoch's is refused; one of epoch 0 dated after the removal (bo
    // still holds that key) is refused; one dated before it is kept.
    let s1 = EpochSecret::generate(&mut w.rng);
    let rm = group::change(
        &admin(&w.ana),
        &st,
        ch(
            GroupKind::Remove,
            w.bo.id(),
            false,
            vec![w.ana.id()],
            vec![w.ana.id()],
        ),
        &s1,
        now,
        &mut w.rng,
    )
    .unwrap();
    assert_eq!(w.add(CatalogEntry::Group(rm)), Added::New);
    assert_eq!(w.cat.group_state(&gid).unwrap().epoch(), 1);
    let forged = w.private(&s0, &gid, 1, now);
    assert!(refused(w.add(CatalogEntry::Private(forged))));
    let late = w.private(&s0, &gid, 0, now + 3600);
    assert!(refused(w.add(CatalogEntry::Private(late))));
    let early = w.private(&s0, &gid, 0, now - 10);
    assert_eq!(w.add(CatalogEntry::Private(early)), Added::New);
    let fresh = w.private(&s1, &gid, 1, now);
    assert_eq!(w.add(CatalogEntry::Private(fresh)), Added::New);

    // Private announcements are never listed: search finds nothing.
    let found = w.cat.search(&Query::default(), 100);
    assert!(found.results.is_empty());
    // They are reconciled like any entry.
    assert!(w.cat.sorted_ids().contains(&create.entry_id()));
}

#[test]
fn a_groups_entries_load_in_any_order() {
    let mut w = g();
    let now = crate::clock::now_secs();
    let (create, s0) = group::create(&admin(&w.ana), "legal", now, &mut w.rng).unwrap();
    let gid = create.record().group;
    let st = group::resolve(&gid, std::slice::from_ref(&create)).unwrap();
    let add: SignedGroupRecord = group::change(
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
        now,
        &mut w.rng,
    )
    .unwrap();
    for e in [&add, &create] {
        w.store.put_announcement(&e.entry_id(), e.bytes()).unwrap();
    }
    let cat = Catalog::default();
    cat.load(&w.store).unwrap();
    assert_eq!(cat.group_state(&gid).unwrap().chain.len(), 2);
}
