//! Cases on a large catalog: search, memory, startup, and the CLI round
//! trip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use weft_cli::http::Api;
use weft_daemon::store::{RocksStore, Store};
use weft_e2e::Daemon;
use weft_protocol::api::{SearchResponse, StatusResponse};
use weft_protocol::{
    layout, Announcement, BundleId, LangTitle, PublisherKey, SignedAnnouncement, VERSION,
};

use crate::report::Report;
use crate::util::{bin_dir, mib, poll, quantile, rss_bytes, secs, weft_timed};
use crate::Sizes;

/// Distinct publishers in the generated catalog.
const PUBLISHERS: usize = 100;
/// Languages titles come in.
const LANGS: [&str; 6] = ["ar", "en", "es", "fr", "pt", "sw"];
/// How long an idle daemon sits before its memory is read.
const IDLE: Duration = Duration::from_secs(3);
/// Most wall time the search case spends timing queries.
const SEARCH_BUDGET: Duration = Duration::from_secs(120);

/// State shared by the catalog cases: a daemon on a large catalog.
pub struct Bench {
    work: PathBuf,
    sizes: Sizes,
    daemon: Option<Daemon>,
    vocab: Vec<String>,
    tags: Vec<String>,
}

/// Made-up words from syllables: enough distinct words that a one-word
/// query matches a few hundred entries of a 100,000-entry catalog.
fn vocabulary() -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "zu", "bi", "ga", "fe", "ho",
        "ju", "le", "mo", "ni", "pa", "ro", "si", "tu", "we",
    ];
    let mut v = Vec::new();
    for a in SYL {
        for b in SYL {
            v.push(format!("{a}{b}"));
        }
    }
    v
}

impl Bench {
    /// Cases working under `work`.
    pub fn new(work: &Path, sizes: &Sizes) -> Self {
        Self {
            work: work.to_path_buf(),
            sizes: sizes.clone(),
            daemon: None,
            vocab: vocabulary(),
            tags: (0..30).map(|i| format!("topic-{i}")).collect(),
        }
    }

    /// Writes `entries` signed announcements straight into a new store, as
    /// if they had arrived by gossip, and starts a daemon on it.
    fn daemon(&mut self) -> anyhow::Result<&Daemon> {
        if self.daemon.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("weft-catalog-")
                .tempdir_in(&self.work)?;
            let t = Instant::now();
            self.fill(&dir.path().join(layout::STORE), self.sizes.entries, &|_| {
                true
            })?;
            eprintln!(
                "   wrote {} catalog entries in {:.1} s",
                self.sizes.entries,
                secs(t)
            );
            self.daemon = Some(Daemon::start_in("catalog", dir, &[]));
        }
        Ok(self.daemon.as_ref().expect("just started"))
    }

    /// Writes the first `n` entries of the catalog (the same ones on every
    /// call) into a store, except those `keep` turns down.
    pub fn fill(
        &self,
        store_dir: &Path,
        n: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> anyhow::Result<()> {
        let store = RocksStore::open(store_dir)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let keys: Vec<PublisherKey> = (0..PUBLISHERS)
            .map(|i| PublisherKey::from_seed([i as u8 + 1; 32]))
            .collect();
        for i in 0..n {
            let key = &keys[i % PUBLISHERS];
            let mut id = [0u8; 32];
            rng.fill(&mut id);
            let n_langs = rng.gen_range(1..=3);
            let mut langs: Vec<&str> = LANGS.choose_multiple(&mut rng, n_langs).copied().collect();
            langs.sort();
            let titles = langs
                .iter()
                .map(|l| {
                    let words: Vec<&str> = (0..rng.gen_range(3..=6))
                        .map(|_| self.vocab.choose(&mut rng).expect("words").as_str())
                        .collect();
                    LangTitle {
                        lang: l.to_string(),
                        title: words.join(" "),
                    }
                })
                .collect();
            let n_tags = rng.gen_range(0..=3);
            let mut tags: Vec<String> = self
                .tags
                .choose_multiple(&mut rng, n_tags)
                .cloned()
                .collect();
            tags.sort();
            let ann = Announcement {
                v: VERSION,
                id: BundleId::from_bytes(id),
                seq: 1,
                name: format!("bundle-{i}"),
                size: rng.gen_range(1..1 << 30),
                tags,
                files: rng.gen_range(1..50),
                titles,
                created: 1_700_000_000 + i as u64,
                publisher: key.id(),
            };
            if !keep(i) {
                continue;
            }
            let signed = SignedAnnouncement::sign_announcement(ann, key)?;
            store.put_announcement(&signed.announcement().claim_key(), signed.bytes())?;
        }
        Ok(())
    }

    /// A query string of the mix the search case times.
    fn query(&self, i: usize, rng: &mut impl Rng) -> String {
        let w = self.vocab.choose(&mut *rng).expect("words").clone();
        match i % 5 {
            0 | 1 => format!("q={w}"),
            2 => format!("q={w}%20{}", self.vocab.choose(&mut *rng).expect("words")),
            3 => format!("q={w}&lang={}", LANGS.choose(&mut *rng).expect("langs")),
            _ => format!("q={w}&tag={}", self.tags.choose(&mut *rng).expect("tags")),
        }
    }

    /// Search latency through the API.
    pub fn search(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let entries = self.sizes.entries;
        let d = self.daemon()?;
        let api = d.api();
        let dir = d.path().to_path_buf();
        // The first search may wait for the daemon to load its catalog.
        let first: SearchResponse = api
            .get_json(&format!("/v1/search?q={}", self.vocab[0]), &dir)
            .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
        let hits = first.results.len();
        if entries >= 1000 && hits == 0 {
            bail!("a word from the titles found nothing: {first:?}");
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut lat = Vec::new();
        let t0 = Instant::now();
        for i in 0..self.sizes.search_queries {
            let q = self.query(i, &mut rng);
            let t = Instant::now();
            api.get_json::<SearchResponse>(&format!("/v1/search?{q}"), &dir)
                .map_err(|e| anyhow::anyhow!("search {q} failed: {e}"))?;
            lat.push(secs(t));
            if t0.elapsed() > SEARCH_BUDGET && lat.len() >= 20 {
                break;
            }
        }
        let (p50, p99) = (quantile(&lat, 0.5) * 1e3, quantile(&lat, 0.99) * 1e3);
        report.add(
            &format!(
                "search over {entries} catalog entries ({} queries)",
                lat.len()
            ),
            format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
            "—".into(),
            "—".into(),
            "p50 ≤ 5 ms, p99 ≤ 20 ms",
            Some(p50 <= 5.0 && p99 <= 20.0),
        );
        Ok(())
    }

    /// Idle memory, empty and with the large catalog.
    pub fn memory(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let empty = Daemon::start("empty");
        std::thread::sleep(IDLE);
        let rss_empty = rss_bytes(empty.pid().context("empty daemon is gone")?)?;
        drop(empty);
        report.add(
            "idle daemon RSS, empty store",
            format!("{:.1} MiB", mib(rss_empty)),
            "—".into(),
            "—".into(),
            "≤ 40 MB",
            Some(rss_empty <= 40_000_000),
        );
        let entries = self.sizes.entries;
        let vocab0 = self.vocab[0].clone();
        let d = self.daemon()?;
        d.api()
            .get_json::<SearchResponse>(&format!("/v1/search?q={vocab0}"), d.path())
            .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
        std::thread::sleep(IDLE);
        let rss = rss_bytes(d.pid().context("catalog daemon is gone")?)?;
        report.add(
            &format!("idle daemon RSS, {entries} catalog entries"),
            format!("{:.1} MiB", mib(rss)),
            "—".into(),
            "—".into(),
            "≤ 120 MB",
            Some(rss <= 120_000_000),
        );
        Ok(())
    }

    /// Spawning weftd to its first answered status, on the large catalog.
    pub fn startup(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let entries = self.sizes.entries;
        self.daemon()?;
        let d = self.daemon.as_mut().expect("started");
        if !d.terminate() {
            bail!("the catalog daemon did not stop cleanly");
        }
        let dir = d.path().to_path_buf();
        let mut ready = Vec::new();
        let mut searchable = Vec::new();
        for _ in 0..self.sizes.starts {
            let (r, s) = time_start(&dir)?;
            ready.push(r);
            searchable.push(s);
        }
        d.kill_and_restart();
        let (p50, worst) = (
            quantile(&ready, 0.5) * 1e3,
            ready.iter().copied().fold(0.0, f64::max) * 1e3,
        );
        report.add(
            &format!(
                "start to API ready, {entries} catalog entries ({} starts)",
                ready.len()
            ),
            format!("median {p50:.0} ms, worst {worst:.0} ms"),
            "—".into(),
            "—".into(),
            "≤ 300 ms",
            Some(p50 <= 300.0),
        );
        report.add(
            &format!("start to first search answered, {entries} entries"),
            format!("median {:.0} ms", quantile(&searchable, 0.5) * 1e3),
            "—".into(),
            "—".into(),
            "—",
            None,
        );
        Ok(())
    }

    /// `weft status` wall time against the large catalog's daemon.
    pub fn cli(&mut self, report: &mut Report) -> anyhow::Result<()> {
        let entries = self.sizes.entries;
        let runs = self.sizes.cli_runs;
        let d = self.daemon()?;
        weft_timed::<StatusResponse>(d, &["status"])?;
        let mut lat = Vec::new();
        for _ in 0..runs {
            let (_, t) = weft_timed::<StatusResponse>(d, &["status"])?;
            lat.push(t);
        }
        let (p50, p99) = (quantile(&lat, 0.5) * 1e3, quantile(&lat, 0.99) * 1e3);
        report.add(
            &format!("`weft status` round trip, {entries} entries ({runs} runs)"),
            format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
            "—".into(),
            "—".into(),
            "≤ 30 ms",
            Some(p50 <= 30.0),
        );
        Ok(())
    }
}

/// Starts weftd on `dir`, and returns the seconds until `/v1/status`
/// answered and until a first search answered. Stops it again.
fn time_start(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let _ = std::fs::remove_file(dir.join(layout::API_ADDR));
    let t = Instant::now();
    let mut child = Command::new(bin_dir().join("weftd"))
        .arg("--data-dir")
        .arg(dir)
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api-port",
            "0",
            "--no-mdns",
        ])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut api = None;
    let ready = poll(
        "the API to answer",
        Duration::from_secs(60),
        Duration::from_millis(1),
        || {
            if api.is_none() {
                api = Api::locate(dir).ok();
            }
            api.as_ref()
                .is_some_and(|a| a.get_json::<StatusResponse>("/v1/status", dir).is_ok())
        },
    );
    let ready_at = secs(t);
    let searched = ready.and_then(|_| {
        api.as_ref()
            .context("no API")?
            .get_json::<SearchResponse>("/v1/search?q=kalo", dir)
            .map_err(|e| anyhow::anyhow!("search failed: {e}"))
    });
    let searched_at = secs(t);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait()?;
    searched?;
    if !status.success() {
        bail!("weftd exited with {status} after SIGTERM");
    }
    Ok((ready_at, searched_at))
}
