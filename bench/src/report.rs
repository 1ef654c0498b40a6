//! The report: one row per figure, printed and written as Markdown.

use std::fmt::Write as _;
use std::path::Path;

use crate::Sizes;

/// One measured figure.
pub struct Row {
    case: String,
    figure: String,
    reference: String,
    ratio: String,
    target: String,
    verdict: &'static str,
}

/// Everything one run measured.
pub struct Report {
    quick: bool,
    sizes: String,
    rows: Vec<Row>,
    sections: Vec<(String, String)>,
    /// What the transport moved memory to memory in this run (MiB/s, the
    /// better of one and four streams), once the ceiling case has run.
    pub ceiling: Option<f64>,
}

impl Report {
    /// An empty report for a run at `sizes`.
    pub fn new(quick: bool, sizes: &Sizes) -> Self {
        Self {
            quick,
            sizes: format!("{sizes:?}"),
            rows: Vec::new(),
            sections: Vec::new(),
            ceiling: None,
        }
    }

    /// Adds a figure. `met` is whether it reaches its target (None when the
    /// case has no target). A quick run never claims a target either way.
    pub fn add(
        &mut self,
        case: &str,
        figure: String,
        reference: String,
        ratio: String,
        target: &str,
        met: Option<bool>,
    ) {
        let verdict = match (self.quick, met) {
            (true, _) => "smoke run",
            (false, None) => "—",
            (false, Some(true)) => "met",
            (false, Some(false)) => "**missed**",
        };
        eprintln!(
            "   {case}: {figure} | ref {reference} | ratio {ratio} | target {target} | {verdict}"
        );
        self.rows.push(Row {
            case: case.into(),
            figure,
            reference,
            ratio,
            target: target.into(),
            verdict,
        });
    }

    /// Adds a section of detail (Markdown) under the table.
    pub fn section(&mut self, heading: &str, body: String) {
        self.sections.push((heading.into(), body));
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        println!();
        for r in &self.rows {
            println!(
                "{:<48} {:<34} ref: {:<30} ratio: {:<10} target: {:<22} {}",
                r.case, r.figure, r.reference, r.ratio, r.target, r.verdict
            );
        }
    }

    /// Writes the Markdown page.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut md = String::new();
        let date = std::process::Command::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        let _ = writeln!(md, "# Benchmarks\n");
        let _ = writeln!(
            md,
            "Written by `weft-bench` (run it with `./dev bench`; see the end of this page) on {date}: \
             {cores} cores ({cpu}), {profile} build, real `weftd` processes on 127.0.0.1. \
             Every reference was measured in the same run as the figure it is compared with."
        );
        if self.quick {
            let _ = writeln!(
                md,
                "\n**This is a quick smoke run at reduced sizes. Its figures say nothing about performance.**"
            );
        }
        let _ = writeln!(md, "\nSizes: `{}`\n", self.sizes);
        let _ = writeln!(
            md,
            "| case | figure | reference (same run) | ratio | target | verdict |\n|---|---|---|---|---|---|"
        );
        for r in &self.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                r.case, r.figure, r.reference, r.ratio, r.target, r.verdict
            );
        }
        for (h, body) in &self.sections {
            let _ = writeln!(md, "\n## {h}\n\n{body}");
        }
        let _ = writeln!(md, "\n## How it is measured\n\n{}", METHOD.trim());
        // A hand-written part at the end of the page survives the rewrite.
        if let Ok(old) = std::fs::read_to_string(path) {
            if let Some(at) = old.find(KEPT_MARKER) {
                let _ = writeln!(md);
                md.push_str(&old[at..]);
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, md)?;
        Ok(())
    }
}

/// Everything from this line on in the existing page is kept as it is.
const KEPT_MARKER: &str = "<!-- written by hand below; weft-bench keeps it -->";

const METHOD: &str = r#"
Run the whole suite with `./dev bench` (release build, a few minutes once
built; it needs about 6 GiB free under $TMPDIR), one case with `./dev bench fetch`, and a quick smoke run of every case
with `./dev bench --quick`. `./dev bench --help` lists the cases and the flags
that size each one.

- **publish**: `weft publish` of a folder (one large file; then many small
  files of the same total) on one daemon, wall time of the CLI command
  including its job polling; three runs per case, each with its own
  reference, and the run with the median ratio is reported. Reference: `b3sum` over the same files, then
  `cp -r` of them into the filesystem that holds the data dir, followed by
  `sync` (publishing syncs too).
- **fetch**: `weft get <id> -o <folder>` on a second daemon connected over
  TCP (noise, yamux) and QUIC, so every chunk is fetched, verified, stored
  durably and written out. Reference: a plain TCP copy over loopback inside
  `weft-bench` (read the file on one side, write and fsync it on the other,
  no crypto), and the ceiling below. Three runs, each with its own reference
  and a new fetching daemon; the median ratio is reported. Then the same
  fetch from four seeders: the source, the last fetcher, a peer that answers
  every block with bytes that do not match, and one that takes requests and
  never answers, against the median run's plain copy. One more run of the
  fetch and its reference on cold memory is reported on a row of its own.
- **fetch curve**: the same fetch at each size, each a new bundle.
- **warm memory**: a virtual machine hands memory its kernel has freed back
  to the host after about two seconds (virtio-balloon free page reporting),
  and the first write into such a page faults on the host: writing a file
  then costs about 3 ms per MiB instead of 0.2 (measured with `dd` on the
  machine of these figures: 3.1 s for 1 GiB after an idle moment, 0.2 to
  0.4 s right after deleting the last one). Whichever step writes first
  after an idle moment pays it. So every timed step that writes files,
  weft's and its reference's alike (publish and `cp -r`, `weft get -o` and
  the TCP copy, the export, the curve), is preceded by touching as much
  anonymous memory as it will write and freeing it (a scratch file would
  start writeback that the step then waits behind); the step then writes
  into memory just freed. The cold run of the fetch shows the other case.
- **gossip**: that many daemons, each dialling up to three random earlier
  ones; after a warm-up publish has reached every node, each trial publishes a
  new bundle from a random node and polls every node's API until it lists the
  bundle. Times run from the start of `weft publish`, so they include
  publishing itself; the poll loop adds up to one sweep over the nodes.
- **search**: a catalog of signed announcements (titles in six languages, from
  a vocabulary of a few hundred words) written into the store before the
  daemon starts; queries are single words, two words, and words with a
  language or tag filter, each a new HTTP connection to the API.
- **memory**: VmRSS of an idle daemon, three seconds after it answered its
  first search.
- **startup**: from spawning `weftd` to its first answered `/v1/status`.
- **CLI**: wall time of `weft status`, process start to exit.
- **ceiling**: two rust-libp2p swarms in the benchmark's own process, on
  loopback, weftd's transport, 1 GiB from memory to memory on one stream
  and on four; the reference for the transfer path.
- **revocation**: in a mesh as for gossip, at its largest size, the time
  from a device's revocation until every node has dropped a bundle that
  device published; and the gossip path's rate on announcements signed by
  certified devices against the same path on single keys.
- **evict**: a hub fetches a 4 GiB cache, then restarts with a quota a
  tenth lower; every byte `weftd` asks the disk to write from its start to
  the end of the eviction (`/proc/PID/io`), against the cache's size.
- **hub**: a hub holding N and N/10 small cached bundles and 4 pinned large
  ones: start to API ready, idle RSS, re-providing every bundle to the DHT,
  `weft check`, evicting a tenth of the cache, each with its growth.
- **update**: a 256 MiB bundle, fetched by a second node; then a new
  version with 1 MiB + 12,345 bytes inserted in the middle of its largest
  file, and one with 5 bytes changed near the start of another file. The
  figure is the verified bytes the second node fetched for each
  (`bytes_fetched`), against the bundle's size; the reference is what fixed
  1 MiB chunks would have fetched, computed on the same files in the same
  run. Every version is written out and compared with its source.
"#;
