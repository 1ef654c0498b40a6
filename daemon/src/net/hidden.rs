//! Hidden mode (`net.privacy = "hidden"`, `weftd --hidden`): the node
//! tells no peer where it is, except the hubs and relays it was given.
//!
//! What makes it so, piece by piece:
//! - no listener (the config empties `listen`), no mDNS, no AutoNAT, no
//!   hole punching, no relay for others;
//! - identify sends only external addresses, and the only ones a hidden
//!   node has are its relayed addresses (`/…/p2p/<relay>/p2p-circuit`);
//!   observed addresses are never taken as our own;
//! - the DHT runs in client mode, and provider records carry the external
//!   addresses, so again only relayed ones;
//! - [`Gated`] refuses every direct dial except to the peers and addresses
//!   of [`DirectGate`]: the configured peers and relays, the peers joined
//!   with an invite, the addresses given to `weft connect`, and the relays
//!   that relayed addresses among those name. Everyone
//!   else is reached through a relay, where the relay sees both ends and
//!   each end sees only the relay.
//!
//! Behind a SOCKS5 proxy every dial goes through the proxy already, and no
//! gate is needed.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use libp2p::core::transport::{Boxed, DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, Transport};

/// The peers and addresses a hidden node may dial directly.
#[derive(Debug, Default)]
pub struct DirectGate {
    peers: RwLock<HashSet<PeerId>>,
    /// Addresses given without a peer id, without any `/p2p/…`.
    addrs: RwLock<HashSet<Multiaddr>>,
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(p)) => Some(p),
        _ => None,
    }
}

fn without_peer(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

impl DirectGate {
    /// A gate open to each of `given` (hubs and relays from the config).
    pub fn new<'a>(given: impl IntoIterator<Item = &'a Multiaddr>) -> Arc<Self> {
        let gate = Arc::new(Self::default());
        for a in given {
            gate.allow(a);
        }
        gate
    }

    /// Opens the gate to the peer `addr` names, or to `addr` itself when it
    /// names none. For a relayed address (`/…/p2p/<relay>/p2p-circuit/…`),
    /// to the relay it names: that is the one dialled directly.
    pub fn allow(&self, addr: &Multiaddr) {
        if addr.iter().any(|p| p == Protocol::P2pCircuit) {
            let relay: Multiaddr = addr
                .iter()
                .take_while(|p| *p != Protocol::P2pCircuit)
                .collect();
            if peer_of(&relay).is_some() {
                self.allow(&relay);
            }
            return;
        }
        match peer_of(addr) {
            Some(p) => self.allow_peer(p),
            None => {
                self.addrs
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(addr.clone());
            }
        }
    }

    /// Opens the gate to `peer` on any address.
    pub fn allow_peer(&self, peer: PeerId) {
        self.peers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer);
    }

    /// Whether `addr` (as the swarm dials it, ending in `/p2p/<peer>`
    /// when the peer is known) may be dialled directly.
    pub fn admits(&self, addr: &Multiaddr) -> bool {
        if let Some(p) = peer_of(addr) {
            if self
                .peers
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&p)
            {
                return true;
            }
        }
        self.addrs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&without_peer(addr))
    }
}

/// A transport that dials only what its [`DirectGate`] admits.
pub struct Gated<O> {
    inner: Boxed<O>,
    gate: Arc<DirectGate>,
}

impl<O> Gated<O> {
    /// `inner`, behind `gate`.
    pub fn new(inner: Boxed<O>, gate: Arc<DirectGate>) -> Self {
        Self { inner, gate }
    }
}

impl<O: 'static> Transport for Gated<O> {
    type Output = O;
    type Error = std::io::Error;
    type ListenerUpgrade = <Boxed<O> as Transport>::ListenerUpgrade;
    type Dial = <Boxed<O> as Transport>::Dial;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        if addr.iter().any(|p| p == Protocol::P2pCircuit) {
            // Not ours to carry: the relay transport dials these.
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        if !self.gate.admits(&addr) {
            return Err(TransportError::Other(std::io::Error::other(format!(
                "hidden mode: {addr} is not one of this node's hubs or relays, so it is reached only through a relay"
            ))));
        }
        self.inner.dial(addr, opts)
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_given_peers_and_addresses_and_nothing_else() {
        let hub = PeerId::random();
        let other = PeerId::random();
        let hub_addr: Multiaddr = format!("/ip4/192.0.2.1/tcp/4141/p2p/{hub}")
            .parse()
            .unwrap();
        let bare: Multiaddr = "/ip4/192.0.2.2/tcp/443/tls/ws".parse().unwrap();
        let gate = DirectGate::new([&hub_addr, &bare]);
        // The hub on any of its addresses.
        let hub_quic: Multiaddr = format!("/ip4/192.0.2.9/udp/4141/quic-v1/p2p/{hub}")
            .parse()
            .unwrap();
        assert!(gate.admits(&hub_quic));
        // An address given bare, as the swarm dials it (with the peer id
        // it learnt).
        assert!(gate.admits(&bare.clone().with(Protocol::P2p(other))));
        // Anyone else, on any address.
        let elsewhere: Multiaddr = format!("/ip4/192.0.2.1/tcp/5000/p2p/{other}")
            .parse()
            .unwrap();
        assert!(!gate.admits(&elsewhere));
        // A relayed address opens the way to its relay, not to the peer
        // behind it.
        let relay = PeerId::random();
        let circuit: Multiaddr =
            format!("/ip4/192.0.2.7/tcp/4141/p2p/{relay}/p2p-circuit/p2p/{other}")
                .parse()
                .unwrap();
        gate.allow(&circuit);
        assert!(!gate.admits(&elsewhere));
        let to_relay: Multiaddr = format!("/ip4/192.0.2.7/tcp/4141/p2p/{relay}")
            .parse()
            .unwrap();
        assert!(gate.admits(&to_relay));
        gate.allow_peer(other);
        assert!(gate.admits(&elsewhere));
    }
}
