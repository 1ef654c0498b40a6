//! The web UI's JSON routes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /v1/ui/login`: a one-time link that logs a browser in. `weft ui`
/// prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginLinkResponse {
    /// Seconds the link stays valid (120).
    pub expires_in: u64,
    /// The link, on the API's address; it works once.
    pub url: String,
}

/// `GET /ui/i18n/{lang}`: one interface language's texts, a flat object
/// from key to text with `{name}` placeholders. The daemon sends the file
/// it was built with as is, so its keys come in the file's order; this map
/// writes them in byte order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UiTexts(
    /// Key to text.
    pub BTreeMap<String, String>,
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, check, cli_row_keys, doc_example, keys_of};

    #[test]
    fn a_login_link_matches_the_daemon() {
        let l = LoginLinkResponse {
            expires_in: 120,
            url: "http://127.0.0.1:4142/ui/login?code=ab".into(),
        };
        // ui.rs `login_link`.
        let expected = json!({
            "url": "http://127.0.0.1:4142/ui/login?code=ab",
            "expires_in": 120u64,
        });
        check(&l, expected);
    }

    #[test]
    fn texts_are_a_flat_object() {
        let t = UiTexts(
            [
                ("login.needed".to_string(), "Log in again".to_string()),
                ("bundle.size".to_string(), "{size}".to_string()),
            ]
            .into(),
        );
        check(
            &t,
            json!({"login.needed": "Log in again", "bundle.size": "{size}"}),
        );
    }

    #[test]
    fn the_documented_login_link_reads() {
        let l: LoginLinkResponse = doc_example(&api_example("### `POST /v1/ui/login`", 0), &[]);
        assert_eq!(l.expires_in, 120);
        assert_eq!(cli_row_keys("weft ui"), keys_of(&l));
    }
}
