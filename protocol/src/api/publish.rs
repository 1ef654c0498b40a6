//! Publishing: the publish job's result and the uploads that stage files
//! for it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{BundleId, PublisherId};

/// The result of a `publish` job (`POST /v1/publish`). `weft publish`
/// prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishResult {
    /// Number of files.
    pub files: u64,
    /// The new bundle's id.
    pub id: BundleId,
    /// Its name.
    pub name: String,
    /// The publisher that signed it: this node's.
    pub publisher: PublisherId,
    /// Its version.
    pub seq: u64,
    /// Total bytes of all files.
    pub size: u64,
}

/// `POST /v1/uploads`: a new, empty staging folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStarted {
    /// The absolute staging folder (`uploads/<id>` in the data dir), to
    /// publish once the files are in.
    pub path: PathBuf,
    /// The upload's id (32 hex characters), for `POST /v1/uploads/{id}`.
    pub upload: String,
}

/// `POST /v1/uploads/{id}`: one file stored in a staging folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The file's path relative to the staging folder, as given.
    pub path: String,
    /// Bytes stored.
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{
        api_example, check, cli_row_keys, doc_example, hex, keys_of, publish_result,
    };
    use crate::api::PublishRequest;

    #[test]
    fn a_publish_matches_the_daemon() {
        // publish.rs `publish`: the job's result.
        let expected = json!({
            "id": hex(1),
            "name": "water-guide",
            "seq": 3,
            "publisher": hex(2),
            "files": 14,
            "size": 52_428_800,
        });
        check(&publish_result(), expected);
    }

    #[test]
    fn uploads_match_the_daemon() {
        let dir = "/home/ana/.local/share/weft/uploads/a4c5dbd63e9f3fc26749daba84dbf60d";
        let started = UploadStarted {
            path: dir.into(),
            upload: "a4c5dbd63e9f3fc26749daba84dbf60d".into(),
        };
        // ui.rs `new_upload`.
        check(
            &started,
            json!({ "upload": "a4c5dbd63e9f3fc26749daba84dbf60d", "path": dir }),
        );
        let file = UploadedFile {
            path: "img/cover.jpg".into(),
            size: 28_800,
        };
        // ui.rs `upload_file`.
        check(&file, json!({ "path": "img/cover.jpg", "size": 28_800u64 }));
    }

    #[test]
    fn the_documented_publishing_examples_read() {
        let publish = "### `POST /v1/publish`";
        let body: PublishRequest = serde_json::from_str(&api_example(publish, 0)).unwrap();
        let r: PublishResult = doc_example(&api_example(publish, 1), &[]);
        assert_eq!(Some(r.name), body.name);
        let _: UploadStarted = doc_example(&api_example("### `POST /v1/uploads`", 0), &[]);
        let _: UploadedFile = doc_example(&api_example("### `POST /v1/uploads/{id}`", 0), &[]);
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        assert_eq!(cli_row_keys("weft publish"), keys_of(&publish_result()));
    }
}
