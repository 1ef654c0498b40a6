//! Follow and block rules: what this node mirrors and whom it refuses.
//!
//! A follow rule names a publisher, a tag or a language. Every latest,
//! unretracted bundle that any rule matches is fetched and pinned as a
//! *mirror* pin by the keeper ([`crate::ops::keeper`]), whether it arrived
//! by gossip, by catch-up, by import, or was in the catalog before the
//! rule. A block rule hides a publisher's bundles from search, keeps them
//! from being mirrored or fetched, and removes any this node holds, so they
//! are never served.
//!
//! Rules come from the config file (`[follow]` and `[block]`) and from the
//! CLI (kept in the store). Config rules cannot be removed from the CLI.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use weft_protocol::api::{BlockRules, ConfigRules, FollowRules, RulesResponse};
use weft_protocol::manifest::{normalize_lang, normalize_tag};
use weft_protocol::{Announcement, PublisherId};

use crate::catalog::lang_matches;
use crate::error::NodeError;
use crate::store::{Store, StoreError, CF_RULES};
use crate::trust::Trust;

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
    /// Publishers whose vouchees are followed (`weft follow --vouched-by`).
    #[serde(default)]
    pub vouched_by: BTreeSet<PublisherId>,
    /// Private groups whose sealed bundles are mirrored (`weft follow
    /// --group`): a blind hub carries them without reading them.
    #[serde(default)]
    pub groups: BTreeSet<weft_protocol::GroupId>,
}

impl From<Follow> for FollowRules {
    fn from(f: Follow) -> Self {
        FollowRules {
            groups: f.groups,
            langs: f.langs,
            publishers: f.publishers,
            tags: f.tags,
            vouched_by: f.vouched_by,
        }
    }
}

impl From<Block> for BlockRules {
    fn from(b: Block) -> Self {
        BlockRules {
            publishers: b.publishers,
        }
    }
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
    /// Whether any rule matches; `trust` answers for `vouched_by` rules.
    pub fn wants(&self, a: &Announcement, trust: &Trust) -> bool {
        self.matches(a)
            || (!self.vouched_by.is_empty() && trust.vouched_by_any(&a.publisher, &self.vouched_by))
    }

    /// Whether a publisher, tag or language rule matches.
    pub fn matches(&self, a: &Announcement) -> bool {
        self.publishers.contains(&a.publisher)
            || a.tags.iter().any(|t| self.tags.contains(t))
            || a.titles
                .iter()
                .any(|t| self.langs.iter().any(|l| lang_matches(&t.lang, l)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.publishers.is_empty()
            && self.tags.is_empty()
            && self.langs.is_empty()
            && self.vouched_by.is_empty()
            && self.groups.is_empty()
    }

    fn union(&self, other: &Follow) -> Follow {
        Follow {
            publishers: self.publishers.union(&other.publishers).copied().collect(),
            tags: self.tags.union(&other.tags).cloned().collect(),
            langs: self.langs.union(&other.langs).cloned().collect(),
            vouched_by: self.vouched_by.union(&other.vouched_by).copied().collect(),
            groups: self.groups.union(&other.groups).copied().collect(),
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
            vouched_by: self.vouched_by,
            groups: self.groups,
        })
    }
}

/// One rule, as the API and the CLI name it.
pub use weft_protocol::api::Rule;

/// What the daemon does with a [`Rule`]: its key in the store, and its
/// normalized form.
pub trait RuleExt: Sized {
    /// The key it is stored under.
    fn key(&self) -> String;
    /// The rule a stored key names, if this version knows it.
    fn from_key(k: &str) -> Option<Rule>;
    /// The rule with its tag or language normalized.
    fn normalized(self) -> Result<Rule, String>;
    /// Adds it to, or removes it from, a set of rules; true if that changed
    /// anything.
    fn apply(&self, follow: &mut Follow, block: &mut Block, add: bool) -> bool;
}

impl RuleExt for Rule {
    fn key(&self) -> String {
        match self {
            Rule::Publisher(p) => format!("follow:publisher:{p}"),
            Rule::Tag(t) => format!("follow:tag:{t}"),
            Rule::Lang(l) => format!("follow:lang:{l}"),
            Rule::Block(p) => format!("block:{p}"),
            Rule::VouchedBy(p) => format!("follow:vouched_by:{p}"),
            Rule::Group(g) => format!("follow:group:{g}"),
        }
    }

    fn from_key(k: &str) -> Option<Rule> {
        let (kind, value) = k.rsplit_once(':')?;
        Some(match kind {
            "follow:publisher" => Rule::Publisher(value.parse().ok()?),
            "follow:tag" => Rule::Tag(value.to_string()),
            "follow:lang" => Rule::Lang(value.to_string()),
            "block" => Rule::Block(value.parse().ok()?),
            "follow:vouched_by" => Rule::VouchedBy(value.parse().ok()?),
            "follow:group" => Rule::Group(value.parse().ok()?),
            _ => return None,
        })
    }

    fn normalized(self) -> Result<Rule, String> {
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
            Rule::VouchedBy(p) => set(&mut follow.vouched_by, p, add),
            Rule::Group(g) => set(&mut follow.groups, g, add),
        }
    }
}

/// The rules in force and the keeper's state.
pub struct Rules {
    config_follow: Follow,
    config_block: Block,
    user: RwLock<(Follow, Block)>,
    /// Wakes the keeper.
    pub wake: tokio::sync::Notify,
    /// Why mirroring is paused, if it is.
    warning: Mutex<Option<String>>,
    /// Bumped on every change, so the keeper can tell.
    generation: std::sync::atomic::AtomicU64,
    /// Told of every followed and blocked publisher.
    trust: Arc<Trust>,
}

impl Rules {
    /// Loads the rules kept in the store; `follow` and `block` come from the
    /// config file. Followed and blocked publishers go into `trust`.
    /// Blocking.
    pub fn load(
        store: &dyn Store,
        follow: Follow,
        block: Block,
        trust: Arc<Trust>,
    ) -> Result<Self, StoreError> {
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
        let rules = Self {
            config_follow: follow,
            config_block: block,
            user: RwLock::new((f, b)),
            wake: tokio::sync::Notify::new(),
            warning: Mutex::default(),
            generation: Default::default(),
            trust,
        };
        rules.tell_trust();
        Ok(rules)
    }

    /// Tells the trust tiers which publishers are followed and blocked.
    fn tell_trust(&self) {
        let follow = self.follow();
        let blocked = self.blocked().into_iter().collect();
        self.trust.update(|t| {
            t.followed = follow.publishers;
            t.vouch_roots = follow.vouched_by;
            t.blocked = blocked;
        });
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
    pub fn describe(&self) -> RulesResponse {
        let u = self.user();
        RulesResponse {
            follow: u.0.clone().into(),
            block: u.1.clone().into(),
            config: ConfigRules {
                follow: self.config_follow.clone().into(),
                block: self.config_block.clone().into(),
            },
            names: Default::default(),
        }
    }

    /// Adds or removes a rule, durably. Blocking.
    pub fn change(&self, store: &dyn Store, rule: &Rule, add: bool) -> Result<bool, NodeError> {
        let (cf, cb) = (&self.config_follow, &self.config_block);
        let in_config = match rule {
            Rule::Publisher(p) => cf.publishers.contains(p),
            Rule::Tag(t) => cf.tags.contains(t),
            Rule::Lang(l) => cf.langs.contains(l),
            Rule::Block(p) => cb.publishers.contains(p),
            Rule::VouchedBy(p) => cf.vouched_by.contains(p),
            Rule::Group(g) => cf.groups.contains(g),
        };
        if !add && in_config {
            return Err(NodeError::Conflict(
                "this rule is set in the config file; remove it there and restart weftd".into(),
            ));
        }
        let mut u = self.user.write().unwrap_or_else(|e| e.into_inner());
        let count = u.0.publishers.len()
            + u.0.tags.len()
            + u.0.langs.len()
            + u.0.vouched_by.len()
            + u.0.groups.len()
            + u.1.publishers.len();
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
        self.tell_trust();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.wake.notify_one();
        Ok(changed)
    }

    /// How many times the rules have changed since start.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Why mirroring is paused, if it is (the keeper says).
    pub fn warning(&self) -> Option<String> {
        self.warning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_warning(&self, w: Option<String>) {
        let mut g = self.warning.lock().unwrap_or_else(|e| e.into_inner());
        if *g != w {
            if let Some(w) = &w {
                tracing::warn!("{w}");
            }
            *g = w;
        }
    }
}
