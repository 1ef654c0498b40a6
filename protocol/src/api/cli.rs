//! What `weft --json` prints of its own, not an API response: the output
//! of `weft init` (which asks no daemon) and the error every command prints
//! on stderr (`docs/cli.md`). Every other command prints an API response
//! or a job's result as is.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::PublisherId;

/// `weft --json init`: the identity created, with this device's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitOutput {
    /// This device's key, which signs for the identity.
    pub device: PublisherId,
    /// The identity's fingerprint: five words to compare on a call.
    pub fingerprint: String,
    /// The path of the device key file written (`publisher.key` in the
    /// data dir).
    pub key_file: PathBuf,
    /// The paper backup: 24 words, shown once. They hold every root of
    /// the identity, present and future.
    pub paper_backup: Vec<String>,
    /// Whether the keys are sealed with a passphrase.
    pub passphrase: bool,
    /// The new identity: the publisher id others follow.
    pub publisher: PublisherId,
    /// Where the root key was written (`root.key`); null with
    /// `--no-root`, when the root lives only on paper.
    pub root_key_file: Option<PathBuf>,
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
            device: pid(3),
            fingerprint: "abandon-ability-able-about-above".into(),
            key_file: "/home/ana/.local/share/weft/publisher.key".into(),
            paper_backup: vec!["abandon".into(); 24],
            passphrase: true,
            publisher: pid(2),
            root_key_file: None,
        };
        // cli identity.rs `init`.
        let expected = json!({"publisher": hex(2), "device": hex(3),
            "fingerprint": "abandon-ability-able-about-above",
            "key_file": "/home/ana/.local/share/weft/publisher.key", "passphrase": true,
            "paper_backup": vec!["abandon"; 24], "root_key_file": null});
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
