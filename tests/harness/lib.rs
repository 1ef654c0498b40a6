//! Harness for end-to-end tests: real `weftd` processes in temp dirs on
//! 127.0.0.1, driven through the real `weft` binary.
//!
//! Waiting is always a condition polled against a deadline ([`wait_until`]),
//! never a bare sleep.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;
use weft_protocol::api::{
    ConnectResponse, Counters, JobStarted, JobState, JobStatus, PeersResponse, ProvidersResponse,
    PublishResult, SearchResponse, StatusResponse,
};

pub mod evil;
pub mod flood;
pub mod http;
pub mod lossyfs;
pub mod netns;
pub mod raw;
pub mod webdriver;

/// Where cargo put `weftd` and `weft`: next to the `deps` folder that holds
/// the running test binary, unless `WEFT_BIN_DIR` says otherwise.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WEFT_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    let dir = deps.parent().expect("profile dir").to_path_buf();
    assert!(
        dir.join("weftd").exists() && dir.join("weft").exists(),
        "weftd and weft are not built in {}; run `cargo build --workspace --bins` first (`./dev test` does)",
        dir.display()
    );
    dir
}

/// Polls `cond` until it holds or `timeout` passes; panics naming `what`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `weftd` process with its own data dir.
pub struct Daemon {
    /// Name used in messages.
    pub name: String,
    /// The data dir (kept alive as long as the daemon value).
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    extra_args: Vec<String>,
    opts: Options,
}

/// How a daemon is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// Listen multiaddrs.
    pub listen: Vec<String>,
    /// Leave mDNS on. Off by default: tests must not multicast on the
    /// machine's real interfaces.
    pub mdns: bool,
    /// A command that `weftd` and `weft` run under (for example
    /// `ip netns exec NAME`).
    pub prefix: Vec<String>,
    /// A file `weftd` reads as its standard input (for `--passphrase-fd 0`).
    pub stdin: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: vec![
                "/ip4/127.0.0.1/tcp/0".into(),
                "/ip4/127.0.0.1/udp/0/quic-v1".into(),
            ],
            mdns: false,
            prefix: Vec::new(),
            stdin: None,
        }
    }
}

/// A command for `program`, run under `prefix` if there is one.
fn command(prefix: &[String], program: PathBuf) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    }
}

impl Daemon {
    /// Starts a daemon on loopback with free ports and waits until its API
    /// answers.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    /// Like [`Daemon::start`], with extra `weftd` arguments.
    pub fn start_with(name: &str, extra: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("weft-{name}-"))
            .tempdir()
            .expect("tempdir");
        Self::start_in(name, dir, extra)
    }

    /// Starts a daemon on a data dir the caller prepared (for example one
    /// holding a large catalog) and waits until its API answers.
    pub fn start_in(name: &str, dir: tempfile::TempDir, extra: &[&str]) -> Self {
        Self::start_opts(name, dir, extra, Options::default())
    }

    /// A new temp data dir for a daemon called `name`.
    pub fn temp_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("weft-{name}-"))
            .tempdir()
            .expect("tempdir")
    }

    /// Starts a daemon with explicit [`Options`].
    pub fn start_opts(name: &str, dir: tempfile::TempDir, extra: &[&str], opts: Options) -> Self {
        let mut d = Daemon {
            name: name.into(),
            dir,
            child: None,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            opts,
        };
        d.spawn();
        d
    }

    /// The data dir's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn spawn(&mut self) {
        // A killed daemon leaves its address file behind; remove it so the
        // wait below sees the new daemon, not the old file.
        let _ = std::fs::remove_file(self.path().join("api.addr"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path().join("weftd.log"))
            .expect("log file");
        let mut cmd = command(&self.opts.prefix, bin_dir().join("weftd"));
        cmd.arg("--data-dir").arg(self.path());
        // Only the data dir's config.toml counts: not the user's own
        // ~/.config/weft, and no WEFTD_ variables from the shell.
        hermetic(&mut cmd, self.path());
        for l in &self.opts.listen {
            cmd.arg("--listen").arg(l);
        }
        cmd.args(["--api-port", "0"]);
        if !self.opts.mdns {
            cmd.arg("--no-mdns");
        }
        let child = cmd
            .args(&self.extra_args)
            .env(
                "RUST_LOG",
                std::env::var("WEFT_DAEMON_LOG")
                    .unwrap_or_else(|_| "info,weft_daemon=debug,libp2p=warn".into()),
            )
            .stdin(match &self.opts.stdin {
                Some(path) => Stdio::from(std::fs::File::open(path).expect("weftd's stdin file")),
                None => Stdio::null(),
            })
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start weftd");
        self.child = Some(child);
        let name = self.name.clone();
        wait_until(
            &format!("{name}'s API to answer"),
            Duration::from_secs(30),
            || {
                if let Some(c) = self.child.as_mut() {
                    if let Ok(Some(status)) = c.try_wait() {
                        panic!(
                            "{name}'s weftd exited early with {status}; log:\n{}",
                            self.log()
                        );
                    }
                }
                self.path().join("api.addr").exists() && self.weft(&["status"]).status.success()
            },
        );
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("weftd.log")).unwrap_or_default()
    }

    /// Sends SIGKILL and waits for the process to end.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns whether it was one.
    pub fn terminate(&mut self) -> bool {
        match self.child.take() {
            Some(mut c) => {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(c.id().to_string())
                    .status();
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    if let Ok(Some(status)) = c.try_wait() {
                        return status.success();
                    }
                    if Instant::now() > deadline {
                        let _ = c.kill();
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            None => false,
        }
    }

    /// Starts a stopped daemon again on the same data dir.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.spawn();
    }

    /// Stops the daemon (SIGTERM) and starts it again on the same data
    /// dir with other extra arguments and standard input.
    pub fn restart_with(&mut self, extra: &[&str], stdin: Option<PathBuf>) {
        assert!(self.terminate(), "{} stops on SIGTERM", self.name);
        self.extra_args = extra.iter().map(|s| s.to_string()).collect();
        self.opts.stdin = stdin;
        self.spawn();
    }

    /// Runs `weft --data-dir <dir> args...` with `input` on its standard
    /// input (a passphrase for `--passphrase-fd 0`).
    pub fn weft_with_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = command(&self.opts.prefix, bin_dir().join("weft"))
            .arg("--data-dir")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run weft");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write weft's stdin");
        child.wait_with_output().expect("weft's output")
    }

    /// SIGKILLs the daemon and starts it again on the same data dir.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// A client of this daemon's API, as the CLI uses it.
    pub fn api(&self) -> weft_cli::http::Api {
        weft_cli::http::Api::locate(self.path()).expect("the API address and token files")
    }

    /// The API's address and token, as the daemon wrote them to its data
    /// dir (for tests that speak raw HTTP).
    pub fn api_addr_and_token(&self) -> (String, String) {
        let read = |f: &str| {
            std::fs::read_to_string(self.path().join(f))
                .unwrap_or_else(|e| panic!("{f}: {e}"))
                .trim()
                .to_string()
        };
        (read("api.addr"), read("api.token"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// `weft --data-dir <dir> args...`, not started yet (to run it in the
    /// background).
    pub fn weft_command(&self, args: &[&str]) -> Command {
        let mut cmd = command(&self.opts.prefix, bin_dir().join("weft"));
        cmd.arg("--data-dir")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `weft --data-dir <dir> args...`.
    pub fn weft(&self, args: &[&str]) -> Output {
        self.weft_command(args).output().expect("run weft")
    }

    /// Runs `weft --json args...`, requires success and returns stdout.
    fn weft_json_stdout(&self, args: &[&str]) -> Vec<u8> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.weft(&all);
        assert!(
            out.status.success(),
            "`weft {}` failed on {}: {}\n--- weftd log ---\n{}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        out.stdout
    }

    /// Runs `weft --json args...`, requires success and parses stdout as
    /// it is (for tests of what a script sees).
    pub fn weft_json(&self, args: &[&str]) -> Value {
        serde_json::from_slice(&self.weft_json_stdout(args)).expect("weft --json prints JSON")
    }

    /// Runs `weft --json args...`, requires success and reads stdout into
    /// `T`, the command's answer type from `weft_protocol::api`.
    pub fn weft_json_as<T: DeserializeOwned>(&self, args: &[&str]) -> T {
        let stdout = self.weft_json_stdout(args);
        serde_json::from_slice(&stdout).unwrap_or_else(|e| {
            panic!(
                "`weft --json {}` on {} printed what does not read as {}: {e}\n{}",
                args.join(" "),
                self.name,
                std::any::type_name::<T>(),
                String::from_utf8_lossy(&stdout)
            )
        })
    }

    /// `weft status --json`.
    pub fn status(&self) -> StatusResponse {
        self.weft_json_as(&["status"])
    }

    /// This node's TCP multiaddr with its peer id.
    pub fn multiaddr(&self) -> String {
        self.multiaddr_with("/tcp/")
    }

    /// This node's QUIC multiaddr with its peer id.
    pub fn quic_multiaddr(&self) -> String {
        self.multiaddr_with("/quic-v1")
    }

    fn multiaddr_with(&self, transport: &str) -> String {
        let s = self.status();
        let addr = s
            .listen_addrs
            .iter()
            .find(|x| x.contains(transport))
            .unwrap_or_else(|| panic!("{} listens on no {transport} address", self.name));
        format!("{addr}/p2p/{}", s.peer_id)
    }

    /// Whether a DHT lookup from this node names `peer` as a provider of
    /// bundle `id`.
    pub fn names_provider(&self, id: &str, peer: &str) -> bool {
        self.weft_json_as::<ProvidersResponse>(&["providers", id])
            .providers
            .iter()
            .any(|p| p == peer)
    }

    /// The peer id.
    pub fn peer_id(&self) -> String {
        self.status().peer_id
    }

    /// Connects this node to `other` and waits until both see each other.
    pub fn connect(&self, other: &Daemon) {
        let addr = other.multiaddr();
        let _: ConnectResponse = self.weft_json_as(&["connect", &addr]);
        let me = self.peer_id();
        wait_until(
            &format!("{} to see {}", other.name, self.name),
            Duration::from_secs(15),
            || other.connected_to(&me),
        );
    }

    /// Whether `peer` is among the connected peers.
    pub fn connected_to(&self, peer: &str) -> bool {
        self.weft_json_as::<PeersResponse>(&["peers"])
            .peers
            .iter()
            .any(|p| p.peer_id == peer)
    }

    /// Whether the catalog lists bundle `id`.
    pub fn lists(&self, id: &str) -> bool {
        self.weft_json_as::<SearchResponse>(&["search"])
            .results
            .iter()
            .any(|r| r.id.to_string() == id)
    }

    /// Starts a job through the API (`/v1/publish`, `/v1/fetch`, ...) and
    /// returns its number, or the daemon's refusal.
    pub fn start_job(&self, path: &str, body: Value) -> Result<u64, String> {
        let v = self
            .api()
            .call("POST", path, Some(&body), self.path())
            .map_err(|e| format!("{path}: {e}"))?;
        v["job"]
            .as_u64()
            .ok_or_else(|| format!("{path} answered no job number: {v}"))
    }

    /// A job's state now, without waiting ("running", "done" or "failed"),
    /// or `None` if the daemon does not answer.
    pub fn job_state(&self, job: u64) -> Option<Value> {
        self.api()
            .call("GET", &format!("/v1/jobs/{job}"), None, self.path())
            .ok()
    }

    /// Publishes `path` under `name` through the API (no CLI process, so
    /// thousands stay quick) and returns the bundle id.
    pub fn publish_api(&self, path: &Path, name: &str) -> String {
        let dir = self.path();
        let api = self.api();
        let body = serde_json::json!({
            "path": path,
            "name": name,
            "texts": [{"lang": "en", "title": format!("Guide {name}"), "description": ""}],
        });
        let started: JobStarted = api
            .post_json("/v1/publish", Some(&body), dir)
            .unwrap_or_else(|e| panic!("{}: publish {name}: {e}", self.name));
        let job = started.job;
        loop {
            let v: JobStatus<PublishResult> = api
                .get_json(&format!("/v1/jobs/{job}?wait_ms=1000"), dir)
                .unwrap_or_else(|e| panic!("{}: publish {name}: job status: {e}", self.name));
            match v.state {
                JobState::Done => return v.result.expect("a result").id.to_string(),
                JobState::Running => continue,
                JobState::Failed => panic!("{}: publish {name} failed: {v:?}", self.name),
            }
        }
    }

    /// Whether this node has heard from `publisher` (its key log or
    /// anything it signed), as a private group's admin needs before sealing
    /// the group's key to it.
    pub fn heard_from(&self, publisher: &str) -> bool {
        self.weft_json(&["why", publisher])["entries"]
            .as_u64()
            .is_some_and(|n| n > 0)
    }

    /// Entries in the catalog, from `weft status`.
    pub fn catalog_len(&self) -> u64 {
        self.status().catalog
    }

    /// The gossip score this node gives `peer`, if connected.
    pub fn score_of(&self, peer: &str) -> Option<f64> {
        self.weft_json_as::<PeersResponse>(&["peers"])
            .peers
            .into_iter()
            .find(|p| p.peer_id == peer)
            .and_then(|p| p.score)
    }

    /// A memory figure of the daemon process, in KiB, from
    /// `/proc/<pid>/status`: `VmRSS` (now) or `VmHWM` (peak so far).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let pid = self.pid().expect("the daemon is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
    }

    /// The counters from `weft status`.
    pub fn counters(&self) -> Counters {
        self.status().counters
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `weft --data-dir <dir> args...` with no terminal attached.
pub fn weft_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin_dir().join("weft"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run weft")
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every file under `root`, as (relative path, bytes), sorted.
pub fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let e = e.expect("dir entry");
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .to_string();
                out.push((rel, std::fs::read(&p).expect("read file")));
            }
        }
    }
    out.sort();
    out
}

/// Writes a folder of several files, one of them `big` bytes, and returns
/// its path inside `parent`.
pub fn make_folder(parent: &Path, big: usize) -> PathBuf {
    let root = parent.join("organizing-guide");
    std::fs::create_dir_all(root.join("docs/es")).unwrap();
    std::fs::create_dir_all(root.join("media")).unwrap();
    std::fs::write(
        root.join("README.md"),
        b"# Organizing guide\n\nHow to run a meeting.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("docs/es/guia.md"),
        "# Guía\n\nCómo organizar una reunión.\n",
    )
    .unwrap();
    std::fs::write(root.join("docs/empty.txt"), b"").unwrap();
    std::fs::write(root.join("media/training.bin"), pseudo_random(big, 42)).unwrap();
    root
}

/// Every `.route("PATH", ...)` of a router in the daemon's source
/// (`file` relative to the repository), with its method: POST where the
/// route's handler is `post(...)`, else GET.
pub fn router_routes(file: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    src.split(".route(")
        .skip(1)
        .filter_map(|part| {
            let rest = part.trim_start().strip_prefix('"')?;
            let (route, handler) = rest.split_once('"')?;
            let handler = handler.trim_start().trim_start_matches(',').trim_start();
            let method = if handler.starts_with("post(") {
                "POST"
            } else {
                "GET"
            };
            Some((method.to_string(), route.to_string()))
        })
        .collect()
}

/// A new temp data dir for a daemon called `name`, holding `config` as
/// its config.toml.
pub fn dir_with_config(name: &str, config: &str) -> tempfile::TempDir {
    let dir = Daemon::temp_dir(name);
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    dir
}

/// Makes the daemon a publisher (`weft init`); returns its publisher id.
pub fn init(d: &Daemon) -> String {
    let out = d.weft(&["init"]);
    assert!(out.status.success(), "{out:?}");
    d.status()
        .publisher
        .expect("a publisher after `weft init`")
        .to_string()
}

/// Makes `parent/name`, a folder holding one file, `data.bin`, of `len`
/// pseudo-random bytes seeded by `seed`.
pub fn random_folder(parent: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data.bin"), pseudo_random(len, seed)).unwrap();
    dir
}

/// Publishes a folder holding one file of `size` bytes (seeded by `seed`)
/// with the given extra `weft publish` arguments; returns the bundle id.
pub fn publish(d: &Daemon, name: &str, size: usize, seed: u64, args: &[&str]) -> String {
    let root = random_folder(&d.path().join("src"), &format!("{name}-{seed}"), size, seed);
    let mut a = vec!["publish", root.to_str().unwrap(), "--name", name];
    a.extend_from_slice(args);
    d.weft_json_as::<PublishResult>(&a).id.to_string()
}

/// `weft get REF -o <data dir>/<to>`, and checks the file is the one
/// published with `publish(_, _, size, seed, _)`.
pub fn get_and_check(d: &Daemon, reference: &str, to: &str, size: usize, seed: u64) {
    let out = d.path().join(to);
    let o = d.weft(&["get", reference, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read(out.join("data.bin")).unwrap(),
        pseudo_random(size, seed)
    );
}

/// Records a figure for the table at the end of `docs/security.md`, when
/// the run was started by `./dev hostile` (which sets `WEFT_FIGURES`).
pub fn record_figure(key: &str, value: &str) {
    if let Some(path) = std::env::var_os("WEFT_FIGURES") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the figures file");
        // One write per line: parallel tests append to the same file, and
        // O_APPEND keeps a single small write whole.
        f.write_all(format!("{key}\t{value}\n").as_bytes())
            .expect("write a figure");
    }
}

/// One adversarial scenario, counted for the table in `docs/security.md`:
/// it is recorded as tried when it starts, and as held only if the test
/// reaches [`Scenario::held`], after all its assertions.
pub struct Scenario(&'static str);

impl Scenario {
    /// Starts scenario `name`.
    pub fn begin(name: &'static str) -> Self {
        record_figure(&format!("adversarial.tried.{name}"), "1");
        Scenario(name)
    }

    /// Records that every assertion of the scenario passed.
    pub fn held(self) {
        record_figure(&format!("adversarial.held.{}", self.0), "1");
    }
}

/// Reports a test that could not run here: printed, and listed by
/// `./dev test` (through `WEFT_SKIPPED`) so it is never counted as passed.
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
    if let Some(path) = std::env::var_os("WEFT_SKIPPED") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(format!("{test}: {why}\n").as_bytes());
        }
    }
}

/// A well-formed announcement of a made-up bundle named `name`, for tests
/// that sign (or forge) it themselves.
pub fn announcement(key: &weft_protocol::PublisherKey, name: &str) -> weft_protocol::Announcement {
    weft_protocol::Announcement {
        v: 1,
        id: weft_protocol::BundleId::from_bytes(*blake3::hash(name.as_bytes()).as_bytes()),
        seq: 1,
        name: name.into(),
        size: 10,
        tags: vec![],
        files: 1,
        titles: vec![weft_protocol::LangTitle {
            lang: "en".into(),
            title: name.into(),
        }],
        created: 1_700_000_000,
        publisher: key.id(),
    }
}

/// Keeps a weftd from reading configuration from outside the test: its
/// XDG config path points into `dir`, and `WEFTD_` variables and
/// `WEFT_CONFIG` from the environment are removed.
pub fn hermetic(cmd: &mut Command, dir: &Path) {
    cmd.env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env_remove("WEFT_CONFIG");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("WEFTD_") {
            cmd.env_remove(k);
        }
    }
}
