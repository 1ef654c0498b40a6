//! The catalog flood scenario, shared by the adversarial test
//! (`tests/e2e/flood.rs`, which asserts on the figures) and the benchmark
//! (`weft-bench flood`, which reports the timing): a raw peer sends
//! validly signed announcements from thousands of fresh keys, as fast as
//! the flooded node reads them, while an honest publisher two hops away
//! publishes a bundle a second.
//!
//! Topology: P (publisher) - H - V (flooded) - T. H, V and T follow P.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use weft_protocol::api::{Counters, SearchResponse};
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{PublisherKey, SignedAnnouncement};

use crate::raw::{rpc, RawPeer};
use crate::{announcement, dir_with_config, init, wait_until, Daemon};

/// The flood's size and the flooded node's settings.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    /// Announcements sent.
    pub entries: usize,
    /// Fresh keys that sign them.
    pub keys: usize,
    /// The flooded node's `trust.unknown_entries`.
    pub cap: u64,
    /// The flooded node's `trust.unknown_rate`.
    pub rate: u64,
    /// Honest bundles published before the flood.
    pub before: usize,
    /// Honest bundles published during it, at least.
    pub during: usize,
    /// Send at most this many entries a second (`None`: as fast as the
    /// flooded node reads them).
    pub pace: Option<u64>,
}

/// What the scenario measured.
pub struct Figures {
    /// Seconds the raw peer took to send the flood.
    pub flood_secs: f64,
    /// Time until every honest node listed each honest bundle, before and
    /// during the flood.
    pub before: Vec<Duration>,
    /// The same, for the bundles published while the flood was still
    /// being sent.
    pub during: Vec<Duration>,
    /// The same, for those published after it (while the node may still
    /// be checking what it received).
    pub after: Vec<Duration>,
    /// Ids of every honest bundle.
    pub published: Vec<String>,
    /// P's publisher id.
    pub publisher: String,
    /// V's RSS before the flood and its peak, KiB.
    pub idle_rss: u64,
    /// Peak RSS, KiB.
    pub peak_rss: u64,
    /// V's data dir before and after, bytes.
    pub disk_before: u64,
    /// After.
    pub disk_after: u64,
    /// Entries T (behind V) received by gossip during the flood.
    pub third_received: u64,
    /// The honest nodes, still running, for further checks: H, V, T.
    pub nodes: Vec<Daemon>,
}

/// Whether `d` lists bundle `id`, asked through the API (quicker than a
/// CLI process, so the delay measured is the network's).
pub fn lists(d: &Daemon, id: &str) -> bool {
    d.api()
        .get_json::<SearchResponse>(&format!("/v1/search?q={id}"), d.path())
        .is_ok_and(|r| r.results.iter().any(|x| x.id.to_string() == id))
}

/// Bytes of every file under `dir`.
pub fn du(dir: &Path) -> u64 {
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
    std::fs::create_dir_all(&src).expect("a source folder");
    std::fs::write(src.join("guide.txt"), format!("the {name} guide\n")).expect("a file");
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

/// The `q` quantile of some delays.
pub fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
}

fn gossip_seen(c: &Counters) -> u64 {
    c.gossip_accepted + c.entries_dropped.total()
}

/// Runs the scenario.
pub fn run(f: Flood) -> Figures {
    let p = Daemon::start("flood-publisher");
    let h = Daemon::start("flood-hub");
    let v = Daemon::start_in(
        "flood-victim",
        dir_with_config(
            "flood-victim",
            &format!(
                "[trust]\nunknown_entries = {}\nunknown_rate = {}\n",
                f.cap, f.rate
            ),
        ),
        &[],
    );
    let t = Daemon::start("flood-third");
    let publisher = init(&p);
    for d in [&h, &v, &t] {
        let o = d.weft(&["follow", &publisher]);
        assert!(o.status.success(), "{o:?}");
    }
    h.connect(&p);
    v.connect(&h);
    t.connect(&v);
    let honest = [&h, &v, &t];

    let mut published = Vec::new();
    let mut before = Vec::new();
    for i in 0..f.before {
        let (id, took) = publish_and_time(&p, &honest, &format!("before-{i}"));
        published.push(id);
        before.push(took);
    }

    // Signed up front, so that sending is limited by the node alone.
    let keys: Vec<PublisherKey> = (0..f.keys)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            seed[31] = 0xf1;
            PublisherKey::from_seed(seed)
        })
        .collect();
    let flood: Vec<Vec<u8>> = (0..f.entries)
        .map(|i| {
            let key = &keys[i % f.keys];
            let a = announcement(key, &format!("spam-{i}"));
            SignedAnnouncement::sign_announcement(a, key)
                .expect("a valid announcement")
                .bytes()
                .to_vec()
        })
        .collect();
    let idle_rss = v.memory_kib("VmRSS");
    let disk_before = du(v.path());
    let t_before = gossip_seen(&t.counters());

    let evil = RawPeer::start();
    let peer = evil.connect(&v.multiaddr());
    let done = AtomicBool::new(false);
    let mut during = Vec::new();
    let mut after = Vec::new();
    let flood_secs = std::thread::scope(|s| {
        let flooding = s.spawn(|| {
            let mut g = evil.gossip(peer);
            g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).expect("subscribe");
            let started = Instant::now();
            for (n, batch) in flood.chunks(16).enumerate() {
                let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                if g.send(&rpc::publish(ANNOUNCE_TOPIC, &refs)).is_err() {
                    break;
                }
                if let Some(pace) = f.pace {
                    let due = Duration::from_secs_f64(((n + 1) * 16) as f64 / pace as f64);
                    std::thread::sleep(due.saturating_sub(started.elapsed()));
                }
            }
            done.store(true, Ordering::Relaxed);
            started.elapsed()
        });
        // An honest bundle every second while the flood lasts.
        let mut i = 0;
        while i < f.during || !done.load(Ordering::Relaxed) {
            let started = Instant::now();
            let flooding = !done.load(Ordering::Relaxed);
            let (id, took) = publish_and_time(&p, &honest, &format!("during-{i}"));
            published.push(id);
            if flooding {
                during.push(took);
            } else {
                after.push(took);
            }
            i += 1;
            std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
        }
        flooding.join().expect("the flooding thread")
    });
    // Everything sent has been checked once V's counters stop moving.
    let mut last = 0;
    wait_until(
        "V to finish checking the flood",
        Duration::from_secs(120),
        || {
            let seen = gossip_seen(&v.counters());
            let settled = seen == last;
            last = seen;
            settled
        },
    );
    Figures {
        flood_secs: flood_secs.as_secs_f64(),
        before,
        during,
        after,
        published,
        publisher,
        idle_rss,
        peak_rss: v.memory_kib("VmHWM"),
        disk_before,
        disk_after: du(v.path()),
        third_received: gossip_seen(&t.counters()) - t_before,
        nodes: vec![h, v, t],
    }
}
