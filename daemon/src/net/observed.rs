//! Hole-punching candidates as peers really saw them.
//!
//! DCUtR tells a peer where to punch from the node's address candidates,
//! which identify makes from what each peer observed. When the observed
//! port is not one this node listens on, identify assumes the dial used a
//! fresh port and puts the listening port in its place. Every dial of this
//! node reuses its listening port, so what the peer observed is the NAT's
//! real mapping, and behind a NAT that does not keep ports (it maps 4001
//! to 5123, say) identify's guess is wrong and punching fails. This
//! behaviour adds the observed address itself as a candidate, beside
//! identify's.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::task::{Context, Poll, Waker};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// Candidates waiting to be handed to the swarm, at most.
const MAX_QUEUED: usize = 32;

/// Hands observed addresses to the swarm as external address candidates.
#[derive(Default)]
pub struct Behaviour {
    queue: VecDeque<Multiaddr>,
    waker: Option<Waker>,
}

impl Behaviour {
    /// A peer saw this node at `addr` on a direct connection.
    pub fn observed(&mut self, addr: Multiaddr) {
        if self.queue.len() >= MAX_QUEUED || self.queue.contains(&addr) {
            return;
        }
        self.queue.push_back(addr);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        match self.queue.pop_front() {
            Some(a) => Poll::Ready(ToSwarm::NewExternalAddrCandidate(a)),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
