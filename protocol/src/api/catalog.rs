//! The catalog routes: search, a bundle's details, fetch's result, retract.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{PinKind, Tier};
use crate::{BundleId, FileEntry, LangText, LangTitle, PublisherId};

/// `GET /v1/search`: catalog entries, newest first. `weft search` prints
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// How many entries matched in all (may exceed the results shown).
    pub matched: u64,
    /// The entries, newest first, at most `limit`.
    pub results: Vec<SearchResult>,
    /// Entries in this node's catalog.
    pub total: u64,
}

/// One catalog entry of `GET /v1/search`: the bundle's announcement, what
/// this node holds of it, and its standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Another publisher claims the same bundle id and no manifest held
    /// here settles which claim is true (fetching the bundle does).
    pub contested: bool,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Number of files.
    pub files: u64,
    /// The private group it was shared with (protocol section 6.6): only
    /// members' nodes list it, by the titles sealed inside; left out for a
    /// public bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<crate::GroupId>,
    /// The bundle id.
    pub id: BundleId,
    /// The complete bundle is stored on this node.
    pub local: bool,
    /// The bundle's stable name.
    pub name: String,
    /// It is pinned here.
    pub pinned: bool,
    /// The publisher id.
    pub publisher: PublisherId,
    /// How to show the publisher: petname, profile name, fingerprint.
    #[serde(default)]
    pub publisher_name: super::PublisherName,
    /// Its publisher retracted it.
    pub retracted: bool,
    /// Version of this (publisher, name).
    pub seq: u64,
    /// Total bytes of all files.
    pub size: u64,
    /// A newer version of the same (publisher, name), if one is known;
    /// else null.
    pub superseded_by: Option<BundleId>,
    /// Lowercase tags.
    pub tags: Vec<String>,
    /// How far this node trusts the publisher.
    pub tier: Tier,
    /// One title per language.
    #[serde(deserialize_with = "lenient::titles")]
    pub titles: Vec<LangTitle>,
}

/// `GET /v1/bundles/{id}`: a bundle's details. `weft show` prints it. The
/// catalog entry of [`SearchResult`], its pin, and, once the bundle is
/// stored here, its licence, texts and file list (keys left out before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleDetails {
    /// Another publisher claims the same bundle id (see [`SearchResult`]).
    pub contested: bool,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Only when stored: the files, sorted by path; absent otherwise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::file_list"
    )]
    pub file_list: Option<Vec<FileEntry>>,
    /// Number of files.
    pub files: u64,
    /// The private group it was shared with, when this node can read it
    /// (protocol section 6.6): the other fields are then those sealed
    /// inside, and `id` is the outer bundle's; left out for a public
    /// bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<crate::GroupId>,
    /// The bundle id.
    pub id: BundleId,
    /// Only when stored: the licence, possibly empty; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    /// The complete bundle is stored on this node.
    pub local: bool,
    /// The bundle's stable name.
    pub name: String,
    /// Why the held bundle is pinned; null when not pinned or not held.
    pub pin: Option<PinKind>,
    /// It is pinned here.
    pub pinned: bool,
    /// The publisher id.
    pub publisher: PublisherId,
    /// How to show the publisher: petname, profile name, fingerprint.
    #[serde(default)]
    pub publisher_name: super::PublisherName,
    /// Its publisher retracted it.
    pub retracted: bool,
    /// Held here, but its manifest is signed by a device its publisher
    /// revoked (or a replaced root) and the revocation does not keep it:
    /// kept only because it is pinned by hand.
    #[serde(default)]
    pub revoked: bool,
    /// Version of this (publisher, name).
    pub seq: u64,
    /// Total bytes of all files.
    pub size: u64,
    /// A newer version of the same (publisher, name), if one is known;
    /// else null.
    pub superseded_by: Option<BundleId>,
    /// Lowercase tags.
    pub tags: Vec<String>,
    /// Only when stored: title and description per language; absent
    /// otherwise. Each is written `description`, `lang`, `title`, keys in
    /// byte order like every other object of the API.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "lenient::write_texts",
        deserialize_with = "lenient::texts"
    )]
    pub texts: Option<Vec<LangText>>,
    /// How far this node trusts the publisher.
    pub tier: Tier,
    /// One title per language.
    #[serde(deserialize_with = "lenient::titles")]
    pub titles: Vec<LangTitle>,
}

/// The result of a `fetch` job (`POST /v1/fetch`). `weft get` and
/// `weft pin` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchResult {
    /// Number of files.
    pub files: u64,
    /// The bundle fetched.
    pub id: BundleId,
    /// Its name.
    pub name: String,
    /// The folder written, as the request gave it; null when none was.
    pub out: Option<PathBuf>,
    /// The request's `pin`, echoed.
    pub pinned: bool,
    /// Total bytes of all files.
    pub size: u64,
}

/// `POST /v1/retract`: the retraction signed and announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetractResponse {
    /// The bundle retracted.
    pub id: BundleId,
    /// The catalog entry id of the signed retraction.
    pub retraction: BundleId,
}

/// Reading the manifest types that these responses reuse (`LangTitle`,
/// `LangText`, `FileEntry`) as a response reads: those refuse unknown
/// fields, as peer formats must, but a response accepts fields it does not
/// know (see the module docs of `api`), nested ones included. Writing is
/// the types' own.
mod lenient {
    use serde::{Deserialize, Deserializer};

    use crate::{ContentHash, FileEntry, LangText, LangTitle};

    #[derive(Deserialize)]
    struct Title {
        lang: String,
        title: String,
    }

    #[derive(Deserialize)]
    struct Text {
        lang: String,
        title: String,
        description: String,
    }

    #[derive(Deserialize)]
    struct File {
        hash: ContentHash,
        path: String,
        size: u64,
    }

    pub(super) fn titles<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LangTitle>, D::Error> {
        let titles = Vec::<Title>::deserialize(d)?;
        Ok(titles
            .into_iter()
            .map(|Title { lang, title }| LangTitle { lang, title })
            .collect())
    }

    /// Writes texts with their keys in byte order, as the rest of the API.
    pub(super) fn write_texts<S: serde::Serializer>(
        texts: &Option<Vec<LangText>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Sorted<'a> {
            description: &'a str,
            lang: &'a str,
            title: &'a str,
        }
        let sorted: Option<Vec<Sorted>> = texts.as_ref().map(|texts| {
            texts
                .iter()
                .map(|t| Sorted {
                    description: &t.description,
                    lang: &t.lang,
                    title: &t.title,
                })
                .collect()
        });
        serde::Serialize::serialize(&sorted, s)
    }

    pub(super) fn texts<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<LangText>>, D::Error> {
        let texts = Option::<Vec<Text>>::deserialize(d)?;
        Ok(texts.map(|texts| {
            texts
                .into_iter()
                .map(|t| LangText {
                    lang: t.lang,
                    title: t.title,
                    description: t.description,
                })
                .collect()
        }))
    }

    pub(super) fn file_list<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<FileEntry>>, D::Error> {
        let files = Option::<Vec<File>>::deserialize(d)?;
        Ok(files.map(|files| {
            files
                .into_iter()
                .map(|File { hash, path, size }| FileEntry { hash, path, size })
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::api::test_util::{
        api_example, bid, check, cli_row_keys, doc_example, hash, hex, keys_of, pid,
    };
    use crate::api::{FetchBody, RetractRequest};

    fn titles() -> Vec<LangTitle> {
        vec![
            LangTitle {
                lang: "en".into(),
                title: "Water guide".into(),
            },
            LangTitle {
                lang: "es".into(),
                title: "Guía del agua".into(),
            },
        ]
    }

    fn name() -> crate::api::PublisherName {
        crate::api::PublisherName {
            fingerprint: "abandon-ability-able-about-above".into(),
            petname: Some("Water coalition".into()),
            profile_name: None,
            same_name: false,
        }
    }

    /// api.rs `entry_json`, for the same announcement.
    fn daemon_entry(local: bool, pinned: bool) -> Value {
        json!({
            "id": hex(1),
            "publisher": hex(2),
            "publisher_name": {"fingerprint": "abandon-ability-able-about-above",
                "petname": "Water coalition"},
            "name": "water-guide",
            "seq": 3,
            "size": 52_428_800,
            "files": 14,
            "titles": [{"lang": "en", "title": "Water guide"}, {"lang": "es", "title": "Guía del agua"}],
            "tags": ["health", "water"],
            "created": 1_718_000_000,
            "local": local,
            "pinned": pinned,
            "tier": "seen",
            "contested": false,
        })
    }

    fn result() -> SearchResult {
        SearchResult {
            contested: false,
            created: 1_718_000_000,
            files: 14,
            group: None,
            id: bid(1),
            local: true,
            name: "water-guide".into(),
            pinned: false,
            publisher: pid(2),
            publisher_name: name(),
            retracted: false,
            seq: 3,
            size: 52_428_800,
            superseded_by: Some(bid(5)),
            tags: vec!["health".into(), "water".into()],
            tier: Tier::Seen,
            titles: titles(),
        }
    }

    #[test]
    fn search_matches_the_daemon() {
        let s = SearchResponse {
            matched: 7,
            results: vec![result()],
            total: 4210,
        };
        // api.rs `search`: the entry, then its standing.
        let mut v = daemon_entry(true, false);
        v["retracted"] = json!(false);
        v["superseded_by"] = json!(Some(bid(5)));
        check(&s, json!({ "results": [v], "matched": 7, "total": 4210 }));
        let mut unsuperseded = result();
        unsuperseded.superseded_by = None;
        let v = serde_json::to_value(&unsuperseded).unwrap();
        assert_eq!(v["superseded_by"], json!(null));
    }

    fn details(stored: bool) -> BundleDetails {
        BundleDetails {
            contested: false,
            created: 1_718_000_000,
            file_list: stored.then(|| {
                vec![FileEntry {
                    hash: hash(9),
                    path: "guide.pdf".into(),
                    size: 52_428_800,
                }]
            }),
            files: 14,
            group: None,
            id: bid(1),
            licence: stored.then(|| "CC-BY-4.0".into()),
            local: stored,
            name: "water-guide".into(),
            pin: stored.then_some(PinKind::Explicit),
            pinned: stored,
            publisher: pid(2),
            publisher_name: name(),
            retracted: true,
            revoked: false,
            seq: 3,
            size: 52_428_800,
            superseded_by: None,
            tags: vec!["health".into(), "water".into()],
            texts: stored.then(|| {
                vec![LangText {
                    lang: "en".into(),
                    title: "Water guide".into(),
                    description: "Making water safe to drink.".into(),
                }]
            }),
            tier: Tier::Seen,
            titles: titles(),
        }
    }

    #[test]
    fn details_of_a_bundle_not_stored_leave_out_the_manifest_keys() {
        // api.rs `show`, with no manifest.
        let mut v = daemon_entry(false, false);
        v["retracted"] = json!(true);
        v["revoked"] = json!(false);
        v["superseded_by"] = json!(None::<BundleId>);
        v["pin"] = json!(null);
        check(&details(false), v);
    }

    #[test]
    fn details_of_a_stored_bundle_add_licence_texts_and_files() {
        // api.rs `show`, with the manifest.
        let mut v = daemon_entry(true, true);
        v["retracted"] = json!(true);
        v["revoked"] = json!(false);
        v["superseded_by"] = json!(None::<BundleId>);
        v["pin"] = json!("explicit");
        v["licence"] = json!("CC-BY-4.0");
        v["texts"] = json!([json!({"lang": "en", "title": "Water guide",
            "description": "Making water safe to drink."})]);
        v["file_list"] = json!([json!({"path": "guide.pdf", "size": 52_428_800, "hash": hex(9)})]);
        // The same bytes, `texts` included.
        check(&details(true), v);
    }

    #[test]
    fn keys_a_newer_daemon_adds_are_ignored_in_titles_texts_and_files_too() {
        let mut v = serde_json::to_value(details(true)).unwrap();
        v["titles"][0]["script"] = json!("Latn");
        v["texts"][0]["format"] = json!("markdown");
        v["file_list"][0]["mime"] = json!("application/pdf");
        v["added"] = json!(1);
        let read: BundleDetails = serde_json::from_value(v).unwrap();
        assert_eq!(read, details(true));
        let mut v = serde_json::to_value(result()).unwrap();
        v["titles"][1]["script"] = json!("Latn");
        let read: SearchResult = serde_json::from_value(v).unwrap();
        assert_eq!(read, result());
        // The manifest types themselves still refuse them, as peer
        // formats; a missing key is still an error.
        let title = json!({"lang": "en", "title": "Water guide", "script": "Latn"});
        assert!(serde_json::from_value::<LangTitle>(title).is_err());
        let mut v = serde_json::to_value(details(true)).unwrap();
        v["file_list"][0].as_object_mut().unwrap().remove("hash");
        assert!(serde_json::from_value::<BundleDetails>(v).is_err());
    }

    #[test]
    fn fetch_and_retract_match_the_daemon() {
        let f = FetchResult {
            files: 2,
            id: bid(1),
            name: "water-guide".into(),
            out: Some("/home/ana/water-guide".into()),
            pinned: false,
            size: 52_428_800,
        };
        // api.rs `fetch`: the job's result.
        let expected = json!({ "id": hex(1), "name": "water-guide", "files": 2,
            "size": 52_428_800, "out": Some("/home/ana/water-guide"), "pinned": false });
        check(&f, expected);
        let pinned = FetchResult {
            out: None,
            pinned: true,
            ..f
        };
        let v = serde_json::to_value(&pinned).unwrap();
        assert_eq!((&v["out"], &v["pinned"]), (&json!(null), &json!(true)));
        let r = RetractResponse {
            id: bid(1),
            retraction: bid(6),
        };
        check(&r, json!({ "id": hex(1), "retraction": hex(6) }));
    }

    #[test]
    fn the_documented_catalog_examples_read() {
        let s: SearchResponse = doc_example(&api_example("### `GET /v1/search`", 0), &[]);
        assert_eq!(s.results[0].titles.len(), 2);
        let d: BundleDetails = doc_example(&api_example("### `GET /v1/bundles/{id}`", 0), &[]);
        assert_eq!(d.pin, Some(PinKind::Explicit));
        let fetch = "### `POST /v1/fetch`";
        let body: FetchBody = serde_json::from_str(&api_example(fetch, 0)).unwrap();
        assert!(!body.pin);
        let f: FetchResult = doc_example(&api_example(fetch, 1), &[]);
        assert_eq!(f.out.as_deref(), body.out.as_deref());
        let retract = "### `POST /v1/retract`";
        let _: RetractRequest = serde_json::from_str(&api_example(retract, 0)).unwrap();
        let _: RetractResponse = doc_example(&api_example(retract, 1), &[]);
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        let search = SearchResponse {
            matched: 0,
            results: vec![],
            total: 0,
        };
        assert_eq!(cli_row_keys("weft search"), keys_of(&search));
        let fetch = FetchResult {
            files: 0,
            id: bid(1),
            name: String::new(),
            out: None,
            pinned: false,
            size: 0,
        };
        assert_eq!(cli_row_keys("weft get"), keys_of(&fetch));
        // `weft pin` names the two keys that differ from `weft get`.
        assert!(cli_row_keys("weft pin ID").is_subset(&keys_of(&fetch)));
        let r = RetractResponse {
            id: bid(1),
            retraction: bid(1),
        };
        assert_eq!(cli_row_keys("weft retract"), keys_of(&r));
    }
}
