//! A hub at scale: a node holding many small bundles (in its cache) and a
//! few large ones (pinned), at two sizes, so each figure shows how it grows
//! (10,000 and 100,000 bundles; a quick run uses 500 and 2,000):
//! - start: `weftd` started on the held store, to its API answering;
//! - memory: its RSS once idle;
//! - re-providing: from that start until it has published a provider record
//!   for every held bundle to the one DHT peer it knows;
//! - `weft check`: reading and verifying every block held;
//! - eviction: restarted with a quota a tenth of its cache below what it
//!   holds, the time
//!   to get under it and the bytes the disk was asked to write meanwhile.
//!
//! The small bundles are written straight into a new store, as if fetched
//! (signed manifests and their one block each); the large ones are
//! published through the CLI.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use weft_daemon::store::{BundleCommit, RocksStore, Store};
use weft_e2e::Daemon;
use weft_protocol::api::{InitOutput, PublishResult, StatusResponse};
use weft_protocol::{
    layout, ContentHash, FileEntry, LangText, Manifest, PublisherKey, SignedManifest, VERSION,
};

use crate::report::Report;
use crate::util::{mib, poll, rss_bytes, weft_timed, write_bytes, write_random_file};
use crate::Sizes;

/// Bytes of each small bundle's one file.
const SMALL: usize = 2048;
/// Large bundles published on top, and their size.
const LARGE: u64 = 4;
const LARGE_MIB: u64 = 16;
/// How long an idle daemon sits before its memory is read.
const IDLE: Duration = Duration::from_secs(3);

struct Figures {
    bundles: usize,
    start: f64,
    rss: u64,
    reprovide: f64,
    check: f64,
    evict: f64,
    evict_written: u64,
}

/// Writes `n` small cached bundles straight into a new store in `dir`.
fn fill(dir: &Path, n: usize) -> anyhow::Result<()> {
    let store = RocksStore::open(&dir.join(layout::STORE))?;
    let key = PublisherKey::from_seed([0x33; 32]);
    for i in 0..n {
        let mut data = vec![0u8; SMALL];
        for (k, b) in data.iter_mut().enumerate() {
            *b = (i.wrapping_mul(31) ^ k.wrapping_mul(7)) as u8;
        }
        data[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let hash = ContentHash::of(&data);
        let m = Manifest {
            v: VERSION,
            seq: 1,
            name: format!("hub-{i}"),
            tags: Vec::new(),
            files: vec![FileEntry {
                hash,
                path: "note.txt".into(),
                size: SMALL as u64,
            }],
            texts: vec![LangText {
                lang: "en".into(),
                title: format!("hub note {i}"),
                description: String::new(),
            }],
            created: 1_700_000_000 + i as u64,
            licence: String::new(),
            publisher: key.id(),
        };
        let signed = SignedManifest::sign(m, &key)?;
        store.commit_bundle(BundleCommit {
            id: signed.id(),
            manifest: signed.bytes().to_vec(),
            announcement: None,
            pin: None,
            blobs: vec![(hash, data)],
        })?;
    }
    Ok(())
}

fn status(d: &Daemon) -> anyhow::Result<StatusResponse> {
    Ok(weft_timed::<StatusResponse>(d, &["status"])?.0)
}

fn one_size(work: &Path, n: usize) -> anyhow::Result<Figures> {
    let dir = Daemon::temp_dir(&format!("hub-{n}"));
    let t = Instant::now();
    fill(dir.path(), n)?;
    eprintln!(
        "   hub: {n} bundles written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // A DHT peer to provide to.
    let peer = Daemon::start("hub-peer");
    let mut hub = Daemon::start_in(&format!("hub-{n}"), dir, &[]);
    weft_timed::<InitOutput>(&hub, &["init"])?;
    for i in 0..LARGE {
        let d = work.join(format!("hub-large-{n}-{i}"));
        std::fs::create_dir_all(&d)?;
        write_random_file(&d.join("video.bin"), LARGE_MIB << 20, 700 + i)?;
        weft_timed::<PublishResult>(&hub, &["publish", &d.to_string_lossy(), "--title", "large"])?;
        std::fs::remove_dir_all(&d)?;
    }
    let held = n as u64 + LARGE;
    // Start: a clean stop, then the time to the API answering.
    assert!(hub.terminate(), "the hub stops cleanly");
    let t = Instant::now();
    hub.start_again();
    let start = t.elapsed().as_secs_f64();
    let pid = hub.pid().context("the hub runs")?;
    hub.connect(&peer);
    poll(
        "the hub to provide every bundle",
        Duration::from_secs(1800),
        Duration::from_millis(100),
        || status(&hub).is_ok_and(|s| s.counters.providers_published >= held),
    )?;
    let reprovide = t.elapsed().as_secs_f64();
    std::thread::sleep(IDLE);
    let rss = rss_bytes(pid)?;
    let t = Instant::now();
    let check = hub.weft_json(&["check"]);
    let check_secs = t.elapsed().as_secs_f64();
    if check["bundles"].as_u64() != Some(held)
        || check["damaged"].as_array().is_none_or(|d| !d.is_empty())
    {
        anyhow::bail!("weft check on the hub: {check}");
    }
    // Eviction: a quota a tenth of the cache below what the hub holds (the
    // large bundles are pinned: published here).
    let st = status(&hub)?.storage;
    let quota = st.used - st.cached / 10;
    std::fs::write(
        hub.path().join("config.toml"),
        format!("[storage]\nmax = \"{quota} B\"\n"),
    )?;
    let t = Instant::now();
    hub.restart_with(&[], None);
    let pid = hub.pid().context("the hub runs")?;
    weft_timed::<serde_json::Value>(&hub, &["gc"])?;
    poll(
        "the hub to evict down to its quota",
        Duration::from_secs(600),
        Duration::from_millis(100),
        || status(&hub).is_ok_and(|s| s.storage.used <= quota),
    )?;
    let evict = t.elapsed().as_secs_f64();
    let evict_written = write_bytes(pid)?;
    Ok(Figures {
        bundles: n,
        start,
        rss,
        reprovide,
        check: check_secs,
        evict,
        evict_written,
    })
}

/// The case.
pub fn run(sizes: &Sizes, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    let small = one_size(work, sizes.hub_bundles / 10)?;
    let large = one_size(work, sizes.hub_bundles)?;
    let grow = |a: f64, b: f64| format!("{:.1}×", b / a.max(1e-9));
    let rows: [(&str, String, String, f64, f64); 6] = [
        (
            "start to API ready",
            format!("{:.2} s", large.start),
            format!("{:.2} s", small.start),
            small.start,
            large.start,
        ),
        (
            "RSS once idle",
            format!("{:.0} MiB", mib(large.rss)),
            format!("{:.0} MiB", mib(small.rss)),
            small.rss as f64,
            large.rss as f64,
        ),
        (
            "re-providing every bundle to the DHT after a restart",
            format!("{:.1} s", large.reprovide),
            format!("{:.1} s", small.reprovide),
            small.reprovide,
            large.reprovide,
        ),
        (
            "`weft check`",
            format!("{:.2} s", large.check),
            format!("{:.2} s", small.check),
            small.check,
            large.check,
        ),
        (
            "evicting a tenth (restart with a lower quota, to under it)",
            format!("{:.2} s", large.evict),
            format!("{:.2} s", small.evict),
            small.evict,
            large.evict,
        ),
        (
            "disk bytes written by that restart and eviction",
            format!("{:.1} MiB", mib(large.evict_written)),
            format!("{:.1} MiB", mib(small.evict_written)),
            small.evict_written as f64,
            large.evict_written as f64,
        ),
    ];
    let mut table = format!(
        "A hub holding small cached bundles (one {SMALL}-byte file each) and {LARGE} pinned bundles of {LARGE_MIB} MiB, at {} and {} bundles. \"Growth\" is the figure at the larger size over the figure at the smaller: 10× means it grows in proportion.\n\n| | {} bundles | {} bundles | growth |\n|---|---|---|---|\n",
        small.bundles, large.bundles, small.bundles, large.bundles
    );
    for (what, big, little, a, b) in &rows {
        table.push_str(&format!(
            "| {what} | {little} | {big} | {} |\n",
            grow(*a, *b)
        ));
        report.add(
            &format!("hub of {} bundles: {what}", large.bundles),
            big.clone(),
            format!("{little} at {} bundles", small.bundles),
            grow(*a, *b),
            "—",
            None,
        );
    }
    report.section("Hub scale", table);
    Ok(())
}
