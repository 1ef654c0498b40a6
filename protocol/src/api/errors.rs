//! The body of every error the API answers.

use serde::{Deserialize, Serialize};

/// Any route, when it fails (and the framework's own errors: wrong method,
/// body too large, unknown route): `{"error": "…"}` with the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// One or two sentences for a person, usually with what to do; branch
    /// on the HTTP status, not on the wording.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, check, doc_example};

    #[test]
    fn an_error_is_one_field() {
        // api.rs: `json!({ "error": self.1 })`.
        let e = ErrorResponse {
            error: "no such API route".into(),
        };
        check(&e, json!({"error": "no such API route"}));
    }

    #[test]
    fn the_documented_error_reads() {
        let e: ErrorResponse = doc_example(&api_example("## Errors", 0), &[]);
        assert!(e.error.ends_with("is not pinned"));
    }
}
