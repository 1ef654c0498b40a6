//! The gateway's HTML: escaping, the page frame, languages.

use super::*;

/// Escapes text for HTML content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters (and `/` when
/// `keep_slash`), for URLs built from bundle paths and query values.
pub(super) fn pct(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A query string from the pairs whose value is not empty.
pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", pct(v, false)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub(super) fn accept_language(h: &HeaderMap) -> Option<&str> {
    h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// The reader's languages for bundle texts, best first: an explicit pick,
/// then the browser's list, then the interface language.
pub(super) fn reader_langs(hl: Option<&str>, accept: Option<&str>, ui: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = hl.filter(|h| !h.is_empty()) {
        out.push(h.to_string());
    }
    out.extend(
        crate::i18n::preferences(accept)
            .into_iter()
            .map(String::from),
    );
    out.push(ui.to_string());
    out
}

/// The index of the best text for the reader among `langs` of a bundle.
pub(super) fn best_lang<'a>(have: impl Iterator<Item = &'a str> + Clone, want: &[String]) -> usize {
    for w in want {
        // An exact tag first, then the language alone (`es` for `es-MX`).
        if let Some(i) = have.clone().position(|h| h.eq_ignore_ascii_case(w)) {
            return i;
        }
        let primary = w.split('-').next().unwrap_or(w);
        if let Some(i) = have.clone().position(|h| lang_matches(h, primary)) {
            return i;
        }
    }
    0
}

pub(super) fn title_of(a: &Announcement, want: &[String]) -> String {
    let i = best_lang(a.titles.iter().map(|t| t.lang.as_str()), want);
    a.titles.get(i).map(|t| t.title.clone()).unwrap_or_default()
}

/// How a publisher is shown on the gateway: the hub's own name for it
/// if it gave one, else the name its profile claims (marked as its claim),
/// the fingerprint, and a warning when another key claims that name.
pub(super) fn publisher_html(n: &weft_protocol::api::PublisherName, lang: &str) -> String {
    let mut s = match (&n.petname, &n.profile_name) {
        (Some(p), _) => format!("<span class=\"who\">{}</span> ", esc(p)),
        (None, Some(c)) => format!(
            "<span class=\"who\">{}</span> <small>({})</small> ",
            esc(c),
            esc(&crate::i18n::t(lang, "publisher.own_claim"))
        ),
        (None, None) => String::new(),
    };
    s.push_str(&format!(
        "<span class=\"fp\" title=\"{}\">{}</span>",
        esc(&crate::i18n::t(lang, "publisher.fingerprint")),
        esc(&n.fingerprint)
    ));
    if n.same_name && n.petname.is_none() {
        s.push_str(&format!(
            " <strong class=\"warn same-name\">{}</strong>",
            esc(&crate::i18n::t(lang, "publisher.same_name"))
        ));
    }
    s
}

/// A publisher shown in a plain-text list (a select's option): its name
/// and fingerprint.
pub(super) fn publisher_label(n: &weft_protocol::api::PublisherName) -> String {
    match (&n.petname, &n.profile_name) {
        (Some(p), _) => format!("{p} · {}", n.fingerprint),
        (None, Some(c)) => format!("~{c} · {}", n.fingerprint),
        (None, None) => n.fingerprint.clone(),
    }
}

/// One whole page around `body`.
pub(super) fn page(
    st: &GatewayState,
    lang: &str,
    head_title: &str,
    here: &str,
    body: &str,
) -> String {
    let mut switch = String::new();
    for (code, _) in LANGUAGES {
        let name = t(code, "lang.name");
        if *code == lang {
            let _ = write!(switch, "<strong lang=\"{code}\">{}</strong> ", esc(&name));
        } else {
            let sep = if here.contains('?') { '&' } else { '?' };
            let _ = write!(
                switch,
                "<a lang=\"{code}\" hreflang=\"{code}\" href=\"{}{sep}hl={code}\">{}</a> ",
                esc(here),
                esc(&name)
            );
        }
    }
    let dir = crate::i18n::dir(lang);
    format!(
        "<!doctype html>\n<html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · {}</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>\
<header><a class=\"site\" href=\"/{}\">{}</a><nav aria-label=\"{}\">{switch}</nav></header>\
<main>{body}</main><footer>{}</footer></body></html>\n",
        esc(head_title),
        esc(&st.title),
        query_string(&[("hl", lang)]),
        esc(&st.title),
        esc(&t(lang, "lang.label")),
        esc(&t(lang, "gateway.footer")),
    )
}

pub(super) fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

pub(super) fn not_found_page(st: &GatewayState, lang: &str, key: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p><a href=\"/{}\">{}</a></p>",
        esc(&t(lang, key)),
        query_string(&[("hl", lang)]),
        esc(&t(lang, "bundle.back"))
    );
    html(
        StatusCode::NOT_FOUND,
        page(st, lang, &t(lang, key), "/", &body),
    )
}

pub(super) fn tags_html(tags: &[String], lang: &str) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let mut s = String::from(" <span class=\"tags\">");
    for t in tags {
        let _ = write!(
            s,
            "<a class=\"tag\" href=\"/{}\">{}</a> ",
            query_string(&[("tag", t), ("hl", lang)]),
            esc(t)
        );
    }
    s.push_str("</span>");
    s
}

/// A failure on this side: the detail goes to the log, not to the reader.
pub(super) fn error_page(st: &GatewayState, lang: &str, e: &crate::error::NodeError) -> Response {
    tracing::warn!("gateway page failed: {e}");
    let body = format!(
        "<h1>{}</h1>",
        esc(&tf(lang, "error.generic", &[("error", "500")]))
    );
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page(st, lang, "500", "/", &body),
    )
}
