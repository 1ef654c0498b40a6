//! Identities that outlive a device (`docs/protocol.md`, section 6.4).
//!
//! An identity is named by a hash of its first root key and the commitment
//! to its next ([`crate::manifest::identity_id`]). Its key log is a chain of
//! [`KeyEvent`]s, each naming the BLAKE3 hash of the one before: `incept`
//! starts it and commits to the next root; `device` certifies a device
//! key; `keep` names what a device or the root signed that stays valid
//! once it is revoked or replaced (before the `revoke` or `rotate`, so the
//! chain brings the whole list first); `revoke` revokes a device for good;
//! `rotate` reveals the committed root (its hash must match) and commits
//! to the one after.
//!
//! Whoever holds the current root can fork the log (two events on one
//! `prev`). Of all valid chains, the one with the most rotations counts,
//! then, at the first fork, the branch whose event hash is lowest. Only
//! whoever holds the committed next root can rotate, so a thief holding
//! only the current root loses every fork the moment the owner rotates.
//!
//! [`KeyState`] is the result: who may sign for the identity now, and what
//! revoked keys signed that still counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::id::{BundleId, ContentHash, PublisherId};
use crate::manifest::{next_commitment, KeyKind, SignedKeyEvent};

/// Most key events a node keeps for one identity, forks included.
pub const MAX_KEY_EVENTS: usize = 256;
/// Most devices an identity may have certified at once.
pub const MAX_DEVICES: usize = 64;
/// Most ids all the keep lists of one identity hold together.
pub const MAX_KEPT_IDS: usize = 4096;

/// Ids that stay valid though their signer is revoked; shared between
/// states, so that following a log copies a set only where it grows.
pub type Kept = Arc<BTreeSet<BundleId>>;

/// A device of an identity, as the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// Its name, for people.
    pub name: String,
    /// When the certificate says it was made.
    pub added: u64,
    /// Whether it is revoked.
    pub revoked: bool,
    /// When the revocation says it was made (its `created`, informative:
    /// a group's admin starts a new epoch for a revocation dated after the
    /// epoch in force began); 0 while not revoked.
    pub revoked_at: u64,
    /// What it signed that stays valid once it is revoked.
    pub kept: Kept,
}

/// What an identity's key log says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    /// The identity.
    pub id: PublisherId,
    /// The last event's seq.
    pub seq: u64,
    /// The last event's hash: the next event's `prev`.
    pub tip: ContentHash,
    /// The root in force.
    pub root: PublisherId,
    /// The commitment to the next root.
    pub next: ContentHash,
    /// How many times the root was rotated.
    pub rotations: u64,
    /// Every device ever certified, revoked ones included.
    pub devices: BTreeMap<PublisherId, DeviceState>,
    /// What the root in force signed that stays valid once it is replaced.
    pub root_kept: Kept,
    /// Former roots, with what they signed that stays valid.
    pub former_roots: BTreeMap<PublisherId, Kept>,
    /// Ids in all keep lists together (at most [`MAX_KEPT_IDS`]).
    pub kept_ids: usize,
}

/// Whether a key may sign something for an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The root in force or a device in good standing.
    Valid,
    /// A revoked device or a former root, but the log keeps this item.
    Kept,
    /// A revoked device or a former root, and the log does not keep it.
    Revoked,
    /// A key the log does not know (or no log is known and the key is not
    /// the identity itself).
    Unknown,
}

impl Authority {
    /// Whether what was signed counts.
    pub fn counts(self) -> bool {
        matches!(self, Self::Valid | Self::Kept)
    }
}

/// Whether `signer` may sign item `item` for identity `id` given its
/// state, or `None` when no key log of the identity is known (then only
/// the identity's own key signs: a single-key publisher).
pub fn authority(
    state: Option<&KeyState>,
    id: &PublisherId,
    signer: &PublisherId,
    item: &BundleId,
) -> Authority {
    let Some(s) = state else {
        return if signer == id {
            Authority::Valid
        } else {
            Authority::Unknown
        };
    };
    if *signer == s.root {
        return Authority::Valid;
    }
    let kept = |keep: &Kept| {
        if keep.contains(item) {
            Authority::Kept
        } else {
            Authority::Revoked
        }
    };
    if let Some(d) = s.devices.get(signer) {
        return if d.revoked {
            kept(&d.kept)
        } else {
            Authority::Valid
        };
    }
    match s.former_roots.get(signer) {
        Some(keep) => kept(keep),
        None => Authority::Unknown,
    }
}

/// Why an event does not extend a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// It names another identity.
    #[error("it is for identity {0}")]
    OtherIdentity(PublisherId),
    /// Its place in the chain is wrong.
    #[error("it does not follow the event before it (seq or prev)")]
    NotNext,
    /// It is signed by a root that is not the one in force.
    #[error("it is signed by {0}, which is not the identity's root in force")]
    NotTheRoot(PublisherId),
    /// A rotation reveals a key the log did not commit to.
    #[error("it reveals root {0}, which the identity did not commit to")]
    NotCommitted(PublisherId),
    /// It certifies a device already known, or one too many, or keeps
    /// too much.
    #[error("{0}")]
    Device(String),
}

/// Adds `keep` to `set`, within [`MAX_KEPT_IDS`] in all.
fn add_kept(set: &mut Kept, keep: &[BundleId], kept_ids: &mut usize) -> Result<(), LogError> {
    let grown = keep.iter().filter(|k| !set.contains(*k)).count();
    if *kept_ids + grown > MAX_KEPT_IDS {
        return Err(LogError::Device(format!(
            "an identity keeps at most {MAX_KEPT_IDS} ids in all"
        )));
    }
    if grown > 0 {
        Arc::make_mut(set).extend(keep.iter().copied());
        *kept_ids += grown;
    }
    Ok(())
}

impl KeyState {
    /// The state after an `incept` event.
    pub fn incept(e: &SignedKeyEvent) -> Result<Self, LogError> {
        let ev = e.event();
        if ev.kind != KeyKind::Incept {
            return Err(LogError::NotNext);
        }
        Ok(Self {
            id: ev.id,
            seq: 0,
            tip: e.hash(),
            root: ev.root,
            next: ev.next.expect("validated"),
            rotations: 0,
            devices: BTreeMap::new(),
            root_kept: Kept::default(),
            former_roots: BTreeMap::new(),
            kept_ids: 0,
        })
    }

    /// The state after `e`, if `e` extends this one.
    pub fn apply(&self, e: &SignedKeyEvent) -> Result<Self, LogError> {
        let ev = e.event();
        if ev.id != self.id {
            return Err(LogError::OtherIdentity(ev.id));
        }
        if ev.seq != self.seq + 1 || ev.prev != Some(self.tip) || ev.kind == KeyKind::Incept {
            return Err(LogError::NotNext);
        }
        let mut s = self.clone();
        s.seq = ev.seq;
        s.tip = e.hash();
        let keep = ev.keep.as_deref().unwrap_or_default();
        if ev.kind == KeyKind::Rotate {
            if next_commitment(&ev.root) != self.next {
                return Err(LogError::NotCommitted(ev.root));
            }
            let mut old = std::mem::take(&mut s.root_kept);
            add_kept(&mut old, keep, &mut s.kept_ids)?;
            s.former_roots.insert(self.root, old);
            s.root = ev.root;
            s.next = ev.next.expect("validated");
            s.rotations += 1;
            return Ok(s);
        }
        if ev.root != self.root {
            return Err(LogError::NotTheRoot(ev.root));
        }
        let device = ev.device.expect("validated");
        match ev.kind {
            KeyKind::Device => {
                if s.devices.contains_key(&device) || s.former_roots.contains_key(&device) {
                    return Err(LogError::Device(format!(
                        "device {device} was certified before; a revoked key never comes back"
                    )));
                }
                let active = s.devices.values().filter(|d| !d.revoked).count();
                if active >= MAX_DEVICES {
                    return Err(LogError::Device(format!(
                        "an identity has at most {MAX_DEVICES} devices; revoke one first"
                    )));
                }
                s.devices.insert(
                    device,
                    DeviceState {
                        name: ev.name.clone().expect("validated"),
                        added: ev.created,
                        revoked: false,
                        revoked_at: 0,
                        kept: Kept::default(),
                    },
                );
            }
            KeyKind::Revoke => match s.devices.get_mut(&device) {
                Some(d) if !d.revoked => {
                    add_kept(&mut d.kept, keep, &mut s.kept_ids)?;
                    d.revoked = true;
                    d.revoked_at = ev.created;
                }
                Some(_) => {
                    return Err(LogError::Device(format!(
                        "device {device} is already revoked; add to what it keeps with a keep event"
                    )))
                }
                None => {
                    return Err(LogError::Device(format!(
                        "device {device} is not certified"
                    )))
                }
            },
            KeyKind::Keep => {
                let target = if device == s.root {
                    Some(&mut s.root_kept)
                } else {
                    match s.devices.get_mut(&device) {
                        Some(d) => Some(&mut d.kept),
                        None => s.former_roots.get_mut(&device),
                    }
                };
                match target {
                    Some(set) => add_kept(set, keep, &mut s.kept_ids)?,
                    None => {
                        return Err(LogError::Device(format!(
                            "{device} is not a device, the root or a former root of this identity"
                        )))
                    }
                }
            }
            KeyKind::Incept | KeyKind::Rotate => unreachable!("handled above"),
        }
        Ok(s)
    }

    /// Whether some key that may sign (or some item kept) under `before`
    /// no longer may under `self`: what the catalog must then purge.
    pub fn narrows(&self, before: &KeyState) -> bool {
        self.root != before.root
            || before.devices.iter().any(|(k, d)| {
                self.devices
                    .get(k)
                    .is_none_or(|n| (n.revoked && !d.revoked) || !n.kept.is_superset(&d.kept))
            })
            || before.former_roots.iter().any(|(k, kept)| {
                self.former_roots
                    .get(k)
                    .is_none_or(|n| !n.is_superset(kept))
            })
    }
}

/// The log of an identity as it resolves: the state that counts, the
/// indexes of its chain's events in order, and which of the events given
/// fit some valid chain at all (the others are to be dropped).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The state after the chain that counts.
    pub state: KeyState,
    /// Indexes of its events, in order.
    pub chain: Vec<usize>,
    /// For each event given, whether it lies on some valid chain.
    pub valid: Vec<bool>,
}

/// The chain that counts among `events` (all of one identity, in any
/// order, forks included): the valid chain with the most rotations, then
/// the lowest event hash at the first fork. Returns its final state and
/// the indexes of its events in order, or `None` when no valid `incept`
/// of `id` is among them. Events that fit no valid chain are ignored.
pub fn resolve(id: &PublisherId, events: &[SignedKeyEvent]) -> Option<(KeyState, Vec<usize>)> {
    resolve_all(id, events).map(|r| (r.state, r.chain))
}

/// [`resolve`], also saying which events fit a valid chain.
pub fn resolve_all(id: &PublisherId, events: &[SignedKeyEvent]) -> Option<Resolved> {
    let mut children: HashMap<Option<ContentHash>, Vec<usize>> = HashMap::new();
    // The caller bounds how many events it passes (a node holds at most
    // MAX_KEY_EVENTS and tries one more); this bounds the work regardless.
    for (i, e) in events.iter().enumerate().take(2 * MAX_KEY_EVENTS) {
        if e.event().id == *id {
            children.entry(e.event().prev).or_default().push(i);
        }
    }
    let mut valid = vec![false; events.len()];
    // Each event has one prev, so the events form a tree; walking it from
    // each incept visits every event at most once.
    struct Walk<'a> {
        events: &'a [SignedKeyEvent],
        children: HashMap<Option<ContentHash>, Vec<usize>>,
        valid: Vec<bool>,
    }
    impl Walk<'_> {
        fn best(&mut self, state: KeyState, depth: usize) -> (u64, KeyState, Vec<usize>) {
            let mut chosen: Option<(u64, ContentHash, KeyState, Vec<usize>)> = None;
            let kids = if depth < MAX_KEY_EVENTS {
                self.children
                    .get(&Some(state.tip))
                    .cloned()
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            for i in kids {
                let Ok(next) = state.apply(&self.events[i]) else {
                    continue;
                };
                self.valid[i] = true;
                let (rot, end, mut path) = self.best(next, depth + 1);
                path.insert(0, i);
                let hash = self.events[i].hash();
                let better = match &chosen {
                    None => true,
                    Some((r, h, _, _)) => rot > *r || (rot == *r && hash.as_bytes() < h.as_bytes()),
                };
                if better {
                    chosen = Some((rot, hash, end, path));
                }
            }
            match chosen {
                Some((rot, _, end, path)) => (rot, end, path),
                None => (state.rotations, state, Vec::new()),
            }
        }
    }
    let incepts = children.get(&None).cloned().unwrap_or_default();
    let mut walk = Walk {
        events,
        children,
        valid: std::mem::take(&mut valid),
    };
    let mut chosen: Option<(u64, ContentHash, KeyState, Vec<usize>)> = None;
    for i in incepts {
        let Ok(start) = KeyState::incept(&events[i]) else {
            continue;
        };
        walk.valid[i] = true;
        let (rot, end, mut path) = walk.best(start, 1);
        path.insert(0, i);
        let hash = events[i].hash();
        let better = match &chosen {
            None => true,
            Some((r, h, _, _)) => rot > *r || (rot == *r && hash.as_bytes() < h.as_bytes()),
        };
        if better {
            chosen = Some((rot, hash, end, path));
        }
    }
    chosen.map(|(_, _, state, chain)| Resolved {
        state,
        chain,
        valid: walk.valid,
    })
}

pub mod file;
#[cfg(test)]
pub(crate) mod tests;
