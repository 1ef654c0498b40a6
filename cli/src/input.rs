//! What the user typed, checked and made whole here before it goes to the
//! daemon: bundle ids, PUBLISHER/NAME references and paths.

use std::path::PathBuf;

use weft_protocol::{BundleId, PublisherId};

use weft_cli::http::CallError;

use crate::context::other;

fn parse_id(s: &str) -> Result<BundleId, CallError> {
    s.parse::<BundleId>()
        .map_err(|e| other(format!("{s:?} is not a bundle id: {e}")))
}

/// A bundle id, or PUBLISHER/NAME (checked here, resolved by the daemon).
pub(crate) fn parse_ref(s: &str) -> Result<String, CallError> {
    match s.split_once('/') {
        Some((p, name)) => {
            p.parse::<PublisherId>()
                .map_err(|e| other(format!("{s:?}: {p:?} is not a publisher id: {e}")))?;
            if name.is_empty() {
                return Err(other(format!("{s:?}: the name after / is missing")));
            }
            Ok(s.to_string())
        }
        None => Ok(parse_id(s)?.to_string()),
    }
}

/// The absolute form of a path the user typed, with `.` and `..` resolved
/// the way a shell reads them (the daemon refuses paths holding `..`).
pub(crate) fn absolute(p: PathBuf) -> Result<PathBuf, CallError> {
    let full = if p.is_absolute() {
        p
    } else {
        std::env::current_dir()
            .map_err(|e| other(format!("cannot read the current folder: {e}")))?
            .join(p)
    };
    let mut out = PathBuf::new();
    for c in full.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}
