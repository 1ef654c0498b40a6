//! The network actor: one task owns the libp2p swarm.
//!
//! Everything else talks to it through a cloneable [`Client`], a bounded
//! channel of [`Command`]s, each carrying its own `oneshot` reply. Work that
//! could be slow (verifying announcements, reading the store to answer a
//! peer) never runs in the loop: it is spawned, and its result comes back on
//! a bounded internal channel. The loop ends when every `Client` is gone.
//!
//! Not here: deciding what to fetch (the fetcher), what to publish (the
//! publisher), or anything about the local API.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::core::ConnectedPoint;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId, TopicHash};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{
    self, InboundRequestId, OutboundRequestId, ProtocolSupport, ResponseChannel,
};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, NetworkBehaviour, SwarmEvent};
use libp2p::{
    autonat, connection_limits, dcutr, identify, identity, kad, mdns, noise, ping, relay, yamux,
    Multiaddr, PeerId, StreamProtocol, Swarm,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};
use weft_protocol::limits::MAX_ANNOUNCEMENT_BYTES;
use weft_protocol::sync::{reconcile, SyncRequest, SyncResponse, FRAME_BYTES, SYNC_PROTOCOL};
use weft_protocol::wire::{ANNOUNCE_TOPIC, XFER_PROTOCOL};
use weft_protocol::{BundleId, CatalogEntry, Request, Response};

use crate::catalog::Catalog;
use crate::codec::{SyncCodec, XferCodec};
use crate::metrics::Metrics;
use crate::peerbook::{self, PeerBook};
use crate::store::Store;
use crate::sync::SyncEvent;

/// Commands queued for the swarm task. Small: callers wait when it is full.
pub const COMMAND_CHANNEL: usize = 256;
/// Results of spawned work coming back to the loop.
pub const INTERNAL_CHANNEL: usize = 1024;
/// Gossip messages waiting for verification. When full, new messages are
/// ignored (not forwarded, not penalised) rather than queued without bound.
pub const VALIDATION_QUEUE: usize = 1024;
/// Own announcements waiting for a first gossip peer.
pub const PENDING_ANNOUNCEMENTS: usize = 256;
/// Established connections, in total.
pub const MAX_CONNECTIONS: u32 = 256;
/// Established connections to one peer.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Incoming connections still in their handshake.
pub const MAX_PENDING_INCOMING: u32 = 64;
/// Requests one peer may have in flight with us, counted until the response
/// has been written to its stream (not merely handed to libp2p), so a peer
/// that never reads cannot make us hold more than this many responses.
pub const MAX_INBOUND_PER_PEER: usize = 16;
/// Requests all peers together may have in flight with us. With 1 MiB
/// chunks this bounds responses waiting to be written to about 128 MiB.
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
/// Below this many connections the peer book is dialled.
pub const MIN_PEERS: usize = 4;
/// Provider records being published at once.
pub const MAX_PROVIDE_QUERIES: usize = 4;
/// How often every held bundle is provided again. Records live for
/// [`PROVIDER_RECORD_TTL`], so one missed round loses nothing.
pub const REPROVIDE_INTERVAL: Duration = Duration::from_secs(12 * 3600);
/// How long other nodes keep one of our provider records.
pub const PROVIDER_RECORD_TTL: Duration = Duration::from_secs(48 * 3600);
/// Longest wait for a DHT provider lookup.
pub const PROVIDER_QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Most keys this node keeps provider records for on behalf of others, and
/// most keys it provides itself (at most 20 providers per key).
pub const MAX_PROVIDER_RECORDS: usize = 1 << 16;

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
    pub transport: crate::transport::TransportOptions,
    /// Run a circuit relay for others, with these limits.
    pub relay: Option<crate::config::RelayLimits>,
}

/// The behaviours a weft node runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Caps connections so a flood of dials cannot exhaust the node.
    pub limits: connection_limits::Behaviour,
    /// Announcements.
    pub gossipsub: gossipsub::Behaviour<OnlyWeftTopic, gossipsub::WhitelistSubscriptionFilter>,
    /// Manifests and chunks.
    pub xfer: request_response::Behaviour<XferCodec>,
    /// Catalog reconciliation.
    pub sync: request_response::Behaviour<SyncCodec>,
    /// The DHT: one provider record per held bundle.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// LAN discovery, when switched on.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// Learns peers' listen addresses and agent versions.
    pub identify: identify::Behaviour,
    /// Keeps connections alive and measures round trips.
    pub ping: ping::Behaviour,
    /// A circuit relay for peers behind NAT, on hubs with `relay = true`.
    pub relay: Toggle<relay::Behaviour>,
    /// Reserves slots on relays and dials through them.
    pub relay_client: relay::client::Behaviour,
    /// Asks peers to dial back, to learn whether this node is reachable
    /// (off behind a proxy, where the answer is always no).
    pub autonat: Toggle<autonat::Behaviour>,
    /// Turns relayed connections into direct ones where the NATs allow.
    pub dcutr: Toggle<dcutr::Behaviour>,
}

/// Most bytes in one gossipsub frame (and in a stream's read buffer).
pub const MAX_GOSSIP_FRAME_BYTES: usize = 64 * 1024;

/// The gossipsub configuration every weft node uses.
///
/// Messages are anonymous: an announcement proves itself with the
/// publisher's signature, so there is no reason to stamp the originating
/// node's PeerId on it (which would tell observers where a bundle came
/// from). The message id is the blake3 hash of the content, and every
/// message is validated before it is forwarded.
pub fn gossipsub_config() -> Result<gossipsub::Config, String> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m| MessageId::from(blake3::hash(&m.data).as_bytes().to_vec()))
        // One announcement plus the RPC's framing, per message.
        .max_transmit_size_for_topic(
            MAX_ANNOUNCEMENT_BYTES + 1024,
            IdentTopic::new(ANNOUNCE_TOPIC).hash(),
        )
        // gossipsub 0.50.1 compares this limit with everything waiting in
        // the stream's read buffer, not with one frame. The buffer holds
        // the rest of one frame plus one 8 KiB read, so the limit must stay
        // well above a frame; at the announcement limit it would close the
        // stream of any honest peer that sends a burst.
        .max_transmit_size(MAX_GOSSIP_FRAME_BYTES)
        .build()
        .map_err(|e| e.to_string())
}

/// The first bytes of what [`OnlyWeftTopic`] hands on in place of a
/// message on a topic weft does not use. 0xff is a CBOR "break" and can
/// never begin a catalog entry.
pub const WRONG_TOPIC_MARKER: &[u8] = b"\xffweft:wrong-topic:";

/// Gossipsub caches every message it receives (for 5 heartbeats, and its
/// id for a minute) before it looks at the topic, and tells the
/// application nothing about messages on topics it is not subscribed to.
/// A peer could flood such messages unseen and unpunished. This transform
/// turns each one into a small marker message on the announcement topic
/// (a marker plus a hash, never the payload), so the event loop learns who
/// sent it, refuses it and bans the sender. No honest node sends it: weft
/// nodes only ever subscribe to the announcement topic, and gossipsub only
/// sends a topic's messages to that topic's subscribers.
#[derive(Clone)]
pub struct OnlyWeftTopic {
    topic: TopicHash,
}

impl Default for OnlyWeftTopic {
    fn default() -> Self {
        Self {
            topic: IdentTopic::new(ANNOUNCE_TOPIC).hash(),
        }
    }
}

impl gossipsub::DataTransform for OnlyWeftTopic {
    fn inbound_transform(
        &self,
        raw: gossipsub::RawMessage,
    ) -> Result<gossipsub::Message, std::io::Error> {
        if raw.topic == self.topic {
            return Ok(gossipsub::Message {
                source: raw.source,
                data: raw.data,
                sequence_number: raw.sequence_number,
                topic: raw.topic,
            });
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(raw.topic.as_str().len() as u64).to_le_bytes());
        hasher.update(raw.topic.as_str().as_bytes());
        hasher.update(&raw.data);
        let mut data = WRONG_TOPIC_MARKER.to_vec();
        data.extend_from_slice(hasher.finalize().as_bytes());
        Ok(gossipsub::Message {
            source: None,
            data,
            sequence_number: None,
            topic: self.topic.clone(),
        })
    }

    fn outbound_transform(
        &self,
        _topic: &TopicHash,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, std::io::Error> {
        Ok(data)
    }
}

/// Peer-score parameters; `docs/security.md` explains each choice.
///
/// Announcements are rare, so the parameters that reward traffic are kept
/// small and slow, and the ones that punish lying are large: one invalid
/// message outweighs everything a peer can earn.
pub fn peer_score(
    topic: &TopicHash,
) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let mut params = gossipsub::PeerScoreParams {
        // What a topic can add, at most: P1 (1) + P2 (10).
        topic_score_cap: 11.0,
        // P7: broken IWANT promises and GRAFTs during a backoff. One costs
        // -10 (the gossip threshold), two -40; it fades by 10% a second.
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_threshold: 0.0,
        behaviour_penalty_decay: 0.9,
        ..Default::default()
    };
    // Nodes on one machine (tests, a hub's own helpers) share an address;
    // that is not a sybil signal.
    params
        .ip_colocation_factor_whitelist
        .insert("127.0.0.1".parse().expect("literal"));
    params
        .ip_colocation_factor_whitelist
        .insert("::1".parse().expect("literal"));
    let topic_params = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        // P1, time in the mesh: +0.01 a second, at most +1 after 100 s.
        // (The default, +1 a millisecond up to 3600, would let any mesh
        // peer shrug off dozens of forgeries.)
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 100.0,
        // P2, first deliveries: +1 each, at most +10, with a half-life of
        // about 40 minutes, so a peer that brought news lately rides out
        // quiet spells.
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9997,
        first_message_deliveries_cap: 10.0,
        // P3, mesh deliveries: a mesh peer that has delivered less than one
        // announcement (decaying with a half-life of about 4 minutes),
        // after 30 s in the mesh, costs up to -1. It is pruned, and P3b
        // keeps the same -1 for about 13 minutes so it is not grafted
        // straight back. A peer that never forwards ends below zero.
        mesh_message_deliveries_weight: -1.0,
        mesh_message_deliveries_decay: 0.997,
        mesh_message_deliveries_cap: 10.0,
        mesh_message_deliveries_threshold: 1.0,
        mesh_message_deliveries_window: Duration::from_secs(2),
        mesh_message_deliveries_activation: Duration::from_secs(30),
        mesh_failure_penalty_weight: -1.0,
        mesh_failure_penalty_decay: 0.997,
        // P4: one forged announcement costs -100, past the graylist
        // threshold at once; it fades by 1% a second (graylisted for about
        // 20 s, below zero for about 4 minutes).
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.99,
    };
    params.topics.insert(topic.clone(), topic_params);
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: -80.0,
        // Peer exchange is off; this only matters if it is switched on.
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 2.0,
    };
    (params, thresholds)
}

impl Behaviour {
    /// Builds the behaviours for a node key.
    pub fn new(
        key: &identity::Keypair,
        relay_client: relay::client::Behaviour,
        opts: &NetOptions,
    ) -> Result<Self, String> {
        let topic = IdentTopic::new(ANNOUNCE_TOPIC);
        // Subscriptions to other topics are dropped on arrival, so a peer
        // cannot grow this node's topic tables.
        let mut gossipsub = gossipsub::Behaviour::new_with_subscription_filter_and_transform(
            gossipsub::MessageAuthenticity::Anonymous,
            gossipsub_config()?,
            gossipsub::WhitelistSubscriptionFilter(HashSet::from([topic.hash()])),
            OnlyWeftTopic::default(),
        )?;
        let (params, thresholds) = peer_score(&topic.hash());
        gossipsub.with_peer_score(params, thresholds)?;
        gossipsub.subscribe(&topic).map_err(|e| e.to_string())?;
        let xfer = request_response::Behaviour::new(
            [(StreamProtocol::new(XFER_PROTOCOL), ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                // libp2p counts inbound and outbound streams together per
                // connection; leave room for our own fetches beside the
                // peer's requests, which `MAX_INBOUND_PER_PEER` caps.
                .with_max_concurrent_streams(MAX_STREAMS_PER_CONNECTION),
        );
        let sync = request_response::Behaviour::new(
            [(StreamProtocol::new(SYNC_PROTOCOL), ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                .with_max_concurrent_streams(MAX_SYNC_STREAMS_PER_CONNECTION),
        );
        let me = key.public().to_peer_id();
        let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
        kad_config
            .set_provider_record_ttl(Some(PROVIDER_RECORD_TTL))
            // weftd re-provides on its own schedule, a few records at a time.
            .set_provider_publication_interval(None)
            .set_record_ttl(Some(PROVIDER_RECORD_TTL));
        let kad_store = kad::store::MemoryStore::with_config(
            me,
            kad::store::MemoryStoreConfig {
                // Keys whose provider records this node keeps for others:
                // about 20 x (bundles / nodes) in a healthy DHT.
                max_records: MAX_PROVIDER_RECORDS,
                max_value_bytes: 4096,
                max_providers_per_key: kad::K_VALUE.get(),
                max_provided_keys: MAX_PROVIDER_RECORDS,
            },
        );
        let mut kad = kad::Behaviour::with_config(me, kad_store, kad_config);
        // Every weftd answers DHT queries; without this, a node with no
        // confirmed public address would only ask.
        kad.set_mode(Some(kad::Mode::Server));
        let mdns = if opts.mdns {
            Some(
                mdns::tokio::Behaviour::new(mdns::Config::default(), me)
                    .map_err(|e| format!("cannot start mDNS: {e}"))?,
            )
        } else {
            None
        };
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(MAX_CONNECTIONS))
            .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
            .with_max_pending_incoming(Some(MAX_PENDING_INCOMING));
        let relay = opts.relay.as_ref().map(|l| {
            relay::Behaviour::new(
                me,
                relay::Config {
                    max_reservations: l.max_reservations,
                    max_reservations_per_peer: l.max_reservations_per_peer,
                    reservation_duration: l.reservation,
                    max_circuits: l.max_circuits,
                    max_circuits_per_peer: l.max_circuits_per_peer,
                    max_circuit_duration: l.max_circuit,
                    max_circuit_bytes: l.max_circuit_bytes,
                    ..relay::Config::default()
                },
            )
        });
        let proxied = opts.transport.socks5.is_some();
        // Behind a proxy, asking for a dial-back would tell peers our own
        // addresses, and the answer is always "unreachable" anyway.
        let autonat = (!proxied).then(|| {
            autonat::Behaviour::new(
                me,
                autonat::Config {
                    boot_delay: AUTONAT_BOOT_DELAY,
                    retry_interval: AUTONAT_RETRY,
                    refresh_interval: AUTONAT_REFRESH,
                    throttle_server_period: Duration::from_secs(15),
                    // Dial-backs served: 30 a minute in all, 3 per peer,
                    // 8 addresses each.
                    throttle_clients_period: Duration::from_secs(60),
                    max_peer_addresses: 8,
                    // Hubs on a LAN or a community network have private
                    // addresses too. A dial-back only ever goes to the IP the
                    // asking peer connected from, so this cannot be used to
                    // make the node dial elsewhere.
                    only_global_ips: false,
                    ..autonat::Config::default()
                },
            )
        });
        // Behind a proxy every "direct" dial would go through the proxy
        // anyway: hole punching has nothing to gain.
        let dcutr = opts
            .transport
            .socks5
            .is_none()
            .then(|| dcutr::Behaviour::new(me));
        Ok(Self {
            relay: relay.into(),
            relay_client,
            autonat: autonat.into(),
            dcutr: dcutr.into(),
            limits: connection_limits::Behaviour::new(limits),
            gossipsub,
            xfer,
            sync,
            kad,
            mdns: mdns.into(),
            identify: identify::Behaviour::new(
                identify::Config::new("/weft/id/1".into(), key.public())
                    .with_agent_version(format!("weftd/{}", env!("CARGO_PKG_VERSION")))
                    // Peers learn a new relayed address as soon as it exists.
                    .with_push_listen_addr_updates(true)
                    // Behind a proxy, peers are not told our own addresses.
                    .with_hide_listen_addrs(proxied),
            ),
            ping: ping::Behaviour::default(),
        })
    }
}

/// A swarm with the transports of [`crate::transport`], the relay client
/// and weft's behaviours.
pub fn build_swarm(key: identity::Keypair, opts: &NetOptions) -> Result<Swarm<Behaviour>, String> {
    let idle = |c: libp2p::swarm::Config| c.with_idle_connection_timeout(Duration::from_secs(120));
    let transport = crate::transport::build(&key, &opts.transport)?;
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_other_transport(|_| Ok::<_, Box<dyn std::error::Error + Send + Sync>>(transport))
        .map_err(|e| e.to_string())?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| e.to_string())?
        .with_behaviour(|key, relay_client| {
            Behaviour::new(key, relay_client, opts).map_err(|e| e.into())
        })
        .map_err(|e| e.to_string())?
        .with_swarm_config(idle)
        .build())
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

/// What `weft peers` shows about one connected peer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerInfo {
    /// The peer's id.
    pub peer_id: String,
    /// The address of our connection to it.
    pub address: String,
    /// Its transport: tcp, quic, websocket, websocket+tls or relayed.
    pub transport: String,
    /// Whether we dialled it.
    pub outbound: bool,
    /// Its agent version, once identify has run.
    pub agent: Option<String>,
    /// Its gossipsub score as this node sees it.
    pub score: Option<f64>,
}

/// The node's own network identity and addresses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NetInfo {
    /// Our PeerId.
    pub peer_id: String,
    /// Addresses we listen on.
    pub listen_addrs: Vec<String>,
    /// Number of connected peers.
    pub connected: usize,
}

/// What `weft doctor` reads: how this node can be reached and how it
/// reaches others.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Reachability {
    /// Our PeerId.
    pub peer_id: String,
    /// Addresses we listen on, relayed ones included.
    pub listen_addrs: Vec<String>,
    /// Addresses others are told to use: confirmed or relayed.
    pub external_addrs: Vec<String>,
    /// "unknown", "public" or "private", from peers dialling back.
    pub nat: String,
    /// The address a peer reached us on, when public.
    pub nat_address: Option<String>,
    /// Reservations on relays, when behind NAT.
    pub reservations: Vec<ReservationInfo>,
    /// Our own relay, when `relay = true`.
    pub relay_server: Option<RelayServerInfo>,
    /// Open connections per transport ("tcp", "quic", "websocket",
    /// "websocket+tls", "relayed", each "… via socks5" through a proxy).
    pub connections: std::collections::BTreeMap<String, usize>,
    /// Connected peers.
    pub peers: usize,
    /// Bootstrap peers (config, `--peer`, `weft join`) and whether they
    /// answered since the node started.
    pub bootstrap: Vec<BootstrapInfo>,
    /// The SOCKS5 proxy every dial goes through.
    pub socks5: Option<String>,
    /// Hole punching: relayed connections made direct, and failures.
    pub hole_punch: HolePunch,
    /// Whether mDNS runs.
    pub mdns: bool,
}

/// One relay reservation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReservationInfo {
    /// The relay's peer id.
    pub relay: String,
    /// Our address through it.
    pub address: String,
    /// Whether the relay accepted.
    pub accepted: bool,
}

/// Our relay's load.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RelayServerInfo {
    /// Peers holding a reservation.
    pub reservations: usize,
    /// Relayed connections open now.
    pub circuits: usize,
    /// Relayed connections since start.
    pub circuits_total: u64,
    /// The configured limits.
    pub max_reservations: usize,
    /// The configured limits.
    pub max_circuits: usize,
    /// The configured limits.
    pub max_circuit_bytes: u64,
}

/// A bootstrap peer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BootstrapInfo {
    /// Its address, or its peer id for one from `weft join`.
    pub address: String,
    /// Connected at least once since start.
    pub answered: bool,
    /// Connected now.
    pub connected: bool,
    /// The last dial error, if it has not answered.
    pub error: Option<String>,
}

/// Hole punching results since start.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HolePunch {
    /// Relayed connections upgraded to direct ones.
    pub upgraded: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// The transport of a connection, as `weft doctor` and `weft peers` name it.
pub fn transport_label(addr: &Multiaddr, via_proxy: bool) -> String {
    let has = |f: fn(&Protocol) -> bool| addr.iter().any(|p| f(&p));
    // The far end of a relayed connection knows its peer only as `/p2p/…`.
    let only_peer = addr.iter().all(|p| matches!(p, Protocol::P2p(_)));
    let base = if only_peer || has(|p| matches!(p, Protocol::P2pCircuit)) {
        return "relayed".into();
    } else if has(|p| matches!(p, Protocol::Wss(_)))
        || (has(|p| matches!(p, Protocol::Tls)) && has(|p| matches!(p, Protocol::Ws(_))))
    {
        "websocket+tls"
    } else if has(|p| matches!(p, Protocol::Ws(_))) {
        "websocket"
    } else if has(|p| matches!(p, Protocol::QuicV1)) {
        "quic"
    } else if has(|p| matches!(p, Protocol::Tcp(_))) {
        "tcp"
    } else {
        "other"
    };
    if via_proxy {
        format!("{base} via socks5")
    } else {
        base.into()
    }
}

/// A reservation we asked a relay for.
struct RelaySlot {
    listener: ListenerId,
    address: Multiaddr,
    accepted: bool,
}

/// Reachability state kept by the loop for `weft doctor`.
#[derive(Default)]
struct Reach {
    nat: Option<autonat::NatStatus>,
    /// Relays we hold (or asked for) a reservation on.
    relays: HashMap<PeerId, RelaySlot>,
    /// Connected peers that run a relay, with an address to reach them.
    hop: HashMap<PeerId, Multiaddr>,
    /// Peers holding a reservation on our relay.
    relayed_for: HashSet<PeerId>,
    circuits: usize,
    circuits_total: u64,
    punch: HolePunch,
    /// Transport of each open connection.
    connections: HashMap<ConnectionId, String>,
    /// Dials of configured bootstrap addresses.
    boot_dials: HashMap<ConnectionId, Multiaddr>,
    /// Configured bootstrap addresses: the peer that answered, last error.
    boot: HashMap<Multiaddr, (Option<PeerId>, Option<String>)>,
    /// Peers connected at least once since start.
    answered: HashSet<PeerId>,
    /// The last dial error per peer (bounded).
    dial_errors: HashMap<PeerId, String>,
}

/// Most dial errors remembered for `weft doctor`.
const MAX_DIAL_ERRORS: usize = 256;

/// Key of a bundle's provider record in the DHT.
fn provider_key(id: &BundleId) -> kad::RecordKey {
    kad::RecordKey::new(id.as_bytes())
}

/// Requests to the swarm task.
pub enum Command {
    /// Dial an address and reply once connected.
    Dial {
        /// Where.
        addr: Multiaddr,
        /// Replies with the peer's id.
        reply: oneshot::Sender<Result<PeerId, NetError>>,
    },
    /// Gossip a signed announcement.
    Announce {
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Send a transfer request.
    Request {
        /// To whom.
        peer: PeerId,
        /// What.
        request: Request,
        /// Replies with the peer's response.
        reply: oneshot::Sender<Result<Response, NetError>>,
    },
    /// List connected peers.
    Peers {
        /// Replies with the list.
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    /// Our identity and addresses.
    Info {
        /// Replies with them.
        reply: oneshot::Sender<NetInfo>,
    },
    /// What `weft doctor` reports.
    Reach {
        /// Replies with it.
        reply: oneshot::Sender<Reachability>,
    },
    /// Send a reconciliation request.
    Sync {
        /// To whom.
        peer: PeerId,
        /// What.
        request: SyncRequest,
        /// Replies with the peer's response.
        reply: oneshot::Sender<Result<SyncResponse, NetError>>,
    },
    /// Publish provider records for these bundles (queued, a few at a time).
    Provide {
        /// Bundles held in full.
        ids: Vec<BundleId>,
    },
    /// Look up a bundle's providers in the DHT and dial the ones not
    /// connected; replies with every provider found.
    FindProviders {
        /// Which bundle.
        id: BundleId,
        /// Replies with the providers.
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    /// Disconnect a peer that sent bad data and refuse it for a while.
    Punish {
        /// Who.
        peer: PeerId,
        /// What it did, for the log.
        reason: String,
    },
}

/// Handle to the swarm task. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
}

impl Client {
    /// A client whose commands go to `tx`: lets a unit test play the swarm.
    #[cfg(test)]
    pub(crate) fn from_sender(tx: mpsc::Sender<Command>) -> Self {
        Self { tx }
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// Dials `addr` and waits for the connection.
    pub async fn dial(&self, addr: Multiaddr) -> Result<PeerId, NetError> {
        self.call(|reply| Command::Dial { addr, reply }).await?
    }

    /// Gossips an announcement (queued until a peer is there).
    pub async fn announce(&self, bytes: Vec<u8>) -> Result<(), NetError> {
        self.tx
            .send(Command::Announce { bytes })
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// Sends one request and waits for its response.
    pub async fn request(&self, peer: PeerId, request: Request) -> Result<Response, NetError> {
        self.call(|reply| Command::Request {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        self.call(|reply| Command::Peers { reply }).await
    }

    /// Our identity and addresses.
    pub async fn info(&self) -> Result<NetInfo, NetError> {
        self.call(|reply| Command::Info { reply }).await
    }

    /// Reachability, for `weft doctor`.
    pub async fn reachability(&self) -> Result<Reachability, NetError> {
        self.call(|reply| Command::Reach { reply }).await
    }

    /// Sends one reconciliation request and waits for its response.
    pub async fn sync(&self, peer: PeerId, request: SyncRequest) -> Result<SyncResponse, NetError> {
        self.call(|reply| Command::Sync {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Queues provider records for bundles now held in full.
    pub async fn provide(&self, ids: Vec<BundleId>) {
        let _ = self.tx.send(Command::Provide { ids }).await;
    }

    /// Finds a bundle's providers through the DHT and dials them.
    pub async fn find_providers(&self, id: BundleId) -> Result<Vec<PeerId>, NetError> {
        self.call(|reply| Command::FindProviders { id, reply })
            .await
    }

    /// Disconnects and bans a misbehaving peer.
    pub async fn punish(&self, peer: PeerId, reason: String) {
        let _ = self.tx.send(Command::Punish { peer, reason }).await;
    }
}

/// Results of spawned work, sent back to the loop.
enum Internal {
    Validated {
        id: MessageId,
        source: PeerId,
        acceptance: MessageAcceptance,
    },
    Respond {
        peer: PeerId,
        request: InboundRequestId,
        channel: ResponseChannel<Response>,
        response: Response,
    },
    SyncRespond {
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    Provide(Vec<BundleId>),
}

struct PeerState {
    address: Multiaddr,
    outbound: bool,
    connections: usize,
    agent: Option<String>,
}

/// The swarm task's state. Build it with [`spawn`].
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    internal_tx: mpsc::Sender<Internal>,
    internal_rx: mpsc::Receiver<Internal>,
    validate_tx: mpsc::Sender<(MessageId, PeerId, Vec<u8>)>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    topic: IdentTopic,
    pending_dials: HashMap<ConnectionId, (Multiaddr, oneshot::Sender<Result<PeerId, NetError>>)>,
    pending_requests: HashMap<OutboundRequestId, oneshot::Sender<Result<Response, NetError>>>,
    pending_announcements: VecDeque<Vec<u8>>,
    peers: HashMap<PeerId, PeerState>,
    /// Admitted inbound requests whose responses are not yet written.
    inbound: HashMap<InboundRequestId, PeerId>,
    /// The same, counted per peer.
    inbound_per_peer: HashMap<PeerId, usize>,
    banned: HashMap<PeerId, Instant>,
    redial: Vec<Multiaddr>,
    catalog: Arc<Catalog>,
    book: Arc<PeerBook>,
    sync_events: mpsc::Sender<SyncEvent>,
    pending_syncs: HashMap<OutboundRequestId, oneshot::Sender<Result<SyncResponse, NetError>>>,
    provide_queue: VecDeque<BundleId>,
    provide_queued: HashSet<BundleId>,
    providing: HashSet<kad::QueryId>,
    provider_lookups: HashMap<kad::QueryId, (HashSet<PeerId>, oneshot::Sender<Vec<PeerId>>)>,
    storage: Arc<crate::storage::Storage>,
    upload: Option<Arc<crate::upload::RateLimit>>,
    opts: NetOptions,
    reach: Reach,
}

/// What the swarm task needs besides the swarm.
pub struct Parts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The catalog index.
    pub catalog: Arc<Catalog>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Peers seen before.
    pub book: Arc<PeerBook>,
    /// Where connection events and hints go.
    pub sync_events: mpsc::Sender<SyncEvent>,
    /// Holdings, to mark bundles served as used.
    pub storage: Arc<crate::storage::Storage>,
    /// The upload limit, if one is set.
    pub upload: Option<Arc<crate::upload::RateLimit>>,
    /// The options the swarm was built with.
    pub opts: NetOptions,
}

/// Refuses a fixed port that another process already holds. libp2p binds
/// its sockets with address reuse, so without this check a second daemon
/// would share the port silently and peers would reach either one.
fn check_port_free(addr: &Multiaddr) -> Result<(), String> {
    use libp2p::multiaddr::Protocol;
    let mut it = addr.iter();
    let ip: std::net::IpAddr = match it.next() {
        Some(Protocol::Ip4(ip)) => ip.into(),
        Some(Protocol::Ip6(ip)) => ip.into(),
        _ => return Ok(()),
    };
    let probe = match it.next() {
        Some(Protocol::Tcp(port)) if port != 0 => std::net::TcpListener::bind((ip, port)).map(drop),
        Some(Protocol::Udp(port)) if port != 0 => std::net::UdpSocket::bind((ip, port)).map(drop),
        _ => return Ok(()),
    };
    probe.map_err(|e| {
        format!("cannot listen on {addr}: {e}; is another weftd running? Choose other ports with --listen")
    })
}

/// Starts the swarm task: listens, subscribes, dials `peers`, and returns
/// its client. The swarm's addresses are ready when this returns.
pub async fn spawn(
    mut swarm: Swarm<Behaviour>,
    listen: &[Multiaddr],
    peers: Vec<Multiaddr>,
    parts: Parts,
) -> Result<(Client, tokio::task::JoinHandle<()>), String> {
    let Parts {
        store,
        catalog,
        metrics,
        book,
        sync_events,
        storage,
        upload,
        opts,
    } = parts;
    // Probe every fixed port before binding any: a dual-stack probe of
    // [::]:port would otherwise collide with our own 0.0.0.0:port.
    for addr in listen {
        check_port_free(addr)?;
    }
    for addr in listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    }
    // Wait until every listener reports its address, so `weft status` shows
    // real ports from the first moment.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut ready = 0;
    while ready < listen.len() {
        match tokio::time::timeout_at(deadline, swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => {
                info!(%address, "listening");
                if opts.transport.socks5.is_none() {
                    swarm.add_external_address(address);
                }
                ready += 1;
            }
            Ok(SwarmEvent::ListenerError { error, .. }) => {
                return Err(format!("listener failed: {error}"))
            }
            Ok(SwarmEvent::ListenerClosed { reason: Err(e), .. }) => {
                return Err(format!("listener failed: {e}"))
            }
            Ok(_) => {}
            Err(_) => return Err("listeners did not start within 10 seconds".into()),
        }
    }
    let (tx, commands) = mpsc::channel(COMMAND_CHANNEL);
    let (internal_tx, internal_rx) = mpsc::channel(INTERNAL_CHANNEL);
    let (validate_tx, validate_rx) = mpsc::channel(VALIDATION_QUEUE);
    tokio::spawn(validator(
        validate_rx,
        internal_tx.clone(),
        store.clone(),
        catalog.clone(),
        metrics.clone(),
    ));
    let mut lp = EventLoop {
        swarm,
        commands,
        internal_tx,
        internal_rx,
        validate_tx,
        store,
        metrics,
        topic: IdentTopic::new(ANNOUNCE_TOPIC),
        pending_dials: HashMap::new(),
        pending_requests: HashMap::new(),
        pending_announcements: VecDeque::new(),
        peers: HashMap::new(),
        inbound: HashMap::new(),
        inbound_per_peer: HashMap::new(),
        banned: HashMap::new(),
        redial: peers.clone(),
        catalog,
        book,
        sync_events,
        pending_syncs: HashMap::new(),
        provide_queue: VecDeque::new(),
        provide_queued: HashSet::new(),
        providing: HashSet::new(),
        provider_lookups: HashMap::new(),
        storage,
        upload,
        reach: Reach {
            boot: peers.iter().map(|a| (a.clone(), (None, None))).collect(),
            // Behind a proxy nobody can dial us: reserve relay slots.
            nat: opts
                .transport
                .socks5
                .is_some()
                .then_some(autonat::NatStatus::Private),
            ..Reach::default()
        },
        opts,
    };
    for addr in peers {
        lp.dial(addr, None);
    }
    lp.dial_book();
    let handle = tokio::spawn(lp.run());
    Ok((Client { tx }, handle))
}

/// Verifies gossip announcements off the swarm task, stores the good ones,
/// and reports each verdict back so gossipsub forwards or penalises.
async fn validator(
    mut rx: mpsc::Receiver<(MessageId, PeerId, Vec<u8>)>,
    tx: mpsc::Sender<Internal>,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
) {
    while let Some((id, source, data)) = rx.recv().await {
        let acceptance = match CatalogEntry::decode(&data) {
            Ok(entry) => {
                let (store, catalog) = (store.clone(), catalog.clone());
                let bundle = entry.entry_id();
                let what = match &entry {
                    CatalogEntry::Announcement(_) => "new bundle",
                    CatalogEntry::Retraction(_) => "retraction",
                };
                let res =
                    tokio::task::spawn_blocking(move || catalog.add_entry(store.as_ref(), &entry))
                        .await;
                match res {
                    Ok(Ok(crate::catalog::Added::Refused(why))) => {
                        // Validly signed, but not by the bundle's publisher.
                        // The forwarder may not know the bundle: no penalty,
                        // but it goes no further.
                        Metrics::add(&metrics.gossip_rejected, 1);
                        warn!(peer = %source, "refused: {why}");
                        MessageAcceptance::Ignore
                    }
                    Ok(Ok(added)) => {
                        Metrics::add(&metrics.gossip_accepted, 1);
                        if added == crate::catalog::Added::New {
                            info!(entry = %bundle.fmt_short(), from = %source, "catalog: {what}");
                        }
                        MessageAcceptance::Accept
                    }
                    other => {
                        warn!(?other, "could not store an announcement; not forwarding it");
                        MessageAcceptance::Ignore
                    }
                }
            }
            Err(e) => {
                Metrics::add(&metrics.gossip_rejected, 1);
                warn!(peer = %source, error = %e, "rejected an announcement");
                MessageAcceptance::Reject
            }
        };
        if tx
            .send(Internal::Validated {
                id,
                source,
                acceptance,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

impl EventLoop {
    async fn run(mut self) {
        let mut redial = tokio::time::interval(REDIAL_INTERVAL);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        redial.tick().await;
        let mut reprovide = tokio::time::interval(REPROVIDE_INTERVAL);
        reprovide.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        reprovide.tick().await;
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                Some(msg) = self.internal_rx.recv() => self.on_internal(msg),
                _ = redial.tick() => self.redial(),
                _ = reprovide.tick() => self.provide_all(),
            }
        }
        debug!("network task stopped");
    }

    fn redial(&mut self) {
        let now = Instant::now();
        self.banned.retain(|_, until| *until > now);
        for addr in self.redial.clone() {
            let peer = addr.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            });
            if peer.is_none_or(|p| !self.peers.contains_key(&p)) {
                self.dial(addr, None);
            }
        }
        if self.peers.len() < MIN_PEERS {
            self.dial_book();
        }
        self.maybe_reserve();
    }

    /// Behind NAT, asks up to [`MAX_RELAYS`] connected relays for a slot;
    /// once reachable directly, gives the slots back.
    fn maybe_reserve(&mut self) {
        let private = matches!(self.reach.nat, Some(autonat::NatStatus::Private));
        if !private {
            for (relay, slot) in std::mem::take(&mut self.reach.relays) {
                info!(%relay, "reachable directly; leaving the relay");
                self.swarm.remove_listener(slot.listener);
            }
            return;
        }
        let candidates: Vec<(PeerId, Multiaddr)> = self
            .reach
            .hop
            .iter()
            .filter(|(p, _)| !self.reach.relays.contains_key(*p) && self.peers.contains_key(*p))
            .map(|(p, a)| (*p, a.clone()))
            .collect();
        for (relay, addr) in candidates {
            if self.reach.relays.len() >= MAX_RELAYS {
                break;
            }
            let Ok(base) = addr.with_p2p(relay) else {
                continue;
            };
            let circuit = base.with(Protocol::P2pCircuit);
            match self.swarm.listen_on(circuit.clone()) {
                Ok(listener) => {
                    info!(%relay, address = %circuit, "behind NAT; asking a relay for a slot");
                    self.reach.relays.insert(
                        relay,
                        RelaySlot {
                            listener,
                            address: circuit,
                            accepted: false,
                        },
                    );
                }
                Err(e) => warn!(%relay, error = %e, "cannot ask a relay for a slot"),
            }
        }
    }

    /// Records how a dial of a configured bootstrap address ended. Every
    /// dial recorded in `boot_dials` ends here once, so the map stays small.
    fn boot_result(&mut self, connection: ConnectionId, result: Result<PeerId, String>) {
        let Some(addr) = self.reach.boot_dials.remove(&connection) else {
            return;
        };
        if let Some(b) = self.reach.boot.get_mut(&addr) {
            *b = match result {
                Ok(peer) => (Some(peer), None),
                Err(e) => (b.0, Some(e)),
            };
        }
    }

    /// The reachability report for `weft doctor`.
    fn reachability(&self) -> Reachability {
        let (nat, nat_address) = match &self.reach.nat {
            Some(autonat::NatStatus::Public(a)) => ("public", Some(a.to_string())),
            Some(autonat::NatStatus::Private) => ("private", None),
            _ => ("unknown", None),
        };
        let mut connections = std::collections::BTreeMap::new();
        for label in self.reach.connections.values() {
            *connections.entry(label.clone()).or_insert(0) += 1;
        }
        let mut bootstrap: Vec<BootstrapInfo> = self
            .reach
            .boot
            .iter()
            .map(|(addr, (peer, error))| {
                let named = addr.iter().find_map(|p| match p {
                    Protocol::P2p(id) => Some(id),
                    _ => None,
                });
                let peer = peer.or(named);
                let answered = peer.is_some_and(|p| self.reach.answered.contains(&p));
                BootstrapInfo {
                    address: addr.to_string(),
                    answered,
                    connected: peer.is_some_and(|p| self.peers.contains_key(&p)),
                    error: if answered {
                        None
                    } else {
                        error
                            .clone()
                            .or_else(|| peer.and_then(|p| self.reach.dial_errors.get(&p).cloned()))
                    },
                }
            })
            .collect();
        for peer in self.book.bootstrap() {
            if bootstrap
                .iter()
                .any(|b| b.address.contains(&peer.to_string()))
            {
                continue;
            }
            let answered = self.reach.answered.contains(&peer);
            bootstrap.push(BootstrapInfo {
                address: peer.to_string(),
                answered,
                connected: self.peers.contains_key(&peer),
                error: (!answered)
                    .then(|| self.reach.dial_errors.get(&peer).cloned())
                    .flatten(),
            });
        }
        bootstrap.sort_by(|a, b| a.address.cmp(&b.address));
        Reachability {
            peer_id: self.swarm.local_peer_id().to_string(),
            listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
            external_addrs: self
                .swarm
                .external_addresses()
                .map(|a| a.to_string())
                .collect(),
            nat: nat.into(),
            nat_address,
            reservations: self
                .reach
                .relays
                .iter()
                .map(|(relay, slot)| ReservationInfo {
                    relay: relay.to_string(),
                    address: slot.address.to_string(),
                    accepted: slot.accepted,
                })
                .collect(),
            relay_server: self.opts.relay.as_ref().map(|l| RelayServerInfo {
                reservations: self.reach.relayed_for.len(),
                circuits: self.reach.circuits,
                circuits_total: self.reach.circuits_total,
                max_reservations: l.max_reservations,
                max_circuits: l.max_circuits,
                max_circuit_bytes: l.max_circuit_bytes,
            }),
            connections,
            peers: self.peers.len(),
            bootstrap,
            socks5: self.opts.transport.socks5.map(|a| a.to_string()),
            hole_punch: self.reach.punch.clone(),
            mdns: self.opts.mdns,
        }
    }

    fn on_reach_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Autonat(autonat::Event::StatusChanged { old, new }) => {
                info!(?old, ?new, "reachability changed");
                self.reach.nat = Some(new);
                self.maybe_reserve();
            }
            BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal,
                ..
            }) => {
                if let Some(slot) = self.reach.relays.get_mut(&relay_peer_id) {
                    if !slot.accepted || !renewal {
                        info!(relay = %relay_peer_id, address = %slot.address, "relay slot reserved; reachable through it");
                    }
                    slot.accepted = true;
                }
            }
            BehaviourEvent::Relay(e) => match e {
                relay::Event::ReservationReqAccepted { src_peer_id, .. } => {
                    self.reach.relayed_for.insert(src_peer_id);
                }
                relay::Event::ReservationClosed { src_peer_id }
                | relay::Event::ReservationTimedOut { src_peer_id } => {
                    self.reach.relayed_for.remove(&src_peer_id);
                }
                relay::Event::CircuitReqAccepted { .. } => {
                    self.reach.circuits += 1;
                    self.reach.circuits_total += 1;
                }
                relay::Event::CircuitClosed { .. } => {
                    self.reach.circuits = self.reach.circuits.saturating_sub(1);
                }
                _ => {}
            },
            BehaviourEvent::Dcutr(dcutr::Event {
                remote_peer_id,
                result,
            }) => match result {
                Ok(_) => {
                    info!(peer = %remote_peer_id, "hole punched: the relayed connection is now direct");
                    self.reach.punch.upgraded += 1;
                }
                Err(e) => {
                    debug!(peer = %remote_peer_id, error = %e, "hole punching failed");
                    self.reach.punch.failed += 1;
                    self.reach.punch.last_error = Some(e.to_string());
                }
            },
            _ => {}
        }
    }

    /// Dials peers from the peer book that are not connected.
    fn dial_book(&mut self) {
        let me = *self.swarm.local_peer_id();
        for (peer, addrs) in self.book.candidates(BOOK_DIALS) {
            if peer == me || addrs.is_empty() || self.peers.contains_key(&peer) {
                continue;
            }
            if self.banned.get(&peer).is_some_and(|t| *t > Instant::now()) {
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                debug!(%peer, error = %e, "could not dial a peer from the book");
            }
        }
    }

    /// Queues provider records for every bundle held, off the loop.
    fn provide_all(&self) {
        let (store, tx) = (self.store.clone(), self.internal_tx.clone());
        tokio::spawn(async move {
            if let Ok(Ok(ids)) = tokio::task::spawn_blocking(move || store.bundle_ids()).await {
                let _ = tx.send(Internal::Provide(ids)).await;
            }
        });
    }

    fn queue_provide(&mut self, ids: Vec<BundleId>) {
        for id in ids {
            if self.provide_queued.insert(id) {
                self.provide_queue.push_back(id);
            }
        }
        self.pump_provides();
    }

    /// Starts provider publications up to [`MAX_PROVIDE_QUERIES`] at once.
    fn pump_provides(&mut self) {
        while self.providing.len() < MAX_PROVIDE_QUERIES {
            let Some(id) = self.provide_queue.pop_front() else {
                break;
            };
            self.provide_queued.remove(&id);
            match self
                .swarm
                .behaviour_mut()
                .kad
                .start_providing(provider_key(&id))
            {
                Ok(q) => {
                    self.providing.insert(q);
                }
                Err(e) => warn!(bundle = %id.fmt_short(), error = %e, "cannot provide a bundle"),
            }
        }
    }

    fn on_kad_event(&mut self, event: kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id, result, step, ..
        } = event
        else {
            return;
        };
        match result {
            kad::QueryResult::StartProviding(r) => {
                if let Err(e) = r {
                    debug!(error = %e, "provider record not published everywhere");
                }
                if step.last || self.providing.contains(&id) {
                    self.providing.remove(&id);
                    self.pump_provides();
                }
            }
            kad::QueryResult::GetProviders(r) => {
                let me = *self.swarm.local_peer_id();
                if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = &r {
                    for p in providers.iter().filter(|p| **p != me) {
                        if let Some((found, _)) = self.provider_lookups.get_mut(&id) {
                            found.insert(*p);
                        }
                        if !self.peers.contains_key(p) {
                            // Dial now, while the query still holds the
                            // addresses the provider records carried.
                            let opts = DialOpts::peer_id(*p)
                                .condition(PeerCondition::DisconnectedAndNotDialing)
                                .build();
                            if let Err(e) = self.swarm.dial(opts) {
                                debug!(peer = %p, error = %e, "could not dial a provider");
                            }
                        }
                    }
                }
                let finished = step.last
                    || matches!(
                        r,
                        Ok(kad::GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) | Err(_)
                    );
                if finished {
                    if let Some((found, reply)) = self.provider_lookups.remove(&id) {
                        let _ = reply.send(found.into_iter().collect());
                    }
                    if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                        q.finish();
                    }
                }
            }
            _ => {}
        }
    }

    fn on_inbound_sync(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        if let SyncRequest::Hint = request {
            Metrics::add(
                &self.metrics.sync_bytes_received,
                request.encode().len() as u64,
            );
            if self.sync_events.try_send(SyncEvent::Hint(peer)).is_err() {
                debug!(%peer, "sync queue full; the hint waits for the next round");
            }
            let ack = SyncResponse::Ack;
            Metrics::add(&self.metrics.sync_bytes_sent, ack.encode().len() as u64);
            self.sync_respond(channel, ack);
            return;
        }
        let (store, catalog, tx, metrics) = (
            self.store.clone(),
            self.catalog.clone(),
            self.internal_tx.clone(),
            self.metrics.clone(),
        );
        // Sizes are counted here, off the swarm task: a message can be 1 MiB.
        tokio::spawn(async move {
            Metrics::add(&metrics.sync_bytes_received, request.encode().len() as u64);
            let response = match request {
                SyncRequest::Reconcile(ranges) => {
                    let ready = tokio::time::timeout(Duration::from_secs(5), catalog.ready()).await;
                    if ready.is_err() {
                        SyncResponse::Refused
                    } else {
                        tokio::task::spawn_blocking(move || {
                            let items = catalog.sorted_ids();
                            SyncResponse::Reconcile(reconcile(&items, &ranges, None, FRAME_BYTES))
                        })
                        .await
                        .unwrap_or(SyncResponse::Refused)
                    }
                }
                SyncRequest::Get(ids) => tokio::task::spawn_blocking(move || {
                    let mut out = Vec::with_capacity(ids.len());
                    for id in ids {
                        match store.get_announcement(&id) {
                            Ok(Some(bytes)) => out.push(bytes),
                            Ok(None) => {}
                            Err(_) => return SyncResponse::Refused,
                        }
                    }
                    SyncResponse::Entries(out)
                })
                .await
                .unwrap_or(SyncResponse::Refused),
                SyncRequest::Hint => SyncResponse::Ack,
            };
            Metrics::add(&metrics.sync_bytes_sent, response.encode().len() as u64);
            let _ = tx.send(Internal::SyncRespond { channel, response }).await;
        });
    }

    /// Sends a sync response whose size was already counted.
    fn sync_respond(&mut self, channel: ResponseChannel<SyncResponse>, response: SyncResponse) {
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response);
    }

    fn dial(&mut self, addr: Multiaddr, reply: Option<oneshot::Sender<Result<PeerId, NetError>>>) {
        let opts = DialOpts::from(addr.clone());
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                if self.reach.boot.contains_key(&addr) {
                    self.reach.boot_dials.insert(id, addr.clone());
                }
                if let Some(reply) = reply {
                    self.pending_dials.insert(id, (addr, reply));
                }
            }
            Err(DialError::DialPeerConditionFalse(_)) => {
                // Already connected to that peer.
                let peer = addr.iter().find_map(|p| match p {
                    libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                    _ => None,
                });
                if let (Some(reply), Some(peer)) = (reply, peer) {
                    let _ = reply.send(Ok(peer));
                }
            }
            Err(e) => {
                debug!(%addr, error = %e, "dial failed");
                if let Some(b) = self.reach.boot.get_mut(&addr) {
                    b.1 = Some(e.to_string());
                }
                if let Some(reply) = reply {
                    let _ = reply.send(Err(NetError::Dial {
                        addr: addr.to_string(),
                        reason: e.to_string(),
                    }));
                }
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Dial { addr, reply } => self.dial(addr, Some(reply)),
            Command::Announce { bytes } => self.announce(bytes),
            Command::Request {
                peer,
                request,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().xfer.send_request(&peer, request);
                self.pending_requests.insert(id, reply);
            }
            Command::Peers { reply } => {
                let gs = &self.swarm.behaviour().gossipsub;
                let list = self
                    .peers
                    .iter()
                    .map(|(id, st)| PeerInfo {
                        peer_id: id.to_string(),
                        transport: transport_label(
                            &st.address,
                            st.outbound && self.opts.transport.socks5.is_some(),
                        ),
                        address: st.address.to_string(),
                        outbound: st.outbound,
                        agent: st.agent.clone(),
                        score: gs.peer_score(id),
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Command::Reach { reply } => {
                let _ = reply.send(self.reachability());
            }
            Command::Info { reply } => {
                let _ = reply.send(NetInfo {
                    peer_id: self.swarm.local_peer_id().to_string(),
                    listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
                    connected: self.peers.len(),
                });
            }
            Command::Sync {
                peer,
                request,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.pending_syncs.insert(id, reply);
            }
            Command::Provide { ids } => self.queue_provide(ids),
            Command::FindProviders { id, reply } => {
                let q = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_providers(provider_key(&id));
                self.provider_lookups.insert(q, (HashSet::new(), reply));
            }
            Command::Punish { peer, reason } => self.punish(peer, reason),
        }
    }

    /// Disconnects a peer that sent bad data and refuses it for
    /// [`BAN_DURATION`].
    fn punish(&mut self, peer: PeerId, reason: String) {
        if self.banned.get(&peer).is_some_and(|t| *t > Instant::now()) {
            return;
        }
        warn!(%peer, %reason, "disconnecting and banning a peer");
        Metrics::add(&self.metrics.peers_punished, 1);
        if self.banned.len() >= MAX_BANNED {
            if let Some(oldest) = self.banned.iter().min_by_key(|(_, t)| **t).map(|(p, _)| *p) {
                self.banned.remove(&oldest);
            }
        }
        self.banned.insert(peer, Instant::now() + BAN_DURATION);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn announce(&mut self, bytes: Vec<u8>) {
        let topic = self.topic.clone();
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, bytes.clone())
        {
            Ok(_) => debug!("announcement gossiped"),
            Err(gossipsub::PublishError::Duplicate) => {}
            Err(e) => {
                debug!(error = %e, "announcement queued until a peer is there");
                if self.pending_announcements.len() >= PENDING_ANNOUNCEMENTS {
                    self.pending_announcements.pop_front();
                }
                self.pending_announcements.push_back(bytes);
            }
        }
    }

    fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Validated {
                id,
                source,
                acceptance,
            } => {
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, acceptance);
            }
            Internal::Respond {
                peer,
                request,
                channel,
                response,
            } => {
                if let Response::Found(d) = &response {
                    Metrics::add(&self.metrics.blobs_served, 1);
                    Metrics::add(&self.metrics.bytes_served, d.len() as u64);
                }
                let sent = self
                    .swarm
                    .behaviour_mut()
                    .xfer
                    .send_response(channel, response);
                if sent.is_err() {
                    // The stream is gone already; no ResponseSent will come.
                    debug!(%peer, "the peer closed its stream before our response");
                    self.inbound_done(request);
                }
            }
            Internal::SyncRespond { channel, response } => self.sync_respond(channel, response),
            Internal::Provide(ids) => self.queue_provide(ids),
        }
    }

    /// Forgets an admitted inbound request once its response is written or
    /// has failed.
    fn inbound_done(&mut self, request: InboundRequestId) {
        if let Some(peer) = self.inbound.remove(&request) {
            if let Some(n) = self.inbound_per_peer.get_mut(&peer) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.inbound_per_peer.remove(&peer);
                }
            }
        }
    }

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let n = self.inbound_per_peer.get(&peer).copied().unwrap_or(0);
        if n >= MAX_INBOUND_PER_PEER || self.inbound.len() >= MAX_INBOUND_TOTAL {
            Metrics::add(&self.metrics.requests_refused, 1);
            let _ = self
                .swarm
                .behaviour_mut()
                .xfer
                .send_response(channel, Response::Refused);
            return;
        }
        *self.inbound_per_peer.entry(peer).or_default() += 1;
        self.inbound.insert(request_id, peer);
        let store = self.store.clone();
        let tx = self.internal_tx.clone();
        let storage = self.storage.clone();
        let upload = self.upload.clone();
        tokio::spawn(async move {
            let lookup = tokio::task::spawn_blocking(move || match request {
                Request::Manifest(id) => {
                    let m = store.get_manifest(&id)?;
                    if m.is_some() {
                        // Serving counts as use, for the LRU cache.
                        storage.touch(store.as_ref(), &id, crate::node::now_secs())?;
                    }
                    Ok(m)
                }
                Request::Blob(h) => store.get_blob(&h),
            })
            .await;
            let response = match lookup {
                Ok(Ok(Some(bytes))) => Response::Found(bytes),
                Ok(Ok(None)) => Response::NotFound,
                _ => Response::Refused,
            };
            if let (Some(limit), Response::Found(bytes)) = (&upload, &response) {
                limit.take(bytes.len() as u64).await;
            }
            let _ = tx
                .send(Internal::Respond {
                    peer,
                    request: request_id,
                    channel,
                    response,
                })
                .await;
        });
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                if message.data.starts_with(WRONG_TOPIC_MARKER) {
                    Metrics::add(&self.metrics.gossip_rejected, 1);
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            MessageAcceptance::Reject,
                        );
                    self.punish(
                        propagation_source,
                        "sent gossip on a topic weft does not use".into(),
                    );
                    return;
                }
                if let Err(mpsc::error::TrySendError::Full((id, src, _))) = self
                    .validate_tx
                    .try_send((message_id, propagation_source, message.data))
                {
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(&id, &src, MessageAcceptance::Ignore);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                peer_id,
                ..
            })) => {
                debug!(peer = %peer_id, "peer subscribed to announcements");
                let pending: Vec<_> = self.pending_announcements.drain(..).collect();
                for bytes in pending {
                    self.announce(bytes);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Xfer(request_response::Event::Message {
                peer,
                message,
                ..
            })) => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => self.on_inbound_request(peer, request_id, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.pending_requests.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Xfer(
                request_response::Event::OutboundFailure {
                    peer,
                    request_id,
                    error,
                    ..
                },
            )) => {
                // An answer that breaks the protocol (over the limit, cut
                // short, not a response at all) is a lie, not bad luck: a
                // network failure resets the stream instead.
                if let request_response::OutboundFailure::Io(e) = &error {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.punish(peer, format!("sent a malformed answer: {e}"));
                    }
                }
                if let Some(reply) = self.pending_requests.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Request {
                        peer,
                        reason: error.to_string(),
                    }));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Xfer(
                request_response::Event::InboundFailure {
                    peer,
                    request_id,
                    error,
                    ..
                },
            )) => {
                debug!(%peer, %error, "inbound request failed");
                self.inbound_done(request_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Xfer(
                request_response::Event::ResponseSent { request_id, .. },
            )) => self.inbound_done(request_id),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message,
                ..
            })) => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_inbound_sync(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.pending_syncs.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::OutboundFailure {
                    peer,
                    request_id,
                    error,
                    ..
                },
            )) => {
                if let Some(reply) = self.pending_syncs.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Request {
                        peer,
                        reason: error.to_string(),
                    }));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => self.on_kad_event(event),
            SwarmEvent::Behaviour(
                e @ (BehaviourEvent::Autonat(_)
                | BehaviourEvent::RelayClient(_)
                | BehaviourEvent::Relay(_)
                | BehaviourEvent::Dcutr(_)),
            ) => self.on_reach_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(list))) => {
                for (peer, addr) in list {
                    if self.peers.contains_key(&peer)
                        || self.banned.get(&peer).is_some_and(|t| *t > Instant::now())
                    {
                        continue;
                    }
                    debug!(%peer, %addr, "found on the LAN");
                    let opts = DialOpts::peer_id(peer)
                        .addresses(vec![addr])
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    let _ = self.swarm.dial(opts);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if let Some(st) = self.peers.get_mut(&peer_id) {
                    st.agent = Some(info.agent_version.chars().take(64).collect());
                }
                let addrs: Vec<Multiaddr> = info
                    .listen_addrs
                    .into_iter()
                    .filter(peerbook::dialable)
                    .take(peerbook::MAX_ADDRS)
                    .collect();
                if info.protocols.contains(&relay::HOP_PROTOCOL_NAME) {
                    // Reach the relay the way we reached it, if we dialled.
                    let via = self
                        .peers
                        .get(&peer_id)
                        .filter(|st| {
                            st.outbound && !st.address.iter().any(|p| p == Protocol::P2pCircuit)
                        })
                        .map(|st| st.address.clone())
                        .or_else(|| {
                            addrs
                                .iter()
                                .find(|a| !a.iter().any(|p| p == Protocol::P2pCircuit))
                                .cloned()
                        });
                    if let Some(via) = via {
                        self.reach.hop.insert(peer_id, via);
                        self.maybe_reserve();
                    }
                }
                if info.protocols.iter().any(|p| p.as_ref() == KAD_PROTOCOL) {
                    for a in &addrs {
                        self.swarm
                            .behaviour_mut()
                            .kad
                            .add_address(&peer_id, a.clone());
                    }
                }
                let book = self.book.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = book.record(peer_id, &addrs, false) {
                        warn!(error = %e, "could not write the peer book");
                    }
                });
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                if self
                    .banned
                    .get(&peer_id)
                    .is_some_and(|t| *t > Instant::now())
                {
                    debug!(peer = %peer_id, "refusing a banned peer");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    self.boot_result(
                        connection_id,
                        Err("banned here for sending bad data".into()),
                    );
                    if let Some((addr, reply)) = self.pending_dials.remove(&connection_id) {
                        let _ = reply.send(Err(NetError::Dial {
                            addr: addr.to_string(),
                            reason: "that peer is banned for sending bad data".into(),
                        }));
                    }
                    return;
                }
                let (address, outbound) = match &endpoint {
                    ConnectedPoint::Dialer { address, .. } => (address.clone(), true),
                    ConnectedPoint::Listener { send_back_addr, .. } => {
                        (send_back_addr.clone(), false)
                    }
                };
                info!(peer = %peer_id, %address, "connected");
                let via_proxy = outbound && self.opts.transport.socks5.is_some();
                self.reach
                    .connections
                    .insert(connection_id, transport_label(&address, via_proxy));
                self.reach.answered.insert(peer_id);
                self.reach.dial_errors.remove(&peer_id);
                self.boot_result(connection_id, Ok(peer_id));
                if !self.peers.contains_key(&peer_id) {
                    if self.peers.is_empty() {
                        // Back online: tell the DHT what we hold.
                        self.provide_all();
                    }
                    let _ = self.sync_events.try_send(SyncEvent::Connected {
                        peer: peer_id,
                        dialer: outbound,
                    });
                }
                self.peers
                    .entry(peer_id)
                    .or_insert(PeerState {
                        address,
                        outbound,
                        connections: 0,
                        agent: None,
                    })
                    .connections += 1;
                if let Some((_, reply)) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.reach.connections.remove(&connection_id);
                if num_established == 0 {
                    self.reach.hop.remove(&peer_id);
                    info!(peer = %peer_id, "disconnected");
                    self.peers.remove(&peer_id);
                    let _ = self.sync_events.try_send(SyncEvent::Disconnected(peer_id));
                } else if let Some(st) = self.peers.get_mut(&peer_id) {
                    st.connections = num_established as usize;
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
                ..
            } => {
                let why: String = error.to_string().chars().take(300).collect();
                self.boot_result(connection_id, Err(why.clone()));
                if let Some(p) = peer_id {
                    if self.reach.dial_errors.len() >= MAX_DIAL_ERRORS {
                        self.reach.dial_errors.clear();
                    }
                    self.reach.dial_errors.insert(p, why);
                }
                if let Some((addr, reply)) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Err(NetError::Dial {
                        addr: addr.to_string(),
                        reason: error.to_string(),
                    }));
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                // Behind a proxy only relayed addresses are announced (the
                // relay client confirms those itself).
                if self.opts.transport.socks5.is_none() {
                    self.swarm.add_external_address(address);
                }
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason,
            } => {
                let relay = self
                    .reach
                    .relays
                    .iter()
                    .find(|(_, s)| s.listener == listener_id)
                    .map(|(p, _)| *p);
                if let Some(relay) = relay {
                    info!(%relay, ?reason, "relay slot closed; another is asked for at the next round");
                    self.reach.relays.remove(&relay);
                }
                for a in addresses {
                    self.swarm.remove_external_address(&a);
                }
            }
            _ => {}
        }
    }
}
