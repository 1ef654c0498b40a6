//! A catalog that spam cannot drown: a raw peer floods one node with
//! validly signed announcements from thousands of fresh keys while an
//! honest publisher two hops away goes on publishing (the scenario is
//! `weft_e2e::flood`, which the benchmark times too). Counted as a
//! scenario in `docs/security.md`, with its figures (`./dev attacks`).

use std::time::Duration;

use weft_e2e::flood::{self, lists, quantile, Flood};
use weft_e2e::raw::{rpc, RawPeer};
use weft_e2e::{announcement, record_figure, wait_until, Scenario};
use weft_protocol::api::SearchResponse;
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{PublisherKey, SignedAnnouncement};

/// The flooded node's settings: its share for unknown publishers, and the
/// rate it takes them at from one peer. The share is smaller than the 128
/// messages one peer may always have checked at once, so the flood fills it
/// and evictions happen however busy the machine is.
const CAP: u64 = 100;
const RATE: u64 = 100;

#[test]
fn a_flood_from_fresh_keys_stays_in_its_share_and_honest_bundles_still_arrive_within_two_seconds() {
    let scenario = Scenario::begin("catalog_flood_20k");
    let f = flood::run(Flood {
        entries: 20_000,
        keys: 5_000,
        cap: CAP,
        rate: RATE,
        before: 3,
        during: 5,
        pace: None,
    });
    let v = &f.nodes[1];

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
    // V's own accepted gossip counts the honest bundles from H as well.
    let flood_taken = c.gossip_accepted.saturating_sub(f.published.len() as u64);
    // The first honest bundle is published as the flood starts, so at
    // least one overlaps it; those after it count too (the node may still
    // be checking what it read).
    assert!(
        !f.during.is_empty(),
        "an honest bundle was published during the flood"
    );
    let all_during: Vec<Duration> = f.during.iter().chain(&f.after).copied().collect();
    let (p99_before, p99_during) = (quantile(&f.before, 0.99), quantile(&all_during, 0.99));
    eprintln!(
        "flood of 20000 sent in {:.1} s; V took {flood_taken}, dropped {:?}, evicted {}; keeps {} unknown of {}; \
         RSS {} -> peak {} KiB; data dir {} -> {} bytes; T received {}; honest p99 {p99_before:?} before, {p99_during:?} during and after ({} during, {} after)",
        f.flood_secs,
        c.entries_dropped,
        c.entries_evicted,
        status.catalog_unknown,
        status.catalog_unknown_max,
        f.idle_rss,
        f.peak_rss,
        f.disk_before,
        f.disk_after,
        f.third_received,
        f.during.len(),
        f.after.len()
    );
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    record_figure("trust_flood.sent", "20000");
    record_figure("trust_flood.seconds", &format!("{:.1}", f.flood_secs));
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
            f.peak_rss.saturating_sub(f.idle_rss) as f64 / 1024.0
        ),
    );
    record_figure(
        "trust_flood.disk_growth",
        &format!(
            "{:.1} MiB",
            f.disk_after.saturating_sub(f.disk_before) as f64 / 1048576.0
        ),
    );
    record_figure(
        "trust_flood.third_node_received",
        &f.third_received.to_string(),
    );
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
    assert_eq!(
        c.entries_dropped.queue_full, 0,
        "no message, honest or not, was lost to a full validation queue"
    );
    // V takes unknown entries from one peer at most at its rate, after a
    // burst of ten seconds' worth.
    let allowed = RATE * 10 + RATE * (f.flood_secs as u64 + 2);
    assert!(
        flood_taken <= allowed + 64,
        "V took {flood_taken} flood entries in {:.1} s, more than its rate allows ({allowed})",
        f.flood_secs
    );
    assert!(
        f.peak_rss <= f.idle_rss + 64 * 1024,
        "V's RSS stays within 64 MiB of idle: {} -> {} KiB",
        f.idle_rss,
        f.peak_rss
    );
    assert!(
        f.disk_after <= f.disk_before + CAP * 4096 + (8 << 20),
        "V's data dir grows by no more than its cap's size: {} -> {}",
        f.disk_before,
        f.disk_after
    );
    assert!(
        f.third_received <= flood_taken + f.published.len() as u64,
        "T behind V received {}, more than V took ({flood_taken})",
        f.third_received
    );
    // Nothing trusted was evicted: every honest bundle is still listed
    // everywhere, and V keeps every entry of the publisher.
    for d in &f.nodes {
        for id in &f.published {
            assert!(lists(d, id), "{} still lists {id}", d.name);
        }
    }
    let why = v.weft_json_as::<weft_protocol::api::WhyResponse>(&["why", &f.publisher]);
    // Its bundles, and its key log (incept and the device certificate).
    assert_eq!(why.entries, f.published.len() as u64 + 2);
    assert!(
        p99_before <= Duration::from_secs(2) && p99_during <= Duration::from_secs(2),
        "honest bundles reach every honest node within 2 s (p99): {p99_before:?} before, {p99_during:?} during"
    );
    scenario.held();
}
