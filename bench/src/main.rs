//! `weft-bench`: measures weft against the limits of the machine it runs on.
//!
//! Every case starts real `weftd` processes on 127.0.0.1 and drives them
//! through the real `weft` CLI or its API client. Where a case has a
//! reference (b3sum and cp, a plain TCP copy), the reference runs in the
//! same process run, on the same files. The report goes to stdout and to a
//! Markdown page with SVG plots of the scaling curves.
//!
//! `--quick` sizes every case down so the whole suite runs in a minute or
//! two; the test suite runs it that way to check that every case works. It
//! never judges a quick run's figures.

mod catalog;
mod catchup;
mod ceiling;
mod evict;
mod flood;
mod gossip;
mod hub;
mod plot;
mod private;
mod report;
mod revocation;
mod transfer;
mod update;
mod util;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};

use crate::report::Report;

/// A benchmark case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    /// Every case below.
    All,
    /// Publish one large file and many small ones, against b3sum + cp.
    Publish,
    /// Fetch between two daemons, against a plain TCP copy.
    Fetch,
    /// Fetch time at growing sizes.
    Curve,
    /// Announcement propagation in a random sparse mesh.
    Gossip,
    /// Catalog catch-up of a late joiner.
    Catchup,
    /// Search latency over a large catalog, through the API.
    Search,
    /// Idle daemon memory, empty and with a large catalog.
    Memory,
    /// Daemon start to API ready, with a large catalog.
    Startup,
    /// `weft status` round trip.
    Cli,
    /// Honest gossip latency during a flood of entries from fresh keys.
    Flood,
    /// A device revocation's spread to every node, and the cost of
    /// checking signers against key logs on the gossip path.
    Revocation,
    /// What the libp2p transport moves memory to memory: the transfer
    /// path's ceiling.
    Ceiling,
    /// Disk bytes written while evicting a tenth of a full cache.
    Evict,
    /// A hub holding many bundles: start, memory, re-providing, check and
    /// eviction, at two sizes.
    Hub,
    /// New versions of a bundle (an insertion, a small edit): the bytes a
    /// node holding the old version fetches.
    Update,
    /// Private groups: publish and fetch sealed against public, and a
    /// removal's spread.
    Private,
}

/// Measure weft against the machine's limits and write docs/benchmarks.md.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Cases to run
    #[arg(value_enum, default_value = "all")]
    cases: Vec<Case>,
    /// Size every case down for a smoke run (figures are not meaningful)
    #[arg(long)]
    quick: bool,
    /// Data size of the publish and fetch cases, in MiB
    #[arg(long)]
    size_mib: Option<u64>,
    /// Number of small files in the many-files publish case
    #[arg(long)]
    small_files: Option<usize>,
    /// Sizes of the fetch cost curve, in MiB, comma separated
    #[arg(long, value_delimiter = ',')]
    curve_mib: Option<Vec<u64>>,
    /// Mesh sizes of the gossip case, comma separated
    #[arg(long, value_delimiter = ',')]
    nodes: Option<Vec<usize>>,
    /// Announcements published per mesh size in the gossip case
    #[arg(long)]
    gossip_trials: Option<usize>,
    /// Catalog entries for the search, memory and startup cases
    #[arg(long)]
    entries: Option<usize>,
    /// Where to write the Markdown report [default: docs/benchmarks.md, or
    /// the work dir with --quick]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder for scratch data [default: a temporary folder under $TMPDIR]
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Daemons of the publish, fetch and curve cases listen on TCP only
    /// (not QUIC), so blocks move over TCP + noise + yamux like the ceiling
    #[arg(long)]
    tcp_only: bool,
}

/// The sizes every case runs at.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Publish and fetch data, MiB.
    pub size_mib: u64,
    /// Files in the many-files publish.
    pub small_files: usize,
    /// Runs of each publish case and of the fetch case (the median is
    /// reported).
    pub publish_runs: usize,
    /// Fetch curve sizes, MiB.
    pub curve_mib: Vec<u64>,
    /// Gossip mesh sizes.
    pub nodes: Vec<usize>,
    /// Publishes per mesh size.
    pub gossip_trials: usize,
    /// Catalog entries.
    pub entries: usize,
    /// Catalog entries of the catch-up cases.
    pub catchup_entries: usize,
    /// Most search queries to time.
    pub search_queries: usize,
    /// `weft status` runs.
    pub cli_runs: usize,
    /// Daemon starts timed.
    pub starts: usize,
    /// Announcements in the flood case (from a quarter as many keys).
    pub flood_entries: usize,
    /// Cache filled before the eviction case evicts a tenth, MiB.
    pub cache_mib: u64,
    /// Small bundles the hub case holds at its larger size (a tenth at
    /// the smaller).
    pub hub_bundles: usize,
    /// Transfer cases on TCP only.
    pub tcp_only: bool,
    /// Size of the bundle the update case versions, MiB.
    pub update_mib: u64,
}

impl Sizes {
    fn from_args(a: &Args) -> Self {
        let mut s = if a.quick {
            Sizes {
                size_mib: 8,
                small_files: 20,
                publish_runs: 1,
                curve_mib: vec![1, 2, 4],
                nodes: vec![3, 5],
                gossip_trials: 2,
                entries: 2_000,
                catchup_entries: 1_000,
                search_queries: 40,
                cli_runs: 5,
                starts: 2,
                flood_entries: 2_000,
                cache_mib: 32,
                hub_bundles: 2_000,
                tcp_only: false,
                update_mib: 24,
            }
        } else {
            Sizes {
                size_mib: 1024,
                small_files: 1000,
                publish_runs: 3,
                curve_mib: vec![1, 16, 256, 1024],
                nodes: vec![25, 50, 100],
                gossip_trials: 20,
                entries: 100_000,
                catchup_entries: 10_000,
                search_queries: 1000,
                cli_runs: 50,
                starts: 5,
                flood_entries: 20_000,
                cache_mib: 4096,
                hub_bundles: 100_000,
                tcp_only: false,
                update_mib: 256,
            }
        };
        if let Some(v) = a.size_mib {
            s.size_mib = v.max(1);
        }
        if let Some(v) = a.small_files {
            s.small_files = v.max(1);
        }
        if let Some(v) = &a.curve_mib {
            s.curve_mib = v.clone();
        }
        if let Some(v) = &a.nodes {
            s.nodes = v.iter().map(|n| (*n).max(2)).collect();
        }
        if let Some(v) = a.gossip_trials {
            s.gossip_trials = v.max(1);
        }
        if let Some(v) = a.entries {
            s.entries = v;
        }
        s.tcp_only = a.tcp_only;
        s
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    util::locate_binaries()?;
    let sizes = Sizes::from_args(&args);
    let work = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::Builder::new()
                .prefix("weft-bench-")
                .tempdir_in(d)?
        }
        None => tempfile::Builder::new().prefix("weft-bench-").tempdir()?,
    };
    let out = match &args.out {
        Some(o) => o.clone(),
        None if args.quick => work.path().join("benchmarks.md"),
        None => PathBuf::from("docs/benchmarks.md"),
    };
    let mut cases = args.cases.clone();
    if cases.contains(&Case::All) {
        cases = vec![
            Case::Ceiling,
            Case::Publish,
            Case::Fetch,
            Case::Curve,
            Case::Gossip,
            Case::Catchup,
            Case::Search,
            Case::Memory,
            Case::Startup,
            Case::Cli,
            Case::Flood,
            Case::Revocation,
            Case::Evict,
            Case::Hub,
            Case::Update,
            Case::Private,
        ];
    }
    let mut report = Report::new(args.quick, &sizes);
    let mut transfer = transfer::Bench::new(work.path(), &sizes);
    let mut catalog = catalog::Bench::new(work.path(), &sizes);
    for case in cases {
        eprintln!("== {case:?}");
        match case {
            Case::All => {}
            Case::Publish => transfer.publish(&mut report)?,
            Case::Fetch => transfer.fetch(&mut report)?,
            Case::Curve => transfer.curve(&mut report, &out)?,
            Case::Gossip => gossip::run(&sizes, &mut report, &out)?,
            Case::Catchup => catchup::run(&catalog, &sizes, work.path(), &mut report)?,
            Case::Search => catalog.search(&mut report)?,
            Case::Memory => catalog.memory(&mut report)?,
            Case::Startup => catalog.startup(&mut report)?,
            Case::Cli => catalog.cli(&mut report)?,
            Case::Flood => flood::run(&sizes, &mut report),
            Case::Revocation => revocation::run(&sizes, &mut report)?,
            Case::Ceiling => ceiling::bench(&sizes, &mut report)?,
            Case::Evict => evict::run(&sizes, work.path(), &mut report)?,
            Case::Hub => hub::run(&sizes, work.path(), &mut report)?,
            Case::Update => update::run(&sizes, work.path(), &mut report)?,
            Case::Private => private::run(&sizes, work.path(), &mut report)?,
        }
    }
    drop(transfer);
    drop(catalog);
    report.print();
    report
        .write(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
