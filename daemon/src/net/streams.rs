//! Raw streams for the block protocol, opened on the best connection to a
//! peer.
//!
//! Two daemons often hold more than one connection to each other: a TCP one
//! that one side dialled and a QUIC one that the other side dialled, or a
//! relayed one that a direct one has since joined. A generic stream
//! behaviour that picks one of them at random for each stream sends some of
//! a bundle's blocks over the slower path, and the same fetch then takes
//! between one and three times as long from one run to the next. This
//! behaviour opens every stream to a peer on one connection, chosen by its
//! path: a direct TCP (or WebSocket) connection first, then a direct QUIC
//! one, then a relayed one; among equals, the oldest. The choice holds for as
//! long as that connection lives, so a fetch's streams share one congestion
//! window and one multiplexer.
//!
//! It never dials: a block stream is opened to a peer that is connected.
//! Inbound streams of the accepted protocols are handed to one receiver per
//! protocol, through a bounded queue; a stream that finds the queue full is
//! dropped, and its opener sees the stream reset.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use libp2p::core::transport::PortUse;
use libp2p::core::{Endpoint, UpgradeInfo};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, Stream, StreamProtocol, StreamUpgradeError, SubstreamProtocol, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{InboundUpgrade, Multiaddr, OutboundUpgrade, PeerId};

/// How many accepted streams of one protocol may wait for their receiver.
const INBOUND_QUEUE: usize = 32;

/// How a connection reaches its peer; the order is the order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Path {
    /// Direct, over TCP (plain or WebSocket).
    Tcp,
    /// Direct, over QUIC.
    Quic,
    /// Through a relay.
    Relayed,
}

impl Path {
    /// The path of a connection with these two ends' addresses.
    pub fn of(local: &Multiaddr, remote: &Multiaddr) -> Path {
        let has = |pred: fn(&Protocol) -> bool| local.iter().chain(remote.iter()).any(|p| pred(&p));
        if has(|p| matches!(p, Protocol::P2pCircuit)) {
            Path::Relayed
        } else if has(|p| matches!(p, Protocol::QuicV1 | Protocol::Quic)) {
            Path::Quic
        } else {
            Path::Tcp
        }
    }
}

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No connection to the peer.
    #[error("not connected")]
    NotConnected,
    /// The peer does not speak the protocol.
    #[error("the peer does not support {0}")]
    Unsupported(StreamProtocol),
    /// The connection failed or closed while the stream was negotiated.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The protocol already has a receiver.
#[derive(Debug, thiserror::Error)]
#[error("the protocol {0} is already accepted")]
pub struct AlreadyAccepted(StreamProtocol);

/// Accepted inbound streams of one protocol, with the peer that opened each.
pub type Incoming = mpsc::Receiver<(PeerId, Stream)>;

/// A request to a connection's handler to open a stream.
struct Open {
    protocol: StreamProtocol,
    reply: oneshot::Sender<Result<Stream, OpenError>>,
}

/// One connection, as the behaviour knows it.
struct Conn {
    peer: PeerId,
    path: Path,
    opens: mpsc::UnboundedSender<Open>,
}

#[derive(Default)]
struct Shared {
    /// Where accepted streams of each protocol go.
    accepting: HashMap<StreamProtocol, mpsc::Sender<(PeerId, Stream)>>,
    /// Connections whose handler exists and that the swarm reported
    /// established.
    live: HashMap<ConnectionId, Conn>,
    /// Connections whose handler exists but that are not yet established
    /// (another behaviour may still deny them).
    pending: HashMap<ConnectionId, Conn>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The connection to open a stream to `peer` on.
    fn best(&self, peer: PeerId) -> Option<&Conn> {
        self.live
            .iter()
            .filter(|(_, c)| c.peer == peer)
            .min_by_key(|(id, c)| (c.path, **id))
            .map(|(_, c)| c)
    }

    fn protocols(&mut self) -> Vec<StreamProtocol> {
        self.accepting.retain(|_, tx| !tx.is_closed());
        self.accepting.keys().cloned().collect()
    }

    fn inbound(&mut self, peer: PeerId, stream: Stream, protocol: StreamProtocol) {
        let Some(tx) = self.accepting.get_mut(&protocol) else {
            return;
        };
        if let Err(e) = tx.try_send((peer, stream)) {
            if e.is_disconnected() {
                self.accepting.remove(&protocol);
            } else {
                tracing::debug!(%peer, %protocol, "inbound stream queue full; stream dropped");
            }
        }
    }
}

/// The behaviour; [`Control`]s made from it open and accept streams.
pub struct Behaviour {
    shared: Arc<Mutex<Shared>>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self::new()
    }
}

impl Behaviour {
    /// A behaviour with no accepted protocols.
    pub fn new() -> Self {
        Behaviour {
            shared: Arc::default(),
        }
    }

    /// A handle that opens and accepts streams; cheap to clone.
    pub fn new_control(&self) -> Control {
        Control {
            shared: self.shared.clone(),
        }
    }

    fn handler(&mut self, id: ConnectionId, peer: PeerId, path: Path) -> Handler {
        let (opens, rx) = mpsc::unbounded();
        let mut shared = lock(&self.shared);
        // A handler whose connection was denied has been dropped.
        shared.pending.retain(|_, c| !c.opens.is_closed());
        shared.pending.insert(id, Conn { peer, path, opens });
        Handler {
            peer,
            shared: self.shared.clone(),
            opens: rx,
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(id, peer, Path::of(local_addr, remote_addr)))
    }

    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(id, peer, Path::of(&Multiaddr::empty(), addr)))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                let mut shared = lock(&self.shared);
                if let Some(conn) = shared.pending.remove(&e.connection_id) {
                    shared.live.insert(e.connection_id, conn);
                }
            }
            FromSwarm::ConnectionClosed(e) => {
                let mut shared = lock(&self.shared);
                shared.live.remove(&e.connection_id);
                shared.pending.remove(&e.connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// Opens and accepts streams beside the swarm task, not through it.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Mutex<Shared>>,
}

impl Control {
    /// Opens a stream of `protocol` to the connected `peer`, on the
    /// connection of the best [`Path`].
    pub async fn open(&self, peer: PeerId, protocol: StreamProtocol) -> Result<Stream, OpenError> {
        let (reply, rx) = oneshot::channel();
        {
            let shared = lock(&self.shared);
            let conn = shared.best(peer).ok_or(OpenError::NotConnected)?;
            tracing::debug!(%peer, path = ?conn.path, "opening a stream");
            conn.opens
                .unbounded_send(Open { protocol, reply })
                .map_err(|_| closed())?;
        }
        rx.await.map_err(|_| closed())?
    }

    /// Starts accepting inbound streams of `protocol`. Dropping the receiver
    /// stops it.
    pub fn accept(&self, protocol: StreamProtocol) -> Result<Incoming, AlreadyAccepted> {
        let mut shared = lock(&self.shared);
        shared.accepting.retain(|_, tx| !tx.is_closed());
        if shared.accepting.contains_key(&protocol) {
            return Err(AlreadyAccepted(protocol));
        }
        let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
        shared.accepting.insert(protocol, tx);
        Ok(rx)
    }
}

fn closed() -> OpenError {
    OpenError::Io(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "the connection closed",
    ))
}

/// One connection's side: negotiates the streams asked for on it, and
/// hands over the streams the peer opens.
pub struct Handler {
    peer: PeerId,
    shared: Arc<Mutex<Shared>>,
    opens: mpsc::UnboundedReceiver<Open>,
}

/// Stream negotiation with no bytes of its own beyond multistream-select.
pub struct Upgrade(Vec<StreamProtocol>);

impl UpgradeInfo for Upgrade {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone().into_iter()
    }
}

impl InboundUpgrade<Stream> for Upgrade {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}

impl OutboundUpgrade<Stream> for Upgrade {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_outbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}

type Reply = oneshot::Sender<Result<Stream, OpenError>>;

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = Upgrade;
    type OutboundProtocol = Upgrade;
    type InboundOpenInfo = ();
    // Each outbound negotiation carries its own reply, so several can run
    // on one connection at once.
    type OutboundOpenInfo = (StreamProtocol, Reply);

    fn listen_protocol(&self) -> SubstreamProtocol<Upgrade> {
        SubstreamProtocol::new(Upgrade(lock(&self.shared).protocols()), ())
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Upgrade, Self::OutboundOpenInfo, Infallible>> {
        match self.opens.poll_next_unpin(cx) {
            Poll::Ready(Some(Open { protocol, reply })) => {
                Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                    protocol: SubstreamProtocol::new(
                        Upgrade(vec![protocol.clone()]),
                        (protocol, reply),
                    ),
                })
            }
            _ => Poll::Pending,
        }
    }

    fn on_behaviour_event(&mut self, event: Infallible) {
        match event {}
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Upgrade, Upgrade, (), Self::OutboundOpenInfo>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: (stream, protocol),
                ..
            }) => lock(&self.shared).inbound(self.peer, stream, protocol),
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (stream, _),
                info: (_, reply),
            }) => {
                let _ = reply.send(Ok(stream));
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError {
                error,
                info: (protocol, reply),
            }) => {
                let error = match error {
                    StreamUpgradeError::Timeout => {
                        OpenError::Io(io::Error::from(io::ErrorKind::TimedOut))
                    }
                    StreamUpgradeError::NegotiationFailed => OpenError::Unsupported(protocol),
                    StreamUpgradeError::Io(e) => OpenError::Io(e),
                    StreamUpgradeError::Apply(never) => match never {},
                };
                let _ = reply.send(Err(error));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn paths_are_told_apart_by_either_end() {
        let none = Multiaddr::empty();
        assert_eq!(Path::of(&none, &addr("/ip4/127.0.0.1/tcp/4001")), Path::Tcp);
        assert_eq!(
            Path::of(&none, &addr("/ip4/127.0.0.1/tcp/443/tls/ws")),
            Path::Tcp
        );
        assert_eq!(
            Path::of(&none, &addr("/ip4/127.0.0.1/udp/4001/quic-v1")),
            Path::Quic
        );
        let relay = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit";
        assert_eq!(Path::of(&none, &addr(relay)), Path::Relayed);
        // An inbound relayed connection shows the circuit on the local end.
        assert_eq!(
            Path::of(
                &addr(relay),
                &addr("/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN")
            ),
            Path::Relayed
        );
    }

    #[test]
    fn the_best_connection_is_direct_tcp_then_quic_then_relayed_then_oldest() {
        let peer = PeerId::random();
        let other = PeerId::random();
        let mut shared = Shared::default();
        let mut receivers = Vec::new();
        let mut add = |shared: &mut Shared, id: usize, peer: PeerId, path: Path| {
            let (opens, rx) = mpsc::unbounded();
            receivers.push(rx);
            shared
                .live
                .insert(ConnectionId::new_unchecked(id), Conn { peer, path, opens });
        };
        assert!(shared.best(peer).is_none());
        add(&mut shared, 1, peer, Path::Relayed);
        assert_eq!(shared.best(peer).map(|c| c.path), Some(Path::Relayed));
        add(&mut shared, 2, peer, Path::Quic);
        add(&mut shared, 3, other, Path::Tcp);
        assert_eq!(shared.best(peer).map(|c| c.path), Some(Path::Quic));
        add(&mut shared, 5, peer, Path::Tcp);
        add(&mut shared, 4, peer, Path::Tcp);
        let best = shared.best(peer).unwrap();
        assert_eq!(best.path, Path::Tcp);
        assert!(
            shared.live[&ConnectionId::new_unchecked(4)]
                .opens
                .same_receiver(&best.opens),
            "among equal paths, the oldest connection"
        );
        shared.live.remove(&ConnectionId::new_unchecked(4));
        shared.live.remove(&ConnectionId::new_unchecked(5));
        assert_eq!(shared.best(peer).map(|c| c.path), Some(Path::Quic));
    }
}
