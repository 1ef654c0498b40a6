//! Hole punching between two nodes behind NAT routers of several kinds
//! (`netns::NatKind`), in network namespaces this test builds: a hub with a
//! relay on the "internet", and behind each NAT one node that reserves a
//! slot on the hub. One node dials the other through the relay, and DCUtR
//! (the libp2p hole-punching protocol) should replace the relayed
//! connection with a direct one.
//!
//! Every attempt starts from fresh namespaces (no NAT state left over) and
//! fresh daemons, over one transport only (TCP or QUIC), so each figure is
//! about that transport alone. CI runs one pair, both ends behind
//! port-restricted NATs (what Linux and most home routers do), over both
//! transports. `./dev punch` runs every pair of kinds and writes the table
//! into `docs/censorship.md` and `docs/benchmarks.md`.
//!
//! Where namespaces cannot be made, each test prints SKIPPED and why.

use std::time::{Duration, Instant};

use serde_json::Value;
use weft_e2e::netns::{Lab, NatKind};
use weft_e2e::{dir_with_config, skip, wait_until, Daemon};

/// The port every node listens on, TCP and UDP.
const PORT: u16 = 4141;
/// How long an attempt may take from the relayed connection to a direct
/// one: DCUtR tries three times, about five seconds apart.
const PUNCH_DEADLINE: Duration = Duration::from_secs(25);
/// Attempts per transport in CI.
const CI_ATTEMPTS: usize = 5;
/// The target: share of attempts that end direct, for pairs where neither
/// side is symmetric.
const TARGET: f64 = 0.8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Tcp,
    Quic,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Quic => "quic",
        }
    }

    /// The multiaddr of `ip` on [`PORT`] over this transport.
    fn addr(self, ip: &str) -> String {
        match self {
            Transport::Tcp => format!("/ip4/{ip}/tcp/{PORT}"),
            Transport::Quic => format!("/ip4/{ip}/udp/{PORT}/quic-v1"),
        }
    }
}

/// How one attempt ended.
struct Outcome {
    /// Time from the relayed connection to a direct one, if it came.
    direct: Option<Duration>,
    /// Why not, as the nodes say.
    why: String,
}

fn reach(d: &Daemon) -> Value {
    d.weft_json(&["doctor"])["reachability"].clone()
}

/// Whether `d` holds an accepted relay slot.
fn reserved(d: &Daemon) -> bool {
    reach(d)["reservations"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["accepted"] == true))
}

/// `d`'s view of its connections to `peer`: (connected, some direct).
fn path_to(d: &Daemon, peer: &str) -> (bool, bool) {
    let peers = d.weft_json(&["peers"]);
    match peers["peers"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["peer_id"] == peer))
    {
        Some(p) => (true, p["relayed"] == false),
        None => (false, false),
    }
}

/// One attempt: a lab with a behind `ka` and b behind `kb`; b dials a
/// through the hub's relay. `Err` when no lab can be made here.
fn attempt(tag: &str, ka: NatKind, kb: NatKind, t: Transport) -> Result<Outcome, String> {
    let mut lab = Lab::new(tag, &["nft"])?;
    for h in ["hub", "nat1", "nat2", "a", "b"] {
        lab.host(h)?;
    }
    lab.link("nat1", "172.31.1.2/24", "hub", "172.31.1.1/24")?;
    lab.link("nat2", "172.31.2.2/24", "hub", "172.31.2.1/24")?;
    lab.link("a", "10.1.0.2/24", "nat1", "10.1.0.1/24")?;
    lab.link("b", "10.2.0.2/24", "nat2", "10.2.0.1/24")?;
    lab.router("hub")?;
    for (nat, kind, home, inside, public, up) in [
        ("nat1", ka, "a", "10.1.0.2", "172.31.1.2", "172.31.1.1"),
        ("nat2", kb, "b", "10.2.0.2", "172.31.2.2", "172.31.2.1"),
    ] {
        lab.router(nat)?;
        lab.route(nat, &format!("default via {up}"))?;
        lab.nft(
            nat,
            &kind.ruleset("v-hub", &format!("v-{home}"), inside, public, PORT),
        )?;
    }
    lab.route("a", "default via 10.1.0.1")?;
    lab.route("b", "default via 10.2.0.1")?;

    let listen = [t.addr("0.0.0.0")];
    let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
    let hub = Daemon::start_opts(
        &format!("{tag}-hub"),
        dir_with_config(&format!("{tag}-hub"), "relay = true\n"),
        &[],
        lab.options("hub", &listen),
    );
    let hub_id = hub.peer_id();
    let behind = |name: &str, host: &str, hub_ip: &str| {
        let name = format!("{tag}-{name}");
        Daemon::start_opts(
            &name,
            dir_with_config(
                &name,
                &format!(
                    "peers = [\"{}/p2p/{hub_id}\"]\n[net]\nreachability = \"private\"\n",
                    t.addr(hub_ip)
                ),
            ),
            &[],
            lab.options(host, &listen),
        )
    };
    let a = behind("a", "a", "172.31.1.1");
    let b = behind("b", "b", "172.31.2.1");
    for d in [&a, &b] {
        wait_until(
            "a node behind NAT to hold a relay slot",
            Duration::from_secs(30),
            || reserved(d),
        );
    }
    let a_id = a.peer_id();
    let circuit = format!(
        "{}/p2p/{hub_id}/p2p-circuit/p2p/{a_id}",
        t.addr("172.31.2.1")
    );
    let o = b.weft(&["connect", &circuit]);
    if !o.status.success() {
        return Ok(Outcome {
            direct: None,
            why: format!(
                "the relayed dial failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        });
    }
    let start = Instant::now();
    loop {
        let (connected, direct) = path_to(&b, &a_id);
        if direct {
            return Ok(Outcome {
                direct: Some(start.elapsed()),
                why: String::new(),
            });
        }
        let failed = |d: &Daemon| reach(d)["hole_punch"]["failed"].as_u64().unwrap_or(0) > 0;
        if !connected || start.elapsed() > PUNCH_DEADLINE || failed(&a) || failed(&b) {
            let last = |d: &Daemon| {
                reach(d)["hole_punch"]["last_error"]
                    .as_str()
                    .map(String::from)
            };
            let why = last(&b).or_else(|| last(&a)).unwrap_or_else(|| {
                if connected {
                    "no direct connection within the deadline".into()
                } else {
                    "the relayed connection closed, and no direct one came".into()
                }
            });
            // `WEFT_PUNCH_LOGS=DIR` keeps both nodes' logs of each failure.
            if let Some(dir) = std::env::var_os("WEFT_PUNCH_LOGS") {
                let dir = std::path::PathBuf::from(dir);
                let _ = std::fs::create_dir_all(&dir);
                let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
                for (name, d) in [("a", &a), ("b", &b)] {
                    let file = format!("{}-{}-{}-{n}-{name}.log", ka.name(), kb.name(), t.name());
                    let _ = std::fs::write(dir.join(file), d.log());
                }
            }
            return Ok(Outcome { direct: None, why });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The results of `n` attempts of one pair over one transport.
struct Row {
    a: NatKind,
    b: NatKind,
    t: Transport,
    tries: usize,
    times: Vec<Duration>,
    why: Vec<String>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.times.len() as f64 / self.tries.max(1) as f64
    }

    fn median_ms(&self) -> Option<u128> {
        let mut t: Vec<u128> = self.times.iter().map(|d| d.as_millis()).collect();
        t.sort_unstable();
        t.get(t.len() / 2).copied()
    }

    fn symmetric(&self) -> bool {
        self.a == NatKind::Symmetric || self.b == NatKind::Symmetric
    }

    fn line(&self) -> String {
        let mut why = self.why.clone();
        why.sort();
        why.dedup();
        format!(
            "| {} | {} | {} | {}/{} ({:.0}%) | {} | {} | {} |",
            self.a.name(),
            self.b.name(),
            self.t.name(),
            self.times.len(),
            self.tries,
            100.0 * self.rate(),
            self.median_ms()
                .map(|m| format!("{m} ms"))
                .unwrap_or_else(|| "—".into()),
            if self.symmetric() && self.rate() >= TARGET {
                "no target (symmetric); direct anyway: the other side lets the symmetric one in"
                    .to_string()
            } else if self.symmetric() {
                "no target (symmetric): falls back to the relay, as expected".to_string()
            } else if self.rate() >= TARGET {
                "met (≥ 80%)".to_string()
            } else {
                "missed (< 80%)".to_string()
            },
            why.first().map(String::as_str).unwrap_or("")
        )
    }
}

/// Runs `n` attempts of one pair over one transport; `Err` when no lab
/// can be made here.
fn row(tag: &str, a: NatKind, b: NatKind, t: Transport, n: usize) -> Result<Row, String> {
    let mut row = Row {
        a,
        b,
        t,
        tries: n,
        times: Vec::new(),
        why: Vec::new(),
    };
    for _ in 0..n {
        let o = attempt(tag, a, b, t)?;
        match o.direct {
            Some(d) => row.times.push(d),
            None => row.why.push(o.why),
        }
    }
    eprintln!("{}", row.line());
    Ok(row)
}

/// Runs `n` attempts of each transport for the pair.
fn pair(tag: &str, a: NatKind, b: NatKind, n: usize) -> Result<Vec<Row>, String> {
    [Transport::Tcp, Transport::Quic]
        .into_iter()
        .map(|t| row(tag, a, b, t, n))
        .collect()
}

const HEADER: &str = "| NAT of a | NAT of b | transport | direct | time to direct (median) | verdict | why not, when not |\n|---|---|---|---|---|---|---|";

#[test]
fn hole_punching_between_two_port_restricted_nats() {
    const WHAT: &str = "hole punching, port-restricted on both sides";
    let k = NatKind::PortRestricted;
    let rows = match pair("hp", k, k, CI_ATTEMPTS) {
        Ok(r) => r,
        Err(why) => {
            return skip(WHAT, &format!("needs network namespaces of its own: {why}"));
        }
    };
    eprintln!("{HEADER}");
    for r in &rows {
        eprintln!("{}", r.line());
    }
    for r in &rows {
        assert!(
            r.rate() >= TARGET,
            "hole punching over {} succeeded {} times in {}: {:?}",
            r.t.name(),
            r.times.len(),
            r.tries,
            r.why
        );
    }
}

/// Every pair of NAT kinds, both transports; `WEFT_PUNCH_ATTEMPTS`
/// attempts each (20 by default). Writes the table to the file named by
/// `WEFT_PUNCH_REPORT`. Run by `./dev punch`. `WEFT_PUNCH_KINDS` (names,
/// comma-separated) and `WEFT_PUNCH_TRANSPORTS` (`tcp`, `quic`) narrow it.
#[test]
#[ignore = "the whole matrix takes about half an hour: ./dev punch"]
fn hole_punching_matrix() {
    const WHAT: &str = "hole punching matrix";
    let n: usize = std::env::var("WEFT_PUNCH_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let kinds: Vec<NatKind> = match std::env::var("WEFT_PUNCH_KINDS") {
        Ok(names) => NatKind::ALL
            .into_iter()
            .filter(|k| names.split(',').any(|n| n.trim() == k.name()))
            .collect(),
        Err(_) => NatKind::ALL.to_vec(),
    };
    let only = std::env::var("WEFT_PUNCH_TRANSPORTS").unwrap_or_default();
    let mut todo = Vec::new();
    for (i, a) in kinds.iter().enumerate() {
        for b in &kinds[i..] {
            for t in [Transport::Tcp, Transport::Quic] {
                if only.is_empty() || only.split(',').any(|o| o.trim() == t.name()) {
                    todo.push((*a, *b, t));
                }
            }
        }
    }
    // Several labs at once (`WEFT_PUNCH_JOBS`, 4 by default): each has
    // namespaces of its own, and the daemons mostly wait.
    let jobs: usize = std::env::var("WEFT_PUNCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .max(1);
    let todo = std::sync::Mutex::new(todo.into_iter().enumerate());
    let done = std::sync::Mutex::new(Vec::new());
    let failed = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for j in 0..jobs {
            let (todo, done, failed) = (&todo, &done, &failed);
            s.spawn(move || loop {
                let next = todo.lock().unwrap().next();
                let Some((i, (a, b, t))) = next else { break };
                match row(&format!("h{j}"), a, b, t, n) {
                    Ok(r) => done.lock().unwrap().push((i, r)),
                    Err(why) => {
                        *failed.lock().unwrap() = Some(why);
                        break;
                    }
                }
            });
        }
    });
    if let Some(why) = failed.into_inner().unwrap() {
        return skip(WHAT, &format!("needs network namespaces of its own: {why}"));
    }
    let mut rows = done.into_inner().unwrap();
    rows.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
    let mut table = String::from(HEADER);
    for r in &rows {
        table.push('\n');
        table.push_str(&r.line());
    }
    eprintln!("{table}");
    if let Some(path) = std::env::var_os("WEFT_PUNCH_REPORT") {
        std::fs::write(path, format!("{table}\n")).expect("the report file");
    }
}
