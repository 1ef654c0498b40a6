//! The reconciliation scheduler as a pure state machine: which peer to
//! reconcile with and when, given what happened. No I/O, no clock: the
//! driver (`super::run`) passes every event and the time in, and carries
//! out the [`Action`]s that come back. So every decision can be tested one
//! event at a time.
//!
//! The rules:
//! - the dialling side starts the first session when a connection opens;
//!   a hint from a peer starts one with that peer;
//! - every peer is reconciled with again [`SYNC_INTERVAL`] after its last
//!   session ended;
//! - at most [`MAX_SESSIONS`] run at once; further peers wait in a queue,
//!   in the order they asked;
//! - until one session has run to its end, the first runs alone (for at
//!   most [`FIRST_ALONE`]): a node that just joined catches up from one
//!   peer, and the others then send only what that peer lacked, instead
//!   of every peer sending it the whole catalog at once;
//! - a session that stopped at a cap, or was asked for again while it ran,
//!   runs again at once;
//! - a session that learnt new entries makes the node hint every other
//!   peer, once, [`HINT_DELAY`] later, so a burst of sessions sends one
//!   hint each.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use libp2p::PeerId;
use tokio::time::Instant;

/// How often every connected peer is reconciled with, even without news.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// Sessions running at once; further peers wait their turn.
pub const MAX_SESSIONS: usize = 8;
/// How long the first session runs alone before others start beside it
/// (a first peer that stalls delays the rest by at most this, plus a tick).
pub const FIRST_ALONE: Duration = Duration::from_secs(10);
/// Delay before hinting other peers about new entries, so that a burst of
/// sessions sends one hint each.
pub const HINT_DELAY: Duration = Duration::from_millis(200);

/// How a session ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    /// New entries it added.
    pub added: usize,
    /// It stopped at a cap: run again.
    pub truncated: bool,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A first connection to a peer opened; `dialer` if we dialled.
    Connected {
        /// Who.
        peer: PeerId,
        /// Whether we dialled.
        dialer: bool,
    },
    /// The last connection to a peer closed.
    Disconnected(PeerId),
    /// A peer says it has entries we lack.
    Hint(PeerId),
    /// A session ended: `Some` if it ran to its end, `None` if it failed.
    Finished(PeerId, Option<Ended>),
    /// A periodic check for peers due a session.
    Tick,
    /// The hint delay has passed.
    HintDue,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a session with this peer.
    Start(PeerId),
    /// Send a hint to each of these peers.
    Hint(Vec<PeerId>),
}

#[derive(Debug, Default)]
struct PeerSync {
    running: bool,
    again: bool,
    /// Disconnected while a session ran: forget it when the session ends.
    gone: bool,
    last: Option<Instant>,
}

/// The scheduler's state.
#[derive(Debug, Default)]
pub struct Planner {
    peers: HashMap<PeerId, PeerSync>,
    queue: VecDeque<PeerId>,
    running: usize,
    /// When to send the pending hints, if any are pending.
    hint_at: Option<Instant>,
    /// Peers that just told us news: they need no hint.
    hint_sources: HashSet<PeerId>,
    /// A session has run to its end: sessions may run side by side.
    caught_up: bool,
    /// Until when the first session runs alone.
    alone_until: Option<Instant>,
}

impl Planner {
    /// When [`Event::HintDue`] should be handed in next, if at all.
    pub fn hint_at(&self) -> Option<Instant> {
        self.hint_at
    }

    /// Sessions running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Handles one event at time `now` and says what to do.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Connected { peer, dialer } => {
                self.peers.entry(peer).or_default().gone = false;
                if dialer {
                    self.want(peer, now, &mut out);
                }
            }
            Event::Disconnected(peer) => {
                match self.peers.get_mut(&peer) {
                    Some(st) if st.running => st.gone = true,
                    _ => {
                        self.peers.remove(&peer);
                    }
                }
                self.queue.retain(|p| *p != peer);
            }
            Event::Hint(peer) => {
                self.peers.entry(peer).or_default();
                self.want(peer, now, &mut out);
            }
            Event::Finished(peer, ended) => self.finished(peer, ended, now, &mut out),
            Event::Tick => {
                let mut due: Vec<PeerId> = self
                    .peers
                    .iter()
                    .filter(|(_, s)| {
                        !s.running
                            && s.last
                                .is_none_or(|t| now.duration_since(t) >= SYNC_INTERVAL)
                    })
                    .map(|(p, _)| *p)
                    .collect();
                due.sort();
                for p in due {
                    self.want(p, now, &mut out);
                }
                // The first session may have had its time alone.
                self.drain(now, &mut out);
            }
            Event::HintDue => {
                // Only a pending hint is due.
                if self.hint_at.take().is_none() {
                    return out;
                }
                let sources = std::mem::take(&mut self.hint_sources);
                let mut to: Vec<PeerId> = self
                    .peers
                    .keys()
                    .filter(|p| !sources.contains(p))
                    .copied()
                    .collect();
                to.sort();
                if !to.is_empty() {
                    out.push(Action::Hint(to));
                }
            }
        }
        out
    }

    fn finished(
        &mut self,
        peer: PeerId,
        ended: Option<Ended>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.running = self.running.saturating_sub(1);
        let mut again = false;
        if let Some(e) = ended {
            self.caught_up |= !e.truncated;
            if e.added > 0 {
                self.hint_sources.insert(peer);
                self.hint_at.get_or_insert(now + HINT_DELAY);
            }
            again = e.truncated;
        }
        if self.peers.get(&peer).is_some_and(|st| st.gone) {
            self.peers.remove(&peer);
        }
        if let Some(st) = self.peers.get_mut(&peer) {
            st.running = false;
            st.last = Some(now);
            again |= std::mem::take(&mut st.again);
            if again {
                self.want(peer, now, out);
            }
        }
        self.drain(now, out);
    }

    /// Sessions that may run at once now.
    fn cap(&self, now: Instant) -> usize {
        if self.caught_up || self.alone_until.is_some_and(|t| now >= t) {
            MAX_SESSIONS
        } else {
            1
        }
    }

    /// Starts queued peers while there is room.
    fn drain(&mut self, now: Instant, out: &mut Vec<Action>) {
        while self.running < self.cap(now) {
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            self.want(next, now, out);
        }
    }

    /// Starts a session now, or marks the peer to go again or to wait.
    fn want(&mut self, peer: PeerId, now: Instant, out: &mut Vec<Action>) {
        let cap = self.cap(now);
        let Some(st) = self.peers.get_mut(&peer) else {
            return;
        };
        if st.running {
            st.again = true;
        } else if self.running < cap {
            st.running = true;
            st.again = false;
            self.running += 1;
            self.alone_until.get_or_insert(now + FIRST_ALONE);
            out.push(Action::Start(peer));
        } else if !self.queue.contains(&peer) {
            self.queue.push_back(peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planner past its first catch-up: sessions run side by side.
    fn warm() -> Planner {
        Planner {
            caught_up: true,
            ..Planner::default()
        }
    }

    #[test]
    fn the_first_session_runs_alone_until_it_ends_or_its_time_is_up() {
        let mut p = Planner::default();
        let now = Instant::now();
        let ps = peers(4);
        let connect =
            |p: &mut Planner, peer, at| p.handle(Event::Connected { peer, dialer: true }, at);
        assert_eq!(connect(&mut p, ps[0], now), [Action::Start(ps[0])]);
        // The others wait while the first catches up.
        assert!(connect(&mut p, ps[1], now).is_empty());
        assert!(connect(&mut p, ps[2], now).is_empty());
        assert_eq!(p.running(), 1);
        // It ends: the rest start together, and from now on sessions run
        // side by side.
        let ended = Ended {
            added: 2000,
            truncated: false,
        };
        let later = now + Duration::from_secs(2);
        assert_eq!(
            p.handle(Event::Finished(ps[0], Some(ended)), later),
            [Action::Start(ps[1]), Action::Start(ps[2])]
        );
        assert_eq!(connect(&mut p, ps[3], later), [Action::Start(ps[3])]);

        // A first session that stalls holds the others back only until
        // FIRST_ALONE has passed, at the next tick.
        let mut p = Planner::default();
        assert_eq!(connect(&mut p, ps[0], now), [Action::Start(ps[0])]);
        assert!(connect(&mut p, ps[1], now).is_empty());
        assert!(p
            .handle(Event::Tick, now + Duration::from_secs(1))
            .is_empty());
        assert_eq!(
            p.handle(Event::Tick, now + FIRST_ALONE),
            [Action::Start(ps[1])]
        );
        // A first session that failed does not count as caught up: the
        // next one runs alone in its turn.
        let mut p = Planner::default();
        assert_eq!(connect(&mut p, ps[0], now), [Action::Start(ps[0])]);
        assert!(connect(&mut p, ps[1], now).is_empty());
        assert!(connect(&mut p, ps[2], now).is_empty());
        assert_eq!(
            p.handle(Event::Finished(ps[0], None), now),
            [Action::Start(ps[1])]
        );
    }

    fn peers(n: usize) -> Vec<PeerId> {
        let mut v: Vec<PeerId> = (0..n).map(|_| PeerId::random()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_dialler_starts_the_first_session_and_the_listener_waits() {
        let mut p = warm();
        let now = Instant::now();
        let [a, b] = peers(2).try_into().unwrap();
        assert_eq!(
            p.handle(
                Event::Connected {
                    peer: a,
                    dialer: true
                },
                now
            ),
            [Action::Start(a)]
        );
        assert!(p
            .handle(
                Event::Connected {
                    peer: b,
                    dialer: false
                },
                now
            )
            .is_empty());
        // The listener's peer is reconciled with at the first tick.
        assert_eq!(p.handle(Event::Tick, now), [Action::Start(b)]);
    }

    #[test]
    fn no_more_than_max_sessions_run_and_the_rest_queue_in_order() {
        let mut p = warm();
        let now = Instant::now();
        let all = peers(MAX_SESSIONS + 3);
        let mut started = Vec::new();
        for &peer in &all {
            for a in p.handle(Event::Hint(peer), now) {
                started.push(a);
            }
        }
        assert_eq!(started.len(), MAX_SESSIONS);
        assert_eq!(p.running(), MAX_SESSIONS);
        // Each finished session lets the next queued peer in, in order.
        for (i, &done) in all[..3].iter().enumerate() {
            let next = all[MAX_SESSIONS + i];
            assert_eq!(
                p.handle(Event::Finished(done, Some(Ended::default())), now),
                [Action::Start(next)]
            );
        }
        assert_eq!(p.running(), MAX_SESSIONS);
    }

    #[test]
    fn a_truncated_session_or_a_hint_while_running_goes_again_at_once() {
        let mut p = warm();
        let now = Instant::now();
        let [a, b] = peers(2).try_into().unwrap();
        p.handle(Event::Hint(a), now);
        let truncated = Ended {
            added: 0,
            truncated: true,
        };
        assert_eq!(
            p.handle(Event::Finished(a, Some(truncated)), now),
            [Action::Start(a)]
        );
        p.handle(Event::Hint(b), now);
        assert!(p.handle(Event::Hint(b), now).is_empty(), "already running");
        assert_eq!(
            p.handle(Event::Finished(b, Some(Ended::default())), now),
            [Action::Start(b)]
        );
    }

    #[test]
    fn peers_are_reconciled_again_after_the_interval() {
        let mut p = warm();
        let t0 = Instant::now();
        let [a] = peers(1).try_into().unwrap();
        p.handle(Event::Hint(a), t0);
        p.handle(Event::Finished(a, Some(Ended::default())), t0);
        assert!(p.handle(Event::Tick, t0 + SYNC_INTERVAL / 2).is_empty());
        assert_eq!(
            p.handle(Event::Tick, t0 + SYNC_INTERVAL),
            [Action::Start(a)]
        );
    }

    #[test]
    fn news_is_hinted_once_to_every_other_peer_after_the_delay() {
        let mut p = warm();
        let t0 = Instant::now();
        let [a, b, c] = peers(3).try_into().unwrap();
        for peer in [a, b, c] {
            p.handle(
                Event::Connected {
                    peer,
                    dialer: false,
                },
                t0,
            );
        }
        p.handle(Event::Hint(a), t0);
        p.handle(Event::Hint(b), t0);
        let news = Ended {
            added: 5,
            truncated: false,
        };
        p.handle(Event::Finished(a, Some(news)), t0);
        p.handle(
            Event::Finished(b, Some(news)),
            t0 + Duration::from_millis(50),
        );
        // One timer for the burst, from the first news.
        assert_eq!(p.hint_at(), Some(t0 + HINT_DELAY));
        // The peers that brought the news are not hinted back.
        assert_eq!(
            p.handle(Event::HintDue, t0 + HINT_DELAY),
            [Action::Hint(vec![c])]
        );
        assert_eq!(p.hint_at(), None);
        assert!(p.handle(Event::HintDue, t0 + HINT_DELAY).is_empty());
    }

    #[test]
    fn a_peer_that_left_mid_session_is_forgotten_when_it_ends() {
        let mut p = warm();
        let now = Instant::now();
        let all = peers(MAX_SESSIONS + 1);
        for &peer in &all {
            p.handle(Event::Hint(peer), now);
        }
        let (first, queued) = (all[0], all[MAX_SESSIONS]);
        p.handle(Event::Disconnected(first), now);
        p.handle(Event::Disconnected(queued), now);
        // The gone peer is not started again, and the queued one that left
        // is not started either.
        assert!(p.handle(Event::Finished(first, None), now).is_empty());
        assert!(!p
            .handle(Event::Tick, now + SYNC_INTERVAL)
            .contains(&Action::Start(first)));
    }
}
