//! The crash loop: a daemon is SIGKILLed at random moments while it
//! publishes, fetches, imports and catches up on its catalog, and after each
//! restart
//! - the store opens,
//! - every bundle the API acknowledged is present and every block verifies
//!   (`weft check`),
//! - no block is orphaned and no bundle is half-written,
//! - interrupted work resumes: unfinished fetches complete and the catalog
//!   catches up.
//!
//! `WEFT_CRASH_ITERATIONS` sets the number of kills (CI runs a short loop;
//! `./dev crashloop` runs 200); `WEFT_CRASH_SEED` replays a run.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;
use weft_e2e::{init, random_folder, record_figure, wait_until, Daemon};

const KIB: usize = 1 << 10;

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_bundle_and_leaves_no_debris() {
    let iterations: u64 = std::env::var("WEFT_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("WEFT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash loop: {iterations} iterations, WEFT_CRASH_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let work = tempfile::tempdir().unwrap();

    let source = Daemon::start("crash-source");
    init(&source);
    let mut t = Daemon::start("crash-target");
    init(&t);
    let source_addr = source.multiaddr();
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut lost = 0u64;
    let started = Instant::now();
    for i in 0..iterations {
        t.weft_json(&["connect", &source_addr]);
        let op = i % 4;
        let size = rng.gen_range(1..3 * 1024) * KIB + rng.gen_range(0..KIB);
        let job = match op {
            // Publish on the target.
            0 => {
                let dir = random_folder(work.path(), &format!("t-{i}"), size, seed ^ i);
                t.start_job(
                    "/v1/publish",
                    json!({"path": dir, "name": format!("t-{i}"), "texts": [{"lang": "en", "title": "crash", "description": ""}]}),
                )
                .unwrap_or_else(|e| panic!("{e}"))
            }
            // Fetch and pin a bundle the source just published.
            1 => {
                let dir = random_folder(work.path(), &format!("s-{i}"), size, seed ^ i);
                let id = source.publish_api(&dir, &format!("s-{i}"));
                t.start_job("/v1/fetch", json!({"id": id, "pin": true}))
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            // Import an archive the source just exported.
            2 => {
                let dir = random_folder(work.path(), &format!("a-{i}"), size, seed ^ i);
                let id = source.publish_api(&dir, &format!("a-{i}"));
                let archive = work.path().join(format!("a-{i}.weft"));
                let o = source.weft(&["export", &id, "-o", archive.to_str().unwrap()]);
                assert!(o.status.success(), "{o:?}");
                t.start_job("/v1/import", json!({"path": archive}))
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            // Catch up: the source publishes while the target is down, and
            // the target is killed soon after it comes back.
            _ => {
                t.kill();
                for k in 0..5 {
                    let dir = random_folder(
                        work.path(),
                        &format!("c-{i}-{k}"),
                        100 + k as usize,
                        seed ^ (i * 8 + k),
                    );
                    source.publish_api(&dir, &format!("c-{i}-{k}"));
                }
                t.start_again();
                t.weft_json(&["connect", &source_addr]);
                0
            }
        };
        // The moment of the kill is the experiment, not a wait.
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..600)));
        if job != 0 {
            if let Some(v) = t.job_state(job) {
                if v["state"] == "done" {
                    if let Some(id) = v["result"]["id"].as_str() {
                        acknowledged.insert(id.to_string());
                    }
                    for b in v["result"]["imported"].as_array().into_iter().flatten() {
                        acknowledged.insert(b["id"].as_str().unwrap().to_string());
                    }
                }
            }
        }
        t.kill();
        t.start_again();
        let check = t.weft_json(&["check"]);
        assert_eq!(
            check["orphans"], 0,
            "iteration {i}: orphaned blocks: {check}"
        );
        assert_eq!(
            check["damaged"].as_array().map(|d| d.len()),
            Some(0),
            "iteration {i}: half-written bundles: {check}"
        );
        let held: BTreeSet<String> = t.weft_json(&["pins"])["pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        let missing: Vec<_> = acknowledged.difference(&held).cloned().collect();
        if !missing.is_empty() {
            eprintln!("iteration {i}: acknowledged but missing: {missing:?}");
            lost += missing.len() as u64;
            acknowledged.retain(|id| held.contains(id));
        }
    }
    // Interrupted work resumes: every unfinished fetch completes and the
    // catalog catches up with the source's.
    t.weft_json(&["connect", &source_addr]);
    wait_until(
        "interrupted fetches to finish",
        Duration::from_secs(60),
        || t.status().interrupted_fetches.is_empty(),
    );
    let want = source.catalog_len();
    wait_until("the catalog to catch up", Duration::from_secs(60), || {
        t.catalog_len() >= want
    });
    let check = t.weft_json(&["check"]);
    assert_eq!(check["orphans"], 0, "{check}");
    eprintln!(
        "crash loop: {iterations} kills in {:?}; {} bundles acknowledged, {lost} lost; last check {check}",
        started.elapsed(),
        acknowledged.len()
    );
    record_figure("crashloop.iterations", &iterations.to_string());
    record_figure(
        "crashloop.acknowledged",
        &(acknowledged.len() as u64 + lost).to_string(),
    );
    record_figure("crashloop.lost", &lost.to_string());
    assert_eq!(lost, 0, "acknowledged bundles were lost");
    assert!(!acknowledged.is_empty(), "the loop acknowledged some work");
}
