//! Where the daemon keeps its files and how it is configured.
//!
//! The data dir is `--data-dir`, else `$WEFT_HOME`, else
//! `$XDG_DATA_HOME/weft`, else `~/.local/share/weft`. An optional
//! `config.toml` in it sets the same things as the flags; flags win.

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
}

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
    /// Resolves flags and the config file.
    pub fn resolve(
        data_dir: PathBuf,
        listen: Vec<String>,
        peers: Vec<String>,
        api_port: Option<u16>,
        mdns: Option<bool>,
    ) -> Result<Self, String> {
        let file = load_file(&data_dir)?;
        let psk = load_swarm_key(&data_dir)?;
        let listen = if !listen.is_empty() {
            listen
        } else if let Some(l) = file.listen {
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
        let mut all_peers = file.peers.unwrap_or_default();
        all_peers.extend(peers);
        let api_port = api_port.or(file.api_port).unwrap_or(DEFAULT_API_PORT);
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
            api: SocketAddr::from(([127, 0, 0, 1], api_port)),
            // Behind a proxy the node stays quiet on the LAN unless asked.
            mdns: mdns.or(file.mdns).unwrap_or(socks5.is_none()),
            relay,
            socks5,
            tls,
            psk,
            data_dir,
        })
    }
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

fn load_file(dir: &Path) -> Result<FileConfig, String> {
    let path = dir.join(files::CONFIG);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
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
