//! A hand-built misbehaving peer ([`weft_e2e::raw::RawPeer`]) against real
//! daemons. Every scenario checks what an operator would: the daemon stays
//! up, memory stays bounded, honest work goes on, and the bad peer is
//! penalised (a negative gossip score) or cut off (banned, or its gossip
//! stream disabled). Each is counted as a scenario in `docs/security.md`.

use std::time::{Duration, Instant};

use weft_e2e::raw::{rpc, RawPeer, XferAnswer};
use weft_e2e::{
    announcement, init, pseudo_random, publish, record_figure, wait_until, Daemon, Scenario,
};
use weft_protocol::blocks::BlockRequest;
use weft_protocol::limits::MAX_ANNOUNCEMENT_BYTES;

/// One mebibyte, for file sizes.
const MIB: usize = 1 << 20;
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{ContentHash, PublisherKey, SignedAnnouncement};

fn signed(key: &PublisherKey, name: &str) -> SignedAnnouncement {
    SignedAnnouncement::sign_announcement(announcement(key, name), key).unwrap()
}

/// A raw peer connected to `node` and subscribed to announcements.
fn subscribed_peer(node: &Daemon) -> (RawPeer, libp2p::PeerId) {
    let evil = RawPeer::start();
    let peer = evil.connect(&node.multiaddr());
    evil.gossip(peer)
        .send(&rpc::subscribe(ANNOUNCE_TOPIC))
        .unwrap();
    (evil, peer)
}

/// Honest gossip still flows from `from` to `to`: a fresh bundle published
/// at `from` is listed at `to`.
fn honest_gossip_flows(from: &Daemon, to: &Daemon, name: &str) {
    let id = publish(from, name, 10_000, name.len() as u64, &[]);
    wait_until(
        &format!("{} to list {name} from {}", to.name, from.name),
        Duration::from_secs(30),
        || to.lists(&id),
    );
}

#[test]
fn malformed_announcements_are_refused_and_each_sender_is_penalised_or_cut_off() {
    let a = Daemon::start("mal-a");
    let b = Daemon::start("mal-b");
    b.connect(&a);
    init(&a);
    let key = PublisherKey::from_seed([0x31; 32]);

    // Judged by the validator: each costs its sender -100 at once.
    let forged = SignedAnnouncement::forge(&announcement(&key, "forged"), [7; 64]);
    let mut non_canonical = signed(&key, "non-canonical").bytes().to_vec();
    let pos = non_canonical
        .windows(2)
        .position(|w| w == [0x58, 64])
        .expect("the signature's length header");
    non_canonical.splice(pos..pos + 2, [0x59, 0, 64]);
    let mut oversized = signed(&key, "oversized").bytes().to_vec();
    oversized.resize(MAX_ANNOUNCEMENT_BYTES + 1, 0);
    for (name, bytes) in [
        ("bad_signature", forged),
        ("non_canonical", non_canonical),
        ("oversized_announcement", oversized),
    ] {
        let scenario = Scenario::begin(name);
        let rejected = b.counters().gossip_rejected;
        let (evil, peer) = subscribed_peer(&b);
        evil.gossip(peer)
            .send(&rpc::publish(ANNOUNCE_TOPIC, &[&bytes]))
            .unwrap();
        wait_until(
            &format!("B to reject the {name} announcement"),
            Duration::from_secs(15),
            || b.counters().gossip_rejected > rejected,
        );
        let score = b.score_of(&evil.peer_id.to_string()).unwrap_or(0.0);
        assert!(
            score <= -80.0,
            "{name}: the sender is graylisted (score {score})"
        );
        assert_eq!(b.catalog_len(), 0, "{name}: nothing was stored");
        scenario.held();
    }

    // Cut off by gossipsub's framing: a frame over the transmit limit, and
    // a length prefix of 2^64 - 1. Each drops the stream; after five
    // streams the node stops speaking gossip with that connection.
    let valid = signed(&key, "sent-after-the-cut");
    for (name, frame) in [
        ("oversized_frame", {
            let mut f = weft_e2e::raw::varint(128 * 1024);
            f.extend(vec![0u8; 128 * 1024]);
            f
        }),
        ("length_2_pow_64", {
            let mut f = weft_e2e::raw::varint(u64::MAX);
            f.extend([0u8; 64]);
            f
        }),
    ] {
        let scenario = Scenario::begin(name);
        let evil = RawPeer::start();
        let peer = evil.connect(&b.multiaddr());
        let mut refused = 0;
        for _ in 0..5 {
            if let Ok(stream) = evil.open(peer, weft_e2e::raw::MESHSUB) {
                let mut g = weft_e2e::raw::Gossip::from_stream(&evil, stream);
                let _ = g.send_raw(&frame);
            } else {
                refused += 1;
            }
        }
        // The sixth stream is refused, or if the node still takes it, what
        // comes down it is ignored.
        match evil.open(peer, weft_e2e::raw::MESHSUB) {
            Err(_) => refused += 1,
            Ok(stream) => {
                let mut g = weft_e2e::raw::Gossip::from_stream(&evil, stream);
                let _ = g.send(&rpc::subscribe(ANNOUNCE_TOPIC));
                let _ = g.send(&rpc::publish(ANNOUNCE_TOPIC, &[valid.bytes()]));
            }
        }
        assert!(
            refused >= 1,
            "{name}: the node stopped accepting gossip streams"
        );
        assert!(
            b.weft_json(&["status"])["peer_id"].is_string(),
            "{name}: B is up"
        );
        scenario.held();
    }
    // B never stored what came after the cut, and honest gossip flows.
    honest_gossip_flows(&a, &b, "after-malformed");
    assert!(!b.lists(&valid.announcement().id.to_string()));
}

#[test]
fn a_replayed_announcement_is_stored_once_with_flat_memory_and_no_penalty_for_duplicates() {
    let scenario = Scenario::begin("replay_100k");
    let a = Daemon::start("replay-a");
    let b = Daemon::start("replay-b");
    b.connect(&a);
    init(&a);
    let evil = RawPeer::start();
    let pa = evil.connect(&a.multiaddr());
    let pb = evil.connect(&b.multiaddr());
    let mut ga = evil.gossip(pa);
    let mut gb = evil.gossip(pb);
    ga.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    gb.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    let key = PublisherKey::from_seed([0x32; 32]);
    let ann = signed(&key, "replayed");
    let id = ann.announcement().id.to_string();
    // The first copy reaches both nodes; each forwards it to the other,
    // an honest duplicate.
    ga.send(&rpc::publish(ANNOUNCE_TOPIC, &[ann.bytes()]))
        .unwrap();
    gb.send(&rpc::publish(ANNOUNCE_TOPIC, &[ann.bytes()]))
        .unwrap();
    wait_until("both nodes to list it", Duration::from_secs(15), || {
        a.lists(&id) && b.lists(&id)
    });
    let idle_rss = b.memory_kib("VmRSS");
    let peak_before = b.memory_kib("VmHWM");
    // As many copies per RPC as fit in a frame well under the limit.
    let max_frame = 8 * 1024;
    let mut per_rpc = max_frame / ann.bytes().len();
    while rpc::publish(ANNOUNCE_TOPIC, &vec![ann.bytes(); per_rpc]).len() > max_frame {
        per_rpc -= 1;
    }
    let batch = rpc::publish(ANNOUNCE_TOPIC, &vec![ann.bytes(); per_rpc]);
    let total = 100_000;
    let started = Instant::now();
    let mut sent = 0;
    while sent < total {
        gb.send(&batch).unwrap();
        sent += per_rpc;
    }
    let rpcs_done = b.counters().gossip_accepted;
    let secs = started.elapsed().as_secs_f64();
    eprintln!("sent {sent} copies in {secs:.1} s ({per_rpc} per RPC)");
    // The flood is over once B answers again and has caught up; memory is
    // read after.
    wait_until("B to answer", Duration::from_secs(30), || b.lists(&id));
    let peak = b.memory_kib("VmHWM");
    eprintln!("B: idle RSS {idle_rss} KiB, peak before {peak_before} KiB, peak after {peak} KiB");
    record_figure(
        "flood.idle_rss",
        &format!("{:.1} MiB", idle_rss as f64 / 1024.0),
    );
    record_figure(
        "flood.peak_rss",
        &format!("{:.1} MiB", peak as f64 / 1024.0),
    );
    assert_eq!(b.catalog_len(), 1, "stored once");
    assert!(
        rpcs_done <= 3,
        "duplicates are dropped before validation ({rpcs_done} validated)"
    );
    assert!(
        peak <= peak_before.max(idle_rss) + 48 * 1024,
        "memory stays flat: peak {peak} KiB against {peak_before} KiB before the flood"
    );
    let a_score = b.score_of(&a.peer_id()).expect("A still connected to B");
    let e_score = b
        .score_of(&evil.peer_id.to_string())
        .expect("the replayer is still connected");
    assert!(
        a_score >= 0.0,
        "an honest duplicate costs nothing (A: {a_score})"
    );
    assert!(
        e_score >= 0.0,
        "a duplicate is not a lie (replayer: {e_score})"
    );
    honest_gossip_flows(&a, &b, "after-replay");
    scenario.held();
}

#[test]
fn a_flood_on_unknown_topics_gets_its_sender_banned_and_memory_stays_flat() {
    let scenario = Scenario::begin("unknown_topic_flood");
    let a = Daemon::start("topic-a");
    let b = Daemon::start("topic-b");
    b.connect(&a);
    init(&a);
    let (evil, peer) = subscribed_peer(&b);
    let mut g = evil.gossip(peer);
    // Subscriptions to thousands of other topics are dropped on arrival.
    for i in 0..2_000 {
        let _ = g.send(&rpc::subscribe(&format!("spam/{i}")));
    }
    let idle = b.memory_kib("VmHWM");
    let punished = b.counters().peers_punished;
    let payload = pseudo_random(3000, 9);
    let mut sent = 0u64;
    for i in 0..100_000u64 {
        let topic = format!("unknown/{i}");
        let mut data = payload.clone();
        data.extend_from_slice(&i.to_le_bytes());
        if g.send(&rpc::publish(&topic, &[&data])).is_err() {
            break;
        }
        sent += 1;
    }
    eprintln!("the node took {sent} unknown-topic messages before cutting the sender off");
    wait_until("B to ban the flooder", Duration::from_secs(20), || {
        b.counters().peers_punished > punished && !b.connected_to(&evil.peer_id.to_string())
    });
    assert!(sent < 100_000, "the flooder was cut off mid-flood");
    let peak = b.memory_kib("VmHWM");
    assert!(
        peak <= idle + 48 * 1024,
        "memory stays flat: peak {peak} KiB against {idle} KiB before"
    );
    honest_gossip_flows(&a, &b, "after-topic-flood");
    scenario.held();
}

#[test]
fn graft_and_prune_abuse_costs_score() {
    let scenario = Scenario::begin("graft_prune_abuse");
    let b = Daemon::start("graft-b");
    let (evil, peer) = subscribed_peer(&b);
    let mut g = evil.gossip(peer);
    g.send(&rpc::graft(ANNOUNCE_TOPIC)).unwrap();
    g.send(&rpc::prune(ANNOUNCE_TOPIC, 60)).unwrap();
    let me = evil.peer_id.to_string();
    // GRAFT again and again inside the backoff it asked for itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    let score = loop {
        g.send(&rpc::graft(ANNOUNCE_TOPIC)).unwrap();
        let score = b.score_of(&me).unwrap_or(0.0);
        if score < 0.0 || Instant::now() > deadline {
            break score;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        score < 0.0,
        "GRAFT during a backoff costs score, got {score}"
    );
    wait_until("B to answer with PRUNE", Duration::from_secs(10), || {
        weft_e2e::raw::Seen::get(&evil.seen.prunes) >= 1
    });
    scenario.held();
}

#[test]
fn a_peer_that_only_sends_ihave_ends_with_a_negative_score() {
    let scenario = Scenario::begin("ihave_only");
    let b = Daemon::start("ihave-b");
    let (evil, peer) = subscribed_peer(&b);
    let mut g = evil.gossip(peer);
    let me = evil.peer_id.to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0u64;
    let score = loop {
        // Promise messages it never sends.
        let ids: Vec<Vec<u8>> = (0..4)
            .map(|i| blake3::hash(&(n * 4 + i).to_le_bytes()).as_bytes().to_vec())
            .collect();
        n += 1;
        g.send(&rpc::ihave(ANNOUNCE_TOPIC, &ids)).unwrap();
        let score = b.score_of(&me).unwrap_or(0.0);
        if score < 0.0 || Instant::now() > deadline {
            break score;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        weft_e2e::raw::Seen::get(&evil.seen.iwants) >= 1,
        "B asked for the advertised messages"
    );
    assert!(score < 0.0, "broken IWANT promises cost score, got {score}");
    scenario.held();
}

#[test]
fn a_mesh_peer_that_never_forwards_ends_with_a_negative_score() {
    let scenario = Scenario::begin("never_forwards");
    let a = Daemon::start("quiet-a");
    let b = Daemon::start("quiet-b");
    b.connect(&a);
    init(&a);
    // The silent peer subscribes at both nodes, so both graft it and B
    // forwards A's announcements to it. It passes nothing on.
    let evil = RawPeer::start();
    for node in [&a, &b] {
        let p = evil.connect(&node.multiaddr());
        evil.gossip(p)
            .send(&rpc::subscribe(ANNOUNCE_TOPIC))
            .unwrap();
    }
    let me = evil.peer_id.to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut i = 0u64;
    let evil_score = loop {
        // A keeps publishing: B gets each announcement first from A.
        publish(&a, &format!("news-{i}"), 1000, i, &[]);
        i += 1;
        let score = b.score_of(&me).unwrap_or(0.0);
        if score < 0.0 || Instant::now() > deadline {
            break score;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(
        weft_e2e::raw::Seen::get(&evil.seen.messages) >= 1,
        "B forwarded announcements to the silent peer"
    );
    assert!(
        evil_score < 0.0,
        "a mesh peer that never forwards ends below zero, got {evil_score}"
    );
    let a_score = b.score_of(&a.peer_id()).expect("A connected");
    assert!(
        a_score >= 0.0,
        "the honest forwarder stays above zero, got {a_score}"
    );
    scenario.held();
}

/// Three peers answer block streams badly: half a frame, a frame over the
/// limit, bytes that are no frame. The two that break the protocol are cut
/// off; the one whose streams end early is dropped from the fetch but not
/// blamed (on Yamux a stream cut short reads like a connection lost); and
/// the fetch completes from the honest peer.
#[test]
fn bad_transfer_answers_cut_the_peer_off_and_the_fetch_completes() {
    let scenario = Scenario::begin("bad_transfer_answers");
    let a = Daemon::start("xfer-a");
    let c = Daemon::start("xfer-c");
    c.connect(&a);
    init(&a);
    let liars: Vec<RawPeer> = [
        XferAnswer::Truncated,
        XferAnswer::Oversized,
        XferAnswer::Endless,
    ]
    .into_iter()
    .map(|mode| {
        let p = RawPeer::start_with(mode);
        p.connect(&c.multiaddr());
        p
    })
    .collect();
    let punished = c.counters().peers_punished;
    let id = publish(&a, "wanted", 6 * MIB + 5, 21, &[]);
    weft_e2e::get_and_check(&c, &id, "got", 6 * MIB + 5, 21);
    for (p, what) in liars.iter().zip(["truncated", "oversized", "endless"]) {
        assert!(
            p.xfer_requests.load(std::sync::atomic::Ordering::Relaxed) >= 1,
            "the {what} peer was asked"
        );
    }
    for (p, what) in liars[1..].iter().zip(["oversized", "endless"]) {
        assert!(
            !c.connected_to(&p.peer_id.to_string()),
            "C cut off the peer with {what} answers"
        );
    }
    assert!(
        c.connected_to(&liars[0].peer_id.to_string()),
        "a peer whose streams end early is not banned"
    );
    assert!(c.counters().peers_punished >= punished + 2);
    scenario.held();
}

/// A peer opens streams without end, asks faster than the per-peer limit,
/// and reads none of the answers. The node refuses the excess, holds a
/// bounded amount for it, and keeps serving an honest peer.
#[test]
fn stream_floods_and_a_peer_that_never_reads_do_not_stop_honest_serving() {
    let scenario = Scenario::begin("stream_flood_and_no_reads");
    let b = Daemon::start("serve-b");
    let c = Daemon::start("serve-c");
    c.connect(&b);
    init(&b);
    let size = 16 * MIB;
    let id = publish(&b, "served", size, 33, &[]);
    let data = pseudo_random(size, 33);
    let chunks: Vec<ContentHash> = weft_protocol::chunk::digest_bytes(&data)
        .1
        .iter()
        .map(|c| ContentHash::of(c))
        .collect();
    let evil = RawPeer::start();
    let peer = evil.connect(&b.multiaddr());
    let idle = b.memory_kib("VmHWM");
    let refused_before = b.counters().requests_refused;
    // 48 streams asking for all its blocks, never read: 8 are taken on and
    // stall on the full stream, the rest are refused.
    let mut held = Vec::new();
    for _ in 0..48 {
        let Ok(mut s) = evil.open(peer, weft_e2e::raw::BLOCKS) else {
            break;
        };
        let req = BlockRequest {
            hashes: chunks.clone(),
        }
        .encode();
        evil.block_on(async {
            use futures::AsyncWriteExt;
            let _ = s.write_all(&req).await;
            let _ = s.close().await;
        });
        held.push(s);
    }
    // Then streams that never send a request at all.
    let mut opened = 0;
    for _ in 0..400 {
        match evil.open(peer, weft_e2e::raw::BLOCKS) {
            Ok(s) => {
                held.push(s);
                opened += 1;
            }
            Err(_) => break,
        }
    }
    eprintln!("the peer opened {opened} idle streams");
    wait_until("B to refuse the excess", Duration::from_secs(15), || {
        b.counters().requests_refused >= refused_before + 16
    });
    // Honest serving goes on.
    weft_e2e::get_and_check(&c, &id, "got", size, 33);
    let peak = b.memory_kib("VmHWM");
    assert!(
        peak <= idle + 96 * 1024,
        "memory held for the peer is bounded: peak {peak} KiB against {idle} KiB"
    );
    drop(held);
    scenario.held();
}

/// 5 honest nodes in a line, each also connected to 20 sybils that join
/// every mesh, forward nothing, promise messages they never send and
/// answer transfers with garbage. A bundle published at one end reaches,
/// and is fetched byte-identical by, every honest node.
#[test]
fn a_bundle_reaches_every_honest_node_among_twenty_sybils() {
    let scenario = Scenario::begin("sybil_5_honest_20_bad");
    let honest: Vec<Daemon> = (0..5)
        .map(|i| Daemon::start(&format!("honest-{i}")))
        .collect();
    for w in honest.windows(2) {
        w[1].connect(&w[0]);
    }
    let modes = [
        XferAnswer::Truncated,
        XferAnswer::Oversized,
        XferAnswer::Endless,
        XferAnswer::None,
    ];
    let sybils: Vec<RawPeer> = (0..20)
        .map(|i| RawPeer::start_with(modes[i % modes.len()]))
        .collect();
    let mut streams = Vec::new();
    for s in &sybils {
        for h in &honest {
            let p = s.connect(&h.multiaddr());
            let mut g = s.gossip(p);
            g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
            g.send(&rpc::graft(ANNOUNCE_TOPIC)).unwrap();
            streams.push((s, g));
        }
    }
    // The sybils keep promising messages they never send.
    let mut n = 0u64;
    let mut lie = |streams: &mut Vec<(&RawPeer, weft_e2e::raw::Gossip)>| {
        for (_, g) in streams.iter_mut() {
            let id = blake3::hash(&n.to_le_bytes()).as_bytes().to_vec();
            n += 1;
            let _ = g.send(&rpc::ihave(ANNOUNCE_TOPIC, &[id]));
        }
    };
    lie(&mut streams);
    init(&honest[0]);
    let size = 3 * MIB + 7;
    let id = publish(&honest[0], "reaches-everyone", size, 55, &[]);
    let started = Instant::now();
    for h in &honest[1..] {
        wait_until(
            &format!("{} to list the bundle", h.name),
            Duration::from_secs(90),
            || {
                lie(&mut streams);
                h.lists(&id)
            },
        );
    }
    eprintln!(
        "the announcement reached all 5 honest nodes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for h in &honest[1..] {
        weft_e2e::get_and_check(h, &id, "got", size, 55);
    }
    for h in &honest {
        let peers = h.weft_json(&["peers"]);
        let listed = peers["peers"].as_array().map(|a| a.len()).unwrap_or(0);
        eprintln!("{}: {listed} peers connected, up", h.name);
    }
    drop(streams);
    drop(sybils);
    scenario.held();
}
