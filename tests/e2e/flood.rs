//! A catalog that spam cannot drown: a raw peer floods one node with
//! validly signed announcements from thousands of fresh keys while an
//! honest publisher two hops away goes on publishing. Counted as a
//! scenario in `docs/security.md`, with its figures (`./dev attacks`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use weft_e2e::raw::{rpc, RawPeer};
use weft_e2e::{announcement, dir_with_config, init, record_figure, wait_until, Daemon, Scenario};
use weft_protocol::api::SearchResponse;
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{PublisherKey, SignedAnnouncement};

/// Flood entries, and the fresh keys that sign them.
const FLOOD: usize = 20_000;
const FLOOD_KEYS: usize = 5_000;
/// The flooded node's settings: its share for unknown publishers, and the
/// rate it takes them at from one peer.
const CAP: u64 = 500;
const RATE: u64 = 100;

/// Whether `d` lists bundle `id`, asked through the API (quicker than a
/// CLI process, so the latency measured is the network's).
fn lists(d: &Daemon, id: &str) -> bool {
    d.api()
        .get_json::<SearchResponse>(&format!("/v1/search?q={id}"), d.path())
        .is_ok_and(|r| r.results.iter().any(|x| x.id.to_string() == id))
}

/// Bytes of every file under `dir`.
fn du(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => du(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Publishes a small bundle on `p`, then waits until every node in `on`
/// lists it; returns its id and the slowest node's delay.
fn publish_and_time(p: &Daemon, on: &[&Daemon], name: &str) -> (String, Duration) {
    let src = p.path().join("src").join(name);
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("guide.txt"), format!("the {name} guide\n")).unwrap();
    let id = p.publish_api(&src, name);
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    for d in on {
        wait_until(
            &format!("{} to list {name}", d.name),
            Duration::from_secs(60),
            || lists(d, &id),
        );
        slowest = slowest.max(t0.elapsed());
    }
    (id, slowest)
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1]
}

#[test]
fn a_flood_from_fresh_keys_stays_in_its_share_and_honest_bundles_still_arrive_within_two_seconds() {
    let scenario = Scenario::begin("catalog_flood_20k");
    let p = Daemon::start("flood-publisher");
    let h = Daemon::start("flood-hub");
    let v = Daemon::start_in(
        "flood-victim",
        dir_with_config(
            "flood-victim",
            &format!("[trust]\nunknown_entries = {CAP}\nunknown_rate = {RATE}\n"),
        ),
        &[],
    );
    let t = Daemon::start("flood-third");
    let publisher = init(&p);
    for d in [&h, &v, &t] {
        let o = d.weft(&["follow", &publisher]);
        assert!(o.status.success(), "{o:?}");
    }
    // P - H - V - T: the publisher is two hops from the flooded node.
    h.connect(&p);
    v.connect(&h);
    t.connect(&v);
    let honest = [&h, &v, &t];

    let mut published = Vec::new();
    let mut before = Vec::new();
    for i in 0..3 {
        let (id, took) = publish_and_time(&p, &honest, &format!("before-{i}"));
        published.push(id);
        before.push(took);
    }

    // The flood, signed up front: four entries per fresh key.
    let keys: Vec<PublisherKey> = (0..FLOOD_KEYS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            seed[31] = 0xf1;
            PublisherKey::from_seed(seed)
        })
        .collect();
    let mut flood: Vec<Vec<u8>> = (0..FLOOD)
        .map(|i| {
            let key = &keys[i % FLOOD_KEYS];
            let a = announcement(key, &format!("spam-{i}"));
            SignedAnnouncement::sign_announcement(a, key)
                .unwrap()
                .bytes()
                .to_vec()
        })
        .collect();
    let flood = &mut flood;
    let idle_rss = v.memory_kib("VmRSS");
    let disk_before = du(v.path());
    let t_before = t.counters();

    let evil = RawPeer::start();
    let peer = evil.connect(&v.multiaddr());
    let done = AtomicBool::new(false);
    let mut during = Vec::new();
    let flood_secs = std::thread::scope(|s| {
        let flooding = s.spawn(|| {
            let mut g = evil.gossip(peer);
            g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
            let started = Instant::now();
            for batch in flood.chunks(16) {
                let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                if g.send(&rpc::publish(ANNOUNCE_TOPIC, &refs)).is_err() {
                    break;
                }
            }
            done.store(true, Ordering::Relaxed);
            started.elapsed()
        });
        // An honest bundle every second while the flood lasts, at least
        // five of them.
        let mut i = 0;
        while i < 5 || !done.load(Ordering::Relaxed) {
            let started = Instant::now();
            let (id, took) = publish_and_time(&p, &honest, &format!("during-{i}"));
            published.push(id);
            during.push(took);
            i += 1;
            std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
        }
        flooding.join().unwrap()
    });
    // Everything sent has been checked once V answers a search again and
    // its counters stop moving.
    let mut last = 0;
    wait_until(
        "V to finish checking the flood",
        Duration::from_secs(120),
        || {
            let c = v.counters();
            let seen = c.gossip_accepted + c.entries_dropped.total();
            let settled = seen == last;
            last = seen;
            settled
        },
    );

    // Sixty entries dated ten years ahead, from a peer of their own (so
    // that its rate is not what stops them): none is kept.
    let future_key = PublisherKey::from_seed([0xf2; 32]);
    let in_ten_years = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 10 * 365 * 24 * 3600;
    let future: Vec<SignedAnnouncement> = (0..60)
        .map(|i| {
            let mut a = announcement(&future_key, &format!("future-{i}"));
            a.created = in_ten_years;
            SignedAnnouncement::sign_announcement(a, &future_key).unwrap()
        })
        .collect();
    let dated = RawPeer::start();
    let dated_peer = dated.connect(&v.multiaddr());
    let mut g = dated.gossip(dated_peer);
    g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    for batch in future.chunks(16) {
        let refs: Vec<&[u8]> = batch.iter().map(|a| a.bytes()).collect();
        g.send(&rpc::publish(ANNOUNCE_TOPIC, &refs)).unwrap();
    }
    wait_until(
        "V to drop the entries dated ten years ahead",
        Duration::from_secs(30),
        || v.counters().entries_dropped.future >= 60,
    );
    let newest = v.weft_json_as::<SearchResponse>(&["search", "future"]);
    assert_eq!(newest.matched, 0, "no entry from the future is listed");

    let status = v.status();
    let c = status.counters;
    let peak_rss = v.memory_kib("VmHWM");
    let disk_after = du(v.path());
    let t_after = t.counters();
    // V's own accepted gossip counts the honest bundles from H as well.
    let flood_taken = c.gossip_accepted.saturating_sub(published.len() as u64);
    let t_received = (t_after.gossip_accepted + t_after.entries_dropped.total())
        - (t_before.gossip_accepted + t_before.entries_dropped.total());
    let (p99_before, p99_during) = (p99(before.clone()), p99(during.clone()));
    eprintln!(
        "flood of {} sent in {:.1} s; V took {flood_taken}, dropped {:?}, evicted {}; keeps {} unknown of {}; \
         RSS {idle_rss} -> peak {peak_rss} KiB; data dir {disk_before} -> {disk_after} bytes; \
         T received {t_received}; honest p99 {p99_before:?} before, {p99_during:?} during ({} bundles)",
        flood.len(),
        flood_secs.as_secs_f64(),
        c.entries_dropped,
        c.entries_evicted,
        status.catalog_unknown,
        status.catalog_unknown_max,
        during.len()
    );
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    record_figure("trust_flood.sent", &flood.len().to_string());
    record_figure(
        "trust_flood.seconds",
        &format!("{:.1}", flood_secs.as_secs_f64()),
    );
    record_figure("trust_flood.kept", &status.catalog_unknown.to_string());
    record_figure("trust_flood.cap", &CAP.to_string());
    record_figure("trust_flood.evicted", &c.entries_evicted.to_string());
    record_figure(
        "trust_flood.peer_rate",
        &c.entries_dropped.peer_rate.to_string(),
    );
    record_figure("trust_flood.future", &c.entries_dropped.future.to_string());
    record_figure(
        "trust_flood.queue_full",
        &c.entries_dropped.queue_full.to_string(),
    );
    record_figure(
        "trust_flood.rss_growth",
        &format!(
            "{:.1} MiB",
            peak_rss.saturating_sub(idle_rss) as f64 / 1024.0
        ),
    );
    record_figure(
        "trust_flood.disk_growth",
        &format!(
            "{:.1} MiB",
            disk_after.saturating_sub(disk_before) as f64 / 1048576.0
        ),
    );
    record_figure("trust_flood.third_node_received", &t_received.to_string());
    record_figure("trust_flood.p99_before", &ms(p99_before));
    record_figure("trust_flood.p99_during", &ms(p99_during));

    assert!(
        status.catalog_unknown <= CAP,
        "V keeps no more unknown entries than its cap: {} of {CAP}",
        status.catalog_unknown
    );
    assert!(
        c.entries_evicted > 0,
        "the cap was reached and the oldest went"
    );
    // V takes unknown entries from one peer at most at its rate, after a
    // burst of ten seconds' worth.
    let allowed = RATE * 10 + RATE * (flood_secs.as_secs() + 2);
    assert!(
        flood_taken <= allowed + 64,
        "V took {flood_taken} flood entries in {flood_secs:?}, more than its rate allows ({allowed})"
    );
    assert!(
        peak_rss <= idle_rss + 64 * 1024,
        "V's RSS stays within 64 MiB of idle: {idle_rss} -> {peak_rss} KiB"
    );
    assert!(
        disk_after <= disk_before + CAP * 4096 + (8 << 20),
        "V's data dir grows by no more than its cap's size: {disk_before} -> {disk_after}"
    );
    assert!(
        t_received <= flood_taken + during.len() as u64,
        "T behind V received {t_received} entries, more than V took ({flood_taken})"
    );
    // Nothing trusted was evicted: every honest bundle is still listed
    // everywhere, and V keeps every entry of the publisher.
    for d in honest {
        for id in &published {
            assert!(lists(d, id), "{} still lists {id}", d.name);
        }
    }
    let why = v.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", &publisher]);
    assert_eq!(why.entries, published.len() as u64);
    assert!(
        p99_before <= Duration::from_secs(2) && p99_during <= Duration::from_secs(2),
        "honest bundles reach every honest node within 2 s (p99): {p99_before:?} before, {p99_during:?} during"
    );
    scenario.held();
}
