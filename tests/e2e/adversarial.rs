//! Lying peers against real daemons: a forged announcement is neither
//! stored nor forwarded and costs its sender score; a peer serving blocks
//! that do not match their hash is dropped and the fetch completes from an
//! honest peer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use weft_e2e::evil::EvilPeer;
use weft_e2e::{announcement, make_folder, read_tree, wait_until, Daemon, Scenario};
use weft_protocol::{PublisherKey, SignedAnnouncement};

#[test]
fn forged_announcements_and_bad_blocks_are_refused_and_the_fetch_completes_from_an_honest_peer() {
    let scenario = Scenario::begin("forged_gossip_and_garbage_blocks");
    let a = Daemon::start("adv-a");
    let b = Daemon::start("adv-b");
    let c = Daemon::start("adv-c");
    b.connect(&a);
    c.connect(&b);
    let evil = EvilPeer::start();
    evil.dial(&b.multiaddr());
    evil.dial(&c.multiaddr());
    evil.wait_subscribed(2);

    // 1. A valid announcement from the evil peer is accepted like any
    //    other; then a forged one (valid shape, wrong signature) is judged
    //    and rejected by both nodes it reaches.
    let key = PublisherKey::from_seed([0xee; 32]);
    let decoy = SignedAnnouncement::sign_announcement(announcement(&key, "decoy"), &key).unwrap();
    evil.publish(decoy.bytes().to_vec());
    let decoy_id = decoy.announcement().id.to_string();
    wait_until(
        "B to list the valid announcement",
        Duration::from_secs(20),
        || b.lists(&decoy_id),
    );
    wait_until(
        "C to list the valid announcement",
        Duration::from_secs(20),
        || c.lists(&decoy_id),
    );
    let forged = announcement(&key, "forged");
    evil.publish(SignedAnnouncement::forge(&forged, [7; 64]));
    wait_until(
        "B and C to reject the forged announcement",
        Duration::from_secs(20),
        || b.counters().gossip_rejected >= 1 && c.counters().gossip_rejected >= 1,
    );
    let forged_id = forged.id.to_string();
    for node in [&a, &b, &c] {
        assert!(
            !node.lists(&forged_id),
            "{} stored a forged announcement",
            node.name
        );
    }
    let peers = b.weft_json(&["peers"]);
    let score = peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer_id"] == evil.peer_id.to_string())
        .map(|p| p["score"].as_f64().unwrap_or(0.0))
        .expect("B still lists the evil peer");
    assert!(
        score < 0.0,
        "the forger's gossip score at B is negative, got {score}"
    );

    // 2. A publishes; B pins; C fetches while the evil peer serves garbage.
    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), 6 * 1024 * 1024 + 3);
    a.weft_json(&["init"]);
    let id = a.weft_json(&["publish", folder.to_str().unwrap()])["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("B to list the bundle", Duration::from_secs(20), || {
        b.lists(&id)
    });
    b.weft_json(&["pin", &id]);
    assert!(
        c.connected_to(&evil.peer_id.to_string()),
        "the evil peer is still connected to C"
    );
    let out = work.path().join("out");
    c.weft_json(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(
        read_tree(&out),
        read_tree(&folder),
        "the fetch completed from B with the right bytes"
    );
    assert!(
        evil.bad_blocks_sent.load(Ordering::Relaxed) >= 1,
        "the evil peer was asked for blocks"
    );
    assert!(c.counters().chunks_rejected >= 1);
    assert!(c.counters().peers_punished >= 1);
    assert!(
        !c.connected_to(&evil.peer_id.to_string()),
        "C dropped the peer that sent bad blocks"
    );
    let mut c = c;
    assert!(c.is_running(), "C stays up");
    // The evil peer never talked to A: a forged message could only have
    // reached A through B, and B dropped it instead of forwarding it.
    assert_eq!(
        a.counters().gossip_rejected,
        0,
        "B forwarded the forged announcement"
    );
    scenario.held();
}
