//! The in-memory index behind [`super::Catalog`]: announcements by entry
//! key and by the bundle they claim, the text searched, versions by
//! (publisher, name), retractions, tombstones of claims proven false.

use super::groups::Groups;
use super::identities::KeyLogs;
use super::profiles::Profiles;
use super::quota::Quota;
use super::vouches::Vouches;
use super::*;
use crate::trust::{tier_in, Table, Tier};

/// A retraction in the index.
pub(super) struct RetractionRec {
    pub(super) target: BundleId,
    pub(super) by: PublisherId,
    pub(super) size: u32,
}

pub(super) struct Entry {
    pub(super) ann: Announcement,
    /// Its entry key ([`Announcement::claim_key`]).
    pub(super) key: BundleId,
    /// Bytes of its signed envelope, for the publisher's quota.
    pub(super) size: u32,
    /// Where its text starts in the arena; it runs to the next entry's.
    pub(super) start: usize,
    pub(super) alive: bool,
}

#[derive(Default)]
pub(super) struct Index {
    pub(super) entries: Vec<Entry>,
    /// Lowercase searchable text of every entry, one after another, each
    /// ending in a newline (which no query word contains).
    pub(super) arena: String,
    /// Announcements by entry key.
    pub(super) by_key: HashMap<BundleId, usize>,
    /// Announcements by the bundle they claim: one per publisher that
    /// claims it (more than one means all but one are false).
    pub(super) claims: HashMap<BundleId, Vec<usize>>,
    /// Entry keys of claims a manifest proved false.
    pub(super) tombstones: HashSet<BundleId>,
    /// The latest vouch of each (voucher, vouchee) pair.
    pub(super) vouches: Vouches,
    /// Every id in order, for reconciliation; rebuilt on demand after a
    /// change.
    pub(super) sorted: Option<Arc<Vec<BundleId>>>,
    pub(super) dead: usize,
    pub(super) loaded: bool,
    /// Removals seen while the loader runs, so it does not bring them back.
    pub(super) removed_while_loading: HashSet<BundleId>,
    /// Retractions by the bundle they retract: (entry key, signer).
    pub(super) retractions: HashMap<BundleId, Vec<(BundleId, PublisherId)>>,
    /// Retractions by entry key.
    pub(super) retraction_keys: HashMap<BundleId, RetractionRec>,
    /// Entries by (publisher, name), for versions.
    pub(super) names: HashMap<(PublisherId, String), Vec<usize>>,
    /// The trust tiers as of `tiers_generation` ([`crate::trust`]).
    pub(super) tiers: Arc<Table>,
    pub(super) tiers_generation: Option<u64>,
    /// What the unknown tier takes, and what to evict first.
    pub(super) quota: Quota,
    /// Bundles the user pinned explicitly: listed even when retracted.
    pub(super) exempt: HashSet<BundleId>,
    /// Held bundles, to the publisher their manifest names and the key
    /// that signed it.
    pub(super) held: HashMap<BundleId, (PublisherId, PublisherId)>,
    /// Identities' key logs.
    pub(super) keylogs: KeyLogs,
    /// Publishers' latest profiles.
    pub(super) profiles: Profiles,
    /// Private groups' records, key boxes and private announcements.
    pub(super) groups: Groups,
}

pub(super) fn searchable_text(a: &Announcement, out: &mut String) {
    out.push_str(&a.name);
    for t in &a.tags {
        out.push(' ');
        out.push_str(t);
    }
    for t in &a.titles {
        out.push(' ');
        // The same lowercasing as the query words get.
        out.push_str(&t.title.to_lowercase().replace('\n', " "));
    }
    out.push('\n');
}

/// Whether the hex id starts with `prefix` (lowercase hex digits).
pub(super) fn id_starts_with(id: &BundleId, prefix: &str) -> bool {
    let hex = b"0123456789abcdef";
    prefix.len() <= 64
        && prefix.bytes().enumerate().all(|(i, c)| {
            let byte = id.as_bytes()[i / 2];
            let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 15 };
            hex[nibble as usize] == c
        })
}

impl Index {
    /// Where entry `i`'s text ends in the arena.
    pub(super) fn end(&self, i: usize) -> usize {
        self.entries
            .get(i + 1)
            .map_or(self.arena.len(), |e| e.start)
    }

    pub(super) fn text(&self, i: usize) -> &str {
        &self.arena[self.entries[i].start..self.end(i)]
    }

    pub(super) fn insert_retraction(
        &mut self,
        key: BundleId,
        target: BundleId,
        by: PublisherId,
        size: u32,
    ) -> bool {
        if self.retraction_keys.contains_key(&key) {
            return false;
        }
        self.removed_while_loading.remove(&key);
        self.sorted = None;
        self.retraction_keys
            .insert(key, RetractionRec { target, by, size });
        self.retractions.entry(target).or_default().push((key, by));
        let tier = self.tier(&by);
        self.quota.added(key, by, size, tier);
        true
    }

    /// Whether an entry of any kind is indexed under `key`.
    pub(super) fn contains(&self, key: &BundleId) -> bool {
        self.by_key.contains_key(key)
            || self.retraction_keys.contains_key(key)
            || self.vouches.contains(key)
            || self.keylogs.contains(key)
            || self.profiles.contains(key)
            || self.groups.contains(key)
    }

    pub(super) fn insert_entry(&mut self, entry: &CatalogEntry) -> bool {
        let size = entry.bytes().len() as u32;
        match entry {
            CatalogEntry::Announcement(a) => self.insert(a.announcement().clone(), size),
            CatalogEntry::Retraction(r) => {
                let x = r.retraction();
                self.insert_retraction(r.entry_id(), x.retracts, x.publisher, size)
            }
            CatalogEntry::Vouch(v) => self.insert_vouch(v.entry_id(), v.vouch(), size),
            CatalogEntry::Key(k) => self.insert_key(k).0,
            CatalogEntry::Profile(p) => self.insert_profile(p.entry_id(), p.profile(), size),
            CatalogEntry::Group(_) | CatalogEntry::KeyBox(_) | CatalogEntry::Private(_) => {
                if !self.groups.insert(entry, size) {
                    return false;
                }
                let key = entry.entry_id();
                self.removed_while_loading.remove(&key);
                self.sorted = None;
                let tier = self.tier(&entry.signer());
                self.quota.added(key, entry.signer(), size, tier);
                true
            }
        }
    }

    /// Holds a profile as its publisher's latest, forgetting the one it
    /// replaces; false if it is here already or older than what is.
    pub(super) fn insert_profile(
        &mut self,
        key: BundleId,
        p: &weft_protocol::Profile,
        size: u32,
    ) -> bool {
        if self.profiles.contains(&key) || self.profiles.superseded(p, &key) {
            return false;
        }
        if let Some(old) = self.profiles.key_of(&p.publisher) {
            self.remove(&old);
        }
        self.removed_while_loading.remove(&key);
        self.sorted = None;
        self.profiles.insert(key, p, size);
        let tier = self.tier(&p.publisher);
        self.quota.added(key, p.publisher, size, tier);
        true
    }

    /// Holds a key event; returns whether it is new and whether its
    /// identity's state changed.
    pub(super) fn insert_key(&mut self, e: &SignedKeyEvent) -> (bool, bool) {
        let key = e.entry_id();
        if self.keylogs.contains(&key) {
            return (false, false);
        }
        self.removed_while_loading.remove(&key);
        self.sorted = None;
        let id = e.event().id;
        let changed = self.keylogs.insert(e);
        let tier = self.tier(&id);
        self.quota.added(key, id, e.bytes().len() as u32, tier);
        (true, changed)
    }

    /// Holds a vouch as the latest of its pair, forgetting the one it
    /// replaces; false if it is already here or older than what is.
    pub(super) fn insert_vouch(&mut self, key: BundleId, v: &Vouch, size: u32) -> bool {
        if self.vouches.contains(&key) || self.vouches.superseded(v, &key) {
            return false;
        }
        if let Some(old) = self.vouches.key_of(&v.by, &v.vouchee) {
            self.remove(&old);
        }
        self.removed_while_loading.remove(&key);
        self.sorted = None;
        self.vouches.insert(key, v, size);
        let tier = self.tier(&v.by);
        self.quota.added(key, v.by, size, tier);
        true
    }

    /// A publisher's tier as of the last refresh.
    pub(super) fn tier(&self, p: &PublisherId) -> Tier {
        tier_in(&self.tiers, p)
    }

    /// Takes the trust tiers in force, if they changed.
    pub(super) fn refresh(&mut self, trust: &crate::trust::Trust) {
        let generation = trust.generation();
        if self.tiers_generation != Some(generation) {
            self.tiers = trust.table();
            self.tiers_generation = Some(generation);
            self.recount();
        }
    }

    /// Counts the seen tier again and rebuilds its eviction order: the
    /// announcements in the order they arrived, then the retractions.
    pub(super) fn recount(&mut self) {
        let seen: Vec<BundleId> = self
            .entries
            .iter()
            .filter(|e| e.alive && self.tier(&e.ann.publisher) == Tier::Seen)
            .map(|e| e.key)
            .chain(
                self.retraction_keys
                    .iter()
                    .filter(|(_, r)| self.tier(&r.by) == Tier::Seen)
                    .map(|(k, _)| *k),
            )
            .chain(self.vouches.keys().copied().filter(|k| {
                self.vouches
                    .signer(k)
                    .is_some_and(|(by, _)| self.tier(&by) == Tier::Seen)
            }))
            .chain(self.keylogs.keys().copied().filter(|k| {
                self.keylogs
                    .get(k)
                    .is_some_and(|(id, _)| self.tier(&id) == Tier::Seen)
            }))
            .chain(self.profiles.keys().copied().filter(|k| {
                self.profiles
                    .signer(k)
                    .is_some_and(|(p, _)| self.tier(&p) == Tier::Seen)
            }))
            .chain(self.groups.keys().copied().filter(|k| {
                self.groups
                    .signer(k)
                    .is_some_and(|(p, _)| self.tier(&p) == Tier::Seen)
            }))
            .collect();
        let tiers = self.tiers.clone();
        self.quota.recount(&tiers, seen.into_iter());
    }

    /// The oldest entry of a seen publisher that may be evicted: not a
    /// held bundle's announcement, not pinned.
    pub(super) fn eviction_candidate(&mut self) -> Option<BundleId> {
        if self.quota.stale() {
            self.recount();
        }
        while let Some(key) = self.quota.next_candidate() {
            let (p, bundle) = match (self.by_key.get(&key), self.retraction_keys.get(&key)) {
                (Some(&i), _) => (self.entries[i].ann.publisher, Some(self.entries[i].ann.id)),
                (None, Some(r)) => (r.by, Some(r.target)),
                (None, None) => match self.vouches.signer(&key) {
                    Some((by, _)) => (by, None),
                    None => match self.keylogs.get(&key) {
                        // A key event goes with its whole identity: never
                        // while a bundle of that identity is held.
                        Some((id, _)) if self.held.values().any(|(p, _)| *p == id) => continue,
                        Some((id, _)) => (id, None),
                        None => match self.profiles.signer(&key) {
                            Some((p, _)) => (p, None),
                            // A group's entries are never evicted one by
                            // one: a chain with a hole resolves to less.
                            None => continue,
                        },
                    },
                },
            };
            if self.tier(&p) == Tier::Seen
                && !bundle.is_some_and(|b| self.held.contains_key(&b) || self.exempt.contains(&b))
            {
                return Some(key);
            }
        }
        None
    }

    /// The live claims on a bundle.
    pub(super) fn claims_of(&self, id: &BundleId) -> &[usize] {
        self.claims.get(id).map_or(&[], Vec::as_slice)
    }

    /// The claim to show for a bundle: its held manifest's publisher's,
    /// else the most trusted claimant's (the first to arrive among equals).
    pub(super) fn best_claim(&self, id: &BundleId) -> Option<usize> {
        let claims = self.claims_of(id);
        if let Some((owner, _)) = self.held.get(id) {
            return claims
                .iter()
                .copied()
                .find(|&i| self.entries[i].ann.publisher == *owner);
        }
        claims
            .iter()
            .copied()
            .min_by_key(|&i| (self.tier(&self.entries[i].ann.publisher), i))
    }

    /// Whether more than one publisher claims a bundle that no held
    /// manifest settles.
    pub(super) fn contested(&self, id: &BundleId) -> bool {
        !self.held.contains_key(id) && self.claims_of(id).len() > 1
    }

    pub(super) fn retracted(&self, a: &Announcement) -> bool {
        self.retracted_by(&a.id, &a.publisher)
    }

    /// The publisher a bundle is taken to be by: the held manifest's, else
    /// the best claimant's ([`Self::best_claim`]).
    pub(super) fn owner(&self, id: &BundleId) -> Option<PublisherId> {
        self.held
            .get(id)
            .map(|(p, _)| *p)
            .or_else(|| self.best_claim(id).map(|i| self.entries[i].ann.publisher))
    }

    /// Why an entry contradicts what this node knows, if it does: a claim
    /// on a held bundle by another publisher than its manifest's, or one a
    /// manifest already proved false; a retraction by a key that is neither
    /// the held manifest's publisher nor any claimant.
    pub(super) fn contradiction(&self, entry: &CatalogEntry) -> Option<String> {
        match entry {
            CatalogEntry::Announcement(a) => {
                let a = a.announcement();
                if self.tombstones.contains(&a.claim_key()) {
                    return Some(format!(
                        "{} claims bundle {}, a claim its manifest already proved false",
                        a.publisher, a.id
                    ));
                }
                match self.held.get(&a.id) {
                    Some((owner, _)) if *owner != a.publisher => Some(format!(
                        "{} claims bundle {}, whose manifest here is signed by {owner}",
                        a.publisher, a.id
                    )),
                    _ => None,
                }
            }
            CatalogEntry::Vouch(_) | CatalogEntry::Key(_) | CatalogEntry::Profile(_) => None,
            CatalogEntry::Group(_) | CatalogEntry::KeyBox(_) | CatalogEntry::Private(_) => {
                self.groups.refusal(entry)
            }
            CatalogEntry::Retraction(r) => {
                let r = r.retraction();
                let known = match self.held.get(&r.retracts) {
                    Some((owner, _)) => vec![*owner],
                    None => self
                        .claims_of(&r.retracts)
                        .iter()
                        .map(|&i| self.entries[i].ann.publisher)
                        .collect(),
                };
                (!known.is_empty() && !known.contains(&r.publisher)).then(|| {
                    format!(
                        "a retraction of bundle {} is signed by {}, but that bundle is published by {}",
                        r.retracts,
                        r.publisher,
                        known.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" or ")
                    )
                })
            }
        }
    }

    /// Whether `publisher` retracted bundle `id`.
    pub(super) fn retracted_by(&self, id: &BundleId, publisher: &PublisherId) -> bool {
        self.retractions
            .get(id)
            .is_some_and(|v| v.iter().any(|(_, by)| by == publisher))
    }

    /// The latest live, unretracted version of (publisher, name).
    pub(super) fn latest_of(&self, publisher: &PublisherId, name: &str) -> Option<usize> {
        self.names
            .get(&(*publisher, name.to_string()))?
            .iter()
            .copied()
            .filter(|&i| self.entries[i].alive && !self.retracted(&self.entries[i].ann))
            .max_by(|&x, &y| {
                let (a, b) = (&self.entries[x].ann, &self.entries[y].ann);
                (a.seq, a.created, a.id).cmp(&(b.seq, b.created, b.id))
            })
    }

    /// Whether entry `i` is listed: its publisher is not blocked, and it is
    /// neither retracted nor superseded, unless the user pinned it (or asks
    /// for every version).
    pub(super) fn listed(&self, i: usize, all_versions: bool) -> bool {
        let a = &self.entries[i].ann;
        if self.tier(&a.publisher) == Tier::Blocked {
            return false;
        }
        if self.exempt.contains(&a.id) {
            return true;
        }
        !self.retracted(a) && (all_versions || self.latest_of(&a.publisher, &a.name) == Some(i))
    }

    pub(super) fn insert(&mut self, ann: Announcement, size: u32) -> bool {
        let key = ann.claim_key();
        if self.by_key.contains_key(&key) {
            return false;
        }
        self.removed_while_loading.remove(&key);
        let tier = self.tier(&ann.publisher);
        self.quota.added(key, ann.publisher, size, tier);
        self.place(ann, size, key);
        true
    }

    /// Adds an announcement to the search structures (not to the quota).
    fn place(&mut self, ann: Announcement, size: u32, key: BundleId) {
        self.sorted = None;
        let start = self.arena.len();
        searchable_text(&ann, &mut self.arena);
        self.names
            .entry((ann.publisher, ann.name.clone()))
            .or_default()
            .push(self.entries.len());
        self.by_key.insert(key, self.entries.len());
        self.claims
            .entry(ann.id)
            .or_default()
            .push(self.entries.len());
        self.entries.push(Entry {
            ann,
            key,
            size,
            start,
            alive: true,
        });
    }

    /// Removes an entry (announcement or retraction) by its key.
    pub(super) fn remove(&mut self, id: &BundleId) {
        if !self.loaded {
            self.removed_while_loading.insert(*id);
        }
        if let Some((by, size)) = self
            .keylogs
            .remove(id)
            .or_else(|| self.profiles.remove(id))
            .or_else(|| self.groups.remove(id))
        {
            self.sorted = None;
            self.quota.removed(by, size, self.tier(&by));
        }
        if let Some((by, size)) = self.vouches.remove(id) {
            self.sorted = None;
            self.quota.removed(by, size, self.tier(&by));
        }
        if let Some(r) = self.retraction_keys.remove(id) {
            self.sorted = None;
            self.quota.removed(r.by, r.size, self.tier(&r.by));
            if let Some(v) = self.retractions.get_mut(&r.target) {
                v.retain(|(k, _)| k != id);
                if v.is_empty() {
                    self.retractions.remove(&r.target);
                }
            }
        }
        if let Some(i) = self.by_key.remove(id) {
            let (p, size) = (self.entries[i].ann.publisher, self.entries[i].size);
            self.quota.removed(p, size, self.tier(&p));
            let bundle = self.entries[i].ann.id;
            if let Some(v) = self.claims.get_mut(&bundle) {
                v.retain(|&j| j != i);
                if v.is_empty() {
                    self.claims.remove(&bundle);
                }
            }
            self.sorted = None;
            self.entries[i].alive = false;
            self.dead += 1;
            if self.dead > 1024 && self.dead * 2 > self.entries.len() {
                self.compact();
            }
        }
    }

    pub(super) fn compact(&mut self) {
        let old = std::mem::take(&mut self.entries);
        self.arena.clear();
        self.by_key.clear();
        self.claims.clear();
        self.names.clear();
        self.dead = 0;
        for e in old.into_iter().filter(|e| e.alive) {
            self.place(e.ann, e.size, e.key);
        }
        self.arena.shrink_to_fit();
        self.entries.shrink_to_fit();
    }

    pub(super) fn filters_match(&self, i: usize, q: &Query, rest: &[String]) -> bool {
        let e = &self.entries[i];
        let a = &e.ann;
        e.alive
            && q.only.as_ref().is_none_or(|o| o.contains(&a.id))
            && self.listed(i, q.all_versions)
            && q.publisher.is_none_or(|p| p == a.publisher)
            && (!q.trusted_only || self.tier(&a.publisher).is_known())
            && q.tag.as_ref().is_none_or(|t| a.tags.iter().any(|x| x == t))
            && q.lang
                .as_ref()
                .is_none_or(|l| a.titles.iter().any(|t| lang_matches(&t.lang, l)))
            && rest.iter().all(|w| self.text(i).contains(w.as_str()))
    }

    pub(super) fn search(&self, q: &Query, limit: usize) -> Found {
        let mut hits: Vec<usize> = Vec::new();
        match q.words.split_first() {
            None => hits.extend((0..self.entries.len()).filter(|&i| self.filters_match(i, q, &[]))),
            Some((first, rest)) => {
                let finder = memchr::memmem::Finder::new(first.as_bytes());
                let arena = self.arena.as_bytes();
                let mut pos = 0;
                while let Some(m) = finder.find(&arena[pos..]) {
                    let at = pos + m;
                    let i = self.entries.partition_point(|e| e.start <= at) - 1;
                    if self.filters_match(i, q, rest) {
                        hits.push(i);
                    }
                    pos = self.end(i);
                }
                if rest.is_empty()
                    && first.len() >= 4
                    && first.bytes().all(|c| c.is_ascii_hexdigit())
                {
                    for (i, e) in self.entries.iter().enumerate() {
                        // Entries whose text holds the word are in already.
                        if id_starts_with(&e.ann.id, first)
                            && !self.text(i).contains(first.as_str())
                            && self.filters_match(i, q, &[])
                        {
                            hits.push(i);
                        }
                    }
                }
            }
        }
        let matched = hits.len();
        // Trusted publishers first, then vouched, then the rest; newest
        // first within each.
        let newest_first = |a: &usize, b: &usize| {
            let (x, y) = (&self.entries[*a].ann, &self.entries[*b].ann);
            self.tier(&x.publisher)
                .cmp(&self.tier(&y.publisher))
                .then(y.created.cmp(&x.created))
                .then(x.id.cmp(&y.id))
        };
        if hits.len() > limit && limit > 0 {
            hits.select_nth_unstable_by(limit - 1, newest_first);
            hits.truncate(limit);
        }
        hits.truncate(limit);
        hits.sort_by(newest_first);
        Found {
            results: hits
                .into_iter()
                .map(|i| self.entries[i].ann.clone())
                .collect(),
            matched,
        }
    }
}
