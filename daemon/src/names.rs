//! Petnames: the names this node's user gives publishers (`weft name`),
//! kept in the store and never sent to peers (a public gateway, which
//! speaks for its operator, shows them to its readers). A petname is what weft shows
//! first wherever a publisher appears ([`describe`]); a publisher's own
//! profile name comes second, marked as its claim; the fingerprint always.
//! A named publisher is trusted (`crate::trust`).

use std::collections::BTreeMap;
use std::sync::RwLock;

use weft_protocol::api::PublisherName;
use weft_protocol::words::{check_display_name, fingerprint, name_skeleton};
use weft_protocol::PublisherId;

use crate::catalog::Catalog;
use crate::error::NodeError;
use crate::store::{Store, StoreError, CF_NAMES};

/// Petnames given at most: a person's address book, not a directory.
pub const MAX_PETNAMES: usize = 10_000;

/// The petnames, in memory and in the store.
#[derive(Default)]
pub struct Names {
    map: RwLock<BTreeMap<PublisherId, String>>,
}

impl Names {
    /// Reads the petnames from the store. Blocking.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let map = store
            .list_kv(CF_NAMES)?
            .into_iter()
            .filter_map(|(k, v)| {
                let p = PublisherId::from_slice(&k).ok()?;
                let name = String::from_utf8(v).ok()?;
                check_display_name(&name).ok()?;
                Some((p, name))
            })
            .collect();
        Ok(Self {
            map: RwLock::new(map),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PublisherId, String>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The petname of a publisher.
    pub fn get(&self, p: &PublisherId) -> Option<String> {
        self.read().get(p).cloned()
    }

    /// Every petname, by publisher.
    pub fn all(&self) -> Vec<(PublisherId, String)> {
        self.read().iter().map(|(p, n)| (*p, n.clone())).collect()
    }

    /// The publisher a petname (compared as people would read it) names.
    pub fn resolve(&self, name: &str) -> Option<PublisherId> {
        let want = name_skeleton(name);
        self.read()
            .iter()
            .find(|(_, n)| name_skeleton(n) == want)
            .map(|(p, _)| *p)
    }

    /// Names a publisher; refuses a bad name, or one that reads like the
    /// petname of another publisher. Blocking.
    pub fn set(&self, store: &dyn Store, p: PublisherId, name: &str) -> Result<(), NodeError> {
        check_display_name(name)
            .map_err(|why| NodeError::BadRequest(format!("{name:?} cannot be a name: {why}")))?;
        // One write guard for the checks and the change, so that two
        // requests cannot both take the same name.
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let want = name_skeleton(name);
        if let Some((other, _)) = map
            .iter()
            .find(|(o, n)| **o != p && name_skeleton(n) == want)
        {
            return Err(NodeError::Conflict(format!(
                "{name:?} already names {other} ({}); choose another name, or `weft unname` that one first",
                fingerprint(other)
            )));
        }
        if map.len() >= MAX_PETNAMES && !map.contains_key(&p) {
            return Err(NodeError::Conflict(format!(
                "this node already keeps {MAX_PETNAMES} names"
            )));
        }
        store.put_kv(CF_NAMES, p.as_bytes(), name.as_bytes())?;
        map.insert(p, name.to_string());
        Ok(())
    }

    /// Forgets a publisher's petname; returns whether it had one. Blocking.
    pub fn remove(&self, store: &dyn Store, p: &PublisherId) -> Result<bool, StoreError> {
        store.delete_kv(CF_NAMES, p.as_bytes())?;
        Ok(self
            .map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(p)
            .is_some())
    }
}

/// How to show a publisher to this node's user: the petname if there is
/// one, the publisher's own profile name (in `lang` if it has one) as its
/// claim, whether another key claims a name that reads the same, and the
/// fingerprint.
pub fn describe(
    names: &Names,
    catalog: &Catalog,
    p: &PublisherId,
    lang: Option<&str>,
) -> PublisherName {
    let petname = names.get(p);
    let (profile_name, same_name) = match catalog.profile_name(p, lang) {
        Some((name, same)) => (Some(name), same),
        None => (None, false),
    };
    PublisherName {
        fingerprint: fingerprint(p),
        petname,
        profile_name,
        same_name,
    }
}
