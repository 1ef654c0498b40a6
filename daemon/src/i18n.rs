//! The web UI's and the gateway's own words, in several languages.
//!
//! Each language is a flat JSON file in `daemon/i18n/` (key to text, with
//! `{name}` placeholders), compiled into the binary. The web UI loads the
//! file through `/ui/i18n/{lang}`; the gateway renders with it on the
//! server. A missing text falls back to English.
//!
//! To add a language: copy `en.json` to `<code>.json`, translate the
//! values (keep the keys and placeholders), and add a line to
//! [`LANGUAGES`]. A test checks that every file has every key of
//! `en.json` with the same placeholders.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Every language shipped: its code and its file.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../i18n/en.json")),
    ("es", include_str!("../i18n/es.json")),
    ("fr", include_str!("../i18n/fr.json")),
];

/// The language used when nothing else matches.
pub const DEFAULT: &str = "en";

type Table = HashMap<String, String>;

fn tables() -> &'static HashMap<&'static str, Table> {
    static T: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    T.get_or_init(|| {
        LANGUAGES
            .iter()
            // A file that does not parse is caught by the tests; at run
            // time it would fall back to English rather than fail.
            .map(|(code, text)| (*code, serde_json::from_str(text).unwrap_or_default()))
            .collect()
    })
}

/// The shipped language matching `code` exactly (case-insensitively).
pub fn known(code: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .map(|(c, _)| *c)
        .find(|c| c.eq_ignore_ascii_case(code))
}

/// The raw JSON of a language, for the web UI.
pub fn json(code: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, t)| *t)
}

/// The text for `key` in `lang`, else in English, else the key itself.
pub fn t(lang: &str, key: &str) -> String {
    let tables = tables();
    tables
        .get(lang)
        .and_then(|t| t.get(key))
        .or_else(|| tables.get(DEFAULT).and_then(|t| t.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// [`t`] with `{name}` placeholders filled in.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The language to answer in: `choice` (an explicit pick, such as `hl=es`)
/// if it is shipped, else the best shipped match of an `Accept-Language`
/// header, else English.
pub fn negotiate(choice: Option<&str>, accept: Option<&str>) -> &'static str {
    if let Some(c) = choice.and_then(known) {
        return c;
    }
    preferences(accept)
        .iter()
        .find_map(|tag| known(tag.split('-').next().unwrap_or("")))
        .unwrap_or(DEFAULT)
}

/// The language tags of an `Accept-Language` header, most wanted first
/// (at most 32; `*` and refused ones, `q=0`, left out).
pub fn preferences(accept: Option<&str>) -> Vec<&str> {
    let mut weighted: Vec<(f32, &str)> = accept
        .unwrap_or("")
        .split(',')
        .take(32)
        .filter_map(|part| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, tag))
        })
        .collect();
    // Stable: equal weights keep the header's order.
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
    weighted.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_language_has_every_english_key_with_the_same_placeholders() {
        let en: Table = serde_json::from_str(json("en").unwrap()).unwrap();
        assert!(en.len() > 50);
        for (code, text) in LANGUAGES {
            let table: Table = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("daemon/i18n/{code}.json does not parse: {e}"));
            for (k, v) in &en {
                let theirs = table
                    .get(k)
                    .unwrap_or_else(|| panic!("{code}.json lacks the key {k:?}"));
                assert!(!theirs.trim().is_empty(), "{code}.json: {k} is empty");
                assert_eq!(
                    placeholders(theirs),
                    placeholders(v),
                    "{code}.json: {k} has other placeholders than en.json"
                );
            }
            for k in table.keys() {
                assert!(
                    en.contains_key(k),
                    "{code}.json has {k:?}, which en.json lacks"
                );
            }
        }
    }

    #[test]
    fn the_browser_language_is_followed_and_an_explicit_choice_wins() {
        assert_eq!(negotiate(None, Some("es-MX,es;q=0.9,en;q=0.8")), "es");
        assert_eq!(negotiate(None, Some("de-DE,fr;q=0.7,en;q=0.5")), "fr");
        assert_eq!(negotiate(None, Some("de,pt")), "en");
        assert_eq!(negotiate(None, None), "en");
        assert_eq!(negotiate(Some("fr"), Some("es")), "fr");
        assert_eq!(negotiate(Some("xx"), Some("es")), "es");
        assert_eq!(negotiate(None, Some("en;q=0.5, fr;q=0.9")), "fr");
        assert_eq!(t("es", "nav.catalog"), "Catálogo");
        assert_eq!(t("xx", "nav.catalog"), "Catalog");
        assert_eq!(
            tf("fr", "catalog.matched", &[("n", "3")]),
            "Paquets trouvés : 3"
        );
    }
}
