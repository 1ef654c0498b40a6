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

pub use crate::net::RelayLimits;
use serde::Deserialize;

/// File names inside the data dir.
pub use weft_protocol::layout as files;

mod env;
mod file;
mod print;
#[cfg(test)]
mod tests;

use env::*;
pub use file::*;

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

/// The gateway's resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Name shown on the pages.
    pub title: String,
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
    pub follow: crate::rules::Follow,
    /// Block rules from the config file.
    pub block: crate::rules::Block,
    /// The publisher key's passphrase, read by `weftd --passphrase-fd`,
    /// so the node can sign without asking.
    pub passphrase: Option<String>,
    /// Run a circuit relay with these limits.
    pub relay: Option<RelayLimits>,
    /// Dial every peer through this SOCKS5 proxy.
    pub socks5: Option<SocketAddr>,
    /// `net.reachability = "private"`: known to be unreachable from
    /// outside, so relay slots are reserved at once, without AutoNAT.
    pub private_reach: bool,
    /// `net.privacy = "hidden"` (or `--hidden`): no listener, no own
    /// addresses announced, direct connections only to the configured
    /// hubs and relays.
    pub hidden: bool,
    /// `net.relays`: relays to hold a slot on at all times.
    pub relays: Vec<Multiaddr>,
    /// WebSocket TLS certificate, key and extra trust.
    pub tls: crate::net::transport::TlsOptions,
    /// The public gateway, if it is on.
    pub gateway: Option<GatewayConfig>,
    /// Where `GET /metrics` is served without a token (`metrics.listen`).
    pub metrics: Option<SocketAddr>,
    /// What the catalog keeps of publishers it does not trust.
    pub trust: TrustConfig,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
}

/// The `[trust]` settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustConfig {
    /// The unknown tier's share of the catalog, and each peer's rate.
    pub limits: crate::catalog::Limits,
    /// Steps of vouching that carry trust from a trusted publisher.
    pub vouch_depth: u8,
}

impl Default for TrustConfig {
    fn default() -> Self {
        Self {
            limits: Default::default(),
            vouch_depth: 1,
        }
    }
}

/// Most entries the unknown tier may be given (about 4 KiB each at most).
pub const MAX_UNKNOWN_ENTRIES: usize = 1_000_000;

impl TrustConfig {
    fn resolve(t: Option<file::TrustSection>) -> Result<Self, String> {
        let t = t.unwrap_or_default();
        let d = Self::default();
        let entries = t.unknown_entries.unwrap_or(d.limits.unknown_entries);
        if entries > MAX_UNKNOWN_ENTRIES {
            return Err(format!(
                "trust.unknown_entries is {entries}; at most {MAX_UNKNOWN_ENTRIES}"
            ));
        }
        let per = t
            .unknown_per_publisher
            .unwrap_or(d.limits.unknown_per_publisher);
        if per == 0 || per > 100_000 {
            return Err("trust.unknown_per_publisher must be 1 to 100000".into());
        }
        let rate = t.unknown_rate.unwrap_or(d.limits.unknown_rate);
        if rate == 0 || rate > 100_000 {
            return Err("trust.unknown_rate must be 1 to 100000 entries a second".into());
        }
        let vouch_depth = t.vouch_depth.unwrap_or(d.vouch_depth);
        if vouch_depth > 3 {
            return Err("trust.vouch_depth must be 0 to 3".into());
        }
        Ok(Self {
            vouch_depth,
            limits: crate::catalog::Limits {
                unknown_entries: entries,
                unknown_per_publisher: per,
                // Each entry is at most 4 KiB; half that on average.
                unknown_bytes_per_publisher: u64::from(per) * 2048,
                unknown_rate: rate,
            },
        })
    }
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
    /// `--hidden`.
    pub hidden: bool,
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
        if flags.hidden {
            set_path(
                &mut table,
                &["net".into(), "privacy".into()],
                toml::Value::String("hidden".into()),
            )?;
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
        let metrics = match file.metrics.and_then(|m| m.listen) {
            Some(l) => Some(resolve_listen(&l, "metrics.listen", api)?),
            None => None,
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
        let tls = crate::net::transport::TlsOptions {
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
        let private_reach = match net.reachability.as_deref() {
            None | Some("auto") => false,
            Some("private") => true,
            Some(other) => {
                return Err(format!(
                    "net.reachability is \"auto\" or \"private\", not {other:?}"
                ))
            }
        };
        let hidden = match net.privacy.as_deref() {
            None | Some("normal") => false,
            Some("hidden") => true,
            Some(other) => {
                return Err(format!(
                    "net.privacy is \"normal\" or \"hidden\", not {other:?}"
                ))
            }
        };
        let relays = parse_addrs(
            &net.relays.clone().unwrap_or_default(),
            "net.relays address",
        )?;
        for r in &relays {
            let ends_in_peer = matches!(r.iter().last(), Some(libp2p::multiaddr::Protocol::P2p(_)));
            if !ends_in_peer
                || r.iter()
                    .any(|p| p == libp2p::multiaddr::Protocol::P2pCircuit)
            {
                return Err(format!(
                    "net.relays: {r} is not a relay's own address; give it as /ip4/…/tcp/…/p2p/<relay's peer id>"
                ));
            }
        }
        if hidden {
            if relay.is_some() {
                return Err("a hidden node (net.privacy = \"hidden\") cannot relay for others: relaying needs an address peers can reach. Remove [relay] or the hidden mode".into());
            }
            if gateway.is_some() {
                return Err("a hidden node (net.privacy = \"hidden\") cannot serve a public gateway: it would show its address to every visitor. Remove gateway.listen or the hidden mode".into());
            }
            if file.mdns == Some(true) {
                return Err("a hidden node (net.privacy = \"hidden\") runs no mDNS: mDNS announces its address on the LAN. Remove mdns = true or the hidden mode".into());
            }
        }
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
            // A hidden node opens no listener at all: it is reached
            // through the slots it holds on its hubs' relays.
            listen: if hidden {
                Vec::new()
            } else {
                parse_addrs(&listen, "listen address")?
            },
            peers: parse_addrs(&all_peers, "peer address")?,
            api,
            // Behind a proxy the node stays quiet on the LAN unless asked.
            mdns: file.mdns.unwrap_or(socks5.is_none() && !hidden),
            gateway,
            metrics,
            trust: TrustConfig::resolve(file.trust)?,
            file: None,
            relay,
            socks5,
            // A hidden node knows it cannot be reached directly.
            private_reach: private_reach || hidden,
            hidden,
            relays,
            tls,
            psk,
            data_dir,
        })
    }
}

/// An address to listen on beside the API (`key` names the setting):
/// resolved, and never on the API's port.
fn resolve_listen(listen: &str, key: &str, api: SocketAddr) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let bad = |e: String| {
        format!(
            "{key} {listen:?} is not an address to listen on ({e}); for example \"0.0.0.0:8080\""
        )
    };
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("no address".into()))?;
    if addr.port() != 0 && addr.port() == api.port() {
        return Err(format!(
            "{key} {listen:?} uses the local API's port {}; it must never share an origin with the API, so give it another port",
            api.port()
        ));
    }
    Ok(addr)
}

/// The gateway's address and title, checked.
fn resolve_gateway(
    listen: &str,
    title: Option<String>,
    api: SocketAddr,
) -> Result<GatewayConfig, String> {
    let addr = resolve_listen(listen, "gateway.listen", api)?;
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
    std::fs::rename(&tmp, path)?;
    // The rename is durable only once its folder is synced.
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a folder's entries (files created, renamed or removed in it)
/// durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)?.sync_all()
}
