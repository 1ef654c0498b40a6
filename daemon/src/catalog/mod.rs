//! The catalog index: every accepted announcement, in memory, searchable.
//!
//! The store keeps the signed bytes; this index keeps the decoded
//! announcements plus one lowercase text arena that a search scans with a
//! SIMD substring finder. Searching 100,000 entries then costs a scan of a
//! few MiB instead of reading and decoding the whole catalog column family.
//!
//! Loading the index at start-up reads the whole catalog, so it runs in the
//! background while the API already answers; searches wait for it (see
//! [`Catalog::ready`]). Every write to the catalog goes through this type,
//! store first, so the index never lists what the store lacks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use weft_protocol::{Announcement, BundleId, CatalogEntry, PublisherId, SignedAnnouncement};

use crate::store::{Store, StoreError};

/// Entries decoded per batch while loading, between taking the lock.
const LOAD_BATCH: usize = 4096;

/// What to look for. Every part that is set must match.
#[derive(Debug, Default, Clone)]
pub struct Query {
    /// Words that must each appear (case-insensitively) in the name, a
    /// title or a tag. A single word may also be the start of the hex id.
    pub words: Vec<String>,
    /// A language the bundle has a title in (`es` matches `es-MX` too).
    pub lang: Option<String>,
    /// A tag the bundle carries.
    pub tag: Option<String>,
    /// The publisher.
    pub publisher: Option<PublisherId>,
    /// Every version, not only the latest of each (publisher, name).
    pub all_versions: bool,
    /// Only these bundles (the gateway lists what the node holds).
    pub only: Option<Arc<HashSet<BundleId>>>,
}

impl Query {
    /// Builds a query from the text a person typed and the filters.
    pub fn new(
        text: Option<&str>,
        lang: Option<&str>,
        tag: Option<&str>,
        publisher: Option<PublisherId>,
    ) -> Self {
        Self {
            words: text
                .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
                .unwrap_or_default(),
            lang: lang.map(str::to_ascii_lowercase).filter(|l| !l.is_empty()),
            tag: tag.map(str::to_lowercase).filter(|t| !t.is_empty()),
            publisher,
            all_versions: false,
            only: None,
        }
    }
}

/// One page of search results.
#[derive(Debug)]
pub struct Found {
    /// Matching announcements, newest first.
    pub results: Vec<Announcement>,
    /// How many entries matched in all.
    pub matched: usize,
}

struct Entry {
    ann: Announcement,
    /// Where its text starts in the arena; it runs to the next entry's.
    start: usize,
    alive: bool,
}

#[derive(Default)]
struct Index {
    entries: Vec<Entry>,
    /// Lowercase searchable text of every entry, one after another, each
    /// ending in a newline (which no query word contains).
    arena: String,
    by_id: HashMap<BundleId, usize>,
    /// Every id in order, for reconciliation; rebuilt on demand after a
    /// change.
    sorted: Option<Arc<Vec<BundleId>>>,
    dead: usize,
    loaded: bool,
    /// Removals seen while the loader runs, so it does not bring them back.
    removed_while_loading: HashSet<BundleId>,
    /// Retractions by the bundle they retract: (entry key, signer).
    retractions: HashMap<BundleId, Vec<(BundleId, PublisherId)>>,
    /// Retraction entry keys, to the bundle each retracts.
    retraction_keys: HashMap<BundleId, BundleId>,
    /// Entries by (publisher, name), for versions.
    names: HashMap<(PublisherId, String), Vec<usize>>,
    /// Publishers the user blocked: never listed.
    blocked: HashSet<PublisherId>,
    /// Bundles the user pinned explicitly: listed even when retracted.
    exempt: HashSet<BundleId>,
}

/// What became of an entry offered to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored and indexed.
    New,
    /// Already here.
    Known,
    /// Valid on its own but contradicts what is known: a retraction signed
    /// by another key than the bundle's publisher.
    Refused(String),
}

/// A held bundle's standing in the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its publisher retracted it.
    pub retracted: bool,
    /// A newer version of the same (publisher, name), if one is known.
    pub superseded_by: Option<BundleId>,
}

fn searchable_text(a: &Announcement, out: &mut String) {
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

pub fn lang_matches(have: &str, want: &str) -> bool {
    have.len() >= want.len()
        && have[..want.len()].eq_ignore_ascii_case(want)
        && (have.len() == want.len() || have.as_bytes()[want.len()] == b'-')
}

/// Whether the hex id starts with `prefix` (lowercase hex digits).
fn id_starts_with(id: &BundleId, prefix: &str) -> bool {
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
    fn end(&self, i: usize) -> usize {
        self.entries
            .get(i + 1)
            .map_or(self.arena.len(), |e| e.start)
    }

    fn text(&self, i: usize) -> &str {
        &self.arena[self.entries[i].start..self.end(i)]
    }

    fn insert_retraction(&mut self, key: BundleId, target: BundleId, by: PublisherId) -> bool {
        if self.retraction_keys.contains_key(&key) {
            return false;
        }
        self.sorted = None;
        self.retraction_keys.insert(key, target);
        self.retractions.entry(target).or_default().push((key, by));
        true
    }

    fn insert_entry(&mut self, entry: &CatalogEntry) -> bool {
        match entry {
            CatalogEntry::Announcement(a) => self.insert(a.announcement().clone()),
            CatalogEntry::Retraction(r) => {
                let x = r.retraction();
                self.insert_retraction(r.entry_id(), x.retracts, x.publisher)
            }
        }
    }

    fn retracted(&self, a: &Announcement) -> bool {
        self.retractions
            .get(&a.id)
            .is_some_and(|v| v.iter().any(|(_, by)| *by == a.publisher))
    }

    /// The latest live, unretracted version of (publisher, name).
    fn latest_of(&self, publisher: &PublisherId, name: &str) -> Option<usize> {
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
    fn listed(&self, i: usize, all_versions: bool) -> bool {
        let a = &self.entries[i].ann;
        if self.blocked.contains(&a.publisher) {
            return false;
        }
        if self.exempt.contains(&a.id) {
            return true;
        }
        !self.retracted(a) && (all_versions || self.latest_of(&a.publisher, &a.name) == Some(i))
    }

    fn insert(&mut self, ann: Announcement) -> bool {
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

    fn remove(&mut self, id: &BundleId) {
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

    fn compact(&mut self) {
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

    fn filters_match(&self, i: usize, q: &Query, rest: &[String]) -> bool {
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

    fn search(&self, q: &Query, limit: usize) -> Found {
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

/// The catalog: writes go to the store and the index together.
pub struct Catalog {
    index: RwLock<Index>,
    loaded: tokio::sync::watch::Sender<bool>,
    /// Signalled when an entry is added; the keeper (`policy`) waits on it.
    pub changes: tokio::sync::Notify,
}

impl Default for Catalog {
    fn default() -> Self {
        Self {
            index: RwLock::default(),
            loaded: tokio::sync::watch::channel(false).0,
            changes: tokio::sync::Notify::new(),
        }
    }
}

impl Catalog {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every stored entry into the index. Blocking; run it on the
    /// blocking pool. Entries that no longer decode are skipped with a
    /// warning (the store checksums its blocks, so this means a bug or a
    /// format change, not a flipped bit).
    pub fn load(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let flush = |batch: &mut Vec<CatalogEntry>| {
            let mut ix = self.write();
            for e in batch.drain(..) {
                if !ix.removed_while_loading.contains(&e.entry_id()) {
                    ix.insert_entry(&e);
                }
            }
        };
        store.for_each_announcement(&mut |id, bytes| {
            match CatalogEntry::decode_stored(bytes) {
                Ok(e) if e.entry_id() == id => batch.push(e),
                _ => tracing::warn!(bundle = %id, "skipping a catalog entry that does not decode"),
            }
            if batch.len() >= LOAD_BATCH {
                flush(&mut batch);
            }
        })?;
        flush(&mut batch);
        let n = {
            let mut ix = self.write();
            ix.loaded = true;
            ix.removed_while_loading = HashSet::new();
            ix.by_id.len() + ix.retraction_keys.len()
        };
        self.loaded.send_replace(true);
        self.changes.notify_one();
        Ok(n)
    }

    /// Marks the index complete without loading (a new, empty store).
    pub fn mark_loaded(&self) {
        self.write().loaded = true;
        self.loaded.send_replace(true);
    }

    /// Waits until the start-up load has finished.
    pub async fn ready(&self) {
        let mut rx = self.loaded.subscribe();
        let _ = rx.wait_for(|l| *l).await;
    }

    /// Whether the start-up load has finished.
    pub fn is_loaded(&self) -> bool {
        *self.loaded.borrow()
    }

    /// Stores a verified announcement and indexes it; returns false if it
    /// was already there. Blocking.
    pub fn add(&self, store: &dyn Store, ann: &SignedAnnouncement) -> Result<bool, StoreError> {
        Ok(self.add_entry(store, &CatalogEntry::Announcement(ann.clone()))? == Added::New)
    }

    /// Stores a verified entry (announcement or retraction) and indexes it.
    /// A retraction of a known bundle must be signed by that bundle's
    /// publisher. Blocking.
    pub fn add_entry(&self, store: &dyn Store, entry: &CatalogEntry) -> Result<Added, StoreError> {
        if let CatalogEntry::Retraction(r) = entry {
            let r = r.retraction();
            // One read guard: taking a second while holding the first can
            // deadlock behind a waiting writer.
            let owner = self.get(&r.retracts).map(|a| a.publisher);
            if let Some(owner) = owner {
                if owner != r.publisher {
                    return Ok(Added::Refused(format!(
                        "a retraction of bundle {} is signed by {}, but that bundle is published by {owner}",
                        r.retracts, r.publisher
                    )));
                }
            }
        }
        let key = entry.entry_id();
        let new = store.put_announcement(&key, entry.bytes())?;
        // Index it even if the store had it: the loader may not have
        // reached it yet.
        let indexed = self.write().insert_entry(entry);
        if new || indexed {
            self.changes.notify_one();
            Ok(Added::New)
        } else {
            Ok(Added::Known)
        }
    }

    /// Indexes an announcement that a bundle commit just stored.
    pub fn note_committed(&self, ann: &Announcement) {
        if self.write().insert(ann.clone()) {
            self.changes.notify_one();
        }
    }

    /// Sets the publishers whose entries are never listed.
    pub fn set_blocked(&self, blocked: HashSet<PublisherId>) {
        self.write().blocked = blocked;
    }

    /// Marks a bundle as pinned by the user (listed even when retracted).
    pub fn set_exempt(&self, id: BundleId, exempt: bool) {
        let mut ix = self.write();
        if exempt {
            ix.exempt.insert(id);
        } else {
            ix.exempt.remove(&id);
        }
    }

    /// An indexed announcement.
    pub fn get(&self, id: &BundleId) -> Option<Announcement> {
        let ix = self.read();
        ix.by_id.get(id).map(|&i| ix.entries[i].ann.clone())
    }

    /// Whether a bundle is retracted, and what supersedes it.
    pub fn standing(&self, id: &BundleId) -> Standing {
        let ix = self.read();
        let Some(&i) = ix.by_id.get(id) else {
            return Standing {
                retracted: ix.retractions.contains_key(id),
                superseded_by: None,
            };
        };
        let a = &ix.entries[i].ann;
        Standing {
            retracted: ix.retracted(a),
            superseded_by: ix
                .latest_of(&a.publisher, &a.name)
                .filter(|&l| l != i && ix.entries[l].ann.seq > a.seq)
                .map(|l| ix.entries[l].ann.id),
        }
    }

    /// The latest unretracted version of (publisher, name).
    pub fn resolve(&self, publisher: &PublisherId, name: &str) -> Option<Announcement> {
        let ix = self.read();
        ix.latest_of(publisher, name)
            .map(|i| ix.entries[i].ann.clone())
    }

    /// Latest, unretracted entries of unblocked publishers that `wanted`
    /// picks: what mirroring should hold.
    pub fn latest_matching(&self, wanted: &dyn Fn(&Announcement) -> bool) -> Vec<Announcement> {
        let ix = self.read();
        let mut out = Vec::new();
        for key in ix.names.keys() {
            if ix.blocked.contains(&key.0) {
                continue;
            }
            let Some(i) = ix.latest_of(&key.0, &key.1) else {
                continue;
            };
            let a = &ix.entries[i].ann;
            if wanted(a) {
                out.push(a.clone());
            }
        }
        out
    }

    /// Removes an entry from the store and the index. Blocking.
    pub fn remove(&self, store: &dyn Store, id: &BundleId) -> Result<(), StoreError> {
        store.delete_announcement(id)?;
        self.write().remove(id);
        Ok(())
    }

    /// Every indexed id in order. Cheap while nothing changes.
    pub fn sorted_ids(&self) -> Arc<Vec<BundleId>> {
        if let Some(s) = &self.read().sorted {
            return s.clone();
        }
        let mut ix = self.write();
        if let Some(s) = &ix.sorted {
            return s.clone();
        }
        let mut ids: Vec<BundleId> = ix
            .by_id
            .keys()
            .chain(ix.retraction_keys.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        let ids = Arc::new(ids);
        ix.sorted = Some(ids.clone());
        ids
    }

    /// Whether an entry (announcement or retraction) is indexed.
    pub fn contains(&self, id: &BundleId) -> bool {
        let ix = self.read();
        ix.by_id.contains_key(id) || ix.retraction_keys.contains_key(id)
    }

    /// Entries indexed.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest `limit` entries matching `q`. Call after [`Self::ready`].
    pub fn search(&self, q: &Query, limit: usize) -> Found {
        self.read().search(q, limit)
    }

    /// The highest seq known for (publisher, name), 0 if none.
    pub fn latest_seq(&self, publisher: &PublisherId, name: &str) -> u64 {
        let ix = self.read();
        ix.entries
            .iter()
            .filter(|e| e.alive && e.ann.publisher == *publisher && e.ann.name == name)
            .map(|e| e.ann.seq)
            .max()
            .unwrap_or(0)
    }
}

/// Spawns the start-up load on the blocking pool.
pub fn spawn_load(catalog: Arc<Catalog>, store: Arc<dyn Store>) {
    /// Releases waiting searches even if loading panics.
    struct Release(Arc<Catalog>);
    impl Drop for Release {
        fn drop(&mut self) {
            if !self.0.is_loaded() {
                self.0.mark_loaded();
            }
        }
    }
    tokio::task::spawn_blocking(move || {
        let _release = Release(catalog.clone());
        let t = std::time::Instant::now();
        match catalog.load(store.as_ref()) {
            Ok(n) => tracing::info!(
                entries = n,
                ms = t.elapsed().as_millis() as u64,
                "catalog loaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the catalog; search sees only new entries");
                catalog.mark_loaded();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;
    use weft_protocol::{LangTitle, PublisherKey, VERSION};

    fn ann(
        key: &PublisherKey,
        n: u8,
        name: &str,
        titles: &[(&str, &str)],
        tags: &[&str],
    ) -> SignedAnnouncement {
        SignedAnnouncement::sign_announcement(
            Announcement {
                v: VERSION,
                id: BundleId::from_bytes([n; 32]),
                seq: 1,
                name: name.into(),
                size: 10,
                tags: tags.iter().map(|t| t.to_string()).collect(),
                files: 1,
                titles: titles
                    .iter()
                    .map(|(l, t)| LangTitle {
                        lang: l.to_string(),
                        title: t.to_string(),
                    })
                    .collect(),
                created: u64::from(n),
                publisher: key.id(),
            },
            key,
        )
        .unwrap()
    }

    fn ids(f: &Found) -> Vec<u8> {
        f.results.iter().map(|a| a.id.as_bytes()[0]).collect()
    }

    fn world() -> (MemStore, Catalog, PublisherKey, PublisherKey) {
        let store = MemStore::default();
        let (k1, k2) = (
            PublisherKey::from_seed([1; 32]),
            PublisherKey::from_seed([2; 32]),
        );
        let cat = Catalog::default();
        cat.mark_loaded();
        for a in [
            ann(
                &k1,
                1,
                "guide",
                &[("en", "Organizing Guide"), ("es", "Guía para organizar")],
                &["training"],
            ),
            ann(
                &k1,
                2,
                "flyers",
                &[("en", "Flyer templates")],
                &["design", "print"],
            ),
            ann(
                &k2,
                3,
                "radio",
                &[("pt-BR", "Rádio comunitária")],
                &["media"],
            ),
            ann(&k2, 4, "safety", &[("en", "Digital safety GUIDE")], &[]),
        ] {
            assert!(cat.add(&store, &a).unwrap());
        }
        (store, cat, k1, k2)
    }

    #[test]
    fn words_match_names_titles_and_tags_in_any_case_newest_first() {
        let (_, cat, k1, _) = world();
        let s = |text: &str| cat.search(&Query::new(Some(text), None, None, None), 50);
        assert_eq!(ids(&s("guide")), vec![4, 1]);
        assert_eq!(ids(&s("GUÍA")), vec![1]);
        assert_eq!(ids(&s("organ guide")), vec![1], "every word must match");
        assert_eq!(ids(&s("print")), vec![2]);
        assert_eq!(ids(&s("radio")), vec![3]);
        assert_eq!(ids(&s("nothing-like-this")), Vec::<u8>::new());
        assert_eq!(s("guide").matched, 2);
        let all = cat.search(&Query::new(None, None, None, None), 50);
        assert_eq!(ids(&all), vec![4, 3, 2, 1]);
        let by_k1 = cat.search(&Query::new(None, None, None, Some(k1.id())), 50);
        assert_eq!(ids(&by_k1), vec![2, 1]);
        let page = cat.search(&Query::new(None, None, None, None), 2);
        assert_eq!((ids(&page), page.matched), (vec![4, 3], 4));
    }

    #[test]
    fn filters_by_language_prefix_tag_and_id_prefix() {
        let (_, cat, _, _) = world();
        let lang = |l: &str| ids(&cat.search(&Query::new(None, Some(l), None, None), 50));
        assert_eq!(lang("pt"), vec![3]);
        assert_eq!(lang("PT-br"), vec![3]);
        assert_eq!(lang("es"), vec![1]);
        assert_eq!(lang("p"), Vec::<u8>::new());
        let tag = ids(&cat.search(&Query::new(Some("guide"), None, Some("training"), None), 50));
        assert_eq!(tag, vec![1]);
        let by_id = cat.search(&Query::new(Some("0303"), None, None, None), 50);
        assert_eq!(ids(&by_id), vec![3]);
    }

    #[test]
    fn removal_hides_an_entry_and_compaction_keeps_the_rest() {
        let (store, cat, k1, _) = world();
        cat.remove(&store, &BundleId::from_bytes([1; 32])).unwrap();
        let s = |text: &str| ids(&cat.search(&Query::new(Some(text), None, None, None), 50));
        assert_eq!(s("guide"), vec![4]);
        assert_eq!(cat.len(), 3);
        assert!(store
            .get_announcement(&BundleId::from_bytes([1; 32]))
            .unwrap()
            .is_none());
        // Enough churn to compact: the survivors are still found.
        for n in 10..=250u8 {
            cat.add(
                &store,
                &ann(&k1, n, &format!("b{n}"), &[("en", "churn")], &[]),
            )
            .unwrap();
        }
        for n in 10..=250u8 {
            cat.remove(&store, &BundleId::from_bytes([n; 32])).unwrap();
        }
        cat.write().compact();
        assert_eq!(s("guide"), vec![4]);
        assert_eq!(s("flyer"), vec![2]);
        assert_eq!(cat.len(), 3);
    }

    #[test]
    fn loading_reads_the_store_and_skips_what_was_removed_meanwhile() {
        let (store, _, k1, _) = world();
        let cat = Catalog::default();
        assert!(!cat.is_loaded());
        // Removed before the loader reaches it.
        cat.remove(&store, &BundleId::from_bytes([2; 32])).unwrap();
        store
            .put_announcement(
                &BundleId::from_bytes([2; 32]),
                ann(&k1, 2, "flyers", &[("en", "x")], &[]).bytes(),
            )
            .unwrap();
        cat.load(&store).unwrap();
        assert!(cat.is_loaded());
        assert_eq!(cat.len(), 3);
        assert_eq!(cat.latest_seq(&k1.id(), "guide"), 1);
        assert_eq!(cat.latest_seq(&k1.id(), "missing"), 0);
    }

    fn version(key: &PublisherKey, n: u8, name: &str, seq: u64) -> SignedAnnouncement {
        let mut a = ann(key, n, name, &[("en", "Kit")], &[])
            .announcement()
            .clone();
        a.seq = seq;
        SignedAnnouncement::sign_announcement(a, key).unwrap()
    }

    fn retraction(key: &PublisherKey, of: u8, by: PublisherId) -> CatalogEntry {
        let r = weft_protocol::Retraction {
            v: VERSION,
            created: 9,
            retracts: BundleId::from_bytes([of; 32]),
            publisher: by,
        };
        CatalogEntry::Retraction(weft_protocol::SignedRetraction::sign(r, key).unwrap())
    }

    #[test]
    fn the_latest_version_is_listed_and_a_retraction_hides_it_unless_pinned() {
        let (store, cat, k1, k2) = world();
        let all = |all_versions: bool| {
            let mut q = Query::new(Some("kit"), None, None, None);
            q.all_versions = all_versions;
            ids(&cat.search(&q, 50))
        };
        cat.add(&store, &version(&k1, 20, "kit", 1)).unwrap();
        cat.add(&store, &version(&k1, 21, "kit", 2)).unwrap();
        assert_eq!(all(false), vec![21]);
        assert_eq!(all(true), vec![21, 20]);
        assert_eq!(
            cat.resolve(&k1.id(), "kit").unwrap().id,
            BundleId::from_bytes([21; 32])
        );
        let old = cat.standing(&BundleId::from_bytes([20; 32]));
        assert_eq!(old.superseded_by, Some(BundleId::from_bytes([21; 32])));
        // Another key cannot retract it.
        let forged = retraction(&k2, 21, k2.id());
        assert!(matches!(
            cat.add_entry(&store, &forged).unwrap(),
            Added::Refused(_)
        ));
        assert_eq!(all(false), vec![21]);
        // The publisher can; the previous version is the latest again.
        let real = retraction(&k1, 21, k1.id());
        assert_eq!(cat.add_entry(&store, &real).unwrap(), Added::New);
        assert_eq!(cat.add_entry(&store, &real).unwrap(), Added::Known);
        assert!(cat.standing(&BundleId::from_bytes([21; 32])).retracted);
        assert_eq!(all(false), vec![20]);
        assert!(
            cat.contains(&real.entry_id()),
            "retractions are reconciled too"
        );
        assert!(cat.sorted_ids().contains(&real.entry_id()));
        // A pinned copy stays listed.
        cat.set_exempt(BundleId::from_bytes([21; 32]), true);
        assert_eq!(all(false), vec![21, 20]);
        // Blocking hides every entry of a publisher.
        cat.set_blocked([k1.id()].into_iter().collect());
        assert_eq!(all(true), Vec::<u8>::new());
        // The retraction survives a reload.
        let again = Catalog::default();
        again.load(&store).unwrap();
        assert!(again.standing(&BundleId::from_bytes([21; 32])).retracted);
    }
}
