//! The config file's tables, as serde reads them.

use super::*;

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
    pub follow: Option<crate::rules::Follow>,
    /// `[block]`: `publishers` never listed, mirrored or served.
    pub block: Option<crate::rules::Block>,
    /// `relay = true`, or a `[relay]` table with `enabled` and limits: run
    /// a circuit relay for peers behind NAT.
    pub relay: Option<RelaySetting>,
    /// `[gateway]`: the public read-only web gateway.
    pub gateway: Option<GatewaySection>,
    /// `[metrics]`: a listener of its own for `GET /metrics`.
    pub metrics: Option<MetricsSection>,
    /// `[trust]`: what the catalog keeps of publishers it does not trust.
    pub trust: Option<TrustSection>,
}

/// The `[trust]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Catalog entries kept of publishers in the seen tier, in all (0
    /// keeps none: a hub that stores and forwards only trusted and vouched
    /// publishers).
    pub unknown_entries: Option<usize>,
    /// Entries one seen publisher may have.
    pub unknown_per_publisher: Option<u32>,
    /// Entries of seen publishers taken from one peer per second.
    pub unknown_rate: Option<u32>,
    /// Steps of vouching that carry trust (0 to 3; 0 turns vouching off).
    pub vouch_depth: Option<u8>,
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

/// The `[metrics]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Address to serve `GET /metrics` on, without a token
    /// ("127.0.0.1:9464"); off when absent (the local API serves it with
    /// the token either way).
    pub listen: Option<String>,
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

impl RelaySetting {
    /// The limits if the relay is on.
    pub(super) fn resolve(&self) -> Result<Option<RelayLimits>, String> {
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
    pub(super) fn bytes(&self, what: &str) -> Result<u64, String> {
        match self {
            SizeValue::Bytes(n) => Ok(*n),
            SizeValue::Text(t) => {
                weft_protocol::units::parse_size(t).map_err(|e| format!("{what}: {e}"))
            }
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
    /// `"auto"` (ask peers to dial back) or `"private"` (this node is
    /// behind a NAT or firewall: reserve relay slots at once).
    pub reachability: Option<String>,
    /// `"normal"` or `"hidden"`: no listener, no own addresses announced,
    /// peers reached only through the configured hubs and their relays.
    pub privacy: Option<String>,
    /// Relays (`/…/p2p/<relay>`) to hold a slot on at all times, so that
    /// people who cannot reach this node directly reach it through them;
    /// invites carry the relayed addresses.
    pub relays: Option<Vec<String>>,
}
