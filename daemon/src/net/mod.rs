//! The network actor: one task owns the libp2p swarm, and it owns only
//! libp2p state.
//!
//! Everything else talks to it through a cloneable [`Client`], a bounded
//! channel of [`Command`]s, each carrying its own `oneshot` reply. What the
//! network hears that the rest of the daemon must answer leaves through
//! [`Outlets`], a set of bounded channels: inbound transfer requests
//! ([`InboundRequest`], answered by [`crate::serve`]), inbound catalog
//! requests ([`InboundSync`], also [`crate::serve`]), gossip messages to
//! verify ([`GossipMessage`], [`crate::catalog::ingest`]) and peer events
//! ([`PeerEvent`], [`crate::sync`]). Their answers come back as commands
//! ([`Client::respond`], [`Client::respond_sync`], [`Client::verdict`]).
//! The loop never waits on an outlet: when one is full, the request is
//! refused or the message ignored, and it is counted.
//!
//! The loop ends when every `Client` is gone or shutdown is requested.
//!
//! Not here: the store, the catalog, the holdings, deciding what to fetch
//! or publish, or anything about the local API. The peer book is reached
//! through the [`AddressBook`] trait.

pub mod behaviour;
pub mod blocks;
pub mod client;
pub mod codec;
mod event_loop;
pub mod hidden;
mod inbound;
pub mod kad_store;
pub mod ladder;
mod listen;
pub mod observed;
mod providing;
mod reach;
pub mod socks;
pub mod streams;
pub mod transport;

use std::time::Duration;

use libp2p::gossipsub::MessageId;
use libp2p::kad;
use libp2p::request_response::{InboundRequestId, ResponseChannel};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use weft_protocol::sync::{SyncRequest, SyncResponse};
use weft_protocol::{BundleId, Request, Response};

pub use behaviour::{
    build_swarm, gossipsub_config, peer_score, Behaviour, OnlyWeftTopic, MAX_GOSSIP_FRAME_BYTES,
    WRONG_TOPIC_MARKER,
};
pub use client::{Client, Command};
pub use event_loop::{spawn, start, EventLoop, Parts};
pub use reach::{
    transport_label, BootstrapInfo, HolePunch, NatStatus, NetInfo, PeerInfo, Reachability,
    RelayServerInfo, ReservationInfo,
};

/// Commands queued for the swarm task. Small: callers wait when it is full.
pub const COMMAND_CHANNEL: usize = 256;
/// Inbound transfer requests waiting to be answered. Each is also counted
/// against [`MAX_INBOUND_PER_PEER`] and [`MAX_INBOUND_TOTAL`], so this
/// never fills in practice; when it does, the request is refused.
pub const REQUEST_QUEUE: usize = MAX_INBOUND_TOTAL;
/// Inbound catalog requests waiting to be answered; beyond this they are
/// refused and the peer tries again at its next round.
pub const SYNC_REQUEST_QUEUE: usize = 64;
/// Peer events (connected, disconnected, hints) waiting for the syncer.
pub const PEER_EVENTS: usize = 256;
/// Gossip messages waiting for verification. When full, new messages are
/// ignored (not forwarded, not penalised) rather than queued without bound.
pub const VALIDATION_QUEUE: usize = 1024;
/// Own announcements waiting for a first gossip peer.
pub const PENDING_ANNOUNCEMENTS: usize = 256;
/// Established connections, in total.
pub const MAX_CONNECTIONS: u32 = 256;
/// Established connections to one peer. Hole punching needs room for
/// four: the relayed connection, and, when both sides' QUIC dials get
/// through (a router that lets anyone in), one direct connection dialled
/// by each side, which QUIC does not merge; with room for two, each side
/// refused the other's and both direct connections closed at once. The
/// fourth is for a node reached over both TCP and QUIC.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 4;
/// Incoming connections still in their handshake.
pub const MAX_PENDING_INCOMING: u32 = 64;
/// Requests one peer may have in flight with us, counted until the response
/// has been written to its stream (not merely handed to libp2p), so a peer
/// that never reads cannot make us hold more than this many responses.
pub const MAX_INBOUND_PER_PEER: usize = 16;
/// Requests all peers together may have in flight with us. Blocks move on
/// their own streams (`crate::serve::blocks`); these are manifests.
pub const MAX_INBOUND_TOTAL: usize = 128;
/// Request-response streams per connection, both directions together: a
/// peer's requests plus a few of our fetches' windows.
pub const MAX_STREAMS_PER_CONNECTION: usize = 64;
/// How long to wait for a peer's response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a peer that sent bad data is refused.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Most banned peers remembered; the oldest ban is forgotten first.
pub const MAX_BANNED: usize = 4096;
/// How often configured peers are redialled when not connected.
pub const REDIAL_INTERVAL: Duration = Duration::from_secs(15);
/// The Kademlia protocol name: weft nodes keep their own DHT.
pub const KAD_PROTOCOL: &str = "/weft/kad/1";
/// Reconciliation streams per connection, both directions together.
pub const MAX_SYNC_STREAMS_PER_CONNECTION: usize = 8;
/// Peers from the peer book dialled at start and whenever fewer than
/// [`MIN_PEERS`] are connected.
pub const BOOK_DIALS: usize = 16;
/// Peers found on the LAN by mDNS kept for redialling (4 addresses each).
pub const MAX_LAN_PEERS: usize = 64;
/// Below this many connections the peer book is dialled.
pub const MIN_PEERS: usize = 4;
/// Provider records being published at once.
pub const MAX_PROVIDE_QUERIES: usize = 4;
/// How long other nodes keep one of our provider records.
pub const PROVIDER_RECORD_TTL: Duration = Duration::from_secs(48 * 3600);
/// Longest wait for a DHT provider lookup.
pub const PROVIDER_QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Most keys this node keeps provider records for on behalf of others (at
/// most 20 providers per key).
pub const MAX_PROVIDER_RECORDS: usize = 1 << 16;
/// Most bundles this node provides itself: a hub holding more is found
/// through the catalog and its peers for the rest, not through the DHT.
/// (The hub benchmark found the old cap, 65,536, short of a hub of
/// 100,000 bundles.)
pub const MAX_PROVIDED_KEYS: usize = 1 << 18;

/// Relays a node behind NAT holds reservations on at once.
pub const MAX_RELAYS: usize = 2;
/// How long after start the first reachability probe runs.
pub const AUTONAT_BOOT_DELAY: Duration = Duration::from_secs(5);
/// How often reachability is probed again while it is uncertain.
pub const AUTONAT_RETRY: Duration = Duration::from_secs(30);
/// How often reachability is probed again once it is certain.
pub const AUTONAT_REFRESH: Duration = Duration::from_secs(10 * 60);

/// Network options from the config.
#[derive(Clone, Default)]
pub struct NetOptions {
    /// Find peers on the LAN with mDNS.
    pub mdns: bool,
    /// Transports: private network key, SOCKS5 proxy, WebSocket TLS.
    pub transport: transport::TransportOptions,
    /// Run a circuit relay for others, with these limits.
    pub relay: Option<RelayLimits>,
    /// Known to be unreachable from outside (`net.reachability =
    /// "private"`): no AutoNAT, relay slots reserved at once.
    pub private_reach: bool,
    /// Hidden mode (`net.privacy = "hidden"`): see [`hidden`].
    pub hidden: bool,
    /// Direct dials allowed in hidden mode (none without a proxy).
    pub gate: Option<std::sync::Arc<hidden::DirectGate>>,
    /// Relays to hold a slot on at all times (`net.relays`).
    pub relays: Vec<Multiaddr>,
}

impl NetOptions {
    /// Whether the node tells peers its own addresses: not behind a proxy,
    /// and not hidden.
    pub fn announces_own(&self) -> bool {
        self.transport.socks5.is_none() && !self.hidden
    }
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

/// A network operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetError {
    /// The swarm task has stopped (the daemon is shutting down).
    #[error("the network task has stopped")]
    Stopped,
    /// Dialing failed.
    #[error("could not connect to {addr}: {reason}")]
    Dial {
        /// Where.
        addr: String,
        /// Why.
        reason: String,
    },
    /// A request to a peer failed.
    #[error("request to {peer} failed: {reason}")]
    Request {
        /// Which peer.
        peer: PeerId,
        /// Why.
        reason: String,
    },
}

/// Key of a bundle's provider record in the DHT.
pub(crate) fn provider_key(id: &BundleId) -> kad::RecordKey {
    kad::RecordKey::new(id.as_bytes())
}

/// An inbound transfer request, admitted against the per-peer and global
/// limits, for the serving side to answer with [`Client::respond`].
pub struct InboundRequest {
    /// Who asks.
    pub peer: PeerId,
    /// Which request, for the limits' bookkeeping.
    pub id: InboundRequestId,
    /// What it asks for.
    pub request: Request,
    /// Where the answer goes.
    pub channel: ResponseChannel<Response>,
}

/// An inbound catalog request (reconcile or get), for the serving side to
/// answer with [`Client::respond_sync`].
pub struct InboundSync {
    /// Who asks.
    pub peer: PeerId,
    /// What it asks.
    pub request: SyncRequest,
    /// Where the answer goes.
    pub channel: ResponseChannel<SyncResponse>,
}

/// A gossip message on the announcement topic, to verify and report on
/// with [`Client::verdict`]. Gossipsub forwards nothing before that.
pub struct GossipMessage {
    /// Its id (the hash of its content).
    pub id: MessageId,
    /// The peer that sent it to us.
    pub source: PeerId,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// What becomes of a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: keep it and forward it.
    Accept,
    /// Do not forward, but do not blame the sender either.
    Ignore,
    /// Invalid: drop it and penalise the sender.
    Reject,
}

/// What the network tells the syncer about peers.
#[derive(Debug)]
pub enum PeerEvent {
    /// A first connection to a peer opened.
    Connected {
        /// Who.
        peer: PeerId,
        /// Whether we dialled: the dialler starts the first session.
        dialer: bool,
    },
    /// The last connection to a peer closed.
    Disconnected(PeerId),
    /// A peer says it has catalog entries we lack.
    Hint(PeerId),
}

/// Where the network hands over what others must answer. Every channel is
/// bounded; the loop uses `try_send` and never waits on them.
pub struct Outlets {
    /// Inbound transfer requests.
    pub requests: mpsc::Sender<InboundRequest>,
    /// Inbound catalog requests.
    pub sync_requests: mpsc::Sender<InboundSync>,
    /// Gossip messages to verify.
    pub gossip: mpsc::Sender<GossipMessage>,
    /// Peer events for the syncer.
    pub peers: mpsc::Sender<PeerEvent>,
    /// Signalled when the node has a peer again after having none.
    pub online: std::sync::Arc<tokio::sync::Notify>,
}

/// The receiving ends of [`Outlets`].
pub struct Inlets {
    /// Inbound transfer requests.
    pub requests: mpsc::Receiver<InboundRequest>,
    /// Inbound catalog requests.
    pub sync_requests: mpsc::Receiver<InboundSync>,
    /// Gossip messages to verify.
    pub gossip: mpsc::Receiver<GossipMessage>,
    /// Peer events for the syncer.
    pub peers: mpsc::Receiver<PeerEvent>,
    /// Signalled when the node has a peer again after having none.
    pub online: std::sync::Arc<tokio::sync::Notify>,
}

/// A connected pair of [`Outlets`] and [`Inlets`], each channel with its
/// named capacity.
pub fn outlets() -> (Outlets, Inlets) {
    let (requests, requests_rx) = mpsc::channel(REQUEST_QUEUE);
    let (sync_requests, sync_rx) = mpsc::channel(SYNC_REQUEST_QUEUE);
    let (gossip, gossip_rx) = mpsc::channel(VALIDATION_QUEUE);
    let (peers, peers_rx) = mpsc::channel(PEER_EVENTS);
    let online = std::sync::Arc::new(tokio::sync::Notify::new());
    (
        Outlets {
            requests,
            sync_requests,
            gossip,
            peers,
            online: online.clone(),
        },
        Inlets {
            requests: requests_rx,
            sync_requests: sync_rx,
            gossip: gossip_rx,
            peers: peers_rx,
            online,
        },
    )
}

/// The peer book, as the network sees it: where to dial, and where to
/// write down the addresses peers tell us.
pub trait AddressBook: Send + Sync + 'static {
    /// Remembers a peer's listen addresses. May block: the loop calls it on
    /// the blocking pool.
    fn record(&self, peer: PeerId, addrs: &[Multiaddr]);
    /// Peers worth dialling, best first, at most `limit`.
    fn candidates(&self, limit: usize) -> Vec<(PeerId, Vec<Multiaddr>)>;
    /// Peers to show as bootstrap peers.
    fn bootstrap(&self) -> Vec<PeerId>;
    /// The way (`direct`, `websocket`, `relay`) that reached `peer` last.
    fn way(&self, peer: &PeerId) -> Option<String>;
    /// Notes the way that reached `peer`. May block.
    fn set_way(&self, peer: PeerId, way: &str);
}

/// Most addresses remembered per peer.
pub const MAX_ADDRS: usize = 8;

/// Whether an address is worth remembering: a concrete IP and port.
pub fn dialable(addr: &Multiaddr) -> bool {
    use libp2p::multiaddr::Protocol;
    let mut it = addr.iter();
    let ip_ok = match it.next() {
        Some(Protocol::Ip4(ip)) => !ip.is_unspecified(),
        Some(Protocol::Ip6(ip)) => !ip.is_unspecified(),
        Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)) => true,
        _ => false,
    };
    let port_ok = match it.next() {
        Some(Protocol::Tcp(p) | Protocol::Udp(p)) => p != 0,
        _ => false,
    };
    ip_ok && port_ok
}

/// `addr` ending in `/p2p/<peer>`.
pub fn with_peer(addr: Multiaddr, peer: PeerId) -> Multiaddr {
    use libp2p::multiaddr::Protocol;
    match addr.iter().last() {
        Some(Protocol::P2p(_)) => addr,
        _ => addr.with(Protocol::P2p(peer)),
    }
}
