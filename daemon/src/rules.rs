//! Follow and block rules, and the keeper: the background task that makes
//! what the node holds match them.
//!
//! A follow rule names a publisher, a tag or a language. Every latest,
//! unretracted bundle that any rule matches is fetched and pinned as a
//! *mirror* pin, whether it arrived by gossip, by catch-up, by import, or
//! was in the catalog before the rule. A block rule hides a publisher's
//! bundles from search, keeps them from being mirrored or fetched, and
//! removes any this node holds, so they are never served.
//!
//! Rules come from the config file (`[follow]` and `[block]`) and from the
//! CLI (kept in the store). Config rules cannot be removed from the CLI.
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
//! 5. collects garbage when something was removed or the quota is
//!    exceeded.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use weft_protocol::manifest::{normalize_lang, normalize_tag};
use weft_protocol::{Announcement, BundleId, PublisherId};

use crate::catalog::lang_matches;
use crate::node::{now_secs, Node, NodeError, Progress};
use crate::store::{Pin, PinKind, Store, StoreError, CF_FETCHES, CF_RULES};

/// Longest pause between keeper passes.
pub const KEEPER_INTERVAL: Duration = Duration::from_secs(5);
/// Changes arriving within this time are handled in one pass.
pub const KEEPER_DEBOUNCE: Duration = Duration::from_millis(200);
/// Fetches the keeper runs at once (mirroring and resuming).
pub const MIRROR_CONCURRENCY: usize = 2;
/// A fetch that failed is not retried by the keeper before this, unless a
/// new peer connects (it may be a provider).
pub const RETRY_AFTER: Duration = Duration::from_secs(20);
/// Most rules of each kind.
pub const MAX_RULES: usize = 1024;

/// What to mirror.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follow {
    /// Publishers followed.
    #[serde(default)]
    pub publishers: BTreeSet<PublisherId>,
    /// Tags followed (lowercase).
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Languages followed (BCP 47; `es` matches `es-MX` too).
    #[serde(default)]
    pub langs: BTreeSet<String>,
}

/// Publishers blocked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// Publishers blocked.
    #[serde(default)]
    pub publishers: BTreeSet<PublisherId>,
}

impl Follow {
    /// Whether any rule matches.
    pub fn matches(&self, a: &Announcement) -> bool {
        self.publishers.contains(&a.publisher)
            || a.tags.iter().any(|t| self.tags.contains(t))
            || a.titles
                .iter()
                .any(|t| self.langs.iter().any(|l| lang_matches(&t.lang, l)))
    }

    fn is_empty(&self) -> bool {
        self.publishers.is_empty() && self.tags.is_empty() && self.langs.is_empty()
    }

    fn union(&self, other: &Follow) -> Follow {
        Follow {
            publishers: self.publishers.union(&other.publishers).copied().collect(),
            tags: self.tags.union(&other.tags).cloned().collect(),
            langs: self.langs.union(&other.langs).cloned().collect(),
        }
    }

    /// Normalizes tags and languages as manifests do; refuses bad ones.
    pub fn normalized(self) -> Result<Follow, String> {
        let tags = self
            .tags
            .iter()
            .map(|t| normalize_tag(t).ok_or_else(|| format!("{t:?} is not a tag")))
            .collect::<Result<_, _>>()?;
        let langs = self
            .langs
            .iter()
            .map(|l| {
                normalize_lang(l)
                    .ok_or_else(|| format!("{l:?} is not a language tag such as en, es or pt-BR"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Follow {
            publishers: self.publishers,
            tags,
            langs,
        })
    }
}

/// One rule, as the API and the CLI name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Follow a publisher.
    Publisher(PublisherId),
    /// Follow a tag.
    Tag(String),
    /// Follow a language.
    Lang(String),
    /// Block a publisher.
    Block(PublisherId),
}

impl Rule {
    fn key(&self) -> String {
        match self {
            Rule::Publisher(p) => format!("follow:publisher:{p}"),
            Rule::Tag(t) => format!("follow:tag:{t}"),
            Rule::Lang(l) => format!("follow:lang:{l}"),
            Rule::Block(p) => format!("block:{p}"),
        }
    }

    fn from_key(k: &str) -> Option<Rule> {
        let (kind, value) = k.rsplit_once(':')?;
        Some(match kind {
            "follow:publisher" => Rule::Publisher(value.parse().ok()?),
            "follow:tag" => Rule::Tag(value.to_string()),
            "follow:lang" => Rule::Lang(value.to_string()),
            "block" => Rule::Block(value.parse().ok()?),
            _ => return None,
        })
    }

    /// The rule with its tag or language normalized.
    pub fn normalized(self) -> Result<Rule, String> {
        Ok(match self {
            Rule::Tag(t) => {
                Rule::Tag(normalize_tag(&t).ok_or_else(|| {
                    format!("{t:?} is not a tag (one word or a-hyphenated-phrase)")
                })?)
            }
            Rule::Lang(l) => {
                Rule::Lang(normalize_lang(&l).ok_or_else(|| {
                    format!("{l:?} is not a language tag such as en, es or pt-BR")
                })?)
            }
            r => r,
        })
    }

    fn apply(&self, follow: &mut Follow, block: &mut Block, add: bool) -> bool {
        fn set<T: Ord + Clone>(s: &mut BTreeSet<T>, v: &T, add: bool) -> bool {
            if add {
                s.insert(v.clone())
            } else {
                s.remove(v)
            }
        }
        match self {
            Rule::Publisher(p) => set(&mut follow.publishers, p, add),
            Rule::Tag(t) => set(&mut follow.tags, t, add),
            Rule::Lang(l) => set(&mut follow.langs, l, add),
            Rule::Block(p) => set(&mut block.publishers, p, add),
        }
    }
}

/// The rules in force and the keeper's state.
pub struct Policy {
    config_follow: Follow,
    config_block: Block,
    user: RwLock<(Follow, Block)>,
    /// Wakes the keeper.
    pub wake: tokio::sync::Notify,
    /// Why mirroring is paused, if it is.
    warning: Mutex<Option<String>>,
    /// When the keeper last saw a fetch fail.
    failed: Mutex<HashMap<BundleId, Instant>>,
}

impl Policy {
    /// Loads the rules kept in the store; `follow` and `block` come from the
    /// config file. Blocking.
    pub fn load(store: &dyn Store, follow: Follow, block: Block) -> Result<Self, StoreError> {
        let (mut f, mut b) = (Follow::default(), Block::default());
        for (k, _) in store.list_kv(CF_RULES)? {
            match std::str::from_utf8(&k).ok().and_then(Rule::from_key) {
                Some(r) => {
                    r.apply(&mut f, &mut b, true);
                }
                None => {
                    tracing::warn!(key = %String::from_utf8_lossy(&k), "ignoring a stored rule this version does not know")
                }
            }
        }
        Ok(Self {
            config_follow: follow,
            config_block: block,
            user: RwLock::new((f, b)),
            wake: tokio::sync::Notify::new(),
            warning: Mutex::default(),
            failed: Mutex::default(),
        })
    }

    fn user(&self) -> std::sync::RwLockReadGuard<'_, (Follow, Block)> {
        self.user.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Every follow rule in force.
    pub fn follow(&self) -> Follow {
        self.user().0.union(&self.config_follow)
    }

    /// Every blocked publisher.
    pub fn blocked(&self) -> HashSet<PublisherId> {
        self.user()
            .1
            .publishers
            .union(&self.config_block.publishers)
            .copied()
            .collect()
    }

    /// Whether a publisher is blocked.
    pub fn is_blocked(&self, p: &PublisherId) -> bool {
        self.user().1.publishers.contains(p) || self.config_block.publishers.contains(p)
    }

    /// Rules for the API: those from the config and those from the CLI.
    pub fn describe(&self) -> serde_json::Value {
        let u = self.user();
        serde_json::json!({
            "follow": u.0, "block": u.1,
            "config": {"follow": self.config_follow, "block": self.config_block},
        })
    }

    /// Adds or removes a rule, durably. Blocking.
    pub fn change(&self, store: &dyn Store, rule: &Rule, add: bool) -> Result<bool, NodeError> {
        let (cf, cb) = (&self.config_follow, &self.config_block);
        let in_config = match rule {
            Rule::Publisher(p) => cf.publishers.contains(p),
            Rule::Tag(t) => cf.tags.contains(t),
            Rule::Lang(l) => cf.langs.contains(l),
            Rule::Block(p) => cb.publishers.contains(p),
        };
        if !add && in_config {
            return Err(NodeError::Conflict(
                "this rule is set in the config file; remove it there and restart weftd".into(),
            ));
        }
        let mut u = self.user.write().unwrap_or_else(|e| e.into_inner());
        let count = u.0.publishers.len() + u.0.tags.len() + u.0.langs.len() + u.1.publishers.len();
        if add && count >= MAX_RULES * 4 {
            return Err(NodeError::Conflict(format!(
                "this node already has {count} rules; remove some first"
            )));
        }
        let key = rule.key();
        if add {
            store.put_kv(CF_RULES, key.as_bytes(), b"")?;
        } else {
            store.delete_kv(CF_RULES, key.as_bytes())?;
        }
        let (f, b) = &mut *u;
        let changed = rule.apply(f, b, add);
        drop(u);
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.wake.notify_one();
        Ok(changed)
    }

    /// Why mirroring is paused, if it is.
    pub fn warning(&self) -> Option<String> {
        self.warning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_warning(&self, w: Option<String>) {
        let mut g = self.warning.lock().unwrap_or_else(|e| e.into_inner());
        if *g != w {
            if let Some(w) = &w {
                tracing::warn!("{w}");
            }
            *g = w;
        }
    }

    fn recently_failed(&self, id: &BundleId) -> bool {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|t| t.elapsed() < RETRY_AFTER)
    }
}

/// Stored form of an interrupted fetch's pin: 0 none, 1 explicit, 2 mirror.
pub fn pin_byte(pin: Option<PinKind>) -> u8 {
    match pin {
        None => 0,
        Some(PinKind::Explicit) => 1,
        Some(PinKind::Mirror) => 2,
    }
}

fn pin_of_byte(b: u8) -> Option<PinKind> {
    match b {
        1 => Some(PinKind::Explicit),
        2 => Some(PinKind::Mirror),
        _ => None,
    }
}

/// Runs the keeper until the runtime stops.
pub fn spawn(node: Node) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(tokio::sync::Semaphore::new(MIRROR_CONCURRENCY));
        node.catalog.ready().await;
        let mut known: HashSet<String> = HashSet::new();
        loop {
            let now: HashSet<String> = node
                .net
                .peers()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.peer_id)
                .collect();
            if now.iter().any(|p| !known.contains(p)) {
                node.policy
                    .failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
            }
            known = now;
            if let Err(e) = pass(&node, &slots).await {
                tracing::warn!(error = %e, "keeper pass failed");
            }
            tokio::select! {
                _ = node.catalog.changes.notified() => {}
                _ = node.policy.wake.notified() => {}
                _ = tokio::time::sleep(KEEPER_INTERVAL) => {}
            }
            tokio::time::sleep(KEEPER_DEBOUNCE).await;
        }
    })
}

/// One pass of the keeper (see the module docs).
pub async fn pass(node: &Node, slots: &Arc<tokio::sync::Semaphore>) -> Result<(), NodeError> {
    let policy = &node.policy;
    node.catalog.set_blocked(policy.blocked());
    let follow = policy.follow();
    let mut removed = 0;
    // 1 and 2: what is held.
    for (id, held) in node.storage.snapshot() {
        let standing = node.catalog.standing(&id);
        let explicit = held.pin.is_some_and(|p| p.kind == PinKind::Explicit);
        let blocked = policy.is_blocked(&held.publisher);
        if blocked || (standing.retracted && !explicit) {
            let why = if blocked {
                "its publisher is blocked"
            } else {
                "its publisher retracted it"
            };
            let storage = node.storage.clone();
            node.blocking(move |s| storage.remove(s, &id)).await?;
            tracing::info!(bundle = %id, "removed: {why}");
            removed += 1;
            continue;
        }
        if held.pin.is_some_and(|p| p.kind == PinKind::Mirror) {
            let followed = node.catalog.get(&id).is_some_and(|a| follow.matches(&a));
            if standing.superseded_by.is_some() || !followed {
                let storage = node.storage.clone();
                node.blocking(move |s| storage.set_pin(s, &id, None))
                    .await?;
                tracing::info!(bundle = %id, "mirror pin dropped (superseded or no longer followed); the bundle stays in the cache");
            }
        }
    }
    // 3: what the rules want.
    let mut pause = None;
    if !follow.is_empty() {
        let wanted = node.catalog.latest_matching(&|a| follow.matches(a));
        for a in wanted {
            if node.storage.holds(&a.id) {
                if node.storage.pin_kind(&a.id).is_none() {
                    let (storage, id) = (node.storage.clone(), a.id);
                    node.blocking(move |s| storage.set_pin(s, &id, Some(Pin::mirror(now_secs()))))
                        .await?;
                }
                continue;
            }
            if let Some(w) = node.storage.pins_over_quota(a.size) {
                pause = Some(w);
                continue;
            }
            if node.storage.is_fetching(&a.id) || policy.recently_failed(&a.id) {
                continue;
            }
            if !start(node, slots, a.id, Some(PinKind::Mirror)) {
                break;
            }
        }
    }
    policy.set_warning(pause);
    // Bundles whose blocks were found damaged on read go back to being
    // fetched.
    let damaged = node.store.take_damaged();
    if !damaged.is_empty() {
        crate::metrics::Metrics::add(&node.metrics.blocks_damaged, damaged.len() as u64);
        let storage = node.storage.clone();
        let reopened = node.blocking(move |s| storage.repair(s)).await?;
        for id in reopened {
            policy
                .failed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
    // 4: interrupted fetches.
    for (k, v) in node.blocking(|s| s.list_kv(CF_FETCHES)).await? {
        let Ok(id) = BundleId::from_slice(&k) else {
            continue;
        };
        if node.storage.is_fetching(&id) || policy.recently_failed(&id) {
            continue;
        }
        let pin = v.first().copied().and_then(pin_of_byte);
        if !start(node, slots, id, pin) {
            break;
        }
    }
    // 5: garbage.
    // Over the quota with nothing cached, there is nothing to evict: pins
    // alone fill it (the warning says so), so do not sweep every pass.
    if removed > 0 || (node.storage.over_quota() && node.storage.usage().cached > 0) {
        let storage = node.storage.clone();
        node.blocking(move |s| storage.gc(s, 0)).await?;
    }
    Ok(())
}

/// Starts a background fetch if a slot is free; false if none is.
fn start(
    node: &Node,
    slots: &Arc<tokio::sync::Semaphore>,
    id: BundleId,
    pin: Option<PinKind>,
) -> bool {
    let Ok(permit) = slots.clone().try_acquire_owned() else {
        return false;
    };
    let node = node.clone();
    tokio::spawn(async move {
        let _permit = permit;
        match crate::fetch::fetch(&node, id, pin, Arc::new(Progress::default())).await {
            Ok(_) => tracing::info!(bundle = %id, "mirrored"),
            Err(e) => {
                tracing::info!(bundle = %id, error = %e, "background fetch did not finish; will retry");
                node.policy
                    .failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, Instant::now());
            }
        }
        node.policy.wake.notify_one();
    });
    true
}
