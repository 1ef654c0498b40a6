//! The in-memory index behind [`super::Catalog`]: entries by id, the text
//! searched, versions by (publisher, name), retractions.

use super::*;

pub(super) struct Entry {
    pub(super) ann: Announcement,
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
    pub(super) by_id: HashMap<BundleId, usize>,
    /// Every id in order, for reconciliation; rebuilt on demand after a
    /// change.
    pub(super) sorted: Option<Arc<Vec<BundleId>>>,
    pub(super) dead: usize,
    pub(super) loaded: bool,
    /// Removals seen while the loader runs, so it does not bring them back.
    pub(super) removed_while_loading: HashSet<BundleId>,
    /// Retractions by the bundle they retract: (entry key, signer).
    pub(super) retractions: HashMap<BundleId, Vec<(BundleId, PublisherId)>>,
    /// Retraction entry keys, to the bundle each retracts.
    pub(super) retraction_keys: HashMap<BundleId, BundleId>,
    /// Entries by (publisher, name), for versions.
    pub(super) names: HashMap<(PublisherId, String), Vec<usize>>,
    /// Publishers the user blocked: never listed.
    pub(super) blocked: HashSet<PublisherId>,
    /// Bundles the user pinned explicitly: listed even when retracted.
    pub(super) exempt: HashSet<BundleId>,
    /// Held bundles, to the publisher their manifest names.
    pub(super) held: HashMap<BundleId, PublisherId>,
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
    ) -> bool {
        if self.retraction_keys.contains_key(&key) {
            return false;
        }
        self.sorted = None;
        self.retraction_keys.insert(key, target);
        self.retractions.entry(target).or_default().push((key, by));
        true
    }

    pub(super) fn insert_entry(&mut self, entry: &CatalogEntry) -> bool {
        match entry {
            CatalogEntry::Announcement(a) => self.insert(a.announcement().clone()),
            CatalogEntry::Retraction(r) => {
                let x = r.retraction();
                self.insert_retraction(r.entry_id(), x.retracts, x.publisher)
            }
        }
    }

    pub(super) fn retracted(&self, a: &Announcement) -> bool {
        self.retracted_by(&a.id, &a.publisher)
    }

    /// The publisher whose retraction of `id` counts: the held manifest's,
    /// else the indexed announcement's.
    pub(super) fn owner(&self, id: &BundleId) -> Option<PublisherId> {
        self.held
            .get(id)
            .copied()
            .or_else(|| self.by_id.get(id).map(|&i| self.entries[i].ann.publisher))
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
        if self.blocked.contains(&a.publisher) {
            return false;
        }
        if self.exempt.contains(&a.id) {
            return true;
        }
        !self.retracted(a) && (all_versions || self.latest_of(&a.publisher, &a.name) == Some(i))
    }

    pub(super) fn insert(&mut self, ann: Announcement) -> bool {
        if self.by_id.contains_key(&ann.id) {
            return false;
        }
        self.removed_while_loading.remove(&ann.id);
        self.sorted = None;
        let start = self.arena.len();
        searchable_text(&ann, &mut self.arena);
        self.names
            .entry((ann.publisher, ann.name.clone()))
            .or_default()
            .push(self.entries.len());
        self.by_id.insert(ann.id, self.entries.len());
        self.entries.push(Entry {
            ann,
            start,
            alive: true,
        });
        true
    }

    pub(super) fn remove(&mut self, id: &BundleId) {
        if !self.loaded {
            self.removed_while_loading.insert(*id);
        }
        if let Some(i) = self.by_id.remove(id) {
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
        self.by_id.clear();
        self.names.clear();
        self.dead = 0;
        for e in old.into_iter().filter(|e| e.alive) {
            self.insert(e.ann);
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
        let newest_first = |a: &usize, b: &usize| {
            let (x, y) = (&self.entries[*a].ann, &self.entries[*b].ann);
            y.created.cmp(&x.created).then(x.id.cmp(&y.id))
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
