//! Helpers for the response tests: comparing a type's JSON with what the
//! daemon writes, and reading the examples of `docs/api.md` and
//! `docs/cli.md` into the types.

use std::collections::BTreeSet;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{BundleId, ContentHash, PublisherId};

/// `docs/api.md`, read at build time so that the tests follow the docs.
pub const API_MD: &str = include_str!("../../../docs/api.md");
/// `docs/cli.md`.
pub const CLI_MD: &str = include_str!("../../../docs/cli.md");

/// A publish job's result, as the tests of several routes use it.
pub fn publish_result() -> crate::api::PublishResult {
    crate::api::PublishResult {
        files: 14,
        id: bid(1),
        name: "water-guide".into(),
        publisher: pid(2),
        seq: 3,
        size: 52_428_800,
    }
}

/// A bundle id made of one repeated byte.
pub fn bid(b: u8) -> BundleId {
    BundleId::from_bytes([b; 32])
}

/// A publisher id made of one repeated byte.
pub fn pid(b: u8) -> PublisherId {
    PublisherId::from_bytes([b; 32])
}

/// A content hash made of one repeated byte.
pub fn hash(b: u8) -> ContentHash {
    ContentHash::from_bytes([b; 32])
}

/// The hex text of an id made of one repeated byte.
pub fn hex(b: u8) -> String {
    format!("{b:02x}").repeat(32)
}

/// Checks that `value` serializes to `expected` (the JSON the daemon's
/// `json!` writes for the same data), as a value and as text: the daemon's
/// objects have their keys in byte order, so the text shows whether the
/// fields are declared in that order. Then reads the text back.
pub fn check<T>(value: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    check_unordered(value, expected.clone());
    let text = serde_json::to_string(value).unwrap();
    assert_eq!(
        text,
        expected.to_string(),
        "key order differs from the daemon's"
    );
}

/// [`check`] without the key order: only for a value holding a type whose
/// field order is not byte order (see the module docs of `api`).
pub fn check_unordered<T>(value: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let got = serde_json::to_value(value).unwrap();
    assert_eq!(got, expected);
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, value, "the round trip changed the value");
}

/// Reads the `json` code blocks of the section of `doc` whose heading line
/// is `heading` (up to the next heading of any level).
pub fn json_blocks(doc: &str, heading: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut inside = false;
    let mut fence: Option<(bool, String)> = None;
    for line in doc.lines() {
        if let Some((json, text)) = &mut fence {
            if line.starts_with("```") {
                if *json && inside {
                    blocks.push(std::mem::take(text));
                }
                fence = None;
            } else {
                text.push_str(line);
                text.push('\n');
            }
            continue;
        }
        if let Some(lang) = line.strip_prefix("```") {
            fence = Some((lang.trim() == "json", String::new()));
        } else if line.starts_with('#') {
            inside = line == heading;
        }
    }
    blocks
}

/// Every heading of `doc` whose section holds `json` code blocks, with how
/// many.
pub fn sections_with_json(doc: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            let n = json_blocks(doc, line).len();
            if n > 0 {
                out.push((line.to_string(), n));
            }
        }
    }
    out
}

/// The `index`th `json` block of a section of `docs/api.md`.
pub fn api_example(heading: &str, index: usize) -> String {
    let blocks = json_blocks(API_MD, heading);
    blocks.get(index).cloned().unwrap_or_else(|| {
        panic!(
            "docs/api.md: section {heading:?} has {} json blocks, not {}",
            blocks.len(),
            index + 1
        )
    })
}

/// Reads a documented example into `T`, writes it again and checks that
/// the key sets agree at every level: a key the type does not know, or one
/// it writes that the example lacks, is a disagreement between the docs and
/// the type. `gaps` are the top-level keys the daemon sends but the example
/// leaves out (a known disagreement, reported): they are added to the
/// example before it is read, and must be exactly the keys only the type
/// has.
pub fn doc_example<T>(example: &str, gaps: &[(&str, Value)]) -> T
where
    T: Serialize + DeserializeOwned,
{
    let doc: Value = serde_json::from_str(example).expect("the example is JSON");
    let mut patched = doc.clone();
    for (key, v) in gaps {
        let obj = patched.as_object_mut().expect("an object");
        assert!(
            obj.insert((*key).into(), v.clone()).is_none(),
            "{key} is documented"
        );
    }
    let typed: T = serde_json::from_value(patched)
        .unwrap_or_else(|e| panic!("the example does not read into the type: {e}\n{example}"));
    let again = serde_json::to_value(&typed).unwrap();
    let (mut only_doc, mut only_type) = (Vec::new(), Vec::new());
    diff_keys("", &doc, &again, &mut only_doc, &mut only_type);
    assert!(
        only_doc.is_empty(),
        "keys in the example that the type does not know: {only_doc:?}"
    );
    let gaps: BTreeSet<String> = gaps.iter().map(|(k, _)| (*k).to_string()).collect();
    let only_type: BTreeSet<String> = only_type.drain(..).collect();
    assert_eq!(
        only_type, gaps,
        "keys the type writes that the example lacks"
    );
    typed
}

fn diff_keys(
    at: &str,
    doc: &Value,
    typed: &Value,
    only_doc: &mut Vec<String>,
    only_type: &mut Vec<String>,
) {
    match (doc, typed) {
        (Value::Object(d), Value::Object(t)) => {
            for k in d.keys().filter(|k| !t.contains_key(*k)) {
                only_doc.push(format!("{at}{k}"));
            }
            for k in t.keys().filter(|k| !d.contains_key(*k)) {
                only_type.push(format!("{at}{k}"));
            }
            for (k, dv) in d {
                if let Some(tv) = t.get(k) {
                    diff_keys(&format!("{at}{k}."), dv, tv, only_doc, only_type);
                }
            }
        }
        (Value::Array(d), Value::Array(t)) => {
            for (i, (dv, tv)) in d.iter().zip(t).enumerate() {
                diff_keys(&format!("{at}{i}."), dv, tv, only_doc, only_type);
            }
        }
        _ => {}
    }
}

/// The keys that the `--json output` cell of the row of `docs/cli.md`'s
/// command table starting with `` | `command`` names: bare `` `key` `` names
/// and the keys of an inline `` `{"key": …}` `` object.
pub fn cli_row_keys(command: &str) -> BTreeSet<String> {
    let prefix = format!("| `{command}");
    let row = CLI_MD
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("docs/cli.md has no row for {command:?}"));
    let cell = row.split(" | ").nth(2).expect("three cells");
    let mut keys = BTreeSet::new();
    for (i, token) in cell.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        if token.starts_with('{') {
            // Keys at the top level of an inline object: `"name":`.
            let mut depth = 0;
            let mut rest = token;
            while let Some(c) = rest.chars().next() {
                match c {
                    '{' | '[' => depth += 1,
                    '}' | ']' => depth -= 1,
                    '"' => {
                        let end = rest[1..].find('"').expect("a closed string") + 1;
                        let s = &rest[1..end];
                        rest = &rest[end..];
                        if depth == 1 && rest[1..].trim_start().starts_with(':') {
                            keys.insert(s.to_string());
                        }
                    }
                    _ => {}
                }
                rest = &rest[c.len_utf8()..];
            }
        } else if !token.is_empty() && token.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            keys.insert(token.to_string());
        }
    }
    keys
}

/// The top-level keys `value` serializes with.
pub fn keys_of<T: Serialize>(value: &T) -> BTreeSet<String> {
    match serde_json::to_value(value).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        v => panic!("not an object: {v}"),
    }
}
