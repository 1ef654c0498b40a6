//! Who may say what in the catalog: retractions count only from a
//! bundle's publisher. Real daemons, and a hand-built peer
//! ([`weft_e2e::raw::RawPeer`]) that sends what no honest node would.

use std::path::Path;
use std::time::Duration;

use weft_e2e::raw::{rpc, RawPeer};
use weft_e2e::{init, publish, wait_until, Daemon, Scenario};
use weft_protocol::api::BundleDetails;
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{BundleId, PublisherKey, Retraction, SignedRetraction, VERSION};

/// Copies an archive without its announcement records (kind 2), as a
/// bundle reaches a node that never saw its announcement.
fn strip_announcements(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    let (magic, mut rest) = bytes.split_at(16);
    let mut out = magic.to_vec();
    let mut stripped = 0;
    while !rest.is_empty() {
        let kind = rest[0];
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        let (record, tail) = rest.split_at(5 + len);
        if kind == 2 {
            stripped += 1;
        } else {
            out.extend_from_slice(record);
        }
        rest = tail;
    }
    assert_eq!(stripped, 1, "the export carried the announcement");
    std::fs::write(to, out).unwrap();
}

fn show(d: &Daemon, id: &str) -> BundleDetails {
    d.weft_json_as(&["show", id])
}

/// Whether `d` holds bundle `id` (a bundle it neither holds nor lists is
/// unknown to `weft show`).
fn holds(d: &Daemon, id: &str) -> bool {
    let o = d.weft(&["--json", "show", id]);
    o.status.success() && serde_json::from_slice::<BundleDetails>(&o.stdout).is_ok_and(|s| s.local)
}

/// A retraction of `id` signed by `key`.
fn retraction_by(key: &PublisherKey, id: &str) -> SignedRetraction {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    SignedRetraction::sign(
        Retraction {
            v: VERSION,
            created: now,
            retracts: id.parse::<BundleId>().unwrap(),
            publisher: key.id(),
        },
        key,
    )
    .unwrap()
}

/// A raw peer connected to `node` gossips `bytes` on the announcement topic.
fn gossip_to(node: &Daemon, bytes: &[u8]) -> RawPeer {
    let evil = RawPeer::start();
    let peer = evil.connect(&node.multiaddr());
    let mut g = evil.gossip(peer);
    g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    g.send(&rpc::publish(ANNOUNCE_TOPIC, &[bytes])).unwrap();
    evil
}

#[test]
fn a_held_bundle_with_no_announcement_is_retracted_only_by_its_publisher() {
    let scenario = Scenario::begin("forged_retraction_of_a_held_bundle");
    let a = Daemon::start("fr-a");
    init(&a);
    let id = publish(&a, "water-guide", 40_000, 19, &[]);
    let full = a.path().join("water.weft");
    let o = a.weft(&["export", &id, "-o", full.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");

    // B holds the bundle, cached, and has never seen its announcement.
    let b = Daemon::start("fr-b");
    let bare = b.path().join("water-bare.weft");
    strip_announcements(&full, &bare);
    let o = b.weft(&["import", bare.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let o = b.weft(&["unpin", &id]);
    assert!(o.status.success(), "{o:?}");
    assert!(!b.lists(&id), "no announcement of the bundle is indexed");
    let before = show(&b, &id);
    assert!(before.local && !before.retracted, "{before:?}");

    // By gossip: a retraction signed by a fresh key is refused.
    let forger = PublisherKey::from_seed([0x66; 32]);
    let forged = retraction_by(&forger, &id);
    let refused = b.counters().gossip_rejected;
    let _evil = gossip_to(&b, forged.bytes());
    wait_until(
        "B to refuse the forged retraction sent by gossip",
        Duration::from_secs(20),
        || b.counters().gossip_rejected > refused,
    );
    let now = show(&b, &id);
    assert!(now.local && !now.retracted, "{now:?}");

    // By catch-up: C knows nothing of the bundle, so it keeps the
    // retraction (it may yet be true); B, catching up with C, refuses it.
    let c = Daemon::start("fr-c");
    let accepted = c.counters().gossip_accepted;
    let _evil_c = gossip_to(&c, forged.bytes());
    wait_until(
        "C to keep the retraction of a bundle it does not know",
        Duration::from_secs(20),
        || c.counters().gossip_accepted > accepted,
    );
    let refused = b.counters().sync_entries_rejected;
    b.connect(&c);
    wait_until(
        "B to refuse the forged retraction offered by catch-up",
        Duration::from_secs(60),
        || b.counters().sync_entries_rejected > refused,
    );
    let now = show(&b, &id);
    assert!(now.local && !now.retracted, "{now:?}");
    assert!(
        !b.log().contains("removed: its publisher retracted it"),
        "B removed nothing"
    );

    // The publisher's own retraction still works, and the keeper removes
    // the cached copy.
    b.connect(&a);
    let o = a.weft(&["retract", &id]);
    assert!(o.status.success(), "{o:?}");
    wait_until(
        "B to drop the bundle its publisher retracted",
        Duration::from_secs(60),
        || !holds(&b, &id),
    );
    scenario.held();
}

/// The search results on `d` for bundle `id`: (publisher, first title,
/// contested).
fn claims(d: &Daemon, id: &str) -> Vec<(String, String, bool)> {
    d.weft_json_as::<weft_protocol::api::SearchResponse>(&["search", id])
        .results
        .into_iter()
        .filter(|r| r.id.to_string() == id)
        .map(|r| {
            (
                r.publisher.to_string(),
                r.titles
                    .first()
                    .map(|t| t.title.clone())
                    .unwrap_or_default(),
                r.contested,
            )
        })
        .collect()
}

#[test]
fn a_forged_claim_heard_first_never_hides_the_real_bundle_and_never_comes_back() {
    let scenario = Scenario::begin("forged_claim_on_a_real_bundle");
    let a = Daemon::start("claim-real");
    let real = init(&a);
    let id = publish(&a, "water-guide", 30_000, 23, &["--title", "Water guide"]);
    let real_ann = a.weft_json_as::<BundleDetails>(&["show", &id]);
    assert_eq!(real_ann.titles[0].title, "Water guide");

    // The forger's claim on the same id, with its own key and a fake
    // title, reaches B and C before anything else about that bundle.
    let forger = PublisherKey::from_seed([0x67; 32]);
    let mut lie = weft_e2e::announcement(&forger, "water-guide");
    lie.id = id.parse().unwrap();
    lie.titles[0].title = "Fake water guide".into();
    let forged = weft_protocol::SignedAnnouncement::sign_announcement(lie, &forger).unwrap();
    let b = Daemon::start("claim-b");
    let c = Daemon::start("claim-c");
    let _evil_b = gossip_to(&b, forged.bytes());
    let _evil_c = gossip_to(&c, forged.bytes());
    for d in [&b, &c] {
        wait_until(
            &format!("{} to list the forged claim", d.name),
            Duration::from_secs(20),
            || !claims(d, &id).is_empty(),
        );
        assert_eq!(claims(d, &id)[0].1, "Fake water guide");
    }

    // B hears the real publisher: its search shows the real title, under
    // the real publisher, beside the forgery (both marked contested).
    b.connect(&a);
    wait_until("B to list the real claim", Duration::from_secs(60), || {
        claims(&b, &id).iter().any(|(p, _, _)| *p == real)
    });
    let listed = claims(&b, &id);
    assert!(
        listed.contains(&(real.clone(), "Water guide".into(), true)),
        "{listed:?}"
    );
    assert!(listed.iter().all(|(_, _, contested)| *contested));

    // `weft get` fetches the real bundle; its manifest settles the
    // contest and the forgery is gone.
    let out = b.path().join("got");
    let o = b.weft(&["get", &id, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read(out.join("data.bin")).unwrap(),
        weft_e2e::pseudo_random(30_000, 23)
    );
    assert_eq!(
        claims(&b, &id),
        vec![(real.clone(), "Water guide".into(), false)]
    );

    // C still holds the forgery; catching up with C does not bring it back.
    let sessions = b.counters().sync_sessions;
    b.connect(&c);
    wait_until("B to reconcile with C", Duration::from_secs(60), || {
        b.counters().sync_sessions > sessions
    });
    // C, reconciling in its turn, finds B lacks the forgery and hints; B
    // does not ask for it.
    let c_sessions = c.counters().sync_sessions;
    let o = c.weft(&["connect", &b.multiaddr()]);
    assert!(o.status.success(), "{o:?}");
    wait_until("C to reconcile with B", Duration::from_secs(60), || {
        c.counters().sync_sessions > c_sessions
    });
    assert!(!claims(&c, &id).is_empty(), "C still holds the forgery");
    assert_eq!(
        claims(&b, &id),
        vec![(real.clone(), "Water guide".into(), false)]
    );
    let why = b.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", &forger.id().to_string()]);
    assert_eq!(why.entries, 0, "nothing of the forger is kept");
    scenario.held();
}
