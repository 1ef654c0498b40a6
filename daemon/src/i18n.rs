//! The web UI's and the gateway's own words, in several languages.
//!
//! Each language is a Project Fluent file in `daemon/i18n/` (`<code>.ftl`,
//! `id = text`, with `{ $name }` for a value weft fills in), compiled into
//! the binary and read with Mozilla's fluent-rs. The gateway renders with
//! it on the server; the web UI loads each language through
//! `/ui/i18n/{lang}` as JSON, where every message is formatted with its
//! variables written back as `{name}` for the script to fill in. Code names
//! a message with dots (`nav.catalog`), which stand for the hyphens of its
//! Fluent id (`nav-catalog`). A missing message falls back to English.
//!
//! To add a language: copy `en.ftl` to `<code>.ftl`, translate the texts
//! (keep the ids and the `{ $name }` parts; `lang-dir` is `rtl` for a
//! script written right to left), and add a line to [`LANGUAGES`]. A test
//! checks that every file parses and has every message of `en.ftl` with
//! the same variables. `docs/translating.md` says it for translators.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// Every language shipped: its code and its Fluent file.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../i18n/en.ftl")),
    ("es", include_str!("../i18n/es.ftl")),
    ("fr", include_str!("../i18n/fr.ftl")),
    ("pt", include_str!("../i18n/pt.ftl")),
    ("ar", include_str!("../i18n/ar.ftl")),
];

/// The language used when nothing else matches.
pub const DEFAULT: &str = "en";

type Bundle = FluentBundle<FluentResource>;

fn bundle(code: &str, source: &str) -> Bundle {
    let lang: unic_langid::LanguageIdentifier = code.parse().unwrap_or_default();
    let mut b = Bundle::new_concurrent(vec![lang]);
    // A file that does not parse is caught by the tests; at run time its
    // good messages are kept and the rest fall back to English.
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    let _ = b.add_resource(resource);
    // In a right-to-left language, each filled-in value is isolated
    // (Unicode FSI … PDI), so that an English name or a number keeps its
    // own direction inside Arabic text. Left-to-right languages go without
    // the invisible marks, so that their texts stay plain to copy and
    // compare.
    let rtl = b
        .get_message("lang-dir")
        .and_then(|m| m.value())
        .is_some_and(|p| {
            let mut errors = Vec::new();
            b.format_pattern(p, None, &mut errors) == "rtl"
        });
    b.set_use_isolating(rtl);
    b
}

fn bundles() -> &'static HashMap<&'static str, Bundle> {
    static B: OnceLock<HashMap<&'static str, Bundle>> = OnceLock::new();
    B.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|(code, source)| (*code, bundle(code, source)))
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

/// The Fluent id of a message that code names with dots.
fn fluent_id(key: &str) -> String {
    key.replace('.', "-")
}

/// `key` formatted in `lang` with `args`, if that language has it.
fn format(lang: &str, key: &str, args: Option<&FluentArgs>) -> Option<String> {
    let b = bundles().get(lang)?;
    let pattern = b.get_message(&fluent_id(key))?.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, args, &mut errors).into_owned())
}

/// The text for `key` in `lang`, else in English, else the key itself.
pub fn t(lang: &str, key: &str) -> String {
    tf(lang, key, &[])
}

/// [`t`] with its variables (`{ $name }`) filled in.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, *value);
    }
    let args = (!args.is_empty()).then_some(&fargs);
    format(lang, key, args)
        .or_else(|| format(DEFAULT, key, args))
        .unwrap_or_else(|| key.to_string())
}

/// Whether `lang` is written right to left (its `lang-dir` message).
pub fn rtl(lang: &str) -> bool {
    t(lang, "lang.dir") == "rtl"
}

/// `rtl` or `ltr`, for an HTML `dir` attribute.
pub fn dir(lang: &str) -> &'static str {
    if rtl(lang) {
        "rtl"
    } else {
        "ltr"
    }
}

/// The variables a pattern uses, in every branch.
fn variables<'s>(p: &fluent_syntax::ast::Pattern<&'s str>, out: &mut Vec<&'s str>) {
    use fluent_syntax::ast::{Expression, InlineExpression, PatternElement};
    fn inline<'s>(e: &InlineExpression<&'s str>, out: &mut Vec<&'s str>) {
        match e {
            InlineExpression::VariableReference { id } => out.push(id.name),
            InlineExpression::FunctionReference { arguments, .. } => {
                for a in &arguments.positional {
                    inline(a, out);
                }
                for a in &arguments.named {
                    inline(&a.value, out);
                }
            }
            InlineExpression::Placeable { expression } => expr(expression, out),
            _ => {}
        }
    }
    fn expr<'s>(e: &Expression<&'s str>, out: &mut Vec<&'s str>) {
        match e {
            Expression::Inline(i) => inline(i, out),
            Expression::Select { selector, variants } => {
                inline(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
        }
    }
    for el in &p.elements {
        if let PatternElement::Placeable { expression } = el {
            expr(expression, out);
        }
    }
}

/// Every message of a Fluent file with the variables it uses (sorted,
/// without repeats), or the parse errors.
pub fn messages(source: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let resource = fluent_syntax::parser::parse(source).map_err(|(_, errors)| {
        errors
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut out = Vec::new();
    for entry in resource.body {
        if let fluent_syntax::ast::Entry::Message(m) = entry {
            let mut vars = Vec::new();
            if let Some(v) = &m.value {
                variables(v, &mut vars);
            }
            let mut vars: Vec<String> = vars.into_iter().map(String::from).collect();
            vars.sort();
            vars.dedup();
            out.push((m.id.name.to_string(), vars));
        }
    }
    Ok(out)
}

/// A language's texts for the web UI, as JSON: every message by its
/// dotted key, formatted with its variables written `{name}` (the script
/// fills them in).
pub fn json(code: &str) -> Option<&'static str> {
    static J: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    let all = J.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|(code, source)| {
                let mut table = serde_json::Map::new();
                for (id, vars) in messages(source).unwrap_or_default() {
                    let key = id.replace('-', ".");
                    let args: Vec<(String, String)> = vars
                        .iter()
                        .map(|v| (v.clone(), format!("{{{v}}}")))
                        .collect();
                    let refs: Vec<(&str, &str)> =
                        args.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                    let text = tf(code, &key, &refs);
                    table.insert(key, serde_json::Value::String(text));
                }
                (*code, serde_json::Value::Object(table).to_string())
            })
            .collect()
    });
    let code = known(code)?;
    all.get(code).map(String::as_str)
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

    #[test]
    fn every_language_has_every_english_message_with_the_same_variables() {
        let en = messages(LANGUAGES[0].1).expect("en.ftl parses");
        assert!(en.len() > 150, "{}", en.len());
        for (code, source) in LANGUAGES {
            let theirs = messages(source)
                .unwrap_or_else(|e| panic!("daemon/i18n/{code}.ftl does not parse: {e}"));
            let theirs: HashMap<String, Vec<String>> = theirs.into_iter().collect();
            for (id, vars) in &en {
                let v = theirs
                    .get(id)
                    .unwrap_or_else(|| panic!("{code}.ftl lacks the message {id:?}"));
                assert_eq!(v, vars, "{code}.ftl: {id} uses other variables than en.ftl");
                assert!(
                    !t(code, &id.replace('-', ".")).trim().is_empty(),
                    "{code}.ftl: {id} is empty"
                );
            }
            for id in theirs.keys() {
                assert!(
                    en.iter().any(|(e, _)| e == id),
                    "{code}.ftl has {id:?}, which en.ftl lacks"
                );
            }
            assert!(
                matches!(t(code, "lang.dir").as_str(), "ltr" | "rtl"),
                "{code}: lang-dir"
            );
        }
        assert!(rtl("ar") && !rtl("pt"));
    }

    #[test]
    fn a_missing_message_or_variable_is_caught() {
        let en = messages("a = one { $n }\nb = two\n").unwrap();
        let broken = messages("a = uno\n").unwrap();
        assert_ne!(en[0], broken[0], "a lost variable is seen");
        assert_eq!(broken.len(), 1, "a lost message is seen");
        assert!(messages("a = {\n").is_err(), "junk is an error");
        let select =
            messages("a = { $n ->\n [one] one { $what }\n *[other] { $n } { $what }\n}\n").unwrap();
        assert_eq!(select[0].1, vec!["n".to_string(), "what".to_string()]);
    }

    #[test]
    fn the_ui_gets_every_message_with_its_placeholders() {
        let v: serde_json::Value = serde_json::from_str(json("fr").unwrap()).unwrap();
        assert_eq!(v["nav.catalog"], "Catalogue");
        let matched = v["catalog.matched"].as_str().unwrap();
        assert!(
            matched.contains("{n}") && matched.starts_with("Paquets trouvés"),
            "{matched}"
        );
        assert!(json("xx").is_none());
    }

    #[test]
    fn the_browser_language_is_followed_and_an_explicit_choice_wins() {
        assert_eq!(negotiate(None, Some("es-MX,es;q=0.9,en;q=0.8")), "es");
        assert_eq!(negotiate(None, Some("de-DE,fr;q=0.7,en;q=0.5")), "fr");
        assert_eq!(negotiate(None, Some("de,pt")), "pt");
        assert_eq!(negotiate(None, Some("de,sw")), "en");
        assert_eq!(negotiate(None, Some("ar-EG,ar;q=0.9")), "ar");
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
