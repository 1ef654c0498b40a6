//! Catalog catch-up: runs reconciliation sessions (`/weft/sync/1`, see
//! `weft_protocol::sync`) with connected peers.
//!
//! A session is started by the dialling side when a connection opens, by a
//! hint from a peer that has entries we lack, and every [`SYNC_INTERVAL`]
//! with every peer. The initiator learns the difference, fetches the
//! entries it lacks (verifying each exactly as a gossip message), and hints
//! the peer when the peer lacks some of ours, so that it pulls them in turn.
//! A node that learnt new entries hints its other peers, so entries spread
//! hop by hop through a network that gossip did not reach (a partition that
//! healed, a laptop that was offline).
//!
//! Every session is capped: [`MAX_ROUNDS`] round trips,
//! [`MAX_ENTRIES_PER_SESSION`] entries and [`MAX_BYTES_PER_SESSION`] bytes
//! received. A session cut short starts again at once, so a large catalog
//! arrives in bounded steps.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};
use weft_protocol::sync::{
    initiate, is_done, reconcile, Difference, SyncRequest, SyncResponse, FRAME_BYTES, MAX_GET_IDS,
};
use weft_protocol::{BundleId, CatalogEntry};

use crate::catalog::{Added, Catalog};
use crate::metrics::Metrics;
use crate::net::{Client, NetError};
use crate::store::Store;

/// Events from the swarm task.
pub const SYNC_EVENTS: usize = 256;
/// How often every connected peer is reconciled with, even without news.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// Sessions running at once; further peers wait their turn.
pub const MAX_SESSIONS: usize = 8;
/// Round trips in one session.
pub const MAX_ROUNDS: usize = 64;
/// Entries fetched in one session.
pub const MAX_ENTRIES_PER_SESSION: usize = 4096;
/// Bytes received in one session (reconcile answers and entries).
pub const MAX_BYTES_PER_SESSION: u64 = 24 << 20;
/// Longest a session may take.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(120);
/// Delay before hinting other peers about new entries, so that a burst of
/// sessions sends one hint each.
pub const HINT_DELAY: Duration = Duration::from_millis(200);

/// What the swarm task tells the syncer.
#[derive(Debug)]
pub enum SyncEvent {
    /// A first connection to a peer opened.
    Connected {
        /// Who.
        peer: PeerId,
        /// Whether we dialled: the dialler starts the first session.
        dialer: bool,
    },
    /// The last connection to a peer closed.
    Disconnected(PeerId),
    /// A peer says it has entries we lack.
    Hint(PeerId),
}

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the peer is busy")]
    Busy,
    #[error("the peer broke the protocol: {0}")]
    Violation(String),
    #[error("the session took longer than {SESSION_TIMEOUT:?}")]
    Timeout,
}

#[derive(Debug, Default)]
struct Report {
    added: usize,
    rounds: usize,
    /// Stopped at a cap: run again.
    truncated: bool,
}

#[derive(Clone)]
struct Ctx {
    net: Client,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
}

impl Ctx {
    async fn exchange(
        &self,
        peer: PeerId,
        request: SyncRequest,
        received: &mut u64,
    ) -> Result<SyncResponse, SessionError> {
        Metrics::add(&self.metrics.sync_bytes_sent, request.encode().len() as u64);
        let response = self.net.sync(peer, request).await?;
        let n = response.encode().len() as u64;
        Metrics::add(&self.metrics.sync_bytes_received, n);
        *received += n;
        Ok(response)
    }

    async fn session(&self, peer: PeerId) -> Result<Report, SessionError> {
        self.catalog.ready().await;
        let items = self.catalog.sorted_ids();
        let mut report = Report::default();
        let mut received = 0u64;
        let mut diff = Difference::default();
        let mut msg = initiate(&items);
        let mut done = false;
        while report.rounds < MAX_ROUNDS && received < MAX_BYTES_PER_SESSION {
            report.rounds += 1;
            let answer = self
                .exchange(peer, SyncRequest::Reconcile(msg), &mut received)
                .await?;
            let ranges = match answer {
                SyncResponse::Reconcile(r) => r,
                SyncResponse::Refused => return Err(SessionError::Busy),
                other => {
                    return Err(SessionError::Violation(format!(
                        "answered a reconcile message with {other:?}"
                    )))
                }
            };
            msg = reconcile(&items, &ranges, Some(&mut diff), FRAME_BYTES);
            if is_done(&msg) {
                done = true;
                break;
            }
        }
        report.truncated = !done;
        diff.finish();
        let mut need: Vec<BundleId> = diff
            .need
            .into_iter()
            .filter(|id| !self.catalog.contains(id))
            .collect();
        if need.len() > MAX_ENTRIES_PER_SESSION {
            need.truncate(MAX_ENTRIES_PER_SESSION);
            report.truncated = true;
        }
        for batch in need.chunks(MAX_GET_IDS) {
            if received >= MAX_BYTES_PER_SESSION {
                report.truncated = true;
                break;
            }
            let answer = self
                .exchange(peer, SyncRequest::Get(batch.to_vec()), &mut received)
                .await?;
            let entries = match answer {
                SyncResponse::Entries(e) if e.len() <= batch.len() => e,
                SyncResponse::Refused => return Err(SessionError::Busy),
                other => {
                    return Err(SessionError::Violation(format!(
                        "answered a get request with {}",
                        match other {
                            SyncResponse::Entries(e) => format!("{} entries", e.len()),
                            o => format!("{o:?}"),
                        }
                    )))
                }
            };
            report.added += self.accept(peer, batch, entries).await?;
        }
        if !diff.have.is_empty() {
            // The peer lacks some of ours: let it pull them.
            let _ = self.exchange(peer, SyncRequest::Hint, &mut received).await;
        }
        Ok(report)
    }

    /// Verifies and stores entries asked for; an invalid or unrequested one
    /// punishes the peer and ends the session.
    async fn accept(
        &self,
        peer: PeerId,
        asked: &[BundleId],
        entries: Vec<Vec<u8>>,
    ) -> Result<usize, SessionError> {
        let asked: HashSet<BundleId> = asked.iter().copied().collect();
        let (store, catalog, metrics) = (
            self.store.clone(),
            self.catalog.clone(),
            self.metrics.clone(),
        );
        let outcome = tokio::task::spawn_blocking(move || {
            let mut added = 0;
            for bytes in entries {
                let entry = CatalogEntry::decode(&bytes)
                    .map_err(|e| format!("sent an invalid catalog entry: {e}"))?;
                if !asked.contains(&entry.entry_id()) {
                    return Err("sent a catalog entry that was not asked for".to_string());
                }
                match catalog.add_entry(store.as_ref(), &entry) {
                    Ok(Added::New) => {
                        added += 1;
                        Metrics::add(&metrics.sync_entries_added, 1);
                    }
                    Ok(Added::Known) => {}
                    // The peer may not know the bundle it retracts; it
                    // passed on a validly signed message, so no blame.
                    Ok(Added::Refused(why)) => {
                        Metrics::add(&metrics.sync_entries_rejected, 1);
                        warn!(%peer, "refused a catalog entry: {why}");
                    }
                    Err(e) => warn!(error = %e, "could not store a catalog entry"),
                }
            }
            Ok(added)
        })
        .await
        .map_err(|e| SessionError::Violation(format!("verification failed: {e}")))?;
        match outcome {
            Ok(n) => Ok(n),
            Err(why) => {
                Metrics::add(&self.metrics.sync_entries_rejected, 1);
                self.net.punish(peer, why.clone()).await;
                Err(SessionError::Violation(why))
            }
        }
    }
}

#[derive(Default)]
struct PeerSync {
    running: bool,
    again: bool,
    /// Disconnected while a session ran: forget it when the session ends.
    gone: bool,
    last: Option<Instant>,
}

/// Starts the syncer; it stops when the event channel closes.
pub fn spawn(
    net: Client,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    events: mpsc::Receiver<SyncEvent>,
) -> tokio::task::JoinHandle<()> {
    let ctx = Ctx {
        net,
        store,
        catalog,
        metrics,
    };
    tokio::spawn(run(ctx, events))
}

async fn run(ctx: Ctx, mut events: mpsc::Receiver<SyncEvent>) {
    let mut peers: HashMap<PeerId, PeerSync> = HashMap::new();
    let mut queue: VecDeque<PeerId> = VecDeque::new();
    let mut running = 0usize;
    let (done_tx, mut done_rx) =
        mpsc::channel::<(PeerId, Result<Report, SessionError>)>(MAX_SESSIONS);
    let mut tick = tokio::time::interval(SYNC_INTERVAL / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut hint_at: Option<Instant> = None;
    let mut hint_sources: HashSet<PeerId> = HashSet::new();

    // Starts a session now, or marks the peer to go again or to wait.
    let want = |peer: PeerId,
                peers: &mut HashMap<PeerId, PeerSync>,
                queue: &mut VecDeque<PeerId>,
                running: &mut usize| {
        let Some(st) = peers.get_mut(&peer) else {
            return;
        };
        if st.running {
            st.again = true;
        } else if *running < MAX_SESSIONS {
            st.running = true;
            st.again = false;
            *running += 1;
            let (ctx, tx) = (ctx.clone(), done_tx.clone());
            tokio::spawn(async move {
                Metrics::add(&ctx.metrics.sync_sessions, 1);
                let r = match tokio::time::timeout(SESSION_TIMEOUT, ctx.session(peer)).await {
                    Ok(r) => r,
                    Err(_) => Err(SessionError::Timeout),
                };
                let _ = tx.send((peer, r)).await;
            });
        } else if !queue.contains(&peer) {
            queue.push_back(peer);
        }
    };

    loop {
        let hint_sleep = async {
            match hint_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.recv() => match ev {
                None => break,
                Some(SyncEvent::Connected { peer, dialer }) => {
                    peers.entry(peer).or_default().gone = false;
                    if dialer {
                        want(peer, &mut peers, &mut queue, &mut running);
                    }
                }
                Some(SyncEvent::Disconnected(peer)) => {
                    match peers.get_mut(&peer) {
                        Some(st) if st.running => st.gone = true,
                        _ => {
                            peers.remove(&peer);
                        }
                    }
                    queue.retain(|p| *p != peer);
                }
                Some(SyncEvent::Hint(peer)) => {
                    peers.entry(peer).or_default();
                    want(peer, &mut peers, &mut queue, &mut running);
                }
            },
            Some((peer, result)) = done_rx.recv() => {
                running -= 1;
                let mut again = false;
                match result {
                    Ok(r) => {
                        if r.added > 0 {
                            info!(%peer, added = r.added, rounds = r.rounds, "catalog: caught up");
                            hint_sources.insert(peer);
                            hint_at.get_or_insert(Instant::now() + HINT_DELAY);
                        } else {
                            debug!(%peer, rounds = r.rounds, "catalog: in sync");
                        }
                        again = r.truncated;
                    }
                    Err(e) => debug!(%peer, error = %e, "catalog sync ended early"),
                }
                if peers.get(&peer).is_some_and(|st| st.gone) {
                    peers.remove(&peer);
                }
                if let Some(st) = peers.get_mut(&peer) {
                    st.running = false;
                    st.last = Some(Instant::now());
                    again |= std::mem::take(&mut st.again);
                    if again {
                        want(peer, &mut peers, &mut queue, &mut running);
                    }
                }
                while running < MAX_SESSIONS {
                    let Some(next) = queue.pop_front() else { break };
                    want(next, &mut peers, &mut queue, &mut running);
                }
            }
            _ = tick.tick() => {
                let due: Vec<PeerId> = peers
                    .iter()
                    .filter(|(_, s)| !s.running && s.last.is_none_or(|t| t.elapsed() >= SYNC_INTERVAL))
                    .map(|(p, _)| *p)
                    .collect();
                for p in due {
                    want(p, &mut peers, &mut queue, &mut running);
                }
            }
            _ = hint_sleep => {
                hint_at = None;
                let sources = std::mem::take(&mut hint_sources);
                for p in peers.keys().filter(|p| !sources.contains(p)) {
                    let (net, p) = (ctx.net.clone(), *p);
                    let metrics = ctx.metrics.clone();
                    tokio::spawn(async move {
                        let req = SyncRequest::Hint;
                        Metrics::add(&metrics.sync_bytes_sent, req.encode().len() as u64);
                        let _ = net.sync(p, req).await;
                    });
                }
            }
        }
    }
}
