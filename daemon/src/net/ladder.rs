//! The fallback ladder: how a node reaches a bootstrap peer (a hub from
//! the config or an invite) when some ways are blocked, without anyone
//! choosing a setting.
//!
//! A peer's addresses fall into three ways, tried in this order:
//! 1. **direct** (TCP, QUIC): fastest, and nothing is in between;
//! 2. **websocket** (`/ws`, `/tls/ws` on port 443): to a firewall, web
//!    traffic to the hub;
//! 3. **relay** (`/…/p2p/<relay>/p2p-circuit/p2p/<peer>`): through a third
//!    node, which costs that node's bandwidth and adds a hop, so it comes
//!    last.
//!
//! The next way starts as soon as every dial of the last one failed, or
//! after [`STEP`] if they are still hanging (a censor that drops packets
//! makes a dial wait minutes); earlier dials are not cancelled, and the
//! first connection wins. The way that worked is written to the peer book
//! and tried first next time. Every dial that ends is kept in a
//! [`LadderReport`] for `weft doctor`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::debug;

pub use weft_protocol::api::{LadderReport, LadderStep};

use super::event_loop::EventLoop;
use super::BOOK_DIALS;

/// How long one way has before the next one starts beside it.
pub const STEP: Duration = Duration::from_secs(5);
/// Reports kept for `weft doctor`, one per peer.
const MAX_REPORTS: usize = 64;

/// A way to reach a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Way {
    /// TCP or QUIC to the peer itself.
    Direct,
    /// WebSocket, with or without TLS.
    Web,
    /// Through a relay.
    Relay,
}

impl Way {
    /// The way `addr` goes.
    pub fn of(addr: &Multiaddr) -> Self {
        if addr.iter().any(|p| p == Protocol::P2pCircuit) {
            Way::Relay
        } else if addr
            .iter()
            .any(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_)))
        {
            Way::Web
        } else {
            Way::Direct
        }
    }

    /// Its name in reports and in the peer book.
    pub fn name(self) -> &'static str {
        match self {
            Way::Direct => "direct",
            Way::Web => "websocket",
            Way::Relay => "relay",
        }
    }

    /// The way named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Way::Direct, Way::Web, Way::Relay]
            .into_iter()
            .find(|w| w.name() == s)
    }
}

/// `addrs` grouped by way, in ladder order, with `first` (the way that
/// worked last time) moved to the front. Repeats are dropped.
pub fn rungs(addrs: &[Multiaddr], first: Option<Way>) -> VecDeque<(Way, Vec<Multiaddr>)> {
    let mut by: Vec<(Way, Vec<Multiaddr>)> = Vec::new();
    for a in addrs {
        let w = Way::of(a);
        match by.iter_mut().find(|(x, _)| *x == w) {
            Some((_, list)) if !list.contains(a) => list.push(a.clone()),
            Some(_) => {}
            None => by.push((w, vec![a.clone()])),
        }
    }
    by.sort_by_key(|(w, _)| (Some(*w) != first, *w));
    by.into()
}

/// Up to `max` of `addrs` for an invite: every way represented, in ladder
/// order, each way's addresses in the order given.
pub fn for_invite(addrs: &[Multiaddr], max: usize) -> Vec<Multiaddr> {
    let rungs = rungs(addrs, None);
    let mut out = Vec::new();
    // Round robin over the ways, so that a hub with many direct
    // addresses still hands out its WebSocket and relayed ones.
    let mut i = 0;
    while out.len() < max {
        let mut any = false;
        for (_, list) in &rungs {
            if let Some(a) = list.get(i) {
                if out.len() < max {
                    out.push(a.clone());
                }
                any = true;
            }
        }
        if !any {
            break;
        }
        i += 1;
    }
    out.sort_by_key(Way::of);
    out
}

type Reply = oneshot::Sender<Result<LadderReport, LadderReport>>;

/// One climb in progress.
struct Climb {
    rungs: VecDeque<(Way, Vec<Multiaddr>)>,
    /// Dials in flight.
    pending: Vec<ConnectionId>,
    /// When the next way starts even if the last one has not failed.
    next_at: Instant,
    steps: Vec<LadderStep>,
    replies: Vec<Reply>,
}

/// Every climb, and the last report per peer.
#[derive(Default)]
pub(super) struct Ladders {
    climbs: HashMap<PeerId, Climb>,
    /// Each ladder dial in flight: to whom, over which addresses.
    dials: HashMap<ConnectionId, (PeerId, Vec<Multiaddr>)>,
    reports: HashMap<PeerId, LadderReport>,
}

impl Ladders {
    /// Whether a climb to `peer` is under way.
    pub(super) fn climbing(&self, peer: &PeerId) -> bool {
        self.climbs.contains_key(peer)
    }

    /// The reports, for `weft doctor`: the finished ones and those under
    /// way, by peer.
    pub(super) fn reports(&self) -> Vec<LadderReport> {
        let mut out: Vec<LadderReport> = self.reports.values().cloned().collect();
        for (peer, c) in &self.climbs {
            out.retain(|r| r.peer_id != peer.to_string());
            out.push(LadderReport {
                climbing: true,
                peer_id: peer.to_string(),
                steps: c.steps.clone(),
                way: None,
            });
        }
        out.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        out
    }
}

/// The error of one address of a failed dial.
fn errors_of(error: &DialError, addrs: &[Multiaddr]) -> Vec<(Multiaddr, String)> {
    let short = |s: String| s.chars().take(200).collect::<String>();
    match error {
        DialError::Transport(list) => list
            .iter()
            .map(|(a, e)| {
                // Some transport errors display as nothing at all.
                let mut why = e.to_string();
                if why.trim().is_empty() {
                    let debug = format!("{e:?}");
                    why = if debug.contains("Timeout") || debug.contains("TimedOut") {
                        "no answer (timed out)".into()
                    } else {
                        debug
                    };
                }
                (a.clone(), short(why))
            })
            .collect(),
        other => addrs
            .iter()
            .map(|a| (a.clone(), short(other.to_string())))
            .collect(),
    }
}

impl EventLoop {
    /// Dials peers from the peer book that are not connected.
    pub(super) fn dial_book(&mut self) {
        let me = *self.swarm.local_peer_id();
        for (peer, addrs) in self.book.candidates(BOOK_DIALS) {
            if peer == me || addrs.is_empty() || self.peers.contains_key(&peer) {
                continue;
            }
            if self
                .banned
                .get(&peer)
                .is_some_and(|t| *t > std::time::Instant::now())
            {
                continue;
            }
            self.climb(peer, &addrs, None);
        }
    }

    /// Dials the configured peers and relays (`given`, and `net.relays`)
    /// that are not connected: by the fallback ladder over every address
    /// known for each (the config's and the peer book's), or plainly for
    /// an address that names no peer.
    pub(super) fn dial_given(&mut self, given: Vec<Multiaddr>) {
        let mut by_peer: Vec<(PeerId, Vec<Multiaddr>)> = Vec::new();
        for addr in given.into_iter().chain(self.opts.relays.clone()) {
            let Some(Protocol::P2p(peer)) = addr.iter().last() else {
                self.dial(addr, None);
                continue;
            };
            match by_peer.iter_mut().find(|(p, _)| *p == peer) {
                Some((_, list)) => list.push(addr),
                None => by_peer.push((peer, vec![addr])),
            }
        }
        let known: HashMap<PeerId, Vec<Multiaddr>> =
            self.book.candidates(usize::MAX).into_iter().collect();
        for (peer, mut addrs) in by_peer {
            if self.peers.contains_key(&peer) || self.ladders.climbing(&peer) {
                continue;
            }
            addrs.extend(known.get(&peer).into_iter().flatten().cloned());
            self.climb(peer, &addrs, None);
        }
    }

    /// Reaches `peer` by the ladder over `addrs` (each ending in
    /// `/p2p/<peer>`), answering `reply` when it connects or every way
    /// failed. A climb already under way takes the reply instead.
    pub(super) fn climb(&mut self, peer: PeerId, addrs: &[Multiaddr], reply: Option<Reply>) {
        if let Some(c) = self.ladders.climbs.get_mut(&peer) {
            c.replies.extend(reply);
            return;
        }
        if self.peers.contains_key(&peer) {
            if let Some(r) = reply {
                let report = self.ladders.reports.get(&peer).cloned();
                let _ = r.send(Ok(report.unwrap_or(LadderReport {
                    climbing: false,
                    peer_id: peer.to_string(),
                    steps: Vec::new(),
                    way: None,
                })));
            }
            return;
        }
        let first = self.book.way(&peer).as_deref().and_then(Way::parse);
        let rungs = rungs(addrs, first);
        if rungs.is_empty() {
            if let Some(r) = reply {
                let _ = r.send(Err(LadderReport {
                    climbing: false,
                    peer_id: peer.to_string(),
                    steps: Vec::new(),
                    way: None,
                }));
            }
            return;
        }
        self.ladders.climbs.insert(
            peer,
            Climb {
                rungs,
                pending: Vec::new(),
                next_at: Instant::now(),
                steps: Vec::new(),
                replies: reply.into_iter().collect(),
            },
        );
        self.next_rung(peer);
    }

    /// Starts the next way to `peer`; ends the climb when none is left and
    /// no dial is in flight.
    fn next_rung(&mut self, peer: PeerId) {
        let Some(c) = self.ladders.climbs.get_mut(&peer) else {
            return;
        };
        let Some((way, addrs)) = c.rungs.pop_front() else {
            if c.pending.is_empty() {
                self.end_climb(peer, None);
            }
            return;
        };
        c.next_at = Instant::now() + STEP;
        debug!(%peer, way = way.name(), n = addrs.len(), "trying the next way");
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs.clone())
            .condition(PeerCondition::Always)
            .build();
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                c.pending.push(id);
                self.ladders.dials.insert(id, (peer, addrs));
            }
            Err(e) => {
                c.steps
                    .extend(errors_of(&e, &addrs).into_iter().map(|(a, e)| LadderStep {
                        address: a.to_string(),
                        error: Some(e),
                        way: way.name().into(),
                    }));
                self.next_rung(peer);
            }
        }
    }

    /// Starts the next way of every climb whose last way has had its time.
    pub(super) fn ladder_tick(&mut self) {
        let now = Instant::now();
        let due: Vec<PeerId> = self
            .ladders
            .climbs
            .iter()
            .filter(|(_, c)| c.next_at <= now && !c.rungs.is_empty())
            .map(|(p, _)| *p)
            .collect();
        for peer in due {
            // Say which dials are still hanging: their end may come after
            // the climb's, and the report should show them.
            if let Some(c) = self.ladders.climbs.get_mut(&peer) {
                for id in &c.pending {
                    if let Some((_, addrs)) = self.ladders.dials.get(id) {
                        c.steps.extend(addrs.iter().map(|a| LadderStep {
                            address: a.to_string(),
                            error: Some(format!(
                                "no answer within {} seconds; the next way starts beside it",
                                STEP.as_secs()
                            )),
                            way: Way::of(a).name().into(),
                        }));
                    }
                }
            }
            self.next_rung(peer);
        }
    }

    /// A connection to `peer` opened (from a ladder dial or any other): a
    /// climb to it has reached it at `address`.
    pub(super) fn ladder_connected(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        address: &Multiaddr,
    ) {
        self.ladders.dials.remove(&connection);
        let Some(c) = self.ladders.climbs.get_mut(&peer) else {
            return;
        };
        let way = Way::of(address);
        c.steps.push(LadderStep {
            address: address.to_string(),
            error: None,
            way: way.name().into(),
        });
        debug!(%peer, way = way.name(), %address, "reached a peer by the fallback ladder");
        self.end_climb(peer, Some(way));
    }

    /// A dial failed; if it was a ladder's, notes why and moves on when it
    /// was the last one in flight.
    pub(super) fn ladder_failed(&mut self, connection: ConnectionId, error: &DialError) {
        let Some((peer, addrs)) = self.ladders.dials.remove(&connection) else {
            return;
        };
        let Some(c) = self.ladders.climbs.get_mut(&peer) else {
            return;
        };
        c.pending.retain(|id| *id != connection);
        for (a, e) in errors_of(error, &addrs) {
            c.steps.push(LadderStep {
                address: a.to_string(),
                error: Some(e),
                way: Way::of(&a).name().into(),
            });
        }
        if c.pending.is_empty() {
            self.next_rung(peer);
        }
    }

    fn end_climb(&mut self, peer: PeerId, way: Option<Way>) {
        let Some(c) = self.ladders.climbs.remove(&peer) else {
            return;
        };
        for id in &c.pending {
            self.ladders.dials.remove(id);
        }
        let report = LadderReport {
            climbing: false,
            peer_id: peer.to_string(),
            steps: c.steps,
            way: way.map(|w| w.name().to_string()),
        };
        if let Some(w) = way {
            let book = self.book.clone();
            tokio::task::spawn_blocking(move || book.set_way(peer, w.name()));
        } else {
            debug!(%peer, "every way to a peer failed");
        }
        if self.ladders.reports.len() >= MAX_REPORTS && !self.ladders.reports.contains_key(&peer) {
            self.ladders.reports.clear();
        }
        self.ladders.reports.insert(peer, report.clone());
        for r in c.replies {
            let _ = r.send(if way.is_some() {
                Ok(report.clone())
            } else {
                Err(report.clone())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn ways_go_direct_then_websocket_then_relay_unless_one_worked_before() {
        let direct = a("/ip4/192.0.2.1/tcp/4141");
        let quic = a("/ip4/192.0.2.1/udp/4141/quic-v1");
        let web = a("/ip4/192.0.2.1/tcp/443/tls/ws");
        let relay = a("/ip4/192.0.2.7/tcp/4141/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit");
        let all = [
            relay.clone(),
            web.clone(),
            direct.clone(),
            quic.clone(),
            direct.clone(),
        ];
        let order: Vec<(Way, Vec<Multiaddr>)> = rungs(&all, None).into();
        assert_eq!(
            order,
            vec![
                (Way::Direct, vec![direct.clone(), quic.clone()]),
                (Way::Web, vec![web.clone()]),
                (Way::Relay, vec![relay.clone()]),
            ]
        );
        let order: Vec<Way> = rungs(&all, Some(Way::Relay))
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(order, vec![Way::Relay, Way::Direct, Way::Web]);
        assert_eq!(Way::parse("websocket"), Some(Way::Web));
        assert_eq!(Way::parse("carrier pigeon"), None);
    }

    #[test]
    fn an_invite_carries_every_way() {
        let mut addrs: Vec<Multiaddr> = (1..=9)
            .map(|i| a(&format!("/ip4/192.0.2.{i}/tcp/4141")))
            .collect();
        addrs.push(a("/ip4/192.0.2.1/tcp/443/tls/ws"));
        addrs.push(a("/ip4/192.0.2.7/tcp/4141/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"));
        let picked = for_invite(&addrs, 8);
        assert_eq!(picked.len(), 8);
        let ways: Vec<Way> = picked.iter().map(Way::of).collect();
        assert_eq!(ways.iter().filter(|w| **w == Way::Direct).count(), 6);
        assert_eq!(&ways[6..], &[Way::Web, Way::Relay]);
    }
}
