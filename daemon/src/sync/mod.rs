//! Catalog catch-up: runs reconciliation sessions (`/weft/sync/1`, see
//! `weft_protocol::sync`) with connected peers.
//!
//! When sessions run is decided by a pure scheduler ([`plan`]): by the
//! dialling side when a connection opens, on a hint from a peer that has
//! entries we lack, and every [`SYNC_INTERVAL`] with every peer. The initiator learns the difference, fetches the
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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};
use weft_protocol::sync::{
    initiate, is_done, reconcile, Difference, SyncRequest, SyncResponse, FRAME_BYTES, MAX_GET_IDS,
};
use weft_protocol::BundleId;

pub mod plan;

pub use plan::{Action, Ended, Event, Planner, HINT_DELAY, MAX_SESSIONS, SYNC_INTERVAL};

use crate::catalog::ingest::{ingest, order_key, Ingested};
use crate::catalog::{Added, Catalog};
use crate::metrics::Metrics;
use crate::net::{Client, NetError, PeerEvent};
use crate::shutdown::Shutdown;
use crate::store::Store;

/// Round trips in one session.
pub const MAX_ROUNDS: usize = 64;
/// Entries fetched in one session.
pub const MAX_ENTRIES_PER_SESSION: usize = 4096;
/// Bytes received in one session (reconcile answers and entries).
pub const MAX_BYTES_PER_SESSION: u64 = 24 << 20;
/// Longest a session may take.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(120);

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
    /// Entry ids a session is fetching now: sessions with other peers
    /// leave them to it rather than fetch them twice.
    in_flight: Arc<std::sync::Mutex<HashSet<BundleId>>>,
}

/// Ids a session took to fetch; given back when it ends, however it ends.
struct Claim {
    set: Arc<std::sync::Mutex<HashSet<BundleId>>>,
    ids: Vec<BundleId>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        for id in &self.ids {
            set.remove(id);
        }
    }
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
            .filter(|id| !self.catalog.contains(id) && !self.catalog.declined(id))
            .collect();
        if need.len() > MAX_ENTRIES_PER_SESSION {
            need.truncate(MAX_ENTRIES_PER_SESSION);
            report.truncated = true;
        }
        // What another session is fetching now is left to it; if that one
        // fails, the next session here fetches it.
        let claim = {
            let mut set = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            let before = need.len();
            need.retain(|id| set.insert(*id));
            if need.len() < before {
                report.truncated = true;
            }
            Claim {
                set: self.in_flight.clone(),
                ids: need.clone(),
            }
        };
        // Everything fetched is checked together at the end, key events
        // first, so that an entry never waits for a later batch to bring
        // the certificate of the device that signed it. At most
        // MAX_BYTES_PER_SESSION are held.
        let mut fetched = Vec::new();
        let mut asked = Vec::new();
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
            asked.extend_from_slice(batch);
            fetched.extend(entries);
        }
        if !fetched.is_empty() {
            report.added += self.accept(peer, &asked, fetched).await?;
        }
        drop(claim);
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
            let mut entries = entries;
            // Key events first, then trusted and vouched publishers'
            // entries, so that a peer's unknown ones never use up its rate
            // before them.
            entries.sort_by_cached_key(|e| order_key(&catalog, e));
            for bytes in entries {
                match ingest(&catalog, store.as_ref(), &bytes, Some(&asked), &peer) {
                    Ingested::Invalid(why) => return Err(why),
                    Ingested::Offered {
                        added: Added::New | Added::Contested,
                        ..
                    } => {
                        added += 1;
                        Metrics::add(&metrics.sync_entries_added, 1);
                    }
                    Ingested::Offered {
                        added: Added::Known | Added::Dropped(_),
                        ..
                    } => {}
                    // The peer may not know the bundle it retracts; it
                    // passed on a validly signed message, so no blame.
                    Ingested::Offered {
                        added: Added::Refused(why),
                        ..
                    } => {
                        Metrics::add(&metrics.sync_entries_rejected, 1);
                        warn!(%peer, "refused a catalog entry: {why}");
                    }
                    Ingested::Failed(e) => warn!(error = %e, "could not store a catalog entry"),
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

/// Starts the syncer; it stops when the event channel closes or shutdown
/// is requested.
pub fn spawn(
    net: Client,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    events: mpsc::Receiver<PeerEvent>,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let ctx = Ctx {
        net,
        store,
        catalog,
        metrics,
        in_flight: Arc::default(),
    };
    shutdown.clone().spawn(run(ctx, events, shutdown))
}

/// The driver: feeds events and time to the [`Planner`] and carries out
/// its actions.
async fn run(ctx: Ctx, mut events: mpsc::Receiver<PeerEvent>, shutdown: Shutdown) {
    let mut planner = Planner::default();
    let (done_tx, mut done_rx) =
        mpsc::channel::<(PeerId, Result<Report, SessionError>)>(MAX_SESSIONS);
    let mut tick = tokio::time::interval(SYNC_INTERVAL / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let hint_at = planner.hint_at();
        let hint_sleep = async {
            match hint_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            ev = events.recv() => match ev {
                None => break,
                Some(PeerEvent::Connected { peer, dialer }) => Event::Connected { peer, dialer },
                Some(PeerEvent::Disconnected(peer)) => Event::Disconnected(peer),
                Some(PeerEvent::Hint(peer)) => Event::Hint(peer),
            },
            Some((peer, result)) = done_rx.recv() => {
                let ended = match result {
                    Ok(r) => {
                        if r.added > 0 {
                            info!(%peer, added = r.added, rounds = r.rounds, "catalog: caught up");
                        } else {
                            debug!(%peer, rounds = r.rounds, "catalog: in sync");
                        }
                        Some(Ended { added: r.added, truncated: r.truncated })
                    }
                    Err(e) => {
                        debug!(%peer, error = %e, "catalog sync ended early");
                        None
                    }
                };
                Event::Finished(peer, ended)
            }
            _ = tick.tick() => Event::Tick,
            _ = hint_sleep => Event::HintDue,
            _ = shutdown.requested() => break,
        };
        for action in planner.handle(event, Instant::now()) {
            match action {
                Action::Start(peer) => {
                    let (ctx, tx) = (ctx.clone(), done_tx.clone());
                    // Tracked, so shutdown waits for the session's store
                    // writes (one per catalog entry) to finish.
                    shutdown.spawn(async move {
                        Metrics::add(&ctx.metrics.sync_sessions, 1);
                        let r = match tokio::time::timeout(SESSION_TIMEOUT, ctx.session(peer)).await
                        {
                            Ok(r) => r,
                            Err(_) => Err(SessionError::Timeout),
                        };
                        let _ = tx.send((peer, r)).await;
                    });
                }
                Action::Hint(to) => {
                    for p in to {
                        let (net, metrics) = (ctx.net.clone(), ctx.metrics.clone());
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
}
