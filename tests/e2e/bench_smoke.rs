//! The benchmark suite's smoke run: every case runs at reduced sizes
//! against real daemons. Only that each case completes and reports is
//! checked, never how fast it was.

use std::process::{Command, Stdio};

use weft_e2e::bin_dir;

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
    let run = Command::new(&bench)
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(work.path())
        .env("WEFT_BIN_DIR", bin_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "weft-bench --quick failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = std::fs::read_to_string(&out).unwrap();
    for case in [
        "publish: one file",
        "publish: many small files",
        "fetch 8 MiB between two daemons",
        "fetch cost curve",
        "gossip: 5 nodes",
        "catch-up",
        "search over 2000 catalog entries",
        "idle daemon RSS, empty store",
        "idle daemon RSS, 2000 catalog entries",
        "start to API ready",
        "`weft status` round trip",
    ] {
        assert!(
            page.contains(case),
            "the report has no row for {case:?}:\n{page}"
        );
    }
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
