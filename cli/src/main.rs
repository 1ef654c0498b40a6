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
use weft_protocol::units::human;
use weft_protocol::{BundleId, PublisherId, PublisherKey};

use weft_cli::http::{Api, CallError};

/// How long one job poll may wait on the daemon, in milliseconds; also the
/// progress bar's refresh interval.
const JOB_POLL_MS: u64 = 200;

/// Share signed bundles of files with weft peers.
///
/// Exit codes: 0 success; 1 the daemon refused or the operation failed
/// (the message says why); 2 wrong usage; 3 weftd is not running or cannot
/// be reached. With --json, an error is printed on stderr as
/// {"error": "...", "status": <HTTP status or null>}.
#[derive(Parser)]
#[command(name = "weft", version, about, long_about)]
struct Cli {
    /// Data directory of the node [default: $XDG_DATA_HOME/weft or ~/.local/share/weft]
    #[arg(long, global = true, env = "WEFT_HOME")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    /// Read the publisher key's passphrase from this file descriptor
    /// instead of asking on the terminal (its first line is used)
    #[arg(long, global = true, value_name = "FD")]
    passphrase_fd: Option<u32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create this node's publisher key (once per organizer or group)
    Init {
        /// Protect the key with a passphrase (Argon2id): a copy of the
        /// data dir is then useless without it. weft asks for it each
        /// time it signs (publish, retract).
        #[arg(long)]
        passphrase: bool,
    },
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
        /// List every version, not only the latest of each name
        #[arg(long)]
        all_versions: bool,
    },
    /// Show a bundle's details
    Show {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
    },
    /// Fetch a bundle, verify it, and write its files
    Get {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
        /// Output folder [default: ./<bundle name>]
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Fetch a bundle if needed and keep it
    Pin {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
    },
    /// Stop keeping a bundle (it stays in the cache until space is needed)
    Unpin {
        /// Bundle id, or PUBLISHER/NAME
        id: String,
    },
    /// Mirror every bundle of a publisher, a tag or a language: fetched and
    /// pinned automatically, now and as new ones arrive
    Follow {
        /// Publisher id to follow
        publisher: Option<String>,
        /// Follow a tag instead
        #[arg(long, conflicts_with = "publisher")]
        tag: Option<String>,
        /// Follow a language instead (es also matches es-MX)
        #[arg(long, conflicts_with_all = ["publisher", "tag"])]
        lang: Option<String>,
    },
    /// Remove a follow rule (mirrored bundles move to the cache)
    Unfollow {
        /// Publisher id
        publisher: Option<String>,
        /// A tag rule
        #[arg(long, conflicts_with = "publisher")]
        tag: Option<String>,
        /// A language rule
        #[arg(long, conflicts_with_all = ["publisher", "tag"])]
        lang: Option<String>,
    },
    /// Block a publisher: hide its bundles, never mirror or serve them, and
    /// remove those stored here
    Block {
        /// Publisher id
        publisher: String,
    },
    /// Remove a block
    Unblock {
        /// Publisher id
        publisher: String,
    },
    /// List follow and block rules
    Rules,
    /// Retract a bundle you published: other nodes stop listing and serving
    /// it (except where someone pinned it)
    Retract {
        /// Bundle id, or PUBLISHER/NAME
        id: String,
    },
    /// Evict the cache down to storage.max and delete unused blocks now
    Gc,
    /// Read back and verify every block this node holds; bundles with a
    /// damaged or missing block are fetched again from peers
    Check,
    /// Write bundles to an archive file (or a folder of them) that `weft
    /// import` verifies and loads, for carrying on a USB stick
    Export {
        /// Bundle ids or PUBLISHER/NAME
        #[arg(required = true)]
        bundles: Vec<String>,
        /// One archive file holding every bundle
        #[arg(short, long, conflicts_with = "dir", required_unless_present = "dir")]
        out: Option<PathBuf>,
        /// A folder, with one archive file per bundle
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Verify and load an archive file, or every .weft file in a folder;
    /// nothing is stored unless all of it verifies
    Import {
        /// The archive file or folder
        path: PathBuf,
    },
    /// List pinned bundles
    Pins,
    /// List connected peers
    Peers,
    /// Check what this node can reach and how: addresses, NAT, relays,
    /// transports, bootstrap peers, each with a suggestion
    Doctor,
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
    /// Show the node's status on one screen: peers, catalog, pins,
    /// storage, what is fetching now, warnings
    Status,
    /// Print a link that opens the web UI in a browser, logged in (it works
    /// once, within 2 minutes)
    Ui {
        /// Also open it in the default browser
        #[arg(long)]
        open: bool,
    },
    /// Print a shell completion script (for example:
    /// weft completions bash > ~/.local/share/bash-completion/completions/weft)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man pages into a folder
    #[command(hide = true)]
    Manpages {
        /// The folder
        dir: PathBuf,
    },
}

struct Ctx {
    dir: PathBuf,
    json: bool,
    passphrase_fd: Option<u32>,
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

    /// A passphrase from `--passphrase-fd`, or asked on the terminal.
    fn read_passphrase(&self, prompt: &str) -> Result<String, CallError> {
        if let Some(fd) = self.passphrase_fd {
            use std::io::Read;
            let mut bytes = Vec::new();
            std::fs::File::open(format!("/proc/self/fd/{fd}"))
                .and_then(|f| {
                    f.take(weft_protocol::keyfile::MAX_PASSPHRASE_BYTES as u64 + 2)
                        .read_to_end(&mut bytes)
                })
                .map_err(|e| {
                    other(format!(
                        "cannot read the passphrase from file descriptor {fd}: {e}"
                    ))
                })?;
            return weft_protocol::keyfile::passphrase_from_bytes(&bytes)
                .map_err(|e| other(format!("file descriptor {fd}: {e}")));
        }
        if !std::io::stdin().is_terminal() {
            return Err(other(
                "the publisher key is protected by a passphrase and there is no terminal to ask on; pass it with --passphrase-fd FD",
            ));
        }
        let p = rpassword::prompt_password(prompt)
            .map_err(|e| other(format!("cannot read the passphrase: {e}")))?;
        weft_protocol::keyfile::passphrase_from_bytes(p.as_bytes())
            .map_err(|e| other(e.to_string()))
    }

    /// The passphrase to send with a request that signs, if the key is
    /// sealed and the daemon was not unlocked at start.
    fn passphrase_for_signing(&self) -> Result<Option<String>, CallError> {
        let path = self.dir.join(weft_protocol::layout::PUBLISHER_KEY);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let Ok(file) = weft_protocol::keyfile::KeyFile::parse(&text) else {
            return Ok(None);
        };
        if !file.is_sealed() || self.call("GET", "/v1/status", None)?["publisher_locked"] != true {
            return Ok(None);
        }
        self.read_passphrase(&format!(
            "Passphrase for publisher key {}: ",
            file.publisher()
        ))
        .map(Some)
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

fn init(ctx: &Ctx, with_passphrase: bool) -> Res {
    use weft_protocol::keyfile::{check_new_passphrase, KeyFile, DEFAULT_KDF};
    let path = ctx.dir.join(weft_protocol::layout::PUBLISHER_KEY);
    if path.exists() {
        let existing = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| KeyFile::parse(&t).ok())
            .map(|f| f.publisher().to_string())
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
    let file = if with_passphrase {
        let pass = ctx.read_passphrase("New passphrase for the publisher key: ")?;
        check_new_passphrase(&pass).map_err(|e| other(e.to_string()))?;
        if ctx.passphrase_fd.is_none() && ctx.read_passphrase("Again, to be sure: ")? != pass {
            return Err(other("the two passphrases differ; nothing was created"));
        }
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KeyFile::seal(seed, &pass, salt, DEFAULT_KDF).map_err(|e| other(e.to_string()))?
    } else {
        KeyFile::Plain(seed)
    };
    write_new_private(&path, file.to_text().as_bytes())
        .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
    if ctx.json {
        ctx.print_json(
            &json!({"publisher": key.id(), "key_file": path, "passphrase": with_passphrase}),
        );
    } else {
        println!("Created publisher key {}", key.id());
        if with_passphrase {
            println!(
                "Saved in {}, sealed with your passphrase. Without the passphrase nobody can publish as you, and nobody can recover it: write it down somewhere safe.",
                path.display()
            );
        } else {
            println!(
                "Saved in {}. Keep a copy somewhere safe: whoever has this file can publish as you.",
                path.display()
            );
        }
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
    let passphrase = ctx.passphrase_for_signing()?;
    let body = json!({"path": abs, "name": name, "texts": texts, "tags": tags, "licence": licence, "seq": seq, "passphrase": passphrase});
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
    all_versions: bool,
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
        ("all_versions", all_versions.then(|| "true".to_string())),
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
    let id = parse_ref(id)?;
    let v = ctx.call("GET", &format!("/v1/bundles/{}", urlencode(&id)), None)?;
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

/// A bundle id, or PUBLISHER/NAME (checked here, resolved by the daemon).
fn parse_ref(s: &str) -> Result<String, CallError> {
    match s.split_once('/') {
        Some((p, name)) => {
            p.parse::<PublisherId>()
                .map_err(|e| other(format!("{s:?}: {p:?} is not a publisher id: {e}")))?;
            if name.is_empty() {
                return Err(other(format!("{s:?}: the name after / is missing")));
            }
            Ok(s.to_string())
        }
        None => Ok(parse_id(s)?.to_string()),
    }
}

/// The absolute form of a path the user typed, with `.` and `..` resolved
/// the way a shell reads them (the daemon refuses paths holding `..`).
fn absolute(p: PathBuf) -> Result<PathBuf, CallError> {
    let full = if p.is_absolute() {
        p
    } else {
        std::env::current_dir()
            .map_err(|e| other(format!("cannot read the current folder: {e}")))?
            .join(p)
    };
    let mut out = PathBuf::new();
    for c in full.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

fn rule_body(
    publisher: Option<String>,
    tag: Option<String>,
    lang: Option<String>,
) -> Result<Value, CallError> {
    match (publisher, tag, lang) {
        (Some(p), None, None) => {
            p.parse::<PublisherId>()
                .map_err(|e| other(format!("{p:?} is not a publisher id: {e}")))?;
            Ok(json!({ "publisher": p }))
        }
        (None, Some(t), None) => Ok(json!({ "tag": t })),
        (None, None, Some(l)) => Ok(json!({ "lang": l })),
        _ => Err(other(
            "name a publisher, or give --tag or --lang (one rule at a time)",
        )),
    }
}

fn print_rules(v: &Value) {
    let mut any = false;
    for (src, base) in [("", &v["follow"]), (" (config)", &v["config"]["follow"])] {
        for (kind, key) in [
            ("publisher", "publishers"),
            ("tag", "tags"),
            ("lang", "langs"),
        ] {
            for x in base[key].as_array().into_iter().flatten() {
                println!("follow {kind} {}{src}", x.as_str().unwrap_or(""));
                any = true;
            }
        }
    }
    for (src, base) in [("", &v["block"]), (" (config)", &v["config"]["block"])] {
        for x in base["publishers"].as_array().into_iter().flatten() {
            println!("block publisher {}{src}", x.as_str().unwrap_or(""));
            any = true;
        }
    }
    if !any {
        println!("No rules. Mirror with `weft follow <publisher>`, `--tag T` or `--lang L`.");
    }
}

fn get(ctx: &Ctx, id: &str, out: Option<PathBuf>) -> Res {
    let id = parse_ref(id)?;
    let cwd = std::env::current_dir()
        .map_err(|e| other(format!("cannot read the current folder: {e}")))?;
    let out = match out {
        Some(o) => absolute(o)?,
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
    let id = parse_ref(id)?;
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
    match &cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "weft", &mut std::io::stdout());
            return Ok(());
        }
        Command::Manpages { dir } => {
            use clap::CommandFactory;
            return clap_mangen::generate_to(Cli::command(), dir).map_err(|e| {
                other(format!(
                    "cannot write man pages into {}: {e}",
                    dir.display()
                ))
            });
        }
        _ => {}
    }
    let ctx = Ctx {
        dir: cli.data_dir.unwrap_or_else(default_data_dir),
        json: cli.json,
        passphrase_fd: cli.passphrase_fd,
    };
    match cli.command {
        Command::Init { passphrase } => init(&ctx, passphrase),
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
            all_versions,
        } => search(&ctx, text, lang, tag, publisher, limit, all_versions),
        Command::Show { id } => show(&ctx, &id),
        Command::Get { id, out } => get(&ctx, &id, out),
        Command::Pin { id } => pin(&ctx, &id),
        Command::Follow {
            publisher: None,
            tag: None,
            lang: None,
        }
        | Command::Rules => {
            let v = ctx.call("GET", "/v1/rules", None)?;
            simple(&ctx, v, print_rules)
        }
        Command::Follow {
            publisher,
            tag,
            lang,
        } => {
            let v = ctx.call("POST", "/v1/follow", Some(rule_body(publisher, tag, lang)?))?;
            simple(&ctx, v, |v| {
                if v["changed"].as_bool() == Some(false) {
                    println!("That rule was already there.");
                } else {
                    println!("Following. Matching bundles are fetched and pinned in the background (see `weft status`).");
                }
            })
        }
        Command::Unfollow {
            publisher,
            tag,
            lang,
        } => {
            let v = ctx.call(
                "POST",
                "/v1/unfollow",
                Some(rule_body(publisher, tag, lang)?),
            )?;
            simple(&ctx, v, |v| {
                if v["changed"].as_bool() == Some(false) {
                    println!("There was no such rule.");
                } else {
                    println!(
                        "Unfollowed. Bundles it mirrored stay in the cache until space is needed."
                    );
                }
            })
        }
        Command::Block { publisher } => {
            let body = rule_body(Some(publisher), None, None)?;
            let v = ctx.call("POST", "/v1/block", Some(body))?;
            simple(&ctx, v, |_| {
                println!("Blocked. Its bundles are hidden, never mirrored or served, and removed from this node.")
            })
        }
        Command::Unblock { publisher } => {
            let body = rule_body(Some(publisher), None, None)?;
            let v = ctx.call("POST", "/v1/unblock", Some(body))?;
            simple(&ctx, v, |_| println!("Unblocked."))
        }
        Command::Retract { id } => {
            let id = parse_ref(&id)?;
            let passphrase = ctx.passphrase_for_signing()?;
            let v = ctx.call(
                "POST",
                "/v1/retract",
                Some(json!({ "id": id, "passphrase": passphrase })),
            )?;
            simple(&ctx, v, |v| {
                println!(
                    "Retracted {}. The retraction spreads to other nodes; copies pinned by their users stay.",
                    v["id"].as_str().unwrap_or("")
                )
            })
        }
        Command::Gc => {
            let v = ctx.call("POST", "/v1/gc", None)?;
            simple(&ctx, v, |v| {
                let evicted = v["evicted"].as_array().map_or(0, |e| e.len() as u64);
                println!(
                    "Evicted {} from the cache ({}); deleted {} unused blocks ({}).",
                    plural(evicted, "bundle"),
                    human(v["evicted_bytes"].as_u64().unwrap_or(0)),
                    v["blobs_deleted"],
                    human(v["blob_bytes"].as_u64().unwrap_or(0))
                );
                println!(
                    "The store takes {} on disk (was {}).",
                    human(v["disk_after"].as_u64().unwrap_or(0)),
                    human(v["disk_before"].as_u64().unwrap_or(0))
                );
            })
        }
        Command::Check => {
            let v = ctx.run_job("/v1/check", json!({}), "verifying")?;
            let damaged = v["damaged"].as_array().map_or(0, |d| d.len());
            simple(&ctx, v.clone(), |v| {
                println!(
                    "Verified {} blocks ({}) of {}.",
                    v["blocks"],
                    human(v["bytes"].as_u64().unwrap_or(0)),
                    plural(v["bundles"].as_u64().unwrap_or(0), "bundle")
                );
                for id in v["damaged"].as_array().into_iter().flatten() {
                    println!(
                        "DAMAGED: {} misses a block or has a bad one; it is being fetched again from peers.",
                        id.as_str().unwrap_or("")
                    );
                }
                if v["orphans"].as_u64().unwrap_or(0) > 0 {
                    println!(
                        "{} blocks belong to no bundle; `weft gc` deletes them.",
                        v["orphans"]
                    );
                }
            })?;
            if damaged > 0 {
                return Err(other(format!(
                    "{damaged} bundle(s) had a damaged or missing block; weftd is fetching them again (see `weft status`)"
                )));
            }
            Ok(())
        }
        Command::Export { bundles, out, dir } => {
            let refs = bundles
                .iter()
                .map(|b| parse_ref(b))
                .collect::<Result<Vec<_>, _>>()?;
            let (path, is_dir) = match (out, dir) {
                (Some(o), None) => (absolute(o)?, false),
                (None, Some(d)) => (absolute(d)?, true),
                _ => return Err(other("give either -o FILE or --dir DIR")),
            };
            let body = json!({ "bundles": refs, "out": path, "dir": is_dir });
            let v = ctx.run_job("/v1/export", body, "exporting")?;
            simple(&ctx, v, |v| {
                for f in v["files"].as_array().into_iter().flatten() {
                    println!(
                        "Wrote {} ({})",
                        f["path"].as_str().unwrap_or(""),
                        human(f["bytes"].as_u64().unwrap_or(0))
                    );
                }
            })
        }
        Command::Import { path } => {
            let body = json!({ "path": absolute(path)? });
            let v = ctx.run_job("/v1/import", body, "verifying and importing")?;
            simple(&ctx, v, |v| {
                for b in v["imported"].as_array().into_iter().flatten() {
                    println!(
                        "Imported {} (seq {}): {}",
                        b["name"].as_str().unwrap_or(""),
                        b["seq"],
                        b["id"].as_str().unwrap_or("")
                    );
                }
                let here = v["already_here"].as_array().map_or(0, |a| a.len() as u64);
                if here > 0 {
                    println!("Already on this node: {}.", plural(here, "bundle"));
                }
                let blocked = v["blocked"].as_array().map_or(0, |a| a.len() as u64);
                if blocked > 0 {
                    println!(
                        "{} skipped: their publishers are blocked.",
                        plural(blocked, "bundle")
                    );
                }
            })
        }
        Command::Unpin { id } => {
            let id = parse_ref(&id)?;
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
                    "{}  {}  {}  {}",
                    p["peer_id"].as_str().unwrap_or(""),
                    p["transport"].as_str().unwrap_or(""),
                    p["address"].as_str().unwrap_or(""),
                    p["agent"].as_str().unwrap_or("")
                )
            })
        }
        Command::Doctor => {
            let v = ctx.call("GET", "/v1/doctor", None)?;
            simple(&ctx, v, print_doctor)
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
        Command::Completions { .. } | Command::Manpages { .. } => Ok(()),
        Command::Ui { open } => {
            let v = ctx.call("POST", "/v1/ui/login", None)?;
            let url = v["url"].as_str().unwrap_or("").to_string();
            if ctx.json {
                ctx.print_json(&v);
            } else {
                println!("{url}");
                eprintln!(
                    "Open this link in a browser on this machine; it logs you in once, within {} seconds.",
                    v["expires_in"]
                );
            }
            if open {
                // The link goes through a private file, not the browser's
                // command line, which other users of this machine can read
                // in /proc while the code still works.
                let page = ctx.dir.join("ui-open.html");
                let html = format!(
                    "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>weft</title><a href=\"{url}\">weft</a>\n"
                );
                write_private_file(&page, html.as_bytes())
                    .map_err(|e| other(format!("cannot write {}: {e}", page.display())))?;
                std::process::Command::new("xdg-open")
                    .arg(&page)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .map_err(|e| other(format!("cannot start xdg-open to open the browser ({e}); open the link by hand")))?;
            }
            Ok(())
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
                let st = &v["storage"];
                let max = st["max"].as_u64().map_or("no quota".to_string(), |m| {
                    format!("of {} (storage.max)", human(m))
                });
                println!(
                    "storage:    {} {max}: {} pinned, {} cache; {} on disk",
                    human(st["used"].as_u64().unwrap_or(0)),
                    human(st["pinned"].as_u64().unwrap_or(0)),
                    human(st["cached"].as_u64().unwrap_or(0)),
                    human(st["disk"].as_u64().unwrap_or(0))
                );
                let fetching = v["fetching"].as_array().map_or(0, |a| a.len() as u64);
                let waiting = v["interrupted_fetches"]
                    .as_array()
                    .map_or(0, |a| a.len() as u64);
                if fetching + waiting > 0 {
                    println!(
                        "fetching:   {} now (asked for or mirrored), {} unfinished (resumed automatically)",
                        fetching, waiting
                    );
                    for b in v["fetching_bundles"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .take(5)
                    {
                        println!(
                            "            {} {} ({})",
                            b["name"].as_str().unwrap_or("?"),
                            b["id"].as_str().unwrap_or(""),
                            b["size"].as_u64().map(human).unwrap_or_default()
                        );
                    }
                } else {
                    println!("fetching:   nothing now");
                }
                if let Some(g) = v["gateway"].as_str() {
                    println!("gateway:    http://{g} (public, read-only)");
                }
                for w in v["warnings"].as_array().into_iter().flatten() {
                    println!("WARNING:    {}", w.as_str().unwrap_or(""));
                }
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

/// Writes a file only its owner can read.
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
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
            match e {
                CallError::NotRunning(_) => ExitCode::from(3),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// `weft doctor` for people: the facts, then each finding with what to do.
fn print_doctor(v: &Value) {
    let r = &v["reachability"];
    let list = |key: &str| -> Vec<String> {
        r[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    println!("Peer id:     {}", r["peer_id"].as_str().unwrap_or("?"));
    println!("Listening:   {}", or_none(&list("listen_addrs")));
    println!("Announced:   {}", or_none(&list("external_addrs")));
    let nat = match r["nat"].as_str().unwrap_or("unknown") {
        "public" => format!(
            "reachable directly (at {})",
            r["nat_address"].as_str().unwrap_or("?")
        ),
        "private" => "behind NAT or a firewall".to_string(),
        _ => "not known yet".to_string(),
    };
    println!("NAT:         {nat}");
    let slots: Vec<String> = r["reservations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{} ({})",
                s["address"].as_str().unwrap_or("?"),
                if s["accepted"].as_bool() == Some(true) {
                    "reserved"
                } else {
                    "asking"
                }
            )
        })
        .collect();
    println!("Relay slots: {}", or_none(&slots));
    let conns: Vec<String> = r["connections"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    println!(
        "Peers:       {} connected; connections: {}",
        r["peers"].as_u64().unwrap_or(0),
        or_none(&conns)
    );
    for b in r["bootstrap"].as_array().into_iter().flatten() {
        let state = if b["connected"].as_bool() == Some(true) {
            "connected".to_string()
        } else if b["answered"].as_bool() == Some(true) {
            "answered earlier".to_string()
        } else {
            format!(
                "no answer{}",
                b["error"]
                    .as_str()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )
        };
        println!(
            "Bootstrap:   {}  {state}",
            b["address"].as_str().unwrap_or("?")
        );
    }
    if let Some(p) = r["socks5"].as_str() {
        println!("Proxy:       SOCKS5 {p}");
    }
    println!();
    for f in v["findings"].as_array().into_iter().flatten() {
        let mark = match f["level"].as_str().unwrap_or("") {
            "ok" => "ok  ",
            "info" => "note",
            "warning" => "WARN",
            _ => "FIX ",
        };
        println!("[{mark}] {}", f["finding"].as_str().unwrap_or(""));
        if let Some(s) = f["suggestion"].as_str().filter(|s| !s.is_empty()) {
            println!("       -> {s}");
        }
    }
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
