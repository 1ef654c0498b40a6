//! The libp2p behaviours a weft node runs, their configuration (gossipsub
//! scoring, Kademlia, relay, AutoNAT, DCUtR), and the swarm built from them.

use std::collections::HashSet;
use std::time::Duration;

use libp2p::gossipsub::{self, IdentTopic, MessageId, TopicHash};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    autonat, connection_limits, dcutr, identify, identity, kad, mdns, ping, relay, StreamProtocol,
    Swarm,
};
use weft_protocol::limits::MAX_ANNOUNCEMENT_BYTES;
use weft_protocol::sync::SYNC_PROTOCOL;
use weft_protocol::wire::{ANNOUNCE_TOPIC, XFER_PROTOCOL};

use super::codec::{SyncCodec, XferCodec};
use super::kad_store::ProviderStore;
use super::*;

/// The behaviours a weft node runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Caps connections so a flood of dials cannot exhaust the node.
    pub limits: connection_limits::Behaviour,
    /// Announcements.
    pub gossipsub: gossipsub::Behaviour<OnlyWeftTopic, gossipsub::WhitelistSubscriptionFilter>,
    /// Manifests.
    pub xfer: request_response::Behaviour<XferCodec>,
    /// Block streams (`/weft/xfer/2`), read and written outside the swarm
    /// task through its control.
    pub blocks: super::streams::Behaviour,
    /// Catalog reconciliation.
    pub sync: request_response::Behaviour<SyncCodec>,
    /// The DHT: one provider record per held bundle.
    pub kad: kad::Behaviour<ProviderStore>,
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
    /// Gives DCUtR the addresses peers really observed.
    pub observed: super::observed::Behaviour,
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
        // Keys whose provider records this node keeps for others: about
        // 20 x (bundles / nodes) in a healthy DHT.
        let kad_store = ProviderStore::new(
            me,
            MAX_PROVIDED_KEYS,
            MAX_PROVIDER_RECORDS,
            kad::K_VALUE.get(),
        );
        let mut kad = kad::Behaviour::with_config(me, kad_store, kad_config);
        // Every weftd answers DHT queries; without this, a node with no
        // confirmed public address would only ask.
        // A hidden node only asks: answering would put it in others'
        // routing tables.
        kad.set_mode(Some(if opts.hidden {
            kad::Mode::Client
        } else {
            kad::Mode::Server
        }));
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
        let autonat = (!proxied && !opts.private_reach).then(|| {
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
        // A hidden node never connects directly to anyone but its hubs.
        let dcutr =
            (opts.transport.socks5.is_none() && !opts.hidden).then(|| dcutr::Behaviour::new(me));
        Ok(Self {
            relay: relay.into(),
            relay_client,
            autonat: autonat.into(),
            dcutr: dcutr.into(),
            observed: super::observed::Behaviour::default(),
            limits: connection_limits::Behaviour::new(limits),
            gossipsub,
            xfer,
            blocks: super::streams::Behaviour::new(),
            sync,
            kad,
            mdns: mdns.into(),
            identify: identify::Behaviour::new(
                identify::Config::new("/weft/id/1".into(), key.public())
                    .with_agent_version(format!("weftd/{}", env!("CARGO_PKG_VERSION")))
                    // Peers learn a new relayed address as soon as it exists.
                    .with_push_listen_addr_updates(true)
                    // Behind a proxy or hidden, peers are told only our
                    // external addresses: the relayed ones.
                    .with_hide_listen_addrs(proxied || opts.hidden),
            ),
            ping: ping::Behaviour::default(),
        })
    }
}

/// A swarm with the transports of [`crate::transport`], the relay client
/// (counting the bytes it carries into `relayed`) and weft's behaviours.
pub fn build_swarm(
    key: identity::Keypair,
    opts: &NetOptions,
    relayed: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Result<Swarm<Behaviour>, String> {
    use libp2p::Transport;
    let idle = |c: libp2p::swarm::Config| c.with_idle_connection_timeout(Duration::from_secs(120));
    let (relay_transport, relay_client) = relay::client::new(key.public().to_peer_id());
    let mut direct = crate::net::transport::build(&key, &opts.transport)?;
    if let Some(gate) = &opts.gate {
        direct = super::hidden::Gated::new(direct, gate.clone()).boxed();
    }
    let transport = crate::net::transport::relayed(&key, relay_transport, relayed)
        .or_transport(direct)
        .map(|e, _| e.into_inner())
        .boxed();
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_other_transport(|_| Ok::<_, Box<dyn std::error::Error + Send + Sync>>(transport))
        .map_err(|e| e.to_string())?
        .with_behaviour(|key| Behaviour::new(key, relay_client, opts).map_err(|e| e.into()))
        .map_err(|e| e.to_string())?
        .with_swarm_config(idle)
        .build())
}
