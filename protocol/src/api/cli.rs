//! What `weft --json` prints of its own, not an API response: the output
//! of `weft init` (which asks no daemon) and the error every command prints
//! on stderr (`docs/cli.md`). Every other command prints an API response
//! or a job's result as is.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::PublisherId;

/// `weft --json init`: the publisher key created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitOutput {
    /// The path of the key file written (`publisher.key` in the data dir).
    pub key_file: PathBuf,
    /// Whether the key is sealed with a passphrase.
    pub passphrase: bool,
    /// The new publisher id.
    pub publisher: PublisherId,
}

/// `weft --json …` on failure: one line on stderr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliError {
    /// The message, for a person.
    pub error: String,
    /// The HTTP status the daemon answered (a failed job's `status`); null
    /// when the error did not come from the daemon.
    pub status: Option<u16>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{
        check, cli_row_keys, doc_example, hex, json_blocks, keys_of, pid, CLI_MD,
    };

    #[test]
    fn init_matches_the_cli() {
        let o = InitOutput {
            key_file: "/home/ana/.local/share/weft/publisher.key".into(),
            passphrase: true,
            publisher: pid(2),
        };
        // cli main.rs `init`.
        let expected = json!({"publisher": hex(2),
            "key_file": "/home/ana/.local/share/weft/publisher.key", "passphrase": true});
        check(&o, expected);
        assert_eq!(cli_row_keys("weft init"), keys_of(&o));
    }

    #[test]
    fn errors_match_the_cli() {
        // cli main.rs `main`: the status of an API error, else null.
        let e = CliError {
            error: "bundle x is not pinned".into(),
            status: Some(404),
        };
        check(
            &e,
            json!({"error": "bundle x is not pinned", "status": json!(404u16)}),
        );
        let e = CliError {
            error: "weftd is not running".into(),
            status: None,
        };
        check(&e, json!({"error": "weftd is not running", "status": null}));
        let blocks = json_blocks(CLI_MD, "### Errors");
        let documented: CliError = doc_example(&blocks[0], &[]);
        assert_eq!(documented.status, Some(404));
    }
}
