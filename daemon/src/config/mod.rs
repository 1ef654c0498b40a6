//! Where the daemon keeps its files and how it is configured.
//!
//! The data dir is `--data-dir`, else `$WEFT_HOME`, else
//! `$XDG_DATA_HOME/weft`, else `~/.local/share/weft`.
//!
//! The config file is `--config`, else `$WEFT_CONFIG`, else `config.toml`
//! in the data dir if there is one (so several nodes on one machine each
//! keep their own), else `$XDG_CONFIG_HOME/weft/config.toml`
//! (`~/.config/weft/config.toml`). `WEFTD_<KEY>` environment variables
//! override the file (`__` separates a table from its key:
//! `WEFTD_STORAGE__MAX`), and flags override both. An unknown key,
//! wherever it comes from, is an error that names it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use libp2p::Multiaddr;
use serde::Deserialize;

/// File names inside the data dir.
pub use weft_protocol::layout as files;

/// Default TCP and QUIC port.
pub const DEFAULT_P2P_PORT: u16 = 4141;
/// Default API port on 127.0.0.1.
pub const DEFAULT_API_PORT: u16 = 4142;

/// The default data dir, following XDG.
pub fn default_data_dir() -> PathBuf {
    files::default_data_dir(
        std::env::var_os("XDG_DATA_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// The contents of `config.toml`. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Multiaddrs to listen on.
    pub listen: Option<Vec<String>>,
    /// Multiaddrs of peers to dial at start and keep dialling.
    pub peers: Option<Vec<String>>,
    /// API port on 127.0.0.1 (0 picks a free one).
    pub api_port: Option<u16>,
    /// Find peers on the LAN with mDNS (default true).
    pub mdns: Option<bool>,
    /// `[storage]`: `max`, the quota.
    pub storage: Option<StorageSection>,
    /// `[net]`: `upload_limit`, bytes per second served to peers.
    pub net: Option<NetSection>,
    /// `[follow]`: `publishers`, `tags`, `langs` to mirror.
    pub follow: Option<crate::policy::Follow>,
    /// `[block]`: `publishers` never listed, mirrored or served.
    pub block: Option<crate::policy::Block>,
    /// `relay = true`, or a `[relay]` table with `enabled` and limits: run
    /// a circuit relay for peers behind NAT.
    pub relay: Option<RelaySetting>,
    /// `[gateway]`: the public read-only web gateway.
    pub gateway: Option<GatewaySection>,
}

/// The `[gateway]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// Address to serve the gateway on ("0.0.0.0:8080"); off when absent.
    pub listen: Option<String>,
    /// Name shown at the top of every page.
    pub title: Option<String>,
}

/// The gateway's resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Name shown on the pages.
    pub title: String,
}

/// Longest gateway title, in bytes.
pub const MAX_GATEWAY_TITLE: usize = 80;

/// `relay = true|false`, or a `[relay]` table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RelaySetting {
    /// On with the default limits, or off.
    On(bool),
    /// On (unless `enabled = false`) with these limits.
    Table(RelaySection),
}

/// The `[relay]` table. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySection {
    /// Run the relay (default true when the table is there).
    pub enabled: Option<bool>,
    /// Peers that may hold a reservation at once.
    pub max_reservations: Option<usize>,
    /// Reservations one peer may hold.
    pub max_reservations_per_peer: Option<usize>,
    /// How long a reservation lasts before it must be renewed, seconds.
    pub reservation_secs: Option<u64>,
    /// Relayed connections at once.
    pub max_circuits: Option<usize>,
    /// Relayed connections one peer may have at once.
    pub max_circuits_per_peer: Option<usize>,
    /// Longest life of one relayed connection, seconds.
    pub max_circuit_secs: Option<u64>,
    /// Most bytes one relayed connection may carry ("256 MiB").
    pub max_circuit_bytes: Option<SizeValue>,
}

/// The relay's limits, resolved. See `docs/censorship.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayLimits {
    /// Peers that may hold a reservation at once.
    pub max_reservations: usize,
    /// Reservations one peer may hold.
    pub max_reservations_per_peer: usize,
    /// Reservation lifetime.
    pub reservation: std::time::Duration,
    /// Relayed connections at once.
    pub max_circuits: usize,
    /// Relayed connections per peer.
    pub max_circuits_per_peer: usize,
    /// Longest life of one relayed connection.
    pub max_circuit: std::time::Duration,
    /// Most bytes one relayed connection carries, both directions.
    pub max_circuit_bytes: u64,
}

impl Default for RelayLimits {
    fn default() -> Self {
        Self {
            max_reservations: 128,
            max_reservations_per_peer: 4,
            reservation: std::time::Duration::from_secs(3600),
            max_circuits: 32,
            max_circuits_per_peer: 8,
            max_circuit: std::time::Duration::from_secs(3600),
            max_circuit_bytes: 256 << 20,
        }
    }
}

impl RelaySetting {
    /// The limits if the relay is on.
    fn resolve(&self) -> Result<Option<RelayLimits>, String> {
        let t = match self {
            RelaySetting::On(false) => return Ok(None),
            RelaySetting::On(true) => return Ok(Some(RelayLimits::default())),
            RelaySetting::Table(t) if t.enabled == Some(false) => return Ok(None),
            RelaySetting::Table(t) => t,
        };
        let d = RelayLimits::default();
        let positive = |v: Option<usize>, default: usize, what: &str| match v {
            Some(0) => Err(format!(
                "relay.{what} must be at least 1 (set relay = false to turn the relay off)"
            )),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let secs = |v: Option<u64>, default: std::time::Duration, what: &str| match v {
            Some(0) => Err(format!("relay.{what} must be at least 1 second")),
            Some(n) if n > u64::from(u32::MAX) => Err(format!("relay.{what} is too long")),
            Some(n) => Ok(std::time::Duration::from_secs(n)),
            None => Ok(default),
        };
        let bytes = match &t.max_circuit_bytes {
            Some(v) => match v.bytes("relay.max_circuit_bytes")? {
                0 => return Err("relay.max_circuit_bytes must be above 0".into()),
                n => n,
            },
            None => d.max_circuit_bytes,
        };
        Ok(Some(RelayLimits {
            max_reservations: positive(t.max_reservations, d.max_reservations, "max_reservations")?,
            max_reservations_per_peer: positive(
                t.max_reservations_per_peer,
                d.max_reservations_per_peer,
                "max_reservations_per_peer",
            )?,
            reservation: secs(t.reservation_secs, d.reservation, "reservation_secs")?,
            max_circuits: positive(t.max_circuits, d.max_circuits, "max_circuits")?,
            max_circuits_per_peer: positive(
                t.max_circuits_per_peer,
                d.max_circuits_per_peer,
                "max_circuits_per_peer",
            )?,
            max_circuit: secs(t.max_circuit_secs, d.max_circuit, "max_circuit_secs")?,
            max_circuit_bytes: bytes,
        }))
    }
}

/// A size: a number of bytes, or a string such as "20 GiB".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    /// Bytes.
    Bytes(u64),
    /// With a unit.
    Text(String),
}

impl SizeValue {
    fn bytes(&self, what: &str) -> Result<u64, String> {
        match self {
            SizeValue::Bytes(n) => Ok(*n),
            SizeValue::Text(t) => crate::storage::parse_size(t).map_err(|e| format!("{what}: {e}")),
        }
    }
}

/// The `[storage]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// Most bytes of bundle content to hold.
    pub max: Option<SizeValue>,
}

/// The `[net]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSection {
    /// Most bytes per second to upload ("2 MiB" means 2 MiB/s).
    pub upload_limit: Option<SizeValue>,
    /// Dial every peer through this SOCKS5 proxy ("127.0.0.1:9050" for Tor).
    pub socks5: Option<String>,
    /// PEM certificate chain for `/tls/ws` listeners.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// PEM certificates to trust when dialling `/tls/ws` hubs, besides the
    /// web's usual roots (for hubs with a self-signed certificate).
    pub tls_trust: Option<Vec<PathBuf>>,
}

/// The daemon's resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where everything lives.
    pub data_dir: PathBuf,
    /// Multiaddrs to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial.
    pub peers: Vec<Multiaddr>,
    /// API listen address; always a loopback address.
    pub api: SocketAddr,
    /// Find peers on the LAN with mDNS.
    pub mdns: bool,
    /// The private network key, from `swarm.key` in the data dir.
    pub psk: Option<libp2p::pnet::PreSharedKey>,
    /// Quota on bundle content, bytes.
    pub storage_max: Option<u64>,
    /// Upload limit, bytes per second.
    pub upload_limit: Option<u64>,
    /// Follow rules from the config file.
    pub follow: crate::policy::Follow,
    /// Block rules from the config file.
    pub block: crate::policy::Block,
    /// The publisher key's passphrase, read by `weftd --passphrase-fd`,
    /// so the node can sign without asking.
    pub passphrase: Option<String>,
    /// Run a circuit relay with these limits.
    pub relay: Option<RelayLimits>,
    /// Dial every peer through this SOCKS5 proxy.
    pub socks5: Option<SocketAddr>,
    /// WebSocket TLS certificate, key and extra trust.
    pub tls: crate::transport::TlsOptions,
    /// The public gateway, if it is on.
    pub gateway: Option<GatewayConfig>,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
}

/// What the command line says, besides the data dir.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`, replacing the file's list when given.
    pub listen: Vec<String>,
    /// `--peer`, added to the file's peers.
    pub peers: Vec<String>,
    /// `--api-port`.
    pub api_port: Option<u16>,
    /// `--no-mdns` gives `Some(false)`.
    pub mdns: Option<bool>,
    /// `--gateway`.
    pub gateway: Option<String>,
}

/// Prefix of the environment variables that override the config file.
pub const ENV_PREFIX: &str = "WEFTD_";

/// Where the config file is, and whether it must exist.
fn config_path(
    data_dir: &Path,
    flag: Option<PathBuf>,
    env: &[(String, String)],
) -> (Option<PathBuf>, bool) {
    let var = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    if let Some(p) = flag {
        return (Some(p), true);
    }
    if let Some(p) = var("WEFT_CONFIG") {
        return (Some(PathBuf::from(p)), true);
    }
    let own = data_dir.join(files::CONFIG);
    if own.exists() {
        return (Some(own), false);
    }
    let xdg = match (var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(x), _) => Some(PathBuf::from(x).join("weft").join(files::CONFIG)),
        (None, Some(h)) => Some(PathBuf::from(h).join(".config/weft").join(files::CONFIG)),
        (None, None) => None,
    };
    (xdg, false)
}

/// A `WEFTD_` variable's value: TOML if it parses, else the text itself.
fn env_value(v: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.into()),
    }
}

/// Puts `value` at the dotted `path` of `table`, making tables on the way.
fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(format!("{p} is not a table")),
        };
    }
    t.insert(last.clone(), value);
    Ok(())
}

/// The overrides from `WEFTD_` variables, each checked on its own so an
/// error names the variable.
fn env_overrides(env: &[(String, String)]) -> Result<Vec<(Vec<String>, toml::Value)>, String> {
    let mut out = Vec::new();
    // In name order, so `WEFTD_RELAY` and `WEFTD_RELAY__MAX_CIRCUITS`
    // together always meet the same way (an error naming both).
    let mut env: Vec<&(String, String)> = env.iter().collect();
    env.sort();
    for (k, v) in env {
        let Some(key) = k.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = key.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "{k}: not a config key; use {ENV_PREFIX}KEY or {ENV_PREFIX}TABLE__KEY"
            ));
        }
        // TOML first (numbers, booleans, lists); a value that only makes
        // sense as text (`WEFTD_GATEWAY__TITLE=1984`) is taken as text.
        let check = |value: &toml::Value| {
            let mut alone = toml::Table::new();
            set_path(&mut alone, &path, value.clone())?;
            toml::Value::Table(alone)
                .try_into::<FileConfig>()
                .map(|_| ())
                .map_err(|e| e.message().to_string())
        };
        let parsed = env_value(v);
        let text = toml::Value::String(v.clone());
        let value = match check(&parsed) {
            Ok(()) => parsed,
            Err(e) => match check(&text) {
                Ok(()) => text,
                Err(_) => {
                    return Err(format!(
                        "environment variable {k} (config key {}): {e}",
                        path.join(".")
                    ))
                }
            },
        };
        out.push((path, value));
    }
    Ok(out)
}

fn parse_addrs(list: &[String], what: &str) -> Result<Vec<Multiaddr>, String> {
    list.iter()
        .map(|s| {
            s.parse::<Multiaddr>().map_err(|e| {
                format!(
                    "{what} {s:?} is not a multiaddr ({e}); for example /ip4/192.0.2.1/tcp/4141"
                )
            })
        })
        .collect()
}

impl Config {
    /// Resolves flags and the data dir's config file (no environment).
    pub fn resolve(
        data_dir: PathBuf,
        listen: Vec<String>,
        peers: Vec<String>,
        api_port: Option<u16>,
        mdns: Option<bool>,
    ) -> Result<Self, String> {
        let flags = Flags {
            listen,
            peers,
            api_port,
            mdns,
            ..Flags::default()
        };
        Self::load(data_dir, flags, &[])
    }

    /// Resolves the config file, the environment (`env`, as from
    /// `std::env::vars`) and the flags, in rising order of precedence.
    pub fn load(data_dir: PathBuf, flags: Flags, env: &[(String, String)]) -> Result<Self, String> {
        let (path, must_exist) = config_path(&data_dir, flags.config.clone(), env);
        let mut table = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(text) => {
                    let t: toml::Table =
                        toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
                    toml::Value::Table(t.clone())
                        .try_into::<FileConfig>()
                        .map_err(|e| format!("{}: {}", p.display(), e.message()))?;
                    t
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                    toml::Table::new()
                }
                Err(e) => return Err(format!("cannot read the config file {}: {e}", p.display())),
            },
            None => toml::Table::new(),
        };
        let read = path.clone().filter(|p| p.exists());
        for (p, v) in env_overrides(env)? {
            set_path(&mut table, &p, v).map_err(|e| {
                format!(
                    "environment variable {ENV_PREFIX}{}: {e}; a variable sets either a whole value or keys inside a table, not both",
                    p.join("__").to_ascii_uppercase()
                )
            })?;
        }
        let strings = |v: &[String]| {
            toml::Value::Array(v.iter().map(|s| toml::Value::String(s.clone())).collect())
        };
        if !flags.listen.is_empty() {
            table.insert("listen".into(), strings(&flags.listen));
        }
        if !flags.peers.is_empty() {
            let mut all = match table.remove("peers") {
                Some(toml::Value::Array(a)) => a,
                _ => Vec::new(),
            };
            all.extend(flags.peers.iter().map(|s| toml::Value::String(s.clone())));
            table.insert("peers".into(), toml::Value::Array(all));
        }
        if let Some(p) = flags.api_port {
            table.insert("api_port".into(), toml::Value::Integer(p.into()));
        }
        if let Some(m) = flags.mdns {
            table.insert("mdns".into(), toml::Value::Boolean(m));
        }
        if let Some(g) = &flags.gateway {
            set_path(
                &mut table,
                &["gateway".into(), "listen".into()],
                toml::Value::String(g.clone()),
            )?;
        }
        let file: FileConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e| format!("configuration: {}", e.message()))?;
        let mut c = Self::from_file(data_dir, file)?;
        c.file = read;
        Ok(c)
    }

    fn from_file(data_dir: PathBuf, file: FileConfig) -> Result<Self, String> {
        let psk = load_swarm_key(&data_dir)?;
        let listen = if let Some(l) = file.listen {
            l
        } else if psk.is_some() {
            vec![format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}")]
        } else {
            vec![
                format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}"),
                format!("/ip4/0.0.0.0/udp/{DEFAULT_P2P_PORT}/quic-v1"),
            ]
        };
        if psk.is_some() {
            if let Some(q) = listen.iter().find(|a| a.contains("/quic")) {
                return Err(format!(
                    "{q} is a QUIC address, but a private network (swarm.key) runs over TCP only; listen on TCP addresses"
                ));
            }
        }
        let all_peers = file.peers.unwrap_or_default();
        let api_port = file.api_port.unwrap_or(DEFAULT_API_PORT);
        let api = SocketAddr::from(([127, 0, 0, 1], api_port));
        let gateway = match file.gateway {
            Some(GatewaySection { listen: Some(l), title }) => {
                Some(resolve_gateway(&l, title, api)?)
            }
            Some(GatewaySection { listen: None, title: Some(_) }) => {
                return Err("gateway.title is set but gateway.listen is not; set gateway.listen = \"0.0.0.0:8080\" to turn the gateway on".into())
            }
            _ => None,
        };
        let storage_max = match file.storage.as_ref().and_then(|s| s.max.as_ref()) {
            Some(v) => Some(v.bytes("storage.max")?),
            None => None,
        };
        let upload_limit = match file.net.as_ref().and_then(|s| s.upload_limit.as_ref()) {
            Some(v) => match v.bytes("net.upload_limit")? {
                0 => {
                    return Err(
                        "net.upload_limit must be above 0 (leave it out for no limit)".into(),
                    )
                }
                n => Some(n),
            },
            None => None,
        };
        let net = file.net.unwrap_or_default();
        let socks5 = match &net.socks5 {
            Some(s) => Some(resolve_proxy(s)?),
            None => None,
        };
        let in_dir = |p: PathBuf| if p.is_relative() { data_dir.join(p) } else { p };
        let tls = crate::transport::TlsOptions {
            cert: net.tls_cert.clone().map(in_dir),
            key: net.tls_key.clone().map(in_dir),
            trust: net
                .tls_trust
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(in_dir)
                .collect(),
        };
        let relay = match &file.relay {
            Some(r) => r.resolve()?,
            None => None,
        };
        let follow = file
            .follow
            .unwrap_or_default()
            .normalized()
            .map_err(|e| format!("[follow] in {}: {e}", files::CONFIG))?;
        Ok(Self {
            storage_max,
            upload_limit,
            follow,
            block: file.block.unwrap_or_default(),
            passphrase: None,
            listen: parse_addrs(&listen, "listen address")?,
            peers: parse_addrs(&all_peers, "peer address")?,
            api,
            // Behind a proxy the node stays quiet on the LAN unless asked.
            mdns: file.mdns.unwrap_or(socks5.is_none()),
            gateway,
            file: None,
            relay,
            socks5,
            tls,
            psk,
            data_dir,
        })
    }
}

impl Config {
    /// The effective configuration as TOML, every key with its value
    /// (`weftd --print-config`).
    pub fn to_toml(&self) -> String {
        use toml::Value as V;
        let strings = |it: &mut dyn Iterator<Item = String>| V::Array(it.map(V::String).collect());
        let path = |p: &Path| V::String(p.display().to_string());
        let mut t = toml::Table::new();
        t.insert(
            "listen".into(),
            strings(&mut self.listen.iter().map(|a| a.to_string())),
        );
        t.insert(
            "peers".into(),
            strings(&mut self.peers.iter().map(|a| a.to_string())),
        );
        t.insert("api_port".into(), V::Integer(self.api.port().into()));
        t.insert("mdns".into(), V::Boolean(self.mdns));
        match &self.relay {
            None => {
                t.insert("relay".into(), V::Boolean(false));
            }
            Some(r) => {
                let mut r2 = toml::Table::new();
                r2.insert("enabled".into(), V::Boolean(true));
                let int = |n: u64| V::Integer(i64::try_from(n).unwrap_or(i64::MAX));
                r2.insert("max_reservations".into(), int(r.max_reservations as u64));
                r2.insert(
                    "max_reservations_per_peer".into(),
                    int(r.max_reservations_per_peer as u64),
                );
                r2.insert("reservation_secs".into(), int(r.reservation.as_secs()));
                r2.insert("max_circuits".into(), int(r.max_circuits as u64));
                r2.insert(
                    "max_circuits_per_peer".into(),
                    int(r.max_circuits_per_peer as u64),
                );
                r2.insert("max_circuit_secs".into(), int(r.max_circuit.as_secs()));
                r2.insert("max_circuit_bytes".into(), int(r.max_circuit_bytes));
                t.insert("relay".into(), V::Table(r2));
            }
        }
        let mut storage = toml::Table::new();
        if let Some(m) = self.storage_max {
            storage.insert(
                "max".into(),
                V::Integer(i64::try_from(m).unwrap_or(i64::MAX)),
            );
        }
        t.insert("storage".into(), V::Table(storage));
        let mut net = toml::Table::new();
        if let Some(u) = self.upload_limit {
            net.insert(
                "upload_limit".into(),
                V::Integer(i64::try_from(u).unwrap_or(i64::MAX)),
            );
        }
        if let Some(p) = self.socks5 {
            net.insert("socks5".into(), V::String(p.to_string()));
        }
        if let Some(c) = &self.tls.cert {
            net.insert("tls_cert".into(), path(c));
        }
        if let Some(k) = &self.tls.key {
            net.insert("tls_key".into(), path(k));
        }
        net.insert(
            "tls_trust".into(),
            V::Array(self.tls.trust.iter().map(|p| path(p)).collect()),
        );
        t.insert("net".into(), V::Table(net));
        let table =
            |v: Result<V, toml::ser::Error>| v.unwrap_or_else(|_| V::Table(toml::Table::new()));
        t.insert("follow".into(), table(V::try_from(&self.follow)));
        t.insert("block".into(), table(V::try_from(&self.block)));
        let mut gw = toml::Table::new();
        if let Some(g) = &self.gateway {
            gw.insert("listen".into(), V::String(g.listen.to_string()));
            gw.insert("title".into(), V::String(g.title.clone()));
        }
        t.insert("gateway".into(), V::Table(gw));
        let from = match &self.file {
            Some(p) => format!("# read from {}", p.display()),
            None => "# no config file; defaults, environment and flags only".into(),
        };
        format!(
            "# weftd's effective configuration\n{from}\n# data dir: {}\n# keys left out are off or unlimited (storage.max, net.upload_limit, net.socks5, gateway.listen)\n\n{}",
            self.data_dir.display(),
            toml::to_string(&t).unwrap_or_default()
        )
    }
}

/// The gateway's address and title, checked.
fn resolve_gateway(
    listen: &str,
    title: Option<String>,
    api: SocketAddr,
) -> Result<GatewayConfig, String> {
    use std::net::ToSocketAddrs;
    let bad = |e: String| {
        format!("gateway.listen {listen:?} is not an address to listen on ({e}); for example \"0.0.0.0:8080\"")
    };
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("no address".into()))?;
    if addr.port() != 0 && addr.port() == api.port() {
        return Err(format!(
            "gateway.listen {listen:?} uses the local API's port {}; the public gateway must never share an origin with the API, so give it another port",
            api.port()
        ));
    }
    let title = title.unwrap_or_else(|| "weft".into());
    if title.trim().is_empty()
        || title.len() > MAX_GATEWAY_TITLE
        || title.chars().any(char::is_control)
    {
        return Err(format!(
            "gateway.title must be 1 to {MAX_GATEWAY_TITLE} bytes of text on one line"
        ));
    }
    Ok(GatewayConfig {
        listen: addr,
        title,
    })
}

/// The proxy's socket address from "host:port" (resolved once, at start).
fn resolve_proxy(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let bad = |e: String| {
        format!("net.socks5 {s:?} is not a proxy address ({e}); for Tor, \"127.0.0.1:9050\"")
    };
    s.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("no address".into()))
}

/// Reads `swarm.key` if there is one.
fn load_swarm_key(dir: &Path) -> Result<Option<libp2p::pnet::PreSharedKey>, String> {
    let path = dir.join(files::SWARM_KEY);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().map(Some).map_err(|e| {
            format!(
                "{} is not a private network key ({e:?}); it must hold three lines: /key/swarm/psk/1.0.0/, /base16/ and 64 hex digits (make one with `weftd --new-swarm-key`)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// A new random private network key in the key file format.
pub fn new_swarm_key() -> String {
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    libp2p::pnet::PreSharedKey::new(k).to_key_file()
}

/// Writes `bytes` to `path` atomically with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(files::CONFIG),
            "listen = [\"/ip4/127.0.0.1/tcp/5000\"]\npeers = [\"/ip4/127.0.0.1/tcp/5001\"]\napi_port = 9\n",
        )
        .unwrap();
        let c = Config::resolve(
            dir.path().into(),
            vec![],
            vec!["/ip4/127.0.0.1/tcp/5002".into()],
            Some(0),
            None,
        )
        .unwrap();
        assert_eq!(c.listen[0].to_string(), "/ip4/127.0.0.1/tcp/5000");
        assert_eq!(c.storage_max, None);
        assert_eq!(c.peers.len(), 2);
        assert_eq!(c.api.port(), 0);
        assert!(c.api.ip().is_loopback());
    }

    #[test]
    fn a_bad_multiaddr_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::resolve(
            dir.path().into(),
            vec!["localhost:4141".into()],
            vec![],
            None,
            None,
        )
        .unwrap_err();
        assert!(err.contains("not a multiaddr"), "{err}");
    }

    #[test]
    fn a_swarm_key_means_tcp_only_and_a_bad_one_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(files::SWARM_KEY), new_swarm_key()).unwrap();
        let c = Config::resolve(dir.path().into(), vec![], vec![], None, Some(false)).unwrap();
        assert!(c.psk.is_some() && !c.mdns);
        assert!(c.listen.iter().all(|a| !a.to_string().contains("quic")));
        let quic = vec!["/ip4/127.0.0.1/udp/0/quic-v1".to_string()];
        assert!(Config::resolve(dir.path().into(), quic, vec![], None, None).is_err());
        std::fs::write(dir.path().join(files::SWARM_KEY), "hello").unwrap();
        let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
        assert!(err.contains("not a private network key"), "{err}");
    }

    #[test]
    fn relay_proxy_and_tls_settings() {
        let dir = tempfile::tempdir().unwrap();
        let conf = |text: &str| {
            std::fs::write(dir.path().join(files::CONFIG), text).unwrap();
            Config::resolve(dir.path().into(), vec![], vec![], None, None)
        };
        let c = conf("relay = true\n").unwrap();
        assert_eq!(c.relay, Some(RelayLimits::default()));
        assert!(c.mdns && c.socks5.is_none());
        let c = conf("[relay]\nmax_circuits = 4\nmax_circuit_bytes = \"1 GiB\"\n").unwrap();
        let r = c.relay.unwrap();
        assert_eq!((r.max_circuits, r.max_circuit_bytes), (4, 1 << 30));
        assert_eq!(conf("[relay]\nenabled = false\n").unwrap().relay, None);
        assert!(conf("[relay]\nmax_circuits = 0\n")
            .unwrap_err()
            .contains("at least 1"));
        let c = conf(
            "[net]\nsocks5 = \"127.0.0.1:9050\"\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\"\n",
        )
        .unwrap();
        assert_eq!(c.socks5, Some("127.0.0.1:9050".parse().unwrap()));
        assert!(!c.mdns, "mDNS is off behind a proxy unless asked for");
        assert_eq!(c.tls.cert, Some(dir.path().join("c.pem")));
        assert_eq!(c.tls.key, Some(PathBuf::from("/k.pem")));
        let err = conf("[net]\nsocks5 = \"tor\"\n").unwrap_err();
        assert!(err.contains("not a proxy address"), "{err}");
    }

    #[test]
    fn an_unknown_config_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(files::CONFIG), "lisen = []\n").unwrap();
        assert!(Config::resolve(dir.path().into(), vec![], vec![], None, None).is_err());
    }

    #[test]
    fn quota_upload_limit_and_rules_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = weft_protocol::PublisherKey::from_seed([1; 32]).id();
        std::fs::write(
            dir.path().join(files::CONFIG),
            format!(
                "[storage]\nmax = \"2 GiB\"\n[net]\nupload_limit = 1048576\n[follow]\npublishers = [\"{key}\"]\nlangs = [\"pt-br\"]\ntags = [\"Training\"]\n[block]\npublishers = []\n"
            ),
        )
        .unwrap();
        let c = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap();
        assert_eq!(c.storage_max, Some(2 << 30));
        assert_eq!(c.upload_limit, Some(1 << 20));
        assert!(c.follow.publishers.contains(&key));
        assert!(c.follow.langs.contains("pt-BR"));
        assert!(c.follow.tags.contains("training"));
        std::fs::write(
            dir.path().join(files::CONFIG),
            "[storage]\nmax = \"lots\"\n",
        )
        .unwrap();
        let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
        assert!(err.contains("storage.max"), "{err}");
        std::fs::write(dir.path().join(files::CONFIG), "[storage]\nmaximum = 5\n").unwrap();
        let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
        assert!(err.contains("maximum"), "{err}");
    }
}
