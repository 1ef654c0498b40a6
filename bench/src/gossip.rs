//! Announcement propagation through a random sparse mesh of daemons.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use weft_e2e::Daemon;
use weft_protocol::api::{BundleDetails, ConnectResponse, InitOutput, PublishResult};

use crate::plot::{line_chart, Series};
use crate::report::Report;
use crate::transfer::{plot_path, relative};
use crate::util::{quantile, secs, weft_timed};
use crate::Sizes;

/// Peers each new node dials among the nodes started before it.
const DIALS_PER_NODE: usize = 3;
/// Nodes that hold a publisher key and publish the trials.
const PUBLISHERS: usize = 3;
/// Longest wait for one announcement to reach every node.
const SPREAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the gossip case at every mesh size.
pub fn run(sizes: &Sizes, report: &mut Report, out: &Path) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut p50s = Vec::new();
    let mut p99s = Vec::new();
    let mut table = String::from(
        "| nodes | trials | per-node p50 | per-node p99 | all nodes, p50 | all nodes, p99 | all nodes, worst |\n|---|---|---|---|---|---|---|\n",
    );
    for &n in &sizes.nodes {
        let nodes = start_mesh(n, &mut rng)?;
        let publishers: Vec<&Daemon> = nodes.iter().take(PUBLISHERS.min(n)).collect();
        for p in &publishers {
            weft_timed::<InitOutput>(p, &["init"])?;
        }
        let folder = tempfile::tempdir()?;
        // Warm-up: the first announcement also proves the mesh is whole.
        spread(&nodes, publishers[0], folder.path(), 0)?;
        let mut per_node = Vec::new();
        let mut to_all = Vec::new();
        for trial in 1..=sizes.gossip_trials {
            let from = publishers.choose(&mut rng).expect("a publisher");
            let lat = spread(&nodes, from, folder.path(), trial)?;
            to_all.push(lat.iter().copied().fold(0.0, f64::max));
            per_node.extend(lat);
        }
        let (p50, p99) = (quantile(&to_all, 0.5), quantile(&to_all, 0.99));
        let worst = to_all.iter().copied().fold(0.0, f64::max);
        report.add(
            &format!("gossip: {n} nodes, time until all list a bundle"),
            format!("p99 {:.0} ms, p50 {:.0} ms", p99 * 1e3, p50 * 1e3),
            "—".into(),
            "—".into(),
            if n >= 100 { "p99 ≤ 1 s" } else { "—" },
            (n >= 100).then_some(p99 <= 1.0),
        );
        let _ = std::fmt::Write::write_fmt(
            &mut table,
            format_args!(
                "| {n} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |\n",
                to_all.len(),
                quantile(&per_node, 0.5) * 1e3,
                quantile(&per_node, 0.99) * 1e3,
                p50 * 1e3,
                p99 * 1e3,
                worst * 1e3
            ),
        );
        p50s.push((n as f64, p50 * 1e3));
        p99s.push((n as f64, p99 * 1e3));
        drop(nodes);
    }
    let svg = plot_path(out, "gossip.svg");
    line_chart(
        &svg,
        "Time until every node lists a new bundle",
        "nodes in the mesh",
        "milliseconds",
        &[
            Series {
                name: "p99".into(),
                points: p99s,
            },
            Series {
                name: "p50".into(),
                points: p50s,
            },
        ],
    )?;
    report.section(
        "Gossip propagation",
        format!(
            "![propagation time against node count]({})\n\n{table}",
            relative(out, &svg)
        ),
    );
    Ok(())
}

/// Starts `n` daemons; each dials up to [`DIALS_PER_NODE`] random earlier
/// ones, so the mesh is connected and sparse.
pub fn start_mesh(n: usize, rng: &mut impl Rng) -> anyhow::Result<Vec<Daemon>> {
    let t = Instant::now();
    let mut nodes: Vec<Daemon> = Vec::with_capacity(n);
    let mut addrs = Vec::with_capacity(n);
    for i in 0..n {
        let d = Daemon::start(&format!("g{i}"));
        let mut earlier: Vec<usize> = (0..i).collect();
        earlier.shuffle(rng);
        let api = d.api();
        for &j in earlier.iter().take(DIALS_PER_NODE) {
            let addr: &String = &addrs[j];
            api.post_json::<ConnectResponse>(
                "/v1/connect",
                Some(&json!({ "addr": addr })),
                d.path(),
            )
            .map_err(|e| anyhow::anyhow!("g{i} could not dial g{j}: {e}"))?;
        }
        addrs.push(d.multiaddr());
        nodes.push(d);
    }
    eprintln!("   {n} nodes up and dialled in {:.1} s", secs(t));
    Ok(nodes)
}

/// Publishes a new bundle from `from` and returns, per node, the seconds
/// from the start of the publish until that node's API listed it.
fn spread(
    nodes: &[Daemon],
    from: &Daemon,
    folder: &Path,
    trial: usize,
) -> anyhow::Result<Vec<f64>> {
    let dir = folder.join(format!("note-{trial}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("note.txt"), format!("trial {trial}\n"))?;
    let apis: Vec<_> = nodes.iter().map(|d| d.api()).collect();
    let t = Instant::now();
    let (published, _) = weft_timed::<PublishResult>(
        from,
        &["publish", &dir.to_string_lossy(), "--title", "note"],
    )?;
    let id = published.id.to_string();
    let path = format!("/v1/bundles/{id}");
    let mut seen: Vec<Option<f64>> = vec![None; nodes.len()];
    loop {
        let mut missing = 0;
        for (i, api) in apis.iter().enumerate() {
            if seen[i].is_some() {
                continue;
            }
            if api
                .get_json::<BundleDetails>(&path, nodes[i].path())
                .is_ok()
            {
                seen[i] = Some(secs(t));
            } else {
                missing += 1;
            }
        }
        if missing == 0 {
            break;
        }
        // A short pause between sweeps leaves the cores to the daemons.
        std::thread::sleep(Duration::from_millis(5));
        if t.elapsed() > SPREAD_TIMEOUT {
            bail!(
                "bundle {id} reached only {} of {} nodes in {SPREAD_TIMEOUT:?}",
                nodes.len() - missing,
                nodes.len()
            );
        }
    }
    Ok(seen.into_iter().map(|s| s.unwrap_or(f64::NAN)).collect())
}
