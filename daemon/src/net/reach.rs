//! How this node can be reached and how it reaches others: NAT status,
//! relay slots, our own relay's load, hole punching, bootstrap peers, and
//! the reports `weft peers` and `weft doctor` read.

use std::collections::{HashMap, HashSet};

use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::ConnectionId;
use libp2p::{autonat, dcutr, relay, Multiaddr, PeerId};
use tracing::{debug, info, warn};

use super::behaviour::BehaviourEvent;
use super::event_loop::EventLoop;
use super::MAX_RELAYS;

pub use weft_protocol::api::{
    BootstrapInfo, HolePunch, NatStatus, PeerInfo, Reachability, RelayServerInfo, ReservationInfo,
};

/// The node's own network identity and addresses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NetInfo {
    /// Our PeerId.
    pub peer_id: String,
    /// Addresses we listen on.
    pub listen_addrs: Vec<String>,
    /// Addresses peers are told to use (confirmed or relayed).
    pub external_addrs: Vec<String>,
    /// Number of connected peers.
    pub connected: usize,
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

/// One open connection, as `weft peers` shows it.
pub(super) struct Conn {
    pub(super) peer: PeerId,
    /// The far end's address (for the far end of a relayed connection,
    /// only `/p2p/…`).
    pub(super) address: Multiaddr,
    pub(super) outbound: bool,
    /// [`transport_label`]'s name for it.
    pub(super) transport: String,
}

impl Conn {
    pub(super) fn relayed(&self) -> bool {
        self.transport == "relayed"
    }
}

/// A reservation we asked a relay for.
pub(super) struct RelaySlot {
    pub(super) listener: ListenerId,
    pub(super) address: Multiaddr,
    pub(super) accepted: bool,
}

/// Reachability state kept by the loop for `weft doctor`.
#[derive(Default)]
pub(super) struct Reach {
    pub(super) nat: Option<autonat::NatStatus>,
    /// Relays we hold (or asked for) a reservation on.
    pub(super) relays: HashMap<PeerId, RelaySlot>,
    /// Connected peers that run a relay, with an address to reach them.
    pub(super) hop: HashMap<PeerId, Multiaddr>,
    /// Peers holding a reservation on our relay.
    pub(super) relayed_for: HashSet<PeerId>,
    pub(super) circuits: usize,
    pub(super) circuits_total: u64,
    pub(super) punch: HolePunch,
    /// Each open connection.
    pub(super) connections: HashMap<ConnectionId, Conn>,
    /// Relays dialled over QUIC as well, so that one of them observes
    /// this node's QUIC address (a hole-punching candidate).
    pub(super) quic_dialled: HashSet<PeerId>,
    /// Dials of configured bootstrap addresses.
    pub(super) boot_dials: HashMap<ConnectionId, Multiaddr>,
    /// Configured bootstrap addresses: the peer that answered, last error.
    pub(super) boot: HashMap<Multiaddr, (Option<PeerId>, Option<String>)>,
    /// Peers connected at least once since start.
    pub(super) answered: HashSet<PeerId>,
    /// The last dial error per peer (bounded).
    pub(super) dial_errors: HashMap<PeerId, String>,
}

/// Most dial errors remembered for `weft doctor`.
pub(super) const MAX_DIAL_ERRORS: usize = 256;

impl EventLoop {
    /// Holds a slot on each relay of `net.relays` at all times; behind
    /// NAT, also asks up to [`MAX_RELAYS`] other connected relays for one,
    /// and gives those back once reachable directly.
    pub(super) fn maybe_reserve(&mut self) {
        let private = matches!(self.reach.nat, Some(autonat::NatStatus::Private));
        let chosen: HashSet<PeerId> = self
            .opts
            .relays
            .iter()
            .filter_map(|a| match a.iter().last() {
                Some(Protocol::P2p(p)) => Some(p),
                _ => None,
            })
            .collect();
        if !private {
            let leave: Vec<PeerId> = self
                .reach
                .relays
                .keys()
                .filter(|p| !chosen.contains(*p))
                .copied()
                .collect();
            for relay in leave {
                if let Some(slot) = self.reach.relays.remove(&relay) {
                    info!(%relay, "reachable directly; leaving the relay");
                    self.swarm.remove_listener(slot.listener);
                }
            }
        }
        let mut candidates: Vec<(PeerId, Multiaddr)> = self
            .reach
            .hop
            .iter()
            .filter(|(p, _)| {
                !self.reach.relays.contains_key(*p)
                    && self.peers.contains_key(*p)
                    && (private || chosen.contains(*p))
            })
            .map(|(p, a)| (*p, a.clone()))
            .collect();
        // The chosen relays first.
        candidates.sort_by_key(|(p, _)| !chosen.contains(p));
        for (relay, addr) in candidates {
            let others = self
                .reach
                .relays
                .keys()
                .filter(|p| !chosen.contains(*p))
                .count();
            if !chosen.contains(&relay) && others >= MAX_RELAYS {
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
    pub(super) fn boot_result(&mut self, connection: ConnectionId, result: Result<PeerId, String>) {
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
    pub(super) fn reachability(&self) -> Reachability {
        let (nat, nat_address) = match &self.reach.nat {
            Some(autonat::NatStatus::Public(a)) => (NatStatus::Public, Some(a.to_string())),
            Some(autonat::NatStatus::Private) => (NatStatus::Private, None),
            _ => (NatStatus::Unknown, None),
        };
        let mut connections = std::collections::BTreeMap::new();
        for c in self.reach.connections.values() {
            *connections.entry(c.transport.clone()).or_insert(0) += 1;
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
            nat,
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
                reservations: self.reach.relayed_for.len() as u64,
                circuits: self.reach.circuits as u64,
                circuits_total: self.reach.circuits_total,
                max_reservations: l.max_reservations as u64,
                max_circuits: l.max_circuits as u64,
                max_circuit_bytes: l.max_circuit_bytes,
            }),
            connections,
            peers: self.peers.len() as u64,
            bootstrap,
            socks5: self.opts.transport.socks5.map(|a| a.to_string()),
            hole_punch: self.reach.punch.clone(),
            mdns: self.opts.mdns,
            hidden: self.opts.hidden,
            ladder: {
                // Only the peers someone chose: the config's, the joined
                // ones and the chosen relays.
                let chosen: HashSet<String> = self
                    .reach
                    .boot
                    .keys()
                    .chain(&self.opts.relays)
                    .filter_map(|a| match a.iter().last() {
                        Some(Protocol::P2p(p)) => Some(p.to_string()),
                        _ => None,
                    })
                    .chain(self.book.bootstrap().iter().map(|p| p.to_string()))
                    .collect();
                let mut l = self.ladders.reports();
                l.retain(|r| chosen.contains(&r.peer_id));
                l
            },
        }
    }

    /// Every connected peer with its connections, for `weft peers`.
    pub(super) fn peer_list(&self) -> Vec<PeerInfo> {
        let gs = &self.swarm.behaviour().gossipsub;
        // Direct TCP first, then WebSocket, then QUIC, then relayed: the
        // order block streams choose connections in.
        let rank = |t: &str| match t.split(' ').next().unwrap_or("") {
            "tcp" => 0,
            "websocket" | "websocket+tls" => 1,
            "quic" => 2,
            "relayed" => 4,
            _ => 3,
        };
        self.peers
            .iter()
            .map(|(id, st)| {
                let mut conns: Vec<&Conn> = self
                    .reach
                    .connections
                    .values()
                    .filter(|c| c.peer == *id)
                    .collect();
                conns.sort_by_key(|c| rank(&c.transport));
                let (address, transport) = match conns.first() {
                    Some(c) => (c.address.to_string(), c.transport.clone()),
                    None => (
                        st.address.to_string(),
                        transport_label(
                            &st.address,
                            st.outbound && self.opts.transport.socks5.is_some(),
                        ),
                    ),
                };
                PeerInfo {
                    peer_id: id.to_string(),
                    relayed: transport == "relayed",
                    transport,
                    address,
                    outbound: st.outbound,
                    agent: st.agent.clone(),
                    announced: st.announced.iter().map(|a| a.to_string()).collect(),
                    score: gs.peer_score(id),
                    connections: conns
                        .iter()
                        .map(|c| weft_protocol::api::ConnectionInfo {
                            address: c.address.to_string(),
                            outbound: c.outbound,
                            relayed: c.relayed(),
                            transport: c.transport.clone(),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// What identify learnt on connection `connection`: the address `peer`
    /// saw this node at becomes a hole-punching candidate (when the
    /// connection is direct), and a relay reached over TCP only is dialled
    /// over QUIC too, so that some peer observes this node's QUIC address
    /// and hole punching can try QUIC as well as TCP.
    pub(super) fn on_identified(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        observed: &Multiaddr,
        listen_addrs: &[Multiaddr],
        relay: bool,
    ) {
        let Some(conn) = self.reach.connections.get(&connection) else {
            return;
        };
        // Behind a proxy or hidden, what peers see of us is not ours to
        // announce, and hole punching is off.
        if !self.opts.announces_own()
            || conn.relayed()
            || observed.iter().any(|p| p == Protocol::P2pCircuit)
        {
            return;
        }
        self.swarm
            .behaviour_mut()
            .observed
            .observed(observed.clone());
        let quic_on = self.opts.transport.psk.is_none();
        let has_quic = self
            .reach
            .connections
            .values()
            .any(|c| c.peer == peer && c.transport == "quic");
        if !relay || !quic_on || has_quic || self.reach.quic_dialled.contains(&peer) {
            return;
        }
        let ip = |a: &Multiaddr| {
            a.iter().find_map(|p| match p {
                Protocol::Ip4(ip) => Some(std::net::IpAddr::V4(ip)),
                Protocol::Ip6(ip) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            })
        };
        let Some(reached) = ip(&conn.address) else {
            return;
        };
        let quic = listen_addrs
            .iter()
            .find(|a| ip(a) == Some(reached) && a.iter().any(|p| matches!(p, Protocol::QuicV1)));
        if let Some(a) = quic {
            debug!(%peer, address = %a, "dialling a relay over QUIC too, for hole punching");
            self.reach.quic_dialled.insert(peer);
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(vec![a.clone()])
                .condition(libp2p::swarm::dial_opts::PeerCondition::Always)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                debug!(%peer, error = %e, "the QUIC dial of a relay did not start");
            }
        }
    }

    pub(super) fn on_reach_event(&mut self, event: BehaviourEvent) {
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
}
