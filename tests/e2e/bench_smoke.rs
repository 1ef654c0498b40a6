//! The benchmark suite's smoke run: every case runs at reduced sizes
//! against real daemons. Only that each case completes and reports is
//! checked, never how fast it was.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use weft_e2e::bin_dir;

/// A quick run takes under a minute alone and a few beside the rest of the
/// suite; far past that, a case is stuck.
const LIMIT: Duration = Duration::from_secs(10 * 60);

#[test]
fn every_benchmark_case_runs_at_quick_sizes() {
    let bench = bin_dir().join("weft-bench");
    assert!(
        bench.exists(),
        "weft-bench is not built in {}; run `cargo build --workspace --bins` first (`./dev test` does)",
        bench.display()
    );
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("benchmarks.md");
    // stderr goes to a file so that a run that hangs can be killed and
    // still show how far it got.
    let log = work.path().join("stderr.txt");
    let mut child = Command::new(&bench)
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(work.path())
        .env("WEFT_BIN_DIR", bin_dir())
        // Its own process group, so a kill takes its daemons along.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "weft-bench --quick did not finish in {LIMIT:?}; it printed:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        status.success(),
        "weft-bench --quick failed:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let page = std::fs::read_to_string(&out).unwrap();
    for case in [
        "publish: one file",
        "publish: many small files",
        "fetch 8 MiB between two daemons and write it out",
        "fetch cost curve",
        "gossip: 5 nodes",
        "catch-up",
        "search over 2000 catalog entries",
        "idle daemon RSS, empty store",
        "idle daemon RSS, 2000 catalog entries",
        "start to API ready",
        "`weft status` round trip",
        "libp2p ceiling",
        "evict 10% of a",
        "hub of 2000 bundles",
        "from four seeders, one lying and one stalling",
        "new version of a 25 MiB bundle",
        "5 bytes changed near the start of a file",
    ] {
        assert!(
            page.contains(case),
            "the report has no row for {case:?}:\n{page}"
        );
    }
    eprintln!("{page}");
    assert!(
        page.contains("smoke run"),
        "a quick run must not judge targets"
    );
    for plot in ["bench/fetch-curve.svg", "bench/gossip.svg"] {
        let svg = std::fs::read_to_string(work.path().join(plot)).unwrap();
        assert!(svg.starts_with("<svg"), "{plot} is not an SVG");
        assert!(page.contains(plot), "the report does not link {plot}");
    }
}
