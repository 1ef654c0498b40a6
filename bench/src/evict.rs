//! Evicting a tenth of a full cache: what the disk is made to write.
//!
//! A hub fetches bundles into its cache (unpinned), up to `cache_mib`. It is
//! then restarted with a quota 10% below what it holds, so it evicts the
//! least recently used tenth. The figure is every byte the restarted
//! `weftd` asked the disk to write (`write_bytes` in `/proc/PID/io`, which
//! counts its RocksDB threads too) from its start until the eviction is
//! over, against the cache's size: start-up writes are included, so the
//! figure is an upper bound on what the eviction itself wrote.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use weft_e2e::Daemon;
use weft_protocol::api::{InitOutput, PublishResult};

use crate::report::Report;
use crate::util::{poll, weft_timed, write_bytes, write_random_file};
use crate::Sizes;

const MIB: u64 = 1 << 20;

fn config(dir: &std::path::Path, max: u64) -> anyhow::Result<()> {
    std::fs::write(
        dir.join("config.toml"),
        format!("[storage]\nmax = \"{} MiB\"\n", max / MIB),
    )?;
    Ok(())
}

/// The case.
pub fn run(sizes: &Sizes, work: &std::path::Path, report: &mut Report) -> anyhow::Result<()> {
    let bundles = 16u64;
    let each = (sizes.cache_mib * MIB / bundles).max(MIB);
    let cache = each * bundles;
    let source = Daemon::start("evict-source");
    weft_timed::<InitOutput>(&source, &["init"])?;
    let mut ids = Vec::new();
    for i in 0..bundles {
        let dir = work.join(format!("evict-{i}"));
        std::fs::create_dir_all(&dir)?;
        write_random_file(&dir.join("data.bin"), each, 900 + i)?;
        let (p, _) = weft_timed::<PublishResult>(
            &source,
            &[
                "publish",
                &dir.to_string_lossy(),
                "--title",
                &format!("evict {i}"),
            ],
        )?;
        std::fs::remove_dir_all(&dir)?;
        ids.push(p.id.to_string());
    }
    let hub_dir = Daemon::temp_dir("evict-hub");
    config(hub_dir.path(), cache * 2)?;
    let mut hub = Daemon::start_in("evict-hub", hub_dir, &[]);
    hub.connect(&source);
    let out = work.join("evict-out");
    for id in &ids {
        let o = hub.weft(&["get", id, "-o", &out.to_string_lossy()]);
        if !o.status.success() {
            bail!("weft get {id}: {}", String::from_utf8_lossy(&o.stderr));
        }
        std::fs::remove_dir_all(&out)?;
    }
    let held = hub.status().storage.used;
    if held < cache {
        bail!("the hub holds {held} bytes, not the {cache} it fetched");
    }
    drop(source);
    // A quota a tenth below what the hub holds.
    let quota = held - held / 10;
    config(hub.path(), quota)?;
    let t = Instant::now();
    hub.restart_with(&[], None);
    let pid = hub.pid().context("the hub runs")?;
    weft_timed::<serde_json::Value>(&hub, &["gc"])?;
    poll(
        "the hub to evict down to its quota",
        Duration::from_secs(120),
        Duration::from_millis(50),
        || hub.status().storage.used <= quota,
    )?;
    let secs = t.elapsed().as_secs_f64();
    let written = write_bytes(pid)?;
    let evicted = held - hub.status().storage.used;
    let ratio = written as f64 / cache as f64;
    report.add(
        &format!(
            "evict 10% of a {} MiB cache ({} MiB evicted): disk bytes written by weftd, start included",
            cache / MIB,
            evicted / MIB
        ),
        format!("{:.2} MiB in {secs:.2} s", written as f64 / MIB as f64),
        format!("cache {} MiB", cache / MIB),
        format!("{:.2}%", ratio * 100.0),
        "≤ 1%",
        Some(ratio <= 0.01),
    );
    Ok(())
}
