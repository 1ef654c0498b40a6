//! Identities that outlive a device (`docs/protocol.md`, section 6.4).
//!
//! An identity is named by a hash of its first root key and the commitment
//! to its next ([`crate::manifest::identity_id`]). Its key log is a chain of
//! [`KeyEvent`]s, each naming the BLAKE3 hash of the one before: `incept`
//! starts it and commits to the next root; `device` certifies a device
//! key; `revoke` revokes one for good; `keep` names more of what a revoked
//! key signed that stays valid; `rotate` reveals the committed root (its
//! hash must match) and commits to the one after.
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

use crate::id::{BundleId, ContentHash, PublisherId};
use crate::manifest::{next_commitment, KeyKind, SignedKeyEvent};

/// Most key events a node keeps for one identity, forks included.
pub const MAX_KEY_EVENTS: usize = 256;
/// Most devices an identity may have certified at once.
pub const MAX_DEVICES: usize = 64;

/// A device of an identity, as the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// Its name, for people.
    pub name: String,
    /// When the certificate says it was made.
    pub added: u64,
    /// Set once revoked: the ids of what it signed that stay valid.
    pub revoked: Option<BTreeSet<BundleId>>,
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
    /// Former roots, with the ids of what they signed that stay valid.
    pub former_roots: BTreeMap<PublisherId, BTreeSet<BundleId>>,
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
    let kept = |keep: &BTreeSet<BundleId>| {
        if keep.contains(item) {
            Authority::Kept
        } else {
            Authority::Revoked
        }
    };
    if let Some(d) = s.devices.get(signer) {
        return match &d.revoked {
            None => Authority::Valid,
            Some(keep) => kept(keep),
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
    /// It certifies a device already known, or one too many.
    #[error("{0}")]
    Device(String),
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
            former_roots: BTreeMap::new(),
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
        let keep: BTreeSet<BundleId> = ev.keep.iter().flatten().copied().collect();
        if ev.kind == KeyKind::Rotate {
            if next_commitment(&ev.root) != self.next {
                return Err(LogError::NotCommitted(ev.root));
            }
            s.former_roots.insert(self.root, keep);
            s.root = ev.root;
            s.next = ev.next.expect("validated");
            s.rotations += 1;
            // A key that was a device cannot come back as a root's
            // business: its standing stays what the log said.
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
                let active = s.devices.values().filter(|d| d.revoked.is_none()).count();
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
                        revoked: None,
                    },
                );
            }
            KeyKind::Revoke => match s.devices.get_mut(&device) {
                Some(d) if d.revoked.is_none() => d.revoked = Some(keep),
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
                let target = match s.devices.get_mut(&device) {
                    Some(d) => d.revoked.as_mut(),
                    None => s.former_roots.get_mut(&device),
                };
                match target {
                    Some(set) => set.extend(keep),
                    None => {
                        return Err(LogError::Device(format!(
                            "{device} is neither a revoked device nor a former root"
                        )))
                    }
                }
            }
            KeyKind::Incept | KeyKind::Rotate => unreachable!("handled above"),
        }
        Ok(s)
    }
}

/// The chain that counts among `events` (all of one identity, in any
/// order, forks included): the valid chain with the most rotations, then
/// the lowest event hash at the first fork. Returns its final state and
/// the indexes of its events in order, or `None` when no valid `incept`
/// of `id` is among them. Events that fit no valid chain are ignored.
pub fn resolve(id: &PublisherId, events: &[SignedKeyEvent]) -> Option<(KeyState, Vec<usize>)> {
    let mut children: HashMap<Option<ContentHash>, Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate().take(MAX_KEY_EVENTS) {
        if e.event().id == *id {
            children.entry(e.event().prev).or_default().push(i);
        }
    }
    // Each event has one prev, so the events form a tree; walking it from
    // each incept visits every event at most once.
    fn best(
        state: KeyState,
        events: &[SignedKeyEvent],
        children: &HashMap<Option<ContentHash>, Vec<usize>>,
        depth: usize,
    ) -> (u64, KeyState, Vec<usize>) {
        let mut chosen: Option<(u64, ContentHash, KeyState, Vec<usize>)> = None;
        if depth < MAX_KEY_EVENTS {
            for &i in children.get(&Some(state.tip)).into_iter().flatten() {
                let Ok(next) = state.apply(&events[i]) else {
                    continue;
                };
                let (rot, end, mut path) = best(next, events, children, depth + 1);
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
        }
        match chosen {
            Some((rot, _, end, path)) => (rot, end, path),
            None => (state.rotations, state, Vec::new()),
        }
    }
    let mut chosen: Option<(u64, ContentHash, KeyState, Vec<usize>)> = None;
    for &i in children.get(&None).into_iter().flatten() {
        let Ok(start) = KeyState::incept(&events[i]) else {
            continue;
        };
        let (rot, end, mut path) = best(start, events, &children, 1);
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
    chosen.map(|(_, _, end, path)| (end, path))
}

pub mod file;
#[cfg(test)]
pub(crate) mod tests;
