//! The storage routes: pins, unpin, gc, and check's result.

use serde::{Deserialize, Serialize};

use crate::BundleId;

/// Why a bundle is pinned (the daemon's `store::PinKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinKind {
    /// The user pinned it (`weft pin`, `weft get --pin`, publish, import);
    /// only the user removes it.
    Explicit,
    /// A follow rule mirrors it.
    Mirror,
}

/// `GET /v1/pins`: the pinned bundles. `weft pins` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinsResponse {
    /// One per pin.
    pub pins: Vec<PinInfo>,
}

/// One pin, in [`PinsResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinInfo {
    /// The bundle pinned.
    pub id: BundleId,
    /// Why.
    pub kind: PinKind,
    /// The complete bundle is stored here.
    pub local: bool,
    /// The bundle's name; null while it is not stored (a pin on a fetch
    /// not finished).
    pub name: Option<String>,
    /// When it was pinned (Unix seconds).
    pub pinned_at: u64,
    /// Its manifest is signed by a device its publisher revoked (or a
    /// replaced root), and the revocation does not keep it.
    #[serde(default)]
    pub revoked: bool,
    /// Its total bytes; null likewise.
    pub size: Option<u64>,
}

/// `POST /v1/unpin`: the pin removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpinResponse {
    /// The bundle unpinned.
    pub id: BundleId,
    /// Always false.
    pub pinned: bool,
}

/// `POST /v1/gc`: what a collection did (the daemon's
/// `storage::GcReport`). `weft gc` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcReport {
    /// Bytes the deleted blocks held.
    pub blob_bytes: u64,
    /// Blocks deleted (the evicted bundles' and orphans).
    pub blobs_deleted: u64,
    /// Bytes the store takes on disk after.
    pub disk_after: u64,
    /// Bytes the store took on disk before.
    pub disk_before: u64,
    /// Bundles evicted from the cache.
    pub evicted: Vec<BundleId>,
    /// Their content bytes.
    pub evicted_bytes: u64,
}

/// The result of a `check` job (`POST /v1/check`; the daemon's
/// `storage::CheckReport`). `weft check` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Blocks read back and found to match their hashes.
    pub blocks: u64,
    /// Complete bundles checked.
    pub bundles: u64,
    /// The bytes of those blocks.
    pub bytes: u64,
    /// Bundles with a block missing or damaged, reopened to be fetched
    /// again.
    pub damaged: Vec<BundleId>,
    /// Interrupted fetches, including the bundles just reopened.
    pub interrupted_fetches: u64,
    /// Blocks nothing needs (the next collection deletes them).
    pub orphans: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, bid, check, cli_row_keys, doc_example, hex, keys_of};
    use crate::api::IdBody;

    #[test]
    fn pins_match_the_daemon() {
        let p = PinsResponse {
            pins: vec![
                PinInfo {
                    id: bid(1),
                    kind: PinKind::Explicit,
                    local: true,
                    name: Some("water-guide".into()),
                    pinned_at: 1_718_000_500,
                    revoked: false,
                    size: Some(52_428_800),
                },
                PinInfo {
                    id: bid(2),
                    kind: PinKind::Mirror,
                    local: false,
                    name: None,
                    pinned_at: 1_718_000_600,
                    revoked: true,
                    size: None,
                },
            ],
        };
        // api.rs `pins`, for the same pins.
        let out = vec![
            json!({"id": hex(1), "pinned_at": 1_718_000_500, "kind": "explicit",
                "name": Some("water-guide"), "size": Some(52_428_800u64), "local": true,
                "revoked": false}),
            json!({"id": hex(2), "pinned_at": 1_718_000_600, "kind": "mirror",
                "name": None::<String>, "size": None::<u64>, "local": false,
                "revoked": true}),
        ];
        check(&p, json!({ "pins": out }));
        assert_eq!(json!(PinKind::Mirror), json!("mirror"));
    }

    #[test]
    fn unpin_matches_the_daemon() {
        let u = UnpinResponse {
            id: bid(1),
            pinned: false,
        };
        check(&u, json!({ "id": hex(1), "pinned": false }));
    }

    #[test]
    fn gc_and_check_match_the_daemon_reports() {
        // api.rs `gc`: `json!(report)` of `storage::GcReport`.
        let gc = GcReport {
            blob_bytes: 1,
            blobs_deleted: 2,
            disk_after: 3,
            disk_before: 4,
            evicted: vec![bid(1)],
            evicted_bytes: 5,
        };
        let expected = json!({"evicted": [hex(1)], "evicted_bytes": 5, "blobs_deleted": 2,
            "blob_bytes": 1, "disk_before": 4, "disk_after": 3});
        check(&gc, expected);
        // api.rs `check`: `json!(report)` of `storage::CheckReport`.
        let report = CheckReport {
            blocks: 1,
            bundles: 2,
            bytes: 3,
            damaged: vec![bid(7)],
            interrupted_fetches: 4,
            orphans: 5,
        };
        let expected = json!({"bundles": 2, "blocks": 1, "bytes": 3, "damaged": [hex(7)],
            "orphans": 5, "interrupted_fetches": 4});
        check(&report, expected);
    }

    #[test]
    fn the_documented_storage_examples_read() {
        let pins: PinsResponse = doc_example(&api_example("### `GET /v1/pins`", 0), &[]);
        assert_eq!(pins.pins[0].kind, PinKind::Explicit);
        let unpin = "### `POST /v1/unpin`";
        let _: IdBody = serde_json::from_str(&api_example(unpin, 0)).unwrap();
        let _: UnpinResponse = doc_example(&api_example(unpin, 1), &[]);
        let gc: GcReport = doc_example(&api_example("### `POST /v1/gc`", 0), &[]);
        assert_eq!(gc.evicted.len(), 1);
        let _: CheckReport = doc_example(&api_example("### `POST /v1/check`", 0), &[]);
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        let unpin = UnpinResponse {
            id: bid(1),
            pinned: false,
        };
        assert_eq!(cli_row_keys("weft unpin"), keys_of(&unpin));
        assert_eq!(cli_row_keys("weft gc"), keys_of(&GcReport::default()));
        assert_eq!(cli_row_keys("weft check"), keys_of(&CheckReport::default()));
        let pins = PinsResponse { pins: vec![] };
        assert_eq!(cli_row_keys("weft pins"), keys_of(&pins));
    }
}
