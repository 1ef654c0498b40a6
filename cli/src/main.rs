//! `weft`: the command-line client of a local `weftd`.
//!
//! A thin shell: it parses arguments, checks what it can locally (ids,
//! paths), asks the daemon through its API, and prints the answer for a
//! person or, with `--json`, for a program. Errors are one or two sentences
//! on stderr and a non-zero exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rand::RngCore;
use serde_json::{json, Value};
use weft_protocol::{BundleId, PublisherId, PublisherKey};

use weft_cli::http::{Api, CallError};

/// How long one job poll may wait on the daemon, in milliseconds; also the
/// progress bar's refresh interval.
const JOB_POLL_MS: u64 = 200;

/// Share signed bundles of files with weft peers.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Data directory of the node [default: $XDG_DATA_HOME/weft or ~/.local/share/weft]
    #[arg(long, global = true, env = "WEFT_HOME")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create this node's publisher key (once per organizer or group)
    Init,
    /// Publish a folder (or a file) as a signed bundle
    Publish {
        /// The folder or file to publish
        path: PathBuf,
        /// Stable name of the bundle [default: the folder name]
        #[arg(long)]
        name: Option<String>,
        /// Title; prefix with a language to give several: --title es=Guía
        #[arg(long)]
        title: Vec<String>,
        /// Description; prefix with a language like --title
        #[arg(long)]
        description: Vec<String>,
        /// Language of titles and descriptions without a prefix (BCP 47) [default: und]
        #[arg(long)]
        lang: Option<String>,
        /// Tag (repeat for several)
        #[arg(long)]
        tag: Vec<String>,
        /// Licence, for example CC-BY-4.0
        #[arg(long, default_value = "")]
        licence: String,
        /// Version number [default: one more than the latest known]
        #[arg(long)]
        seq: Option<u64>,
    },
    /// List catalog entries, newest first, optionally matching some text
    Search {
        /// Words that must all appear in the name, a title or a tag (any case)
        text: Option<String>,
        /// Only bundles with a title in this language
        #[arg(long)]
        lang: Option<String>,
        /// Only bundles with this tag
        #[arg(long)]
        tag: Option<String>,
        /// Only bundles from this publisher
        #[arg(long)]
        publisher: Option<String>,
        /// Most results to list (at most 1000)
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show a bundle's details
    Show {
        /// Bundle id
        id: String,
    },
    /// Fetch a bundle, verify it, and write its files
    Get {
        /// Bundle id
        id: String,
        /// Output folder [default: ./<bundle name>]
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Fetch a bundle if needed and keep it
    Pin {
        /// Bundle id
        id: String,
    },
    /// Stop keeping a bundle
    Unpin {
        /// Bundle id
        id: String,
    },
    /// List pinned bundles
    Pins,
    /// List connected peers
    Peers,
    /// Connect to a peer
    Connect {
        /// Its multiaddr, for example /ip4/192.0.2.1/tcp/4141/p2p/12D3Koo…
        multiaddr: String,
    },
    /// Find the nodes that hold a bundle, through the DHT
    Providers {
        /// Bundle id
        id: String,
    },
    /// Print an invite that lets another node join this one (and a QR code
    /// on a terminal)
    Invite,
    /// Join the node an invite names: dial it, remember it as a bootstrap
    /// peer and catch up on its catalog
    Join {
        /// The invite string, WEFT1…
        invite: String,
    },
    /// Show the node's status
    Status,
}

struct Ctx {
    dir: PathBuf,
    json: bool,
}

type Res = Result<(), CallError>;

fn other(msg: impl Into<String>) -> CallError {
    CallError::Other(msg.into())
}

impl Ctx {
    fn api(&self) -> Result<Api, CallError> {
        Api::locate(&self.dir)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, CallError> {
        self.api()?.call(method, path, body.as_ref(), &self.dir)
    }

    fn print_json(&self, v: &Value) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }

    fn show_progress(&self) -> bool {
        !self.json && std::io::stderr().is_terminal() && std::io::stdout().is_terminal()
    }

    /// Starts a job with a POST and waits for its result.
    fn run_job(&self, path: &str, body: Value, label: &str) -> Result<Value, CallError> {
        let started = self.call("POST", path, Some(body))?;
        let job = started["job"].as_u64().ok_or_else(|| {
            other("weftd did not start a job; is it the same version as this weft?")
        })?;
        self.wait_job(job, label)
    }

    /// Polls a job until it ends, drawing a progress bar on a terminal.
    fn wait_job(&self, job: u64, label: &str) -> Result<Value, CallError> {
        let api = self.api()?;
        let bar = self.show_progress();
        // Each poll waits on the daemon until the job ends or the next
        // progress update is due, so the answer comes the moment it is done.
        loop {
            let v = api.call(
                "GET",
                &format!("/v1/jobs/{job}?wait_ms={JOB_POLL_MS}"),
                None,
                &self.dir,
            )?;
            let done = v["done_bytes"].as_u64().unwrap_or(0);
            let total = v["total_bytes"].as_u64().unwrap_or(0);
            match v["state"].as_str() {
                Some("done") => {
                    if bar {
                        eprintln!("\r{label} {} 100%{:20}", human(total), "");
                    }
                    return Ok(v["result"].clone());
                }
                Some("failed") => {
                    if bar {
                        eprintln!();
                    }
                    return Err(CallError::Api {
                        status: v["status"].as_u64().unwrap_or(500) as u16,
                        message: v["error"].as_str().unwrap_or("the job failed").to_string(),
                    });
                }
                _ => {
                    if bar {
                        let pct = (done * 100).checked_div(total).unwrap_or(0).min(100);
                        let filled = (pct / 4) as usize;
                        eprint!(
                            "\r{label} [{}{}] {pct:3}% {} / {}   ",
                            "#".repeat(filled),
                            ".".repeat(25 - filled.min(25)),
                            human(done),
                            human(total)
                        );
                    }
                }
            }
        }
    }
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn parse_id(s: &str) -> Result<BundleId, CallError> {
    s.parse::<BundleId>()
        .map_err(|e| other(format!("{s:?} is not a bundle id: {e}")))
}

/// Splits `LANG=TEXT` into its parts when LANG is a language tag.
fn split_lang<'a>(s: &'a str, default: &'a str) -> (&'a str, &'a str) {
    if let Some((l, t)) = s.split_once('=') {
        if weft_protocol::manifest::normalize_lang(l).is_some() && l.len() <= 12 {
            return (l, t);
        }
    }
    (default, s)
}

fn init(ctx: &Ctx) -> Res {
    let path = ctx.dir.join(weft_protocol::layout::PUBLISHER_KEY);
    if path.exists() {
        let existing = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse::<weft_protocol::ContentHash>().ok())
            .map(|s| PublisherKey::from_seed(*s.as_bytes()).id().to_string())
            .unwrap_or_else(|| "unreadable".into());
        return Err(other(format!(
            "a publisher key already exists at {} (publisher {existing}); weft never overwrites a key",
            path.display()
        )));
    }
    std::fs::create_dir_all(&ctx.dir)
        .map_err(|e| other(format!("cannot create {}: {e}", ctx.dir.display())))?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = PublisherKey::from_seed(seed);
    write_new_private(
        &path,
        format!("{}\n", weft_protocol::id::to_hex(&seed)).as_bytes(),
    )
    .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
    if ctx.json {
        ctx.print_json(&json!({"publisher": key.id(), "key_file": path}));
    } else {
        println!("Created publisher key {}", key.id());
        println!(
            "Saved in {}. Keep a copy somewhere safe: whoever has this file can publish as you.",
            path.display()
        );
    }
    Ok(())
}

fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[allow(clippy::too_many_arguments)]
fn publish(
    ctx: &Ctx,
    path: &Path,
    name: Option<String>,
    titles: Vec<String>,
    descriptions: Vec<String>,
    lang: Option<String>,
    tags: Vec<String>,
    licence: String,
    seq: Option<u64>,
) -> Res {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| other(format!("cannot publish {}: {e}", path.display())))?;
    let default_lang = lang.unwrap_or_else(|| "und".into());
    let mut texts: Vec<Value> = Vec::new();
    for t in &titles {
        let (l, title) = split_lang(t, &default_lang);
        texts.push(json!({"lang": l, "title": title, "description": ""}));
    }
    for d in &descriptions {
        let (l, desc) = split_lang(d, &default_lang);
        match texts.iter_mut().find(|t| t["lang"] == l) {
            Some(t) => t["description"] = json!(desc),
            None => {
                return Err(other(format!(
                    "a description in {l} needs a title in {l} too (--title {l}=…)"
                )))
            }
        }
    }
    let body = json!({"path": abs, "name": name, "texts": texts, "tags": tags, "licence": licence, "seq": seq});
    let r = ctx.run_job("/v1/publish", body, "publishing")?;
    simple(ctx, r, |r| {
        println!(
            "Published {} (seq {}): {}",
            r["name"].as_str().unwrap_or(""),
            r["seq"],
            r["id"].as_str().unwrap_or("")
        );
        println!(
            "  {}, {}",
            plural(r["files"].as_u64().unwrap_or(0), "file"),
            human(r["size"].as_u64().unwrap_or(0))
        );
    })
}

/// The title in `lang` (or a more specific tag of it), else the first one.
fn title_of(e: &Value, lang: Option<&str>) -> String {
    let titles = e["titles"].as_array().cloned().unwrap_or_default();
    let wanted = lang.map(str::to_ascii_lowercase);
    let in_lang = titles.iter().find(|t| {
        let l = t["lang"].as_str().unwrap_or("").to_ascii_lowercase();
        wanted
            .as_ref()
            .is_some_and(|w| l == *w || l.starts_with(&format!("{w}-")))
    });
    in_lang
        .or(titles.first())
        .and_then(|t| t["title"].as_str())
        .unwrap_or("")
        .to_string()
}

fn search(
    ctx: &Ctx,
    text: Option<String>,
    lang: Option<String>,
    tag: Option<String>,
    publisher: Option<String>,
    limit: usize,
) -> Res {
    if let Some(p) = &publisher {
        p.parse::<PublisherId>()
            .map_err(|e| other(format!("{p:?} is not a publisher id: {e}")))?;
    }
    let lang_filter = lang.clone();
    let mut q = Vec::new();
    for (k, v) in [
        ("q", text),
        ("lang", lang),
        ("tag", tag),
        ("publisher", publisher),
        ("limit", Some(limit.to_string())),
    ] {
        if let Some(v) = v {
            q.push(format!("{k}={}", urlencode(&v)));
        }
    }
    let path = format!("/v1/search?{}", q.join("&"));
    let v = ctx.call("GET", &path, None)?;
    if ctx.json {
        ctx.print_json(&v);
        return Ok(());
    }
    let results = v["results"].as_array().cloned().unwrap_or_default();
    if results.is_empty() {
        println!(
            "No matching bundles in the catalog ({} entries).",
            v["total"]
        );
        return Ok(());
    }
    for e in &results {
        let flags = match (e["pinned"].as_bool(), e["local"].as_bool()) {
            (Some(true), _) => "pinned",
            (_, Some(true)) => "stored",
            _ => "",
        };
        println!(
            "{}  {} (seq {})  {}  {}  {}",
            e["id"].as_str().unwrap_or(""),
            e["name"].as_str().unwrap_or(""),
            e["seq"],
            human(e["size"].as_u64().unwrap_or(0)),
            title_of(e, lang_filter.as_deref()),
            flags
        );
    }
    let matched = v["matched"].as_u64().unwrap_or(0);
    if matched > results.len() as u64 {
        println!(
            "({} of {matched} matches shown, newest first; --limit shows more)",
            results.len()
        );
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn show(ctx: &Ctx, id: &str) -> Res {
    let id = parse_id(id)?;
    let v = ctx.call("GET", &format!("/v1/bundles/{id}"), None)?;
    if ctx.json {
        ctx.print_json(&v);
        return Ok(());
    }
    println!("id:        {}", v["id"].as_str().unwrap_or(""));
    println!(
        "name:      {} (seq {})",
        v["name"].as_str().unwrap_or(""),
        v["seq"]
    );
    println!("publisher: {}", v["publisher"].as_str().unwrap_or(""));
    println!(
        "size:      {} in {}",
        human(v["size"].as_u64().unwrap_or(0)),
        plural(v["files"].as_u64().unwrap_or(0), "file")
    );
    for t in v["titles"].as_array().into_iter().flatten() {
        println!(
            "title:     [{}] {}",
            t["lang"].as_str().unwrap_or(""),
            t["title"].as_str().unwrap_or("")
        );
    }
    if let Some(tags) = v["tags"].as_array().filter(|t| !t.is_empty()) {
        let tags: Vec<&str> = tags.iter().filter_map(|t| t.as_str()).collect();
        println!("tags:      {}", tags.join(", "));
    }
    if let Some(l) = v["licence"].as_str().filter(|l| !l.is_empty()) {
        println!("licence:   {l}");
    }
    println!(
        "here:      {}",
        match (v["local"].as_bool(), v["pinned"].as_bool()) {
            (_, Some(true)) => "stored and pinned",
            (Some(true), _) => "stored",
            _ => "not stored; `weft get` fetches it",
        }
    );
    for f in v["file_list"].as_array().into_iter().flatten() {
        println!(
            "  {:>10}  {}",
            human(f["size"].as_u64().unwrap_or(0)),
            f["path"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

fn get(ctx: &Ctx, id: &str, out: Option<PathBuf>) -> Res {
    let id = parse_id(id)?;
    let cwd = std::env::current_dir()
        .map_err(|e| other(format!("cannot read the current folder: {e}")))?;
    let out = match out {
        Some(o) if o.is_absolute() => o,
        Some(o) => cwd.join(o),
        None => {
            // The folder is named after the bundle, which only the manifest
            // tells; fetch first, then write.
            let r = ctx.run_job("/v1/fetch", json!({"id": id}), "fetching")?;
            cwd.join(r["name"].as_str().unwrap_or("bundle"))
        }
    };
    let r = ctx.run_job("/v1/fetch", json!({"id": id, "out": out}), "fetching")?;
    simple(ctx, r, |r| {
        println!(
            "Fetched and verified {} ({}, {}) into {}",
            r["name"].as_str().unwrap_or(""),
            plural(r["files"].as_u64().unwrap_or(0), "file"),
            human(r["size"].as_u64().unwrap_or(0)),
            out.display()
        );
    })
}

fn pin(ctx: &Ctx, id: &str) -> Res {
    let id = parse_id(id)?;
    let r = ctx.run_job("/v1/fetch", json!({"id": id, "pin": true}), "fetching")?;
    simple(ctx, r, |r| {
        println!("Pinned {} ({})", id, r["name"].as_str().unwrap_or(""))
    })
}

fn simple(ctx: &Ctx, v: Value, text: impl FnOnce(&Value)) -> Res {
    if ctx.json {
        ctx.print_json(&v);
    } else {
        text(&v);
    }
    Ok(())
}

/// Prints `v[key]` one line per item, or `empty` when there are none.
fn print_list(
    ctx: &Ctx,
    v: &Value,
    key: &str,
    empty: &str,
    line: impl Fn(&Value) -> String,
) -> Res {
    simple(ctx, v.clone(), |v| {
        let items = v[key].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            println!("{empty}");
        }
        for item in &items {
            println!("{}", line(item));
        }
    })
}

fn run(cli: Cli) -> Res {
    let ctx = Ctx {
        dir: cli.data_dir.unwrap_or_else(default_data_dir),
        json: cli.json,
    };
    match cli.command {
        Command::Init => init(&ctx),
        Command::Publish {
            path,
            name,
            title,
            description,
            lang,
            tag,
            licence,
            seq,
        } => publish(
            &ctx,
            &path,
            name,
            title,
            description,
            lang,
            tag,
            licence,
            seq,
        ),
        Command::Search {
            text,
            lang,
            tag,
            publisher,
            limit,
        } => search(&ctx, text, lang, tag, publisher, limit),
        Command::Show { id } => show(&ctx, &id),
        Command::Get { id, out } => get(&ctx, &id, out),
        Command::Pin { id } => pin(&ctx, &id),
        Command::Unpin { id } => {
            let id = parse_id(&id)?;
            let v = ctx.call("POST", "/v1/unpin", Some(json!({"id": id})))?;
            simple(&ctx, v, |_| println!("Unpinned {id}"))
        }
        Command::Pins => {
            let v = ctx.call("GET", "/v1/pins", None)?;
            print_list(&ctx, &v, "pins", "No pinned bundles.", |p| {
                format!(
                    "{}  {}  {}",
                    p["id"].as_str().unwrap_or(""),
                    p["name"].as_str().unwrap_or("?"),
                    human(p["size"].as_u64().unwrap_or(0))
                )
            })
        }
        Command::Peers => {
            let v = ctx.call("GET", "/v1/peers", None)?;
            let empty = "Not connected to any peer. Connect with `weft connect <multiaddr>`.";
            print_list(&ctx, &v, "peers", empty, |p| {
                format!(
                    "{}  {}  {}",
                    p["peer_id"].as_str().unwrap_or(""),
                    p["address"].as_str().unwrap_or(""),
                    p["agent"].as_str().unwrap_or("")
                )
            })
        }
        Command::Connect { multiaddr } => {
            let v = ctx.call("POST", "/v1/connect", Some(json!({"addr": multiaddr})))?;
            simple(&ctx, v, |v| {
                println!("Connected to {}", v["peer_id"].as_str().unwrap_or(""))
            })
        }
        Command::Providers { id } => {
            let v = ctx.call("GET", &format!("/v1/providers/{id}"), None)?;
            let empty = "No provider found in the DHT.";
            print_list(&ctx, &v, "providers", empty, |p| {
                p.as_str().unwrap_or("").to_string()
            })
        }
        Command::Invite => {
            let v = ctx.call("GET", "/v1/invite", None)?;
            simple(&ctx, v, |v| {
                let invite = v["invite"].as_str().unwrap_or("");
                if std::io::stdout().is_terminal() {
                    if let Ok(code) = qrcode::QrCode::new(invite.as_bytes()) {
                        let art = code
                            .render::<qrcode::render::unicode::Dense1x2>()
                            .quiet_zone(true)
                            .build();
                        println!("{art}");
                    }
                    println!(
                        "Give this invite to the node that should join (`weft join <invite>`):"
                    );
                }
                println!("{invite}");
                if std::io::stdout().is_terminal() {
                    if let Some(n) = v["network"].as_str() {
                        println!("It is for the private network {n}: the joining node needs the same swarm.key.");
                    }
                }
            })
        }
        Command::Join { invite } => {
            let v = ctx.call("POST", "/v1/join", Some(json!({ "invite": invite })))?;
            simple(&ctx, v, |v| {
                for j in v["joined"].as_array().into_iter().flatten() {
                    println!(
                        "Joined {} at {}",
                        j["peer_id"].as_str().unwrap_or(""),
                        j["addr"].as_str().unwrap_or("")
                    );
                }
                for f in v["failed"].as_array().into_iter().flatten() {
                    println!(
                        "Could not reach {}: {}",
                        f["addr"].as_str().unwrap_or("?"),
                        f["error"].as_str().unwrap_or("")
                    );
                }
                println!("Remembered as bootstrap peers; the catalog catches up in the background (see `weft status`).");
            })
        }
        Command::Status => {
            let v = ctx.call("GET", "/v1/status", None)?;
            simple(&ctx, v, |v| {
                println!("peer id:    {}", v["peer_id"].as_str().unwrap_or(""));
                for a in v["listen_addrs"].as_array().into_iter().flatten() {
                    println!("listening:  {}", a.as_str().unwrap_or(""));
                }
                println!("api:        http://{}", v["api"].as_str().unwrap_or(""));
                println!("data dir:   {}", v["data_dir"].as_str().unwrap_or(""));
                println!(
                    "publisher:  {}",
                    v["publisher"]
                        .as_str()
                        .unwrap_or("none (create one with `weft init`)")
                );
                println!("peers:      {}", v["connected_peers"]);
                if v["catalog_loading"].as_bool() == Some(true) {
                    println!("catalog:    about {} bundles (still loading)", v["catalog"]);
                } else {
                    println!("catalog:    {} bundles", v["catalog"]);
                }
                println!("stored:     {} bundles, {} pinned", v["bundles"], v["pins"]);
                println!("peer book:  {} peers remembered", v["peer_book"]);
                if let Some(n) = v["network"].as_str() {
                    println!("network:    private ({n})");
                }
                let c = &v["counters"];
                println!(
                    "refused:    {} announcements, {} blocks, {} manifests; {} peers banned",
                    c["gossip_rejected"],
                    c["chunks_rejected"],
                    c["manifests_rejected"],
                    c["peers_punished"]
                );
            })
        }
    }
}

fn default_data_dir() -> PathBuf {
    weft_protocol::layout::default_data_dir(
        std::env::var_os("XDG_DATA_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let status = match &e {
                    CallError::Api { status, .. } => json!(status),
                    _ => Value::Null,
                };
                eprintln!("{}", json!({"error": e.to_string(), "status": status}));
            } else {
                eprintln!("weft: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
