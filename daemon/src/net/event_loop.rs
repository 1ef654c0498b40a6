//! The swarm task's state and its loop, driven one [`EventLoop::step`] at
//! a time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, InboundRequestId, OutboundRequestId};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{autonat, identify, kad, mdns, relay, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};
use weft_protocol::sync::SyncResponse;
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::{BundleId, Response};

use super::behaviour::{Behaviour, BehaviourEvent};
use super::reach::{transport_label, Reach, MAX_DIAL_ERRORS};
use super::*;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
/// One connected peer.
pub(super) struct PeerState {
    pub(super) address: Multiaddr,
    pub(super) outbound: bool,
    pub(super) connections: usize,
    pub(super) agent: Option<String>,
    /// The addresses it announced (identify), at most [`MAX_ADDRS`].
    pub(super) announced: Vec<Multiaddr>,
    /// Its gossip messages handed over for checking, not yet judged.
    pub(super) validating: usize,
}

/// The swarm task's state. Build it with [`spawn`].
pub struct EventLoop {
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) commands: mpsc::Receiver<Command>,
    /// Where inbound requests, gossip and peer events go.
    pub(super) outlets: Outlets,
    pub(super) metrics: Arc<Metrics>,
    pub(super) topic: IdentTopic,
    pub(super) pending_dials:
        HashMap<ConnectionId, (Multiaddr, oneshot::Sender<Result<PeerId, NetError>>)>,
    pub(super) pending_requests:
        HashMap<OutboundRequestId, oneshot::Sender<Result<Response, NetError>>>,
    pub(super) pending_announcements: VecDeque<Vec<u8>>,
    pub(super) peers: HashMap<PeerId, PeerState>,
    /// Admitted inbound requests whose responses are not yet written.
    pub(super) inbound: HashMap<InboundRequestId, PeerId>,
    /// The same, counted per peer.
    pub(super) inbound_per_peer: HashMap<PeerId, usize>,
    pub(super) banned: HashMap<PeerId, Instant>,
    pub(super) redial: Vec<Multiaddr>,
    /// Peers mDNS found on the LAN and has not seen expire, dialled again
    /// at each redial tick while not connected (a first dial that fails is
    /// otherwise not retried until mDNS finds them anew, minutes later).
    pub(super) lan: HashMap<PeerId, Vec<Multiaddr>>,
    pub(super) book: Arc<dyn AddressBook>,
    pub(super) pending_syncs:
        HashMap<OutboundRequestId, oneshot::Sender<Result<SyncResponse, NetError>>>,
    pub(super) provide_queue: VecDeque<BundleId>,
    pub(super) provide_queued: HashSet<BundleId>,
    pub(super) providing: HashSet<kad::QueryId>,
    pub(super) provider_lookups:
        HashMap<kad::QueryId, (HashSet<PeerId>, oneshot::Sender<Vec<PeerId>>)>,
    pub(super) opts: NetOptions,
    pub(super) reach: Reach,
    pub(super) redial_timer: tokio::time::Interval,
    /// Climbs of the fallback ladder, and how the last ones went.
    pub(super) ladders: super::ladder::Ladders,
    pub(super) ladder_timer: tokio::time::Interval,
    pub(super) shutdown: Shutdown,
}

/// What the swarm task needs besides the swarm.
pub struct Parts {
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Peers seen before.
    pub book: Arc<dyn AddressBook>,
    /// Where inbound requests, gossip and peer events go.
    pub outlets: Outlets,
    /// The options the swarm was built with.
    pub opts: NetOptions,
    /// Ends the loop.
    pub shutdown: Shutdown,
}

/// Starts the swarm task: listens, subscribes, dials `peers`, and returns
/// its client. The swarm's addresses are ready when this returns.
pub async fn spawn(
    swarm: Swarm<Behaviour>,
    listen: &[Multiaddr],
    peers: Vec<Multiaddr>,
    parts: Parts,
) -> Result<(Client, tokio::task::JoinHandle<()>), String> {
    let shutdown = parts.shutdown.clone();
    let (client, lp) = start(swarm, listen, peers, parts).await?;
    Ok((client, shutdown.spawn(lp.run())))
}

/// Listens, dials `peers`, and returns the loop without running it (a
/// test drives it one [`EventLoop::step`] at a time).
pub async fn start(
    mut swarm: Swarm<Behaviour>,
    listen: &[Multiaddr],
    peers: Vec<Multiaddr>,
    parts: Parts,
) -> Result<(Client, EventLoop), String> {
    let Parts {
        metrics,
        book,
        outlets,
        opts,
        shutdown,
    } = parts;
    super::listen::listen(&mut swarm, listen, opts.announces_own()).await?;
    let (tx, commands) = mpsc::channel(COMMAND_CHANNEL);
    let mut redial_timer = tokio::time::interval(REDIAL_INTERVAL);
    redial_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    redial_timer.reset();
    let mut ladder_timer = tokio::time::interval(std::time::Duration::from_secs(1));
    ladder_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut lp = EventLoop {
        swarm,
        commands,
        outlets,
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
        lan: HashMap::new(),
        book,
        pending_syncs: HashMap::new(),
        provide_queue: VecDeque::new(),
        provide_queued: HashSet::new(),
        providing: HashSet::new(),
        provider_lookups: HashMap::new(),
        redial_timer,
        ladders: Default::default(),
        ladder_timer,
        shutdown,
        reach: Reach {
            boot: peers.iter().map(|a| (a.clone(), (None, None))).collect(),
            // Behind a proxy nobody can dial us, and a node told it is
            // unreachable believes it: reserve relay slots.
            nat: (opts.transport.socks5.is_some() || opts.private_reach)
                .then_some(autonat::NatStatus::Private),
            ..Reach::default()
        },
        opts,
    };
    if let Some(gate) = &lp.opts.gate {
        // Hubs joined before are hubs given, and so are the relays their
        // relayed addresses name.
        let joined: HashSet<PeerId> = lp.book.bootstrap().into_iter().collect();
        for (p, addrs) in lp.book.candidates(usize::MAX) {
            if joined.contains(&p) {
                gate.allow_peer(p);
                for a in &addrs {
                    gate.allow(a);
                }
            }
        }
    }
    lp.dial_given(peers);
    lp.dial_book();
    let control = lp.swarm.behaviour().blocks.new_control();
    Ok((Client::with_streams(tx, control), lp))
}

impl EventLoop {
    async fn run(mut self) {
        while self.step().await {}
        debug!("network task stopped");
    }

    /// Handles one thing: a swarm event, a command or the redial timer.
    /// Returns false once the loop should end: every [`Client`] is gone,
    /// or shutdown was requested. Safe to cancel between calls.
    pub async fn step(&mut self) -> bool {
        tokio::select! {
            event = self.swarm.select_next_some() => self.on_swarm_event(event),
            cmd = self.commands.recv() => match cmd {
                Some(cmd) => self.on_command(cmd),
                None => {
                    debug!("every client is gone");
                    return false;
                }
            },
            _ = self.redial_timer.tick() => self.redial(),
            _ = self.ladder_timer.tick() => self.ladder_tick(),
            _ = self.shutdown.requested() => {
                debug!("shutdown requested");
                return false;
            }
        }
        true
    }

    fn redial(&mut self) {
        let now = Instant::now();
        self.banned.retain(|_, until| *until > now);
        self.dial_given(self.redial.clone());
        let lan: Vec<(PeerId, Vec<Multiaddr>)> = self
            .lan
            .iter()
            .filter(|(p, _)| !self.peers.contains_key(p) && !self.banned.contains_key(p))
            .map(|(p, a)| (*p, a.clone()))
            .collect();
        for (peer, addrs) in lan {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            let _ = self.swarm.dial(opts);
        }
        if self.peers.len() < MIN_PEERS {
            self.dial_book();
        }
        self.maybe_reserve();
    }

    pub(super) fn dial(
        &mut self,
        addr: Multiaddr,
        reply: Option<oneshot::Sender<Result<PeerId, NetError>>>,
    ) {
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
            Command::Dial { addr, reply } => {
                // An address the user gave is a hub given, in hidden mode.
                if let Some(gate) = &self.opts.gate {
                    gate.allow(&addr);
                }
                self.dial(addr, Some(reply))
            }
            Command::Climb { peer, addrs, reply } => {
                // A hub joined, and the relays its invite names, are given.
                if let Some(gate) = &self.opts.gate {
                    gate.allow_peer(peer);
                    for a in &addrs {
                        gate.allow(a);
                    }
                }
                self.climb(peer, &addrs, Some(reply))
            }
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
                let _ = reply.send(self.peer_list());
            }
            Command::Reach { reply } => {
                let _ = reply.send(self.reachability());
            }
            Command::Info { reply } => {
                let _ = reply.send(NetInfo {
                    peer_id: self.swarm.local_peer_id().to_string(),
                    listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
                    external_addrs: self
                        .swarm
                        .external_addresses()
                        .map(|a| a.to_string())
                        .collect(),
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
            Command::CatchUp(peer) => {
                if self.outlets.peers.try_send(PeerEvent::Hint(peer)).is_err() {
                    debug!(%peer, "sync queue full; the catch-up waits for the next round");
                }
            }
            Command::Respond {
                peer,
                id,
                channel,
                response,
            } => self.respond(peer, id, channel, response),
            Command::SyncRespond { channel, response } => self.sync_respond(channel, response),
            Command::Verdict {
                id,
                source,
                verdict,
            } => self.on_verdict(id, source, verdict),
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

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.on_gossip(propagation_source, message_id, message.data),
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
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Expired(list))) => {
                for (peer, addr) in list {
                    if let Some(addrs) = self.lan.get_mut(&peer) {
                        addrs.retain(|a| *a != addr);
                        if addrs.is_empty() {
                            self.lan.remove(&peer);
                        }
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(list))) => {
                for (peer, addr) in list {
                    if self.lan.len() < MAX_LAN_PEERS || self.lan.contains_key(&peer) {
                        let addrs = self.lan.entry(peer).or_default();
                        if !addrs.contains(&addr) && addrs.len() < 4 {
                            addrs.push(addr.clone());
                        }
                    }
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
                connection_id,
                peer_id,
                info,
            })) => {
                let relay = info.protocols.contains(&relay::HOP_PROTOCOL_NAME);
                self.on_identified(
                    connection_id,
                    peer_id,
                    &info.observed_addr,
                    &info.listen_addrs,
                    relay,
                );
                if let Some(st) = self.peers.get_mut(&peer_id) {
                    st.agent = Some(info.agent_version.chars().take(64).collect());
                    st.announced = info.listen_addrs.iter().take(MAX_ADDRS).cloned().collect();
                }
                let addrs: Vec<Multiaddr> = info
                    .listen_addrs
                    .into_iter()
                    .filter(dialable)
                    .take(MAX_ADDRS)
                    .collect();
                if relay {
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
                tokio::task::spawn_blocking(move || book.record(peer_id, &addrs));
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
                self.reach.connections.insert(
                    connection_id,
                    super::reach::Conn {
                        peer: peer_id,
                        address: address.clone(),
                        outbound,
                        transport: transport_label(&address, via_proxy),
                    },
                );
                self.reach.answered.insert(peer_id);
                self.reach.dial_errors.remove(&peer_id);
                self.ladder_connected(peer_id, connection_id, &address);
                self.boot_result(connection_id, Ok(peer_id));
                if !self.peers.contains_key(&peer_id) {
                    if self.peers.is_empty() {
                        // Back online: the DHT should hear what we hold.
                        self.outlets.online.notify_one();
                    }
                    let _ = self.outlets.peers.try_send(PeerEvent::Connected {
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
                        announced: Vec::new(),
                        validating: 0,
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
                    self.reach.quic_dialled.remove(&peer_id);
                    info!(peer = %peer_id, "disconnected");
                    self.peers.remove(&peer_id);
                    let _ = self
                        .outlets
                        .peers
                        .try_send(PeerEvent::Disconnected(peer_id));
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
                self.ladder_failed(connection_id, &error);
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
                // Behind a proxy or hidden, only relayed addresses are
                // announced (the relay client confirms those itself).
                if self.opts.announces_own() {
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

mod gossip;
#[cfg(test)]
mod tests;
