//! Catalog catch-up: a new node joining a network whose catalog holds
//! 10,000 bundles, and two nodes of 10,000 bundles that differ by 10.
//!
//! The catalogs are written into the stores before the daemons start (as
//! in the search case), so the figures are reconciliation alone. Bytes are
//! the reconciliation messages both nodes counted (`sync_bytes_sent`),
//! without libp2p's framing and encryption.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use weft_e2e::Daemon;
use weft_protocol::layout;

use crate::catalog;
use crate::report::Report;
use crate::util::{poll, secs};
use crate::Sizes;

const CATCHUP_TIMEOUT: Duration = Duration::from_secs(300);
/// Bytes one id costs in a plain id list: the naive reconciliation.
const ID_BYTES: u64 = 32;

fn sent(d: &Daemon) -> u64 {
    d.counters().sync_bytes_sent
}

fn start_filled(
    filler: &catalog::Bench,
    work: &Path,
    name: &str,
    n: usize,
    keep: &dyn Fn(usize) -> bool,
    extra: &[&str],
) -> anyhow::Result<Daemon> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("weft-{name}-"))
        .tempdir_in(work)?;
    filler.fill(&dir.path().join(layout::STORE), n, keep)?;
    open_to_unknown(dir.path())?;
    Ok(Daemon::start_in(name, dir, extra))
}

/// The filled catalog's 100 publishers are unknown to the node that
/// catches up: lifts the unknown tier's caps (`[trust]`) so that all of it
/// is kept, as a hub serving an open network would.
fn open_to_unknown(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::write(
        data_dir.join(layout::CONFIG),
        "[trust]\nunknown_entries = 1000000\nunknown_per_publisher = 100000\n",
    )?;
    Ok(())
}

fn wait_loaded(d: &Daemon, n: u64) -> anyhow::Result<()> {
    poll(
        "the catalog to load",
        CATCHUP_TIMEOUT,
        Duration::from_millis(20),
        || !d.status().catalog_loading && d.catalog_len() >= n,
    )
}

pub fn run(
    filler: &catalog::Bench,
    sizes: &Sizes,
    work: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let n = sizes.catchup_entries;
    // A new node joins a node holding n entries.
    let hub = start_filled(filler, work, "catchup-hub", n, &|_| true, &[])?;
    wait_loaded(&hub, n as u64)?;
    let t = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("weft-catchup-new-")
        .tempdir_in(work)?;
    open_to_unknown(dir.path())?;
    let joiner = Daemon::start_in("catchup-new", dir, &["--peer", &hub.multiaddr()]);
    poll(
        "the new node to catch up",
        CATCHUP_TIMEOUT,
        Duration::from_millis(5),
        || joiner.catalog_len() >= n as u64,
    )
    .context("catch-up")?;
    let took = secs(t);
    let bytes = sent(&hub) + sent(&joiner);
    report.add(
        &format!("catch-up of a {n}-bundle catalog by a new node"),
        format!("{took:.2} s, {:.0} KiB exchanged", bytes as f64 / 1024.0),
        "target 5 s".into(),
        format!("{:.2}×", took / 5.0),
        "< 5 s",
        Some(took < 5.0),
    );
    drop(joiner);
    drop(hub);

    // Two nodes with n entries each, 5 of them unknown to the other side.
    let a = start_filled(filler, work, "diff-a", n + 5, &|i| i < n, &[])?;
    let b = start_filled(filler, work, "diff-b", n + 5, &|i| i >= 5, &[])?;
    wait_loaded(&a, n as u64)?;
    wait_loaded(&b, n as u64)?;
    let t = Instant::now();
    a.connect(&b);
    poll(
        "both nodes to hold the union",
        CATCHUP_TIMEOUT,
        Duration::from_millis(5),
        || a.catalog_len() == (n + 5) as u64 && b.catalog_len() == (n + 5) as u64,
    )
    .context("reconciling a difference of 10")?;
    let took = secs(t);
    // Every message was counted before the bytes it carried could be
    // stored, so the counters are complete once both hold the union.
    let bytes = sent(&a) + sent(&b);
    let naive = (n as u64) * ID_BYTES;
    report.add(
        &format!("reconciling two {n}-bundle catalogs that differ by 10"),
        format!("{:.1} KiB in all, {took:.2} s", bytes as f64 / 1024.0),
        format!("one plain id list: {:.0} KiB", naive as f64 / 1024.0),
        format!("{:.3}×", bytes as f64 / naive as f64),
        "< 64 KiB",
        Some(bytes < 64 << 10),
    );
    Ok(())
}
