//! Private groups on this node (protocol section 6.6): the epoch secrets
//! it holds (the keyring), learnt by opening key boxes with this node's
//! device key, and what a group looks like to this node's user.
//!
//! Secrets are kept in the store (`CF_GROUP_KEYS`), beside the device key
//! that opened them: whoever can read the data dir of a member's node can
//! read that member's groups (`docs/security.md`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Mutex, RwLock};

use weft_protocol::api::{GroupMember, GroupView};
use weft_protocol::group::{open_box, open_change, EpochSecret, GroupState};
use weft_protocol::manifest::{GroupChange, SignedGroupRecord, SignedKeyBox};
use weft_protocol::{ContentHash, GroupId, PublisherId, PublisherKey};

use crate::catalog::Catalog;
use crate::store::{Store, StoreError, CF_GROUP_KEYS};

/// The epoch secrets this node holds, by group and epoch.
#[derive(Default)]
pub struct Keyring {
    map: RwLock<BTreeMap<(GroupId, u64), EpochSecret>>,
    /// Key boxes a device key has done with since the daemon started: the
    /// ones it cannot open, and the ones whose every secret is kept. Each
    /// box costs one key agreement to try, so it is tried once.
    done: Mutex<HashSet<(PublisherId, ContentHash)>>,
}

fn key_bytes(group: &GroupId, epoch: u64) -> Vec<u8> {
    let mut k = group.as_bytes().to_vec();
    k.extend_from_slice(&epoch.to_be_bytes());
    k
}

impl Keyring {
    /// Reads the secrets from the store. Blocking.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let map = store
            .list_kv(CF_GROUP_KEYS)?
            .into_iter()
            .filter_map(|(k, v)| {
                let g = GroupId::from_slice(k.get(..32)?).ok()?;
                let epoch = u64::from_be_bytes(k.get(32..40)?.try_into().ok()?);
                let s: [u8; 32] = v.as_slice().try_into().ok()?;
                Some(((g, epoch), EpochSecret::from_bytes(s)))
            })
            .collect();
        Ok(Self {
            map: RwLock::new(map),
            done: Mutex::default(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<(GroupId, u64), EpochSecret>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn done(&self) -> std::sync::MutexGuard<'_, HashSet<(PublisherId, ContentHash)>> {
        self.done.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The secret of one epoch of a group.
    pub fn get(&self, group: &GroupId, epoch: u64) -> Option<EpochSecret> {
        self.read().get(&(*group, epoch)).cloned()
    }

    /// The epochs of a group whose secrets are here.
    pub fn epochs(&self, group: &GroupId) -> Vec<u64> {
        self.read()
            .range((*group, 0)..=(*group, u64::MAX))
            .map(|((_, e), _)| *e)
            .collect()
    }

    /// Every group with a secret here.
    pub fn groups(&self) -> BTreeSet<GroupId> {
        self.read().keys().map(|(g, _)| *g).collect()
    }

    /// Keeps a secret, in the store first. Blocking.
    pub fn put(
        &self,
        store: &dyn Store,
        group: &GroupId,
        epoch: u64,
        secret: &EpochSecret,
    ) -> Result<bool, StoreError> {
        if self.get(group, epoch).as_ref() == Some(secret) {
            return Ok(false);
        }
        store.put_kv(CF_GROUP_KEYS, &key_bytes(group, epoch), secret.as_bytes())?;
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((*group, epoch), secret.clone());
        Ok(true)
    }
}

/// Opens every key box of `group` this node's `device` key can open and
/// keeps the secrets found, when they are the epoch keys the chain names.
/// Returns how many were new. Blocking.
pub fn learn(
    keyring: &Keyring,
    store: &dyn Store,
    catalog: &Catalog,
    group: &GroupId,
    device: &PublisherKey,
) -> Result<usize, StoreError> {
    let Some(state) = catalog.group_state(group) else {
        return Ok(0);
    };
    let mut new = 0;
    let me = device.id();
    for b in catalog.group_boxes(group) {
        let mark = (me, b.hash());
        if keyring.done().contains(&mark) {
            continue;
        }
        let (secrets, all) = open(&state, &b, device);
        for (epoch, secret) in secrets {
            if keyring.put(store, group, epoch, &secret)? {
                new += 1;
            }
        }
        if all {
            keyring.done().insert(mark);
        }
    }
    Ok(new)
}

/// The secrets a box holds for `device`, keeping only those whose epoch
/// key is the one the chain names (a box cannot slip in a false key), and
/// whether the box is done with: it does not open for `device`, or the
/// chain has every epoch it holds a secret of. (A box that arrives before
/// the record of an epoch it holds is opened again once the record is
/// here.)
fn open(
    state: &GroupState,
    b: &SignedKeyBox,
    device: &PublisherKey,
) -> (Vec<(u64, EpochSecret)>, bool) {
    let kb = b.key_box();
    let Ok(contents) = open_box(device, &kb.info(), &kb.sealed) else {
        return (Vec::new(), true);
    };
    let all = contents.secrets();
    let done = all.iter().all(|(e, _)| (*e as usize) < state.epochs.len());
    let kept = all
        .into_iter()
        .filter(|(e, s)| {
            state
                .epochs
                .get(*e as usize)
                .is_some_and(|info| info.key == s.epoch_key())
        })
        .collect();
    (kept, done)
}

/// The group as the head record this node can open says: its name and
/// members, and whether what it says holds (every admin a member).
pub fn read_head(
    keyring: &Keyring,
    state: &GroupState,
    records: &[SignedGroupRecord],
) -> Option<GroupChange> {
    // The latest record on the chain whose epoch's secret is here.
    for link in state.chain.iter().rev() {
        let Some(secret) = keyring.get(&state.group, link.epoch) else {
            continue;
        };
        let record = records.iter().find(|r| r.hash() == link.hash)?;
        return open_change(record.record(), &secret).ok();
    }
    None
}

/// The latest revocation of a device of one of `members` dated from the
/// start of the epoch in force up to `now`, if any: the epoch's secret may
/// have been sealed to that device, so the group needs a new epoch. (A
/// revocation's date is its own `created`; one dated later than `now`
/// counts once that time comes, so a wrong clock cannot make an epoch
/// start in the future.)
pub fn revoked_since(
    catalog: &Catalog,
    state: &GroupState,
    members: &[PublisherId],
    now: u64,
) -> Option<u64> {
    let started = state.epochs.last()?.started;
    members
        .iter()
        .filter_map(|m| catalog.key_state(m))
        .flat_map(|k| {
            k.devices
                .values()
                .filter(|d| d.revoked && d.revoked_at >= started && d.revoked_at <= now)
                .map(|d| d.revoked_at)
                .collect::<Vec<_>>()
        })
        .max()
}

/// A group as this node's user sees it. `me` is this node's publisher.
pub fn view(
    keyring: &Keyring,
    catalog: &Catalog,
    group: &GroupId,
    me: Option<PublisherId>,
    describe: &dyn Fn(&PublisherId) -> weft_protocol::api::PublisherName,
) -> Option<GroupView> {
    let state = catalog.group_state(group)?;
    let records = catalog.group_records(group);
    let head = read_head(keyring, &state, &records);
    let admins = state.admins().to_vec();
    let members: Vec<GroupMember> = head
        .as_ref()
        .map(|c| {
            c.members
                .iter()
                .map(|p| GroupMember {
                    admin: admins.contains(p),
                    name: describe(p),
                    publisher: *p,
                })
                .collect()
        })
        .unwrap_or_default();
    let readable = keyring.get(group, state.epoch()).is_some();
    let rekey_due = head.as_ref().is_some_and(|c| {
        revoked_since(catalog, &state, &c.members, crate::clock::now_secs()).is_some()
    });
    Some(GroupView {
        admin: me.is_some_and(|m| admins.contains(&m)),
        admins,
        bundles: catalog.group_privates(group).len() as u64,
        epoch: state.epoch(),
        epochs_held: keyring.epochs(group),
        id: *group,
        // A removed member still reads the records of its last epoch;
        // it is a member only while it holds the epoch in force.
        member: readable && me.is_some_and(|m| members.iter().any(|x| x.publisher == m)),
        members,
        name: head.map(|c| c.name),
        readable,
        records: state.chain.len() as u64,
        rekey_due,
    })
}
