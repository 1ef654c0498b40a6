//! The keeper: the background task that makes what the node holds match
//! the rules ([`crate::rules`]).
//!
//! The keeper wakes when the catalog changes, when rules change, and every
//! [`KEEPER_INTERVAL`]. Each pass:
//! 1. removes held bundles that are retracted (unless pinned explicitly)
//!    or whose publisher is blocked;
//! 2. turns mirror pins of superseded or no longer followed bundles into
//!    cache;
//! 3. pins followed bundles already held, and fetches the missing ones, at
//!    most [`MIRROR_CONCURRENCY`] at a time (paused when pins alone fill
//!    the quota);
//! 4. resumes interrupted fetches;
//! 5. starts a new epoch of each private group this node's publisher is an
//!    admin of when a member's device was revoked since the epoch in force
//!    began ([`super::group::rekey_revoked`]);
//! 6. collects garbage when something was removed or the quota is
//!    exceeded.
//!
//! Every decision is made by pure functions ([`plan_holdings`],
//! [`plan_resume`], [`needs_gc`]) over a [`View`] the driver reads from
//! the holdings, the catalog and the rules; the driver only carries the
//! [`Action`]s out. The keeper owns its own memory of failed fetches: a
//! fetch that failed is not retried before [`RETRY_AFTER`], unless a new
//! peer connects (it may be a provider) or the rules change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use weft_protocol::BundleId;

use crate::clock::now_secs;
use crate::error::NodeError;
use crate::jobs::Progress;
use crate::node::Node;
use crate::shutdown::Shutdown;
use crate::store::{FetchRecord, Pin, PinKind, CF_FETCHES};

/// Longest pause between keeper passes.
pub const KEEPER_INTERVAL: Duration = Duration::from_secs(5);
/// Changes arriving within this time are handled in one pass.
pub const KEEPER_DEBOUNCE: Duration = Duration::from_millis(200);
/// Fetches the keeper runs at once (mirroring and resuming).
pub const MIRROR_CONCURRENCY: usize = 2;
/// A fetch that failed is not retried by the keeper before this, unless a
/// new peer connects (it may be a provider).
pub const RETRY_AFTER: Duration = Duration::from_secs(20);
/// Contested bundle ids whose manifests one pass asks for, at most.
pub const SETTLE_PER_PASS: usize = 4;
/// One held bundle, as the keeper sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldView {
    /// The bundle.
    pub id: BundleId,
    /// Its publisher is blocked.
    pub blocked: bool,
    /// Its publisher retracted it.
    pub retracted: bool,
    /// Signed by a revoked key of its publisher, and not kept.
    pub revoked: bool,
    /// A newer version is known.
    pub superseded: bool,
    /// A follow rule matches its announcement.
    pub followed: bool,
    /// Its pin, if pinned.
    pub pin: Option<PinKind>,
}

/// One bundle the follow rules want (the latest, unretracted version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedView {
    /// The bundle.
    pub id: BundleId,
    /// Held in full.
    pub held: bool,
    /// Pinned, if held.
    pub pinned: bool,
    /// Why pinning it would take pins over the quota, if it would.
    pub over_quota: Option<String>,
    /// Being fetched now.
    pub fetching: bool,
    /// A fetch of it failed lately.
    pub recently_failed: bool,
}

/// One interrupted fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// The bundle.
    pub id: BundleId,
    /// The pin it takes once complete.
    pub pin: Option<PinKind>,
    /// Being fetched now.
    pub fetching: bool,
    /// A fetch of it failed lately.
    pub recently_failed: bool,
}

/// What the keeper sees at the start of a pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Every held bundle.
    pub held: Vec<HeldView>,
    /// What the follow rules want, in the catalog's order.
    pub wanted: Vec<WantedView>,
    /// Fetches the keeper may start now.
    pub free_slots: usize,
}

/// What the keeper does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Delete a held bundle.
    Remove {
        /// The bundle.
        id: BundleId,
        /// Why, for the log.
        why: &'static str,
    },
    /// Turn a mirror pin into cache.
    DropMirrorPin(BundleId),
    /// Pin a held bundle as a mirror.
    PinMirror(BundleId),
    /// Fetch a bundle in the background, with this pin once complete.
    Fetch {
        /// The bundle.
        id: BundleId,
        /// Its pin.
        pin: Option<PinKind>,
    },
    /// Say why mirroring is paused, or that it is not.
    Warn(Option<String>),
}

/// Steps 1 to 3 of a pass (see the module docs).
pub fn plan_holdings(view: &View) -> Vec<Action> {
    let mut out = Vec::new();
    for h in &view.held {
        let explicit = h.pin == Some(PinKind::Explicit);
        if h.blocked || ((h.retracted || h.revoked) && !explicit) {
            let why = if h.blocked {
                "its publisher is blocked"
            } else if h.retracted {
                "its publisher retracted it"
            } else {
                "its publisher revoked the device that signed it"
            };
            out.push(Action::Remove { id: h.id, why });
            continue;
        }
        if h.pin == Some(PinKind::Mirror) && (h.superseded || !h.followed) {
            out.push(Action::DropMirrorPin(h.id));
        }
    }
    let mut pause = None;
    let mut slots = view.free_slots;
    for w in &view.wanted {
        if w.held {
            if !w.pinned {
                out.push(Action::PinMirror(w.id));
            }
            continue;
        }
        if let Some(why) = &w.over_quota {
            pause = Some(why.clone());
            continue;
        }
        if w.fetching || w.recently_failed {
            continue;
        }
        if slots == 0 {
            break;
        }
        slots -= 1;
        out.push(Action::Fetch {
            id: w.id,
            pin: Some(PinKind::Mirror),
        });
    }
    out.push(Action::Warn(pause));
    out
}

/// Step 4: resume interrupted fetches while slots are free.
pub fn plan_resume(interrupted: &[Interrupted], mut free_slots: usize) -> Vec<Action> {
    let mut out = Vec::new();
    for f in interrupted {
        if f.fetching || f.recently_failed {
            continue;
        }
        if free_slots == 0 {
            break;
        }
        free_slots -= 1;
        out.push(Action::Fetch {
            id: f.id,
            pin: f.pin,
        });
    }
    out
}

/// Step 5: whether to collect garbage. Over the quota with nothing cached
/// there is nothing to evict (pins alone fill it, and the warning says so),
/// so it does not sweep every pass.
pub fn needs_gc(removed: usize, over_quota: bool, cached: u64) -> bool {
    removed > 0 || (over_quota && cached > 0)
}

/// The keeper's own state.
struct Keeper {
    node: Node,
    slots: Arc<tokio::sync::Semaphore>,
    /// When a fetch the keeper started last failed.
    failed: HashMap<BundleId, Instant>,
    /// Peers seen at the last pass: a new one clears `failed`.
    known: HashSet<String>,
    /// The rules' generation at the last pass: a change clears `failed`.
    rules_seen: u64,
    /// Fetches report here when they end.
    done_tx: mpsc::Sender<(BundleId, bool)>,
    /// Groups whose new epoch waits for a passphrase, already logged.
    rekey_warned: HashSet<weft_protocol::GroupId>,
}

impl Keeper {
    fn recently_failed(&self, id: &BundleId, now: Instant) -> bool {
        self.failed
            .get(id)
            .is_some_and(|t| now.duration_since(*t) < RETRY_AFTER)
    }

    fn view(&self, now: Instant) -> View {
        let node = &self.node;
        let follow = node.rules.follow();
        let trust = node.catalog.trust();
        // The sealed bundles of the groups followed: every one, as a blind
        // hub carries a group's bundles without reading them.
        let sealed: std::collections::HashMap<BundleId, u64> = follow
            .groups
            .iter()
            .flat_map(|g| node.catalog.group_privates(g))
            .map(|p| (p.private().id, p.private().size))
            .collect();
        let held = node
            .holdings
            .snapshot()
            .into_iter()
            .map(|(id, h)| {
                let standing = node.catalog.standing(&id);
                HeldView {
                    id,
                    blocked: node.rules.is_blocked(&h.publisher),
                    retracted: standing.retracted,
                    revoked: standing.revoked,
                    superseded: standing.superseded_by.is_some(),
                    followed: sealed.contains_key(&id)
                        || node
                            .catalog
                            .get(&id)
                            .is_some_and(|a| follow.wants(&a, trust)),
                    pin: h.pin.map(|p| p.kind),
                }
            })
            .collect();
        let public: Vec<(BundleId, u64)> = if follow.is_empty() {
            Vec::new()
        } else {
            node.catalog
                .latest_matching(&|a| follow.wants(a, trust))
                .into_iter()
                .map(|a| (a.id, a.size))
                .collect()
        };
        let wanted = public
            .into_iter()
            .chain(sealed)
            .map(|(id, size)| {
                let held = node.holdings.holds(&id);
                WantedView {
                    id,
                    held,
                    pinned: node.holdings.pin_kind(&id).is_some(),
                    over_quota: if held {
                        None
                    } else {
                        node.holdings.pins_over_quota(size)
                    },
                    fetching: node.holdings.is_fetching(&id),
                    recently_failed: self.recently_failed(&id, now),
                }
            })
            .collect();
        View {
            held,
            wanted,
            free_slots: self.slots.available_permits(),
        }
    }

    /// One pass (see the module docs).
    async fn pass(&mut self) -> Result<(), NodeError> {
        let node = self.node.clone();
        // A vouch that lapsed since the last pass stops counting now.
        node.catalog.push_vouches();
        let now = Instant::now();
        let mut removed = 0;
        for action in plan_holdings(&self.view(now)) {
            removed += usize::from(matches!(action, Action::Remove { .. }));
            self.act(action).await?;
        }
        // Bundles whose blocks were found damaged on read go back to being
        // fetched.
        let damaged = node.store.take_damaged();
        if !damaged.is_empty() {
            crate::metrics::Metrics::add(&node.metrics.blocks_damaged, damaged.len() as u64);
            let holdings = node.holdings.clone();
            for id in node.blocking(move |s| holdings.repair(s)).await? {
                self.failed.remove(&id);
            }
        }
        let interrupted: Vec<Interrupted> = node
            .blocking(|s| s.list_kv(CF_FETCHES))
            .await?
            .into_iter()
            .filter_map(|(k, v)| {
                let id = BundleId::from_slice(&k).ok()?;
                Some(Interrupted {
                    id,
                    pin: FetchRecord::pin_of(&v),
                    fetching: node.holdings.is_fetching(&id),
                    recently_failed: self.recently_failed(&id, now),
                })
            })
            .collect();
        for action in plan_resume(&interrupted, self.slots.available_permits()) {
            self.act(action).await?;
        }
        self.settle_contests(now);
        // A member's device revoked: the groups this node admins get a new
        // epoch that device never receives.
        let waiting = super::group::rekey_revoked(&node).await;
        for g in &waiting {
            if self.rekey_warned.insert(*g) {
                tracing::warn!(group = %g, "group: a member's device was revoked; this node's key needs a passphrase to start a new epoch: run `weft group rekey {g}`");
            }
        }
        self.rekey_warned.retain(|g| waiting.contains(g));
        let usage = node.holdings.usage();
        if needs_gc(removed, node.holdings.over_quota(), usage.cached) {
            let holdings = node.holdings.clone();
            node.blocking(move |s| holdings.gc(s, 0)).await?;
        }
        Ok(())
    }

    async fn act(&mut self, action: Action) -> Result<(), NodeError> {
        let node = &self.node;
        let holdings = node.holdings.clone();
        match action {
            Action::Remove { id, why } => {
                node.blocking(move |s| holdings.remove(s, &id)).await?;
                tracing::info!(bundle = %id, "removed: {why}");
            }
            Action::DropMirrorPin(id) => {
                node.blocking(move |s| holdings.set_pin(s, &id, None))
                    .await?;
                tracing::info!(bundle = %id, "mirror pin dropped (superseded or no longer followed); the bundle stays in the cache");
            }
            Action::PinMirror(id) => {
                node.blocking(move |s| holdings.set_pin(s, &id, Some(Pin::mirror(now_secs()))))
                    .await?;
            }
            Action::Fetch { id, pin } => self.start(id, pin),
            Action::Warn(w) => node.rules.set_warning(w),
        }
        Ok(())
    }

    /// Settles contested claims by fetching their manifests, a few per pass
    /// and each at most once per [`RETRY_AFTER`] (the failure memory keeps
    /// the time of the last try), so that search shows only the true claim
    /// without anyone fetching the bundle.
    fn settle_contests(&mut self, now: Instant) {
        let due: Vec<BundleId> = self
            .node
            .catalog
            .contested_ids(SETTLE_PER_PASS * 4)
            .into_iter()
            .filter(|id| !self.recently_failed(id, now))
            .take(SETTLE_PER_PASS)
            .collect();
        for id in due {
            self.failed.insert(id, now);
            let node = self.node.clone();
            self.node.jobs.tracker().spawn(async move {
                match crate::ops::fetch::settle_claims(&node, id).await {
                    Ok(n) => tracing::info!(bundle = %id, false_claims = n, "settled a contested bundle id by its manifest"),
                    Err(e) => tracing::debug!(bundle = %id, error = %e, "could not settle a contested bundle id yet"),
                }
            });
        }
    }

    /// Starts a background fetch on a free slot (the plan counted them).
    fn start(&self, id: BundleId, pin: Option<PinKind>) {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return;
        };
        let (node, done) = (self.node.clone(), self.done_tx.clone());
        self.node.jobs.tracker().spawn(async move {
            let _permit = permit;
            let ok = match crate::ops::fetch::fetch(&node, id, pin, Arc::new(Progress::default()))
                .await
            {
                Ok(_) => {
                    tracing::info!(bundle = %id, "mirrored");
                    true
                }
                Err(e) => {
                    tracing::info!(bundle = %id, error = %e, "background fetch did not finish; will retry");
                    false
                }
            };
            let _ = done.send((id, ok)).await;
        });
    }
}

/// Runs the keeper until shutdown is requested. It stops between passes,
/// never inside one; fetches it started run as tracked tasks of their own.
pub fn spawn(node: Node, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    shutdown.clone().spawn(async move {
        let (done_tx, mut done_rx) = mpsc::channel(MIRROR_CONCURRENCY * 2);
        let mut k = Keeper {
            slots: Arc::new(tokio::sync::Semaphore::new(MIRROR_CONCURRENCY)),
            failed: HashMap::new(),
            rekey_warned: HashSet::new(),
            known: HashSet::new(),
            rules_seen: node.rules.generation(),
            done_tx,
            node,
        };
        k.node.catalog.ready().await;
        loop {
            let peers: HashSet<String> = k
                .node
                .net
                .peers()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.peer_id)
                .collect();
            let generation = k.node.rules.generation();
            if peers.iter().any(|p| !k.known.contains(p)) || generation != k.rules_seen {
                k.failed.clear();
            }
            (k.known, k.rules_seen) = (peers, generation);
            if let Err(e) = k.pass().await {
                tracing::warn!(error = %e, "keeper pass failed");
            }
            tokio::select! {
                _ = k.node.catalog.changes.notified() => {}
                _ = k.node.rules.wake.notified() => {}
                Some((id, ok)) = done_rx.recv() => {
                    if !ok {
                        k.failed.insert(id, Instant::now());
                    }
                }
                _ = tokio::time::sleep(KEEPER_INTERVAL) => {}
                _ = shutdown.requested() => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(KEEPER_DEBOUNCE) => {}
                _ = shutdown.requested() => break,
            }
            // Fetches that ended during the debounce.
            while let Ok((id, ok)) = done_rx.try_recv() {
                if !ok {
                    k.failed.insert(id, Instant::now());
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> BundleId {
        BundleId::from_bytes([n; 32])
    }

    fn held(n: u8) -> HeldView {
        HeldView {
            id: id(n),
            blocked: false,
            retracted: false,
            revoked: false,
            superseded: false,
            followed: true,
            pin: Some(PinKind::Mirror),
        }
    }

    fn wanted(n: u8) -> WantedView {
        WantedView {
            id: id(n),
            held: false,
            pinned: false,
            over_quota: None,
            fetching: false,
            recently_failed: false,
        }
    }

    #[test]
    fn blocked_retracted_and_revoked_bundles_go_but_an_explicit_pin_outlives_the_publisher() {
        let view = View {
            held: vec![
                HeldView {
                    blocked: true,
                    pin: Some(PinKind::Explicit),
                    ..held(1)
                },
                HeldView {
                    retracted: true,
                    ..held(2)
                },
                HeldView {
                    retracted: true,
                    pin: Some(PinKind::Explicit),
                    ..held(3)
                },
                HeldView {
                    revoked: true,
                    ..held(4)
                },
                HeldView {
                    revoked: true,
                    pin: Some(PinKind::Explicit),
                    ..held(5)
                },
            ],
            ..View::default()
        };
        assert_eq!(
            plan_holdings(&view),
            [
                Action::Remove {
                    id: id(1),
                    why: "its publisher is blocked"
                },
                Action::Remove {
                    id: id(2),
                    why: "its publisher retracted it"
                },
                Action::Remove {
                    id: id(4),
                    why: "its publisher revoked the device that signed it"
                },
                Action::Warn(None),
            ]
        );
    }

    #[test]
    fn a_superseded_or_unfollowed_mirror_becomes_cache() {
        let view = View {
            held: vec![
                HeldView {
                    superseded: true,
                    ..held(1)
                },
                HeldView {
                    followed: false,
                    ..held(2)
                },
                held(3),
                HeldView {
                    followed: false,
                    pin: Some(PinKind::Explicit),
                    ..held(4)
                },
            ],
            ..View::default()
        };
        assert_eq!(
            plan_holdings(&view),
            [
                Action::DropMirrorPin(id(1)),
                Action::DropMirrorPin(id(2)),
                Action::Warn(None)
            ]
        );
    }

    #[test]
    fn followed_bundles_are_pinned_if_held_and_fetched_while_slots_last() {
        let view = View {
            wanted: vec![
                WantedView {
                    held: true,
                    ..wanted(1)
                },
                WantedView {
                    held: true,
                    pinned: true,
                    ..wanted(2)
                },
                WantedView {
                    fetching: true,
                    ..wanted(3)
                },
                WantedView {
                    recently_failed: true,
                    ..wanted(4)
                },
                wanted(5),
                wanted(6),
                WantedView {
                    held: true,
                    ..wanted(7)
                },
            ],
            free_slots: 1,
            ..View::default()
        };
        // One slot: bundle 5 is fetched; the pass stops at bundle 6, so
        // bundle 7 waits for the next pass.
        assert_eq!(
            plan_holdings(&view),
            [
                Action::PinMirror(id(1)),
                Action::Fetch {
                    id: id(5),
                    pin: Some(PinKind::Mirror)
                },
                Action::Warn(None),
            ]
        );
    }

    #[test]
    fn mirroring_pauses_with_a_warning_when_pins_would_pass_the_quota() {
        let full = "pins fill the quota".to_string();
        let view = View {
            wanted: vec![
                WantedView {
                    over_quota: Some(full.clone()),
                    ..wanted(1)
                },
                wanted(2),
            ],
            free_slots: 2,
            ..View::default()
        };
        assert_eq!(
            plan_holdings(&view),
            [
                Action::Fetch {
                    id: id(2),
                    pin: Some(PinKind::Mirror)
                },
                Action::Warn(Some(full)),
            ]
        );
    }

    #[test]
    fn interrupted_fetches_resume_with_their_pin_while_slots_last() {
        let list = [
            Interrupted {
                id: id(1),
                pin: Some(PinKind::Explicit),
                fetching: true,
                recently_failed: false,
            },
            Interrupted {
                id: id(2),
                pin: None,
                fetching: false,
                recently_failed: true,
            },
            Interrupted {
                id: id(3),
                pin: Some(PinKind::Explicit),
                fetching: false,
                recently_failed: false,
            },
            Interrupted {
                id: id(4),
                pin: None,
                fetching: false,
                recently_failed: false,
            },
        ];
        assert_eq!(
            plan_resume(&list, 1),
            [Action::Fetch {
                id: id(3),
                pin: Some(PinKind::Explicit)
            }]
        );
        assert!(plan_resume(&list, 0).is_empty());
    }

    #[test]
    fn garbage_is_collected_after_a_removal_or_when_cache_can_be_evicted() {
        assert!(needs_gc(1, false, 0));
        assert!(needs_gc(0, true, 10));
        assert!(!needs_gc(0, true, 0), "pins alone fill the quota");
        assert!(!needs_gc(0, false, 10));
    }
}
