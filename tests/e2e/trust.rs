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
    // the real publisher; the forgery, while it is still listed, only under
    // the forger's key and marked contested.
    b.connect(&a);
    wait_until("B to list the real claim", Duration::from_secs(60), || {
        claims(&b, &id).iter().any(|(p, _, _)| *p == real)
    });
    let listed = claims(&b, &id);
    assert!(
        listed
            .iter()
            .any(|(p, t, _)| *p == real && t == "Water guide"),
        "{listed:?}"
    );
    for (p, t, contested) in &listed {
        assert!(
            *p == real || (*t == "Fake water guide" && *contested),
            "{listed:?}"
        );
    }
    // B settles the contest by itself: it asks a peer for the manifest
    // (A has it), which proves the forgery false.
    wait_until(
        "B to settle the contest from the manifest",
        Duration::from_secs(60),
        || claims(&b, &id) == vec![(real.clone(), "Water guide".into(), false)],
    );

    // `weft get` fetches the real bundle.
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

/// A node with a publisher key that has published one bundle named
/// `name`; returns it, its publisher id and the bundle id.
fn publisher_with_bundle(name: &str, seed: u64) -> (Daemon, String, String) {
    let d = Daemon::start(name);
    let p = init(&d);
    let id = publish(&d, name, 5_000, seed, &[]);
    (d, p, id)
}

fn mirrored(hub: &Daemon, id: &str) -> bool {
    hub.weft_json_as::<weft_protocol::api::PinsResponse>(&["pins"])
        .pins
        .iter()
        .any(|p| p.id.to_string() == id)
}

#[test]
fn a_hub_following_a_coordinators_vouches_mirrors_exactly_the_vouched_publishers() {
    let scenario = Scenario::begin("vouching_end_to_end");
    let hub = Daemon::start("vouch-hub");
    let coordinator = Daemon::start("vouch-coordinator");
    let coord = init(&coordinator);
    let members: Vec<(Daemon, String, String)> = (0..3)
        .map(|i| publisher_with_bundle(&format!("member-{i}"), 40 + i))
        .collect();
    let (outsider, outsider_id, outsider_bundle) = publisher_with_bundle("outsider", 50);
    let o = hub.weft(&["follow", "--vouched-by", &coord]);
    assert!(o.status.success(), "{o:?}");
    for d in members
        .iter()
        .map(|m| &m.0)
        .chain([&coordinator, &outsider])
    {
        hub.connect(d);
    }
    // The hub hears every bundle, and mirrors none yet.
    for id in members.iter().map(|m| &m.2).chain([&outsider_bundle]) {
        wait_until(
            "the hub to list every bundle",
            Duration::from_secs(60),
            || hub.lists(id),
        );
        assert!(!mirrored(&hub, id));
    }

    // The coordinator vouches for its three members, once each.
    for (_, p, _) in &members {
        let o = coordinator.weft(&["vouch", p, "--note", "coalition member"]);
        assert!(o.status.success(), "{o:?}");
    }
    for (_, p, id) in &members {
        wait_until(
            "the hub to mirror a vouched member's bundle",
            Duration::from_secs(60),
            || mirrored(&hub, id),
        );
        let why = hub.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", p]);
        assert_eq!(why.tier, weft_protocol::api::Tier::Vouched);
        assert!(why.reasons[0].contains(&coord), "{:?}", why.reasons);
    }
    assert!(!mirrored(&hub, &outsider_bundle), "nobody else's");
    let why = hub.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", &outsider_id]);
    assert_eq!(why.tier, weft_protocol::api::Tier::Seen);

    // Unvouching the third member stops new mirroring of it: its next
    // bundle is listed but not mirrored, while a vouched member's next
    // bundle, published after it, is.
    let o = coordinator.weft(&["unvouch", &members[2].1]);
    assert!(o.status.success(), "{o:?}");
    wait_until(
        "the hub to take the withdrawal",
        Duration::from_secs(60),
        || {
            hub.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", &members[2].1])
                .tier
                == weft_protocol::api::Tier::Seen
        },
    );
    let late = publish(&members[2].0, "member-2-v2", 5_000, 60, &[]);
    wait_until(
        "the hub to list the unvouched member's new bundle",
        Duration::from_secs(60),
        || hub.lists(&late),
    );
    let still = publish(&members[0].0, "member-0-v2", 5_000, 61, &[]);
    wait_until(
        "the hub to mirror the vouched member's new bundle",
        Duration::from_secs(60),
        || mirrored(&hub, &still),
    );
    assert!(!mirrored(&hub, &late), "no longer mirrored once unvouched");

    // Bad input: vouching for oneself, and a note on a withdrawal.
    let o = coordinator.weft(&["vouch", &coord]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot vouch for itself"),
        "{o:?}"
    );
    let (addr, token) = coordinator.api_addr_and_token();
    let r = weft_e2e::http::request(
        &addr,
        "POST",
        "/v1/unvouch",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        format!("{{\"publisher\": \"{}\", \"note\": \"x\"}}", members[0].1).as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    scenario.held();
}
