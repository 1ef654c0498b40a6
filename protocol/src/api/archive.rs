//! The archive jobs' results: export and import.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::BundleId;

/// The result of an `export` job (`POST /v1/export`). `weft export` prints
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportResult {
    /// The bundles written.
    pub bundles: Vec<ExportedBundle>,
    /// The archive files written: one, or one per bundle with `dir`.
    pub files: Vec<ArchiveFile>,
}

/// One bundle written, in [`ExportResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedBundle {
    /// The bundle id.
    pub id: BundleId,
    /// Its name.
    pub name: String,
    /// Its version.
    pub seq: u64,
}

/// One archive file written, in [`ExportResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFile {
    /// Its size in bytes.
    pub bytes: u64,
    /// With `dir`, the bundle in that file; the key is absent for a single
    /// archive of every bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<BundleId>,
    /// Its absolute path.
    pub path: PathBuf,
}

/// The result of an `import` job (`POST /v1/import`). `weft import` prints
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResult {
    /// Bundles this node already held.
    pub already_here: Vec<BundleId>,
    /// Bundles skipped because their publisher is blocked here.
    pub blocked: Vec<BundleId>,
    /// Number of archive files read.
    pub files: u64,
    /// Bundles stored.
    pub imported: Vec<ImportedBundle>,
    /// Bundles skipped because the key that signed them may not sign for
    /// their publisher: a revoked device (not kept by the revocation), or
    /// a key the publisher's key log, in the archive or known here, does
    /// not certify.
    #[serde(default)]
    pub refused: Vec<BundleId>,
}

/// One bundle stored, in [`ImportResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedBundle {
    /// The archive carried the bundle's signed announcement.
    pub announced: bool,
    /// The bundle id.
    pub id: BundleId,
    /// Its name.
    pub name: String,
    /// Its version.
    pub seq: u64,
    /// Its total bytes.
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, bid, check, cli_row_keys, doc_example, hex, keys_of};
    use crate::api::{ExportBody, ImportBody};

    fn bundles() -> Vec<ExportedBundle> {
        vec![
            ExportedBundle {
                id: bid(1),
                name: "water-guide".into(),
                seq: 3,
            },
            ExportedBundle {
                id: bid(2),
                name: "maps".into(),
                seq: 1,
            },
        ]
    }

    fn daemon_bundles() -> serde_json::Value {
        json!([
            json!({"id": hex(1), "name": "water-guide", "seq": 3}),
            json!({"id": hex(2), "name": "maps", "seq": 1}),
        ])
    }

    #[test]
    fn an_export_to_one_file_matches_the_daemon() {
        let e = ExportResult {
            bundles: bundles(),
            files: vec![ArchiveFile {
                bytes: 52_441_088,
                id: None,
                path: "/media/usb/guides.weft".into(),
            }],
        };
        // archive.rs `export_blocking`, without `dir`.
        let files = vec![json!({"path": "/media/usb/guides.weft", "bytes": 52_441_088})];
        check(&e, json!({ "bundles": daemon_bundles(), "files": files }));
    }

    #[test]
    fn an_export_to_a_folder_names_each_file_s_bundle() {
        let e = ExportResult {
            bundles: bundles(),
            files: vec![
                ArchiveFile {
                    bytes: 10,
                    id: Some(bid(1)),
                    path: "/media/usb/g/water-guide-3-010101010101.weft".into(),
                },
                ArchiveFile {
                    bytes: 20,
                    id: Some(bid(2)),
                    path: "/media/usb/g/maps-1-020202020202.weft".into(),
                },
            ],
        };
        // archive.rs `export_blocking`, with `dir`.
        let files = vec![
            json!({"path": "/media/usb/g/water-guide-3-010101010101.weft", "bytes": 10, "id": hex(1)}),
            json!({"path": "/media/usb/g/maps-1-020202020202.weft", "bytes": 20, "id": hex(2)}),
        ];
        check(&e, json!({ "bundles": daemon_bundles(), "files": files }));
    }

    #[test]
    fn an_import_matches_the_daemon() {
        let i = ImportResult {
            already_here: vec![bid(3)],
            blocked: vec![bid(4)],
            files: 2,
            imported: vec![ImportedBundle {
                announced: false,
                id: bid(1),
                name: "water-guide".into(),
                seq: 3,
                size: 52_428_800,
            }],
            refused: vec![bid(5)],
        };
        // archive.rs `import_blocking`.
        let imported = vec![json!({
            "id": hex(1), "name": "water-guide", "seq": 3,
            "size": 52_428_800, "announced": false,
        })];
        let expected = json!({
            "imported": imported,
            "already_here": [hex(3)],
            "blocked": [hex(4)],
            "files": 2,
            "refused": [hex(5)],
        });
        check(&i, expected);
    }

    #[test]
    fn the_documented_archive_examples_read() {
        let export = "### `POST /v1/export`";
        let body: ExportBody = serde_json::from_str(&api_example(export, 0)).unwrap();
        let e: ExportResult = doc_example(&api_example(export, 1), &[]);
        assert_eq!(e.files[0].path, body.out);
        let import = "### `POST /v1/import`";
        let _: ImportBody = serde_json::from_str(&api_example(import, 0)).unwrap();
        let i: ImportResult = doc_example(&api_example(import, 1), &[]);
        assert!(i.imported[0].announced);
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        let e = ExportResult {
            bundles: vec![],
            files: vec![],
        };
        assert_eq!(cli_row_keys("weft export"), keys_of(&e));
        let i = ImportResult {
            already_here: vec![],
            blocked: vec![],
            files: 0,
            imported: vec![],
            refused: vec![],
        };
        assert_eq!(cli_row_keys("weft import"), keys_of(&i));
    }
}
