//! Power cuts: a daemon whose data dir lies on a filesystem that forgets
//! everything not made durable ([`weft_e2e::lossyfs`]) is cut off at random
//! moments while it publishes, fetches into its pins and its cache, and
//! evicts (its quota is small). After each cut the filesystem holds only
//! what was fsynced (files) and synced into its folder (names), and the
//! daemon starts again on that. After each restart
//! - the store opens,
//! - every bundle the API acknowledged is still pinned and every block of
//!   every held bundle verifies (`weft check`),
//! - no block is orphaned and no bundle is half-written.
//!
//! `WEFT_POWERLOSS_CUTS` sets the number of cuts (CI runs a short loop;
//! `./dev powerloss` runs 200); `WEFT_POWERLOSS_SEED` replays a run. Where
//! FUSE cannot be mounted the test says SKIPPED.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use weft_e2e::lossyfs::LossyFs;
use weft_e2e::{init, random_folder, record_figure, skip, wait_until, Daemon};

const KIB: usize = 1 << 10;

#[test]
fn power_cuts_at_random_moments_lose_no_acknowledged_bundle() {
    let mut fs = match LossyFs::mount() {
        Ok(fs) => fs,
        Err(why) => {
            skip("powerloss", &why);
            return;
        }
    };
    let cuts: u64 = std::env::var("WEFT_POWERLOSS_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("WEFT_POWERLOSS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("power loss: {cuts} cuts, WEFT_POWERLOSS_SEED={seed}");
    // A filesystem in this process that stopped answering would hang the
    // whole suite: past a generous limit, say so and end the run.
    // The watchdog stands down when `_running` goes, however the test ends.
    let limit = Duration::from_secs(120 + cuts * 10);
    let (_running, watch) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(limit) {
            eprintln!("power loss: still running after {limit:?}; the FUSE filesystem or the daemon is stuck; ending the test run (WEFT_POWERLOSS_SEED={seed})");
            std::process::exit(101);
        }
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let work = tempfile::tempdir().unwrap();
    // TCP only: a killed node's TCP connections close with it, where its
    // QUIC connections would linger at the source until their idle timeout
    // and, two at a time, hold the per-peer limit against its next start.
    let source = Daemon::start_opts(
        "cut-source",
        Daemon::temp_dir("cut-source"),
        &[],
        weft_e2e::Options {
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            ..Default::default()
        },
    );
    init(&source);
    let source_addr = source.multiaddr();
    let source_id = source.peer_id();

    // The node under test keeps its data dir on the forgetful filesystem,
    // with a quota small enough that fetching into the cache evicts.
    let dir = tempfile::Builder::new()
        .prefix("node-")
        .tempdir_in(fs.path())
        .unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[storage]\nmax = \"40 MiB\"\n",
    )
    .unwrap();
    // What the test itself made is made durable, as an installer would.
    std::fs::File::open(dir.path().join("config.toml"))
        .unwrap()
        .sync_all()
        .unwrap();
    std::fs::File::open(dir.path()).unwrap().sync_all().unwrap();
    std::fs::File::open(fs.path()).unwrap().sync_all().unwrap();
    let mut t = Daemon::start_in("cut-node", dir, &[]);
    init(&t);
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut lost = 0u64;
    let mut evictions = 0u64;
    // Bundles fetched into the cache (not pinned) whose fetch completed.
    let mut cached: BTreeSet<String> = BTreeSet::new();
    let started = Instant::now();
    for i in 0..cuts {
        // The node redials the source from its peer book as it starts, so
        // a dial of ours may race its own; connected is what counts.
        wait_until(
            "the node to connect to the source",
            Duration::from_secs(15),
            || t.connected_to(&source_id) || t.weft(&["connect", &source_addr]).status.success(),
        );
        let small = rng.gen_range(1..1024) * KIB + rng.gen_range(0..KIB);
        // The daemon may refuse a job (a pin may not fit); that is not a
        // failure of the test.
        let started = |r: Result<u64, String>| r.map_err(|e| eprintln!("refused: {e}")).ok();
        let job = match i % 4 {
            // Publish on the node (pinned).
            0 => {
                let dir = random_folder(work.path(), &format!("t-{i}"), small, seed ^ i);
                started(t.start_job(
                    "/v1/publish",
                    json!({"path": dir, "name": format!("t-{i}"), "texts": [{"lang": "en", "title": "cut", "description": ""}]}),
                ))
            }
            // Fetch and pin a bundle the source just published.
            1 => {
                let dir = random_folder(work.path(), &format!("s-{i}"), small, seed ^ i);
                let id = source.publish_api(&dir, &format!("s-{i}"));
                started(t.start_job("/v1/fetch", json!({"id": id, "pin": true})))
            }
            // Fetch into the cache, evicting older cache past the quota.
            2 => {
                let big = rng.gen_range(4096..12288) * KIB;
                let dir = random_folder(work.path(), &format!("c-{i}"), big, seed ^ i);
                let id = source.publish_api(&dir, &format!("c-{i}"));
                started(t.start_job("/v1/fetch", json!({"id": id})))
            }
            // Evict and sweep.
            _ => {
                if let Ok(v) = t.api().call("POST", "/v1/gc", None, t.path()) {
                    if v["evicted"].as_array().is_some_and(|e| !e.is_empty()) {
                        evictions += 1;
                    }
                }
                None
            }
        };
        // The moment of the cut is the experiment, not a wait.
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..1200)));
        if let Some(job) = job {
            if let Some(v) = t.job_state(job) {
                if let (true, Some(id)) = (v["state"] == "done", v["result"]["id"].as_str()) {
                    if v["result"]["pinned"] == false {
                        cached.insert(id.to_string());
                    } else {
                        acknowledged.insert(id.to_string());
                    }
                }
            }
        }
        t.kill();
        fs.cut().expect("the filesystem mounts again after the cut");
        t.start_again();
        let check = t.weft_json(&["check"]);
        assert_eq!(check["orphans"], 0, "cut {i}: orphaned blocks: {check}");
        assert_eq!(
            check["damaged"].as_array().map(|d| d.len()),
            Some(0),
            "cut {i}: half-written or damaged bundles: {check}"
        );
        let held: BTreeSet<String> = t.weft_json(&["pins"])["pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        let missing: Vec<_> = acknowledged.difference(&held).cloned().collect();
        if !missing.is_empty() {
            eprintln!("cut {i}: acknowledged but missing: {missing:?}");
            lost += missing.len() as u64;
            acknowledged.retain(|id| held.contains(id));
        }
    }
    // Interrupted fetches resume and finish on what survived.
    wait_until(
        "the node to connect to the source",
        Duration::from_secs(15),
        || t.connected_to(&source_id) || t.weft(&["connect", &source_addr]).status.success(),
    );
    wait_until(
        "interrupted fetches to finish",
        Duration::from_secs(60),
        || t.status().interrupted_fetches.is_empty(),
    );
    let check = t.weft_json(&["check"]);
    assert_eq!(check["orphans"], 0, "{check}");
    let evicted = cached
        .iter()
        .filter(|id| {
            let o = t.weft(&["show", id, "--json"]);
            !serde_json::from_slice::<Value>(&o.stdout).is_ok_and(|v| v["local"] == true)
        })
        .count();
    let stats = fs.stats();
    eprintln!(
        "power loss: {cuts} cuts in {:?}; {} bundles acknowledged, {lost} lost; {} bundles fetched into the cache, {evicted} of them evicted by the end ({evictions} by `weft gc`); {} bytes and {} files or folders dropped by the cuts; {} file syncs, {} folder syncs; last check {check}",
        started.elapsed(),
        acknowledged.len(),
        cached.len(),
        stats.bytes_dropped,
        stats.nodes_dropped,
        stats.file_syncs,
        stats.dir_syncs,
    );
    record_figure("powerloss.cuts", &cuts.to_string());
    record_figure(
        "powerloss.acknowledged",
        &(acknowledged.len() as u64 + lost).to_string(),
    );
    record_figure("powerloss.lost", &lost.to_string());
    record_figure("powerloss.bytes_dropped", &stats.bytes_dropped.to_string());
    record_figure(
        "powerloss.evicted",
        &format!("{evicted} of {}", cached.len()),
    );
    assert_eq!(lost, 0, "acknowledged bundles were lost");
    assert!(!acknowledged.is_empty(), "the loop acknowledged some work");
    assert!(
        stats.bytes_dropped > 0 || cuts < 4,
        "the cuts dropped something: the test exercised unsynced writes"
    );
    drop(t);
}
