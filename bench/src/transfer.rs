//! Publish, fetch and the fetch cost curve.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _};
use weft_e2e::Daemon;
use weft_protocol::api::{FetchResult, InitOutput, PublishResult};

use crate::plot::{line_chart, Series};
use crate::report::Report;
use crate::util::{
    cold_memory, mib, rss_bytes, secs, sync, warm_memory, weft_timed, write_random_file,
};
use crate::Sizes;

/// A bundle the source daemon holds.
#[derive(Clone)]
struct Held {
    id: String,
    bytes: u64,
    file: PathBuf,
}

/// State shared by the transfer cases: the source daemon and what it holds.
pub struct Bench {
    work: PathBuf,
    sizes: Sizes,
    source: Option<Daemon>,
    big: Option<Held>,
}

const MIB: u64 = 1 << 20;

impl Bench {
    /// Cases working under `work`.
    pub fn new(work: &Path, sizes: &Sizes) -> Self {
        Self {
            work: work.to_path_buf(),
            sizes: sizes.clone(),
            source: None,
            big: None,
        }
    }

    /// A daemon listening on TCP and QUIC, or on TCP alone with
    /// `--tcp-only` (to see which transport the blocks are faster on).
    fn start_with(name: &str, tcp_only: bool) -> Daemon {
        if !tcp_only {
            return Daemon::start(name);
        }
        Daemon::start_opts(
            name,
            Daemon::temp_dir(name),
            &[],
            weft_e2e::Options {
                listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
                ..Default::default()
            },
        )
    }

    fn daemon(&self, name: &str) -> Daemon {
        Self::start_with(name, self.sizes.tcp_only)
    }

    fn source(&mut self) -> anyhow::Result<&Daemon> {
        if self.source.is_none() {
            let d = self.daemon("source");
            weft_timed::<InitOutput>(&d, &["init"])?;
            self.source = Some(d);
        }
        Ok(self.source.as_ref().expect("just started"))
    }

    /// Publishes a folder holding one file of `bytes` on the source,
    /// untimed, for the fetch cases.
    fn publish_file(&mut self, label: &str, bytes: u64, seed: u64) -> anyhow::Result<Held> {
        let dir = self.work.join(label);
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("data.bin");
        write_random_file(&file, bytes, seed)?;
        let src = self.source()?;
        let (published, _) = weft_timed::<PublishResult>(
            src,
            &["publish", &dir.to_string_lossy(), "--title", label],
        )?;
        Ok(Held {
            id: published.id.to_string(),
            bytes,
            file,
        })
    }

    /// Publish 1 GiB as one file and as many small files, against b3sum
    /// then cp -r of the same files.
    pub fn publish(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let total = self.sizes.size_mib * MIB;
        let one = self.work.join("one-file");
        std::fs::create_dir_all(&one)?;
        let big_file = one.join("data.bin");
        write_random_file(&big_file, total, 1)?;
        let many = self.work.join("many-files");
        std::fs::create_dir_all(&many)?;
        let n = self.sizes.small_files as u64;
        for i in 0..n {
            let size = total / n + u64::from(i < total % n);
            write_random_file(&many.join(format!("file-{i:05}.bin")), size, 100 + i)?;
        }
        let b3sum = which("b3sum");
        if b3sum.is_none() && !cfg!(debug_assertions) && self.sizes.size_mib >= 64 {
            bail!("b3sum is not installed; `cargo install b3sum` (./dev bench does it)");
        }
        let cases = [
            ("publish: one file", one.clone()),
            ("publish: many small files", many),
        ];
        for (case, dir) in cases {
            let files: Vec<PathBuf> = std::fs::read_dir(&dir)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            // The disk's speed swings between runs, so each case runs a few
            // times, every run with its own reference, and the median run
            // (by ratio) is reported.
            let mut runs = Vec::new();
            for run in 0..self.sizes.publish_runs {
                let (b3, cp) =
                    reference_hash_and_copy(b3sum.as_deref(), &files, &dir, &self.work, total)?;
                // Each run publishes into an empty node: a node that holds
                // the blocks already stores nothing again.
                let fresh = Daemon::start(&format!("publish-{run}"));
                weft_timed::<InitOutput>(&fresh, &["init"])?;
                warm_memory(total)?;
                let (_, t) = weft_timed::<PublishResult>(
                    &fresh,
                    &["publish", &dir.to_string_lossy(), "--title", case],
                )?;
                runs.push((b3, cp, t));
            }
            // The source holds it too, for the fetch cases (untimed).
            let src = self.source()?;
            let (published, _) = weft_timed::<PublishResult>(
                src,
                &["publish", &dir.to_string_lossy(), "--title", case],
            )?;
            let id = published.id.to_string();
            let key = |r: &(Option<f64>, f64, f64)| r.2 / (r.0.unwrap_or(0.0) + r.1);
            runs.sort_by(|x, y| key(x).total_cmp(&key(y)));
            let (b3, cp, t) = runs[runs.len() / 2];
            let label = format!(
                "{case} ({} files, median of {} runs)",
                files.len(),
                runs.len()
            );
            let figure = format!("{t:.2} s ({:.0} MiB/s)", mib(total) / t);
            match b3 {
                Some(b3) => {
                    let reference = b3 + cp;
                    report.add(
                        &label,
                        figure,
                        format!("b3sum {b3:.2} s + cp -r {cp:.2} s = {reference:.2} s"),
                        format!("{:.2}×", t / reference),
                        "≤ 1.0×",
                        Some(t / reference <= 1.0),
                    );
                }
                None => report.add(
                    &label,
                    figure,
                    format!("b3sum not installed; cp -r {cp:.2} s"),
                    "—".into(),
                    "≤ 1.0×",
                    None,
                ),
            }
            let all: Vec<String> = runs
                .iter()
                .map(|(b3, cp, t)| match b3 {
                    Some(b3) => format!("{t:.2} s vs {b3:.2} + {cp:.2} s ({:.2}×)", t / (b3 + cp)),
                    None => format!("{t:.2} s (cp -r {cp:.2} s)"),
                })
                .collect();
            report.section(&format!("Every run of {case}"), all.join("; ") + ".");
            if dir == one {
                self.big = Some(Held {
                    id,
                    bytes: total,
                    file: big_file.clone(),
                });
            }
        }
        Ok(())
    }

    /// Fetch between two daemons, against a plain TCP copy.
    pub fn fetch(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let total = self.sizes.size_mib * MIB;
        let big = match self.big.clone().filter(|b| b.bytes == total) {
            Some(b) => b,
            None => {
                let b = self.publish_file("fetch-data", total, 7)?;
                self.big = Some(b.clone());
                b
            }
        };
        // As with publish: several runs, each with its own reference, and
        // the median run by ratio is reported. A run is `weft get -o`: the
        // fetch (verified, stored durably) and the files written out.
        let mut runs = Vec::new();
        let mut fetcher = None;
        let mut rss_rise = (0u64, 0u64);
        // One run on cold memory, then the runs on warm memory (see
        // `warm_memory`), the reference's step and weft's alike.
        let mut cold = None;
        for run in 0..=self.sizes.publish_runs {
            let warm = run > 0;
            // The last run's daemon goes first: deleting its store makes
            // the filesystem discard its blocks (this machine's root is
            // mounted with `discard`), and the sync waits for that, which
            // would otherwise slow the next timed writes.
            drop(fetcher.take());
            sync();
            let tcp_out = self.work.join("tcp-copy.bin");
            if warm {
                warm_memory(big.bytes)?;
            } else {
                cold_memory();
            }
            let tcp = tcp_copy(&big.file, &tcp_out)?;
            if std::fs::metadata(&tcp_out)?.len() != big.bytes {
                bail!("the TCP reference copy is short");
            }
            std::fs::remove_file(&tcp_out)?;
            sync();
            let out = self.work.join("fetched");
            let name = format!("fetcher-{run}");
            let (t, d, rise) = self.fetch_into_new_daemon(&name, &big, Some(&out), warm)?;
            let got = std::fs::metadata(out.join("data.bin"))?.len();
            if got != big.bytes {
                bail!("weft get -o wrote {got} bytes, not {}", big.bytes);
            }
            std::fs::remove_dir_all(&out)?;
            rss_rise = (rss_rise.0.max(rise.0), rss_rise.1.max(rise.1));
            fetcher = Some(d);
            if warm {
                runs.push((tcp, t));
            } else {
                cold = Some((tcp, t));
            }
        }
        let fetcher = fetcher.context("no fetch ran")?;
        runs.sort_by(|x, y| (x.0 / x.1).total_cmp(&(y.0 / y.1)));
        let (tcp, t) = runs[runs.len() / 2];
        let all: Vec<String> = runs
            .iter()
            .map(|(tcp, t)| format!("{t:.2} s vs {tcp:.2} s ({:.0}%)", 100.0 * tcp / t))
            .collect();
        report.section("Every run of fetch", all.join("; ") + ".");
        let (fetch_rate, tcp_rate) = (mib(big.bytes) / t, mib(big.bytes) / tcp);
        report.add(
            &format!(
                "fetch {} MiB between two daemons and write it out (`weft get -o`, median of {} runs)",
                self.sizes.size_mib,
                runs.len()
            ),
            format!("{t:.2} s ({fetch_rate:.0} MiB/s)"),
            format!("plain TCP copy {tcp:.2} s ({tcp_rate:.0} MiB/s)"),
            format!("{:.0}%", 100.0 * fetch_rate / tcp_rate),
            "≥ 50%",
            Some(fetch_rate / tcp_rate >= 0.5),
        );
        if let Some((tcp, t)) = cold {
            report.add(
                "the same on cold memory (one run, each step after the VM had handed freed memory back to its host)",
                format!("{t:.2} s ({:.0} MiB/s)", mib(big.bytes) / t),
                format!("plain TCP copy {tcp:.2} s ({:.0} MiB/s)", mib(big.bytes) / tcp),
                format!("{:.0}%", 100.0 * tcp / t),
                "—",
                None,
            );
        }
        if let Some(ceiling) = report.ceiling {
            report.add(
                "the same fetch against the libp2p transport's ceiling (memory to memory, same run)",
                format!("{fetch_rate:.0} MiB/s"),
                format!("ceiling {ceiling:.0} MiB/s"),
                format!("{:.0}%", 100.0 * fetch_rate / ceiling),
                "≥ 90%",
                Some(fetch_rate / ceiling >= 0.9),
            );
        }
        report.add(
            &format!(
                "RSS rise of the serving / fetching daemon while moving {} MiB",
                self.sizes.size_mib
            ),
            format!("{:.0} / {:.0} MiB", mib(rss_rise.0), mib(rss_rise.1)),
            "their RSS before the fetch".into(),
            "—".into(),
            "≤ 100 MiB each",
            Some(rss_rise.0.max(rss_rise.1) <= 100 * MIB),
        );
        // Writing a held bundle out to a folder: the second half of
        // `weft get`, measured on its own.
        let out = self.work.join("exported");
        sync();
        warm_memory(big.bytes)?;
        let (_, e) =
            weft_timed::<FetchResult>(&fetcher, &["get", &big.id, "-o", &out.to_string_lossy()])?;
        let exported = std::fs::metadata(out.join("data.bin"))?.len();
        if exported != big.bytes {
            bail!("the export is {exported} bytes, not {}", big.bytes);
        }
        report.add(
            "export a held bundle to a folder (`weft get`)",
            format!("{e:.2} s ({:.0} MiB/s)", mib(big.bytes) / e),
            "—".into(),
            "—".into(),
            "—",
            None,
        );
        std::fs::remove_dir_all(&out)?;
        self.fetch_among_bad_seeders(report, &big, &fetcher, tcp_rate)
    }

    /// The fetch again, from four seeders: the source, the last fetcher,
    /// a peer that answers every block with bytes that do not match, and
    /// one that takes requests and never answers. Against the plain copy of
    /// the median run.
    fn fetch_among_bad_seeders(
        &mut self,
        report: &mut Report,
        big: &Held,
        second: &Daemon,
        tcp_rate: f64,
    ) -> anyhow::Result<()> {
        use weft_e2e::raw::{RawPeer, XferAnswer};
        let d = self.daemon("fetcher-among-liars");
        d.connect(self.source()?);
        d.connect(second);
        let liar = RawPeer::start_with(XferAnswer::Lies);
        let staller = RawPeer::start_with(XferAnswer::Stalls);
        liar.connect(&d.multiaddr());
        staller.connect(&d.multiaddr());
        sync();
        warm_memory(2 * big.bytes)?;
        let out = self.work.join("fetched-among-liars");
        let (_, t) =
            weft_timed::<FetchResult>(&d, &["get", &big.id, "-o", &out.to_string_lossy()])?;
        let got = std::fs::metadata(out.join("data.bin"))?.len();
        if got != big.bytes {
            bail!("weft get -o wrote {got} bytes, not {}", big.bytes);
        }
        std::fs::remove_dir_all(&out)?;
        let asked = |p: &RawPeer| p.xfer_requests.load(std::sync::atomic::Ordering::Relaxed);
        let rate = mib(big.bytes) / t;
        report.add(
            &format!(
                "fetch {} MiB from four seeders, one lying and one stalling (`weft get -o`; the liar was asked {} times, the staller {})",
                self.sizes.size_mib,
                asked(&liar),
                asked(&staller)
            ),
            format!("{t:.2} s ({rate:.0} MiB/s)"),
            format!("plain TCP copy of the median run, {tcp_rate:.0} MiB/s"),
            format!("{:.0}%", 100.0 * rate / tcp_rate),
            "≥ 35%",
            Some(rate / tcp_rate >= 0.35),
        );
        Ok(())
    }

    /// Starts a daemon, connects it to the source and times `weft pin` or,
    /// with `out`, `weft get -o out`, on warm memory if `warm` says so
    /// (the bytes it writes: the store's copy, and the output's). Also
    /// returns how far the RSS of the source and of the new daemon rose
    /// above their level before it.
    fn fetch_into_new_daemon(
        &mut self,
        name: &str,
        held: &Held,
        out: Option<&Path>,
        warm: bool,
    ) -> anyhow::Result<(f64, Daemon, (u64, u64))> {
        let id = held.id.as_str();
        let tcp_only = self.sizes.tcp_only;
        let src = self.source()?;
        let d = Self::start_with(name, tcp_only);
        d.connect(src);
        let pids = [
            src.pid().context("the source runs")?,
            d.pid().context("the fetcher runs")?,
        ];
        let base = [rss_bytes(pids[0])?, rss_bytes(pids[1])?];
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut peak = base;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for (p, pid) in peak.iter_mut().zip(pids) {
                        *p = (*p).max(rss_bytes(pid).unwrap_or(0));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                peak
            })
        };
        let args: Vec<String> = match out {
            Some(o) => vec![
                "get".into(),
                id.into(),
                "-o".into(),
                o.to_string_lossy().into(),
            ],
            None => vec!["pin".into(), id.into()],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if warm {
            let copies = if out.is_some() { 2 } else { 1 };
            warm_memory(copies * held.bytes)?;
        } else {
            cold_memory();
        }
        let timed = weft_timed::<FetchResult>(&d, &args);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler
            .join()
            .map_err(|_| anyhow::anyhow!("the RSS sampler failed"))?;
        let (fetched, t) = timed?;
        if fetched.id.to_string() != id {
            bail!("the fetch answered for another bundle: {fetched:?}");
        }
        let rise = (
            peak[0].saturating_sub(base[0]),
            peak[1].saturating_sub(base[1]),
        );
        Ok((t, d, rise))
    }

    /// Fetch time at each curve size.
    pub fn curve(&mut self, report: &mut Report, out: &Path) -> anyhow::Result<()> {
        let mut points = Vec::new();
        let mut table = String::from(
            "| size | fetch time | throughput | seconds per GiB |\n|---|---|---|---|\n",
        );
        for (i, &size) in self.sizes.curve_mib.clone().iter().enumerate() {
            let held = match self.big.clone().filter(|b| b.bytes == size * MIB) {
                Some(b) => b,
                None => self.publish_file(&format!("curve-{size}"), size * MIB, 50 + i as u64)?,
            };
            sync();
            let (t, _d, _) =
                self.fetch_into_new_daemon(&format!("curve-{size}"), &held, None, true)?;
            eprintln!("   curve: {size} MiB in {t:.3} s");
            points.push((size as f64, t));
            let _ = std::fmt::Write::write_fmt(
                &mut table,
                format_args!(
                    "| {size} MiB | {t:.3} s | {:.0} MiB/s | {:.2} |\n",
                    size as f64 / t,
                    t * 1024.0 / size as f64
                ),
            );
        }
        if points.len() < 2 {
            return Ok(());
        }
        // Linearity: the marginal cost per MiB between the two largest
        // sizes, against the average cost per MiB at the largest.
        let (x1, y1) = points[points.len() - 2];
        let (x2, y2) = points[points.len() - 1];
        let marginal = (y2 - y1) / (x2 - x1);
        let average = y2 / x2;
        report.add(
            "fetch cost curve (marginal vs average cost per MiB at the top)",
            format!("{:.2} ms/MiB marginal", marginal * 1000.0),
            format!("{:.2} ms/MiB average", average * 1000.0),
            format!("{:.2}", marginal / average),
            "linear (ratio ≈ 1)",
            None,
        );
        let svg = plot_path(out, "fetch-curve.svg");
        line_chart(
            &svg,
            "Fetch time between two daemons",
            "bundle size (MiB)",
            "seconds",
            &[Series {
                name: "weft pin (fetch, verify, store)".into(),
                points,
            }],
        )?;
        report.section(
            "Fetch cost curve",
            format!(
                "![fetch time against size]({})\n\n{table}",
                relative(out, &svg)
            ),
        );
        Ok(())
    }
}

/// Times b3sum over `files` (when installed), then `cp -r` of `dir` next to
/// the data dirs followed by `sync`; returns both times.
fn reference_hash_and_copy(
    b3sum: Option<&Path>,
    files: &[PathBuf],
    dir: &Path,
    work: &Path,
    bytes: u64,
) -> anyhow::Result<(Option<f64>, f64)> {
    sync();
    warm_memory(bytes)?;
    let b3 = match b3sum {
        Some(b) => {
            let t = Instant::now();
            let ok = Command::new(b)
                .args(files)
                .stdout(Stdio::null())
                .status()?
                .success();
            if !ok {
                bail!("b3sum failed");
            }
            Some(secs(t))
        }
        None => None,
    };
    let copy = work.join("copy");
    let t = Instant::now();
    let ok = Command::new("cp")
        .arg("-r")
        .arg(dir)
        .arg(&copy)
        .status()?
        .success();
    sync();
    let cp = secs(t);
    if !ok {
        bail!("cp -r failed");
    }
    std::fs::remove_dir_all(&copy)?;
    sync();
    Ok((b3, cp))
}

/// Where a plot goes: `bench/` next to the report.
pub fn plot_path(report: &Path, name: &str) -> PathBuf {
    let dir = report
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("bench");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

/// A plot's link from the report.
pub fn relative(report: &Path, plot: &Path) -> String {
    let base = report.parent().unwrap_or(Path::new(""));
    plot.strip_prefix(base)
        .unwrap_or(plot)
        .to_string_lossy()
        .into_owned()
}

fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// The reference transfer: reads `from` on one side of a loopback TCP
/// connection and writes it to `to` on the other, fsynced, with no crypto
/// and no framing. Returns the wall time from connect to fsync.
pub fn tcp_copy(from: &Path, to: &Path) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let from = from.to_path_buf();
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut sock, _) = listener.accept()?;
        let mut f = std::fs::File::open(&from)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            sock.write_all(&buf[..n])?;
        }
    });
    let t = Instant::now();
    let mut sock = TcpStream::connect(addr)?;
    let mut out = std::fs::File::create(to)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
    }
    out.sync_all()?;
    let took = secs(t);
    sender
        .join()
        .map_err(|_| anyhow::anyhow!("the TCP sender panicked"))??;
    Ok(took)
}
