//! The public gateway: read-only web pages and downloads for anyone with a
//! browser, on its own listener (`gateway.listen`), off by default.
//!
//! It lists and serves only the bundles this node holds completely; a
//! reader can never make the node fetch anything. Pages are plain HTML
//! with one small stylesheet, no JavaScript and nothing from elsewhere,
//! in the reader's language. Files stream chunk by chunk, each checked
//! against its BLAKE3 hash before a byte of it is sent, with single-range
//! support. Bundle content is sandboxed (`Content-Security-Policy:
//! sandbox`), never sniffed, and active types (HTML, SVG, ...) are only
//! offered as attachments. Nothing of the local API is reachable here, and
//! the gateway always has another port than the API, so the two never
//! share an origin.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use weft_protocol::chunk::{chunk_len, has_index, parse_index, small_file_chunks, verify_blob};
use weft_protocol::limits::CHUNK_SIZE;
use weft_protocol::units::human;
use weft_protocol::{Announcement, BundleId, ContentHash, PublisherId, SignedManifest};

use crate::catalog::{lang_matches, Query as CatalogQuery};
use crate::i18n::{negotiate, t, tf, LANGUAGES};
use crate::node::Node;

/// Bundles per catalog page.
pub const PER_PAGE: usize = 30;
/// Downloads streaming at once; more get 503 and a Retry-After.
pub const MAX_DOWNLOADS: usize = 64;
/// Catalog pages rendered at once; more get 503 and a Retry-After.
pub const MAX_PAGE_RENDERS: usize = 8;
/// Connections open at once; the listener waits for one to close before
/// it accepts another.
pub const MAX_CONNECTIONS: usize = 512;
/// A connection that has not sent a whole request head within this long
/// (idle keep-alive included) is closed.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// A download whose reader takes nothing for this long is ended, and its
/// slot freed.
pub const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Longest the list of held bundles and the filter choices are reused
/// while what the node holds and lists looks unchanged.
const HELD_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Highest page number served.
const MAX_PAGE: usize = 1000;
/// Longest query value read, in bytes.
const MAX_QUERY_VALUE: usize = 256;
/// Entries shown in a filter list.
const MAX_FACETS: usize = 50;

/// Policy of the gateway's own pages: its stylesheet and nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Policy of bundle content: no scripts, no requests, a unique origin.
const CONTENT_CSP: &str = "default-src 'none'; sandbox";

const STYLE: &str = include_str!("../ui/gateway.css");

/// What the gateway's handlers share.
#[derive(Clone)]
pub struct GatewayState {
    /// The node.
    pub node: Node,
    /// The name at the top of every page.
    pub title: Arc<str>,
    /// Download slots.
    pub downloads: Arc<tokio::sync::Semaphore>,
    /// Catalog page render slots.
    pub renders: Arc<tokio::sync::Semaphore>,
    /// The held bundles and the filter choices, with when they were read.
    held: Arc<tokio::sync::Mutex<Option<HeldAt>>>,
}

/// [`Held`], when it was read, and what the node held and listed then.
type HeldAt = (std::time::Instant, [u64; 4], Arc<Held>);

/// What the node holds, as the catalog page needs it.
struct Held {
    ids: Arc<HashSet<BundleId>>,
    /// Each filter's choices: a value and its label with a count.
    langs: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    publishers: Vec<(String, String)>,
}

impl GatewayState {
    /// The state for `node`, with the title from the config.
    pub fn new(node: Node, title: &str) -> Self {
        Self {
            node,
            title: title.into(),
            downloads: Arc::new(tokio::sync::Semaphore::new(MAX_DOWNLOADS)),
            renders: Arc::new(tokio::sync::Semaphore::new(MAX_PAGE_RENDERS)),
            held: Arc::default(),
        }
    }
}

/// The gateway's routes.
pub fn router(state: GatewayState) -> Router {
    Router::new()
        .route("/", get(catalog_page))
        .route("/bundle/{id}", get(bundle_page))
        .route("/file/{id}/{*path}", get(file))
        .route("/style.css", get(style))
        .fallback(not_found)
        .layer(middleware::from_fn(common_headers))
        .with_state(state)
}

/// Serves the gateway on `listener` until `stop` completes: HTTP/1.1, at
/// most [`MAX_CONNECTIONS`] connections, each closed when a request head
/// takes longer than [`HEADER_TIMEOUT`] (which also ends idle keep-alive).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => return,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let socket = tokio::select! {
            _ = &mut stop => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors, most likely: wait a little.
                    tracing::warn!("gateway: cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(
            app.clone()
                .map_request(|r: axum::http::Request<hyper::body::Incoming>| r.map(Body::new)),
        );
        tokio::spawn(async move {
            let _slot = permit;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(socket), service);
            let _ = conn.await;
        });
    }
}

/// Read-only: anything but GET and HEAD is refused before routing, and
/// every answer says not to be framed or to leak where it came from.
async fn common_headers(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = (
            StatusCode::METHOD_NOT_ALLOWED,
            "this gateway is read-only\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(PAGE_CSP));
    r
}

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
fn pct(s: &str, keep_slash: bool) -> String {
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
fn query_string(pairs: &[(&str, &str)]) -> String {
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

fn accept_language(h: &HeaderMap) -> Option<&str> {
    h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// The reader's languages for bundle texts, best first: an explicit pick,
/// then the browser's list, then the interface language.
fn reader_langs(hl: Option<&str>, accept: Option<&str>, ui: &str) -> Vec<String> {
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
fn best_lang<'a>(have: impl Iterator<Item = &'a str> + Clone, want: &[String]) -> usize {
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

fn title_of(a: &Announcement, want: &[String]) -> String {
    let i = best_lang(a.titles.iter().map(|t| t.lang.as_str()), want);
    a.titles.get(i).map(|t| t.title.clone()).unwrap_or_default()
}

/// A publisher id shortened for lists.
fn short(p: &PublisherId) -> String {
    let s = p.to_string();
    if s.len() > 12 {
        format!("{}…", &s[..12])
    } else {
        s
    }
}

/// One whole page around `body`.
fn page(st: &GatewayState, lang: &str, head_title: &str, here: &str, body: &str) -> String {
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
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
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

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The query of the catalog page. Every field is optional and bounded.
#[derive(Debug, Default, Deserialize)]
pub struct CatalogParams {
    q: Option<String>,
    lang: Option<String>,
    tag: Option<String>,
    publisher: Option<String>,
    hl: Option<String>,
    page: Option<usize>,
}

/// Every complete bundle held, and what the filters can offer. Read
/// again when holdings or the catalog change (or after [`HELD_TTL`]), not
/// for every reader.
async fn held(st: &GatewayState) -> Result<Arc<Held>, crate::node::NodeError> {
    let u = st.node.storage.usage();
    let key = [u.bundles, u.used, u.pinned, st.node.catalog.len() as u64];
    let mut cache = st.held.lock().await;
    if let Some((at, k, h)) = cache.as_ref() {
        if at.elapsed() < HELD_TTL && *k == key {
            return Ok(h.clone());
        }
    }
    let ids: Arc<HashSet<BundleId>> = Arc::new(
        st.node
            .blocking(|s| s.bundle_ids())
            .await?
            .into_iter()
            .collect(),
    );
    let catalog = st.node.catalog.clone();
    let only = ids.clone();
    let h = tokio::task::spawn_blocking(move || {
        let mut langs = BTreeMap::<String, usize>::new();
        let mut tags = BTreeMap::<String, usize>::new();
        let mut pubs = BTreeMap::<PublisherId, usize>::new();
        let mut all = CatalogQuery::new(None, None, None, None);
        all.only = Some(only.clone());
        for a in catalog.search(&all, usize::MAX).results {
            for t in &a.titles {
                *langs.entry(t.lang.clone()).or_default() += 1;
            }
            for t in &a.tags {
                *tags.entry(t.clone()).or_default() += 1;
            }
            *pubs.entry(a.publisher).or_default() += 1;
        }
        // The most common first, so the lists stay short and useful.
        fn top<K: Ord>(
            m: BTreeMap<K, usize>,
            show: impl Fn(&K) -> (String, String),
        ) -> Vec<(String, String)> {
            let mut v: Vec<(K, usize)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(MAX_FACETS);
            v.iter()
                .map(|(k, n)| {
                    let (value, label) = show(k);
                    (value, format!("{label} ({n})"))
                })
                .collect()
        }
        Held {
            ids: only,
            langs: top(langs, |l| (l.clone(), l.clone())),
            tags: top(tags, |t| (t.clone(), t.clone())),
            publishers: top(pubs, |p| (p.to_string(), short(p))),
        }
    })
    .await
    .map_err(|e| crate::node::NodeError::Internal(e.to_string()))?;
    let h = Arc::new(h);
    *cache = Some((std::time::Instant::now(), key, h.clone()));
    Ok(h)
}

fn not_found_page(st: &GatewayState, lang: &str, key: &str) -> Response {
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

async fn not_found(State(st): State<GatewayState>, headers: HeaderMap) -> Response {
    let lang = negotiate(None, accept_language(&headers));
    not_found_page(&st, lang, "gateway.not_found")
}

fn too_long(v: &Option<String>) -> bool {
    v.as_ref().is_some_and(|s| s.len() > MAX_QUERY_VALUE)
}

async fn catalog_page(
    State(st): State<GatewayState>,
    headers: HeaderMap,
    Query(p): Query<CatalogParams>,
) -> Response {
    let lang = negotiate(p.hl.as_deref(), accept_language(&headers));
    if [&p.q, &p.lang, &p.tag, &p.publisher, &p.hl]
        .iter()
        .any(|v| too_long(v))
    {
        return html(
            StatusCode::BAD_REQUEST,
            page(&st, lang, "400", "/", "<h1>400</h1>"),
        );
    }
    let Ok(_render) = st.renders.clone().try_acquire_owned() else {
        return busy();
    };
    let node = &st.node;
    node.catalog.ready().await;
    let held = match held(&st).await {
        Ok(h) => h,
        Err(e) => return error_page(&st, lang, &e),
    };
    let publisher = p
        .publisher
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| PublisherId::from_str(s).ok());
    let mut query = CatalogQuery::new(
        p.q.as_deref(),
        p.lang.as_deref(),
        p.tag.as_deref(),
        publisher,
    );
    query.only = Some(held.ids.clone());
    let page_no = p.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let catalog = node.catalog.clone();
    let found =
        match tokio::task::spawn_blocking(move || catalog.search(&query, page_no * PER_PAGE)).await
        {
            Ok(f) => f,
            Err(e) => {
                return error_page(&st, lang, &crate::node::NodeError::Internal(e.to_string()))
            }
        };
    let want = reader_langs(None, accept_language(&headers), lang);
    let q = p.q.clone().unwrap_or_default();
    let sel_lang = p.lang.clone().unwrap_or_default();
    let sel_tag = p.tag.clone().unwrap_or_default();
    let sel_pub = p.publisher.clone().unwrap_or_default();
    let any = esc(&t(lang, "filter.any"));
    let options = |items: &[(String, String)], selected: &str| -> String {
        let mut o = format!("<option value=\"\">{any}</option>");
        for (value, label) in items {
            let sel = if value == selected { " selected" } else { "" };
            let _ = write!(
                o,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(value),
                esc(label)
            );
        }
        o
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"intro\">{}</p><form method=\"get\" action=\"/\" role=\"search\">\
<input type=\"hidden\" name=\"hl\" value=\"{lang}\">\
<label>{} <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"{}\" maxlength=\"200\"></label> \
<label>{} <select name=\"lang\">{}</select></label> \
<label>{} <select name=\"tag\">{}</select></label> \
<label>{} <select name=\"publisher\">{}</select></label> \
<button type=\"submit\">{}</button> <a href=\"/{}\">{}</a></form>",
        esc(&t(lang, "gateway.intro")),
        esc(&t(lang, "search.label")),
        esc(&q),
        esc(&t(lang, "search.placeholder")),
        esc(&t(lang, "filter.lang")),
        options(&held.langs, &sel_lang),
        esc(&t(lang, "filter.tag")),
        options(&held.tags, &sel_tag),
        esc(&t(lang, "filter.publisher")),
        options(&held.publishers, &sel_pub),
        esc(&t(lang, "search.button")),
        query_string(&[("hl", lang)]),
        esc(&t(lang, "filter.clear")),
    );
    let _ = write!(
        body,
        "<p class=\"count\">{}</p>",
        esc(&tf(
            lang,
            "catalog.matched",
            &[("n", &found.matched.to_string())]
        ))
    );
    let start = (page_no - 1) * PER_PAGE;
    if found.results.len() <= start {
        let _ = write!(body, "<p>{}</p>", esc(&t(lang, "catalog.empty")));
    } else {
        body.push_str("<ul class=\"results\">");
        for a in &found.results[start..] {
            let _ = write!(
                body,
                "<li><a href=\"/bundle/{}{}\">{}</a> <span class=\"meta\">{} · {} · {}</span>{}</li>",
                a.id,
                query_string(&[("hl", lang)]),
                esc(&title_of(a, &want)),
                esc(&a.name),
                human(a.size),
                esc(&tf(lang, "bundle.file_count", &[("n", &a.files.to_string())])),
                tags_html(&a.tags, lang),
            );
        }
        body.push_str("</ul>");
    }
    let here_pairs = |page: usize| -> String {
        let page = page.to_string();
        format!(
            "/{}",
            query_string(&[
                ("q", &q),
                ("lang", &sel_lang),
                ("tag", &sel_tag),
                ("publisher", &sel_pub),
                ("hl", lang),
                ("page", if page == "1" { "" } else { &page }),
            ])
        )
    };
    let mut nav = String::new();
    if page_no > 1 {
        let _ = write!(
            nav,
            "<a rel=\"prev\" href=\"{}\">{}</a> ",
            esc(&here_pairs(page_no - 1)),
            esc(&t(lang, "gateway.prev"))
        );
    }
    if found.matched > page_no * PER_PAGE {
        let _ = write!(
            nav,
            "<a rel=\"next\" href=\"{}\">{}</a>",
            esc(&here_pairs(page_no + 1)),
            esc(&t(lang, "gateway.next"))
        );
    }
    if !nav.is_empty() {
        let _ = write!(body, "<nav class=\"pages\">{nav}</nav>");
    }
    // The language links keep the search but not the page language.
    let here = format!(
        "/{}",
        query_string(&[
            ("q", &q),
            ("lang", &sel_lang),
            ("tag", &sel_tag),
            ("publisher", &sel_pub)
        ])
    );
    let title = t(lang, "nav.catalog");
    html(StatusCode::OK, page(&st, lang, &title, &here, &body))
}

fn tags_html(tags: &[String], lang: &str) -> String {
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
fn error_page(st: &GatewayState, lang: &str, e: &crate::node::NodeError) -> Response {
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

/// The query of a bundle page.
#[derive(Debug, Default, Deserialize)]
pub struct LangParam {
    hl: Option<String>,
}

/// A held, listable bundle's signed manifest, or why not.
async fn servable(st: &GatewayState, id: &str) -> Result<SignedManifest, &'static str> {
    let id = BundleId::from_str(id).map_err(|_| "gateway.not_found")?;
    let node = &st.node;
    let m = node
        .local_manifest(id)
        .await
        .ok()
        .flatten()
        .ok_or("gateway.not_here")?;
    // A retracted bundle is served only where the catalog still lists it:
    // the operator pinned it explicitly.
    let kept = node.storage.pin_kind(&id) == Some(crate::store::PinKind::Explicit);
    if (node.catalog.standing(&id).retracted && !kept)
        || node.policy.is_blocked(&m.manifest().publisher)
    {
        return Err("gateway.not_here");
    }
    Ok(m)
}

async fn bundle_page(
    State(st): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<LangParam>,
) -> Response {
    let lang = negotiate(p.hl.as_deref(), accept_language(&headers));
    if too_long(&p.hl) {
        return not_found_page(&st, lang, "gateway.not_found");
    }
    let signed = match servable(&st, &id).await {
        Ok(m) => m,
        Err(key) => return not_found_page(&st, lang, key),
    };
    let id = signed.id();
    let m = signed.manifest();
    let want = reader_langs(p.hl.as_deref(), accept_language(&headers), lang);
    let text =
        &m.texts[best_lang(m.texts.iter().map(|t| t.lang.as_str()), &want).min(m.texts.len() - 1)];
    let mut body = String::new();
    let _ = write!(
        body,
        "<p><a href=\"/{}\">← {}</a></p><article lang=\"{}\"><h1>{}</h1>",
        query_string(&[("hl", lang)]),
        esc(&t(lang, "bundle.back")),
        esc(&text.lang),
        esc(&text.title)
    );
    for para in text
        .description
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
    {
        let _ = write!(body, "<p>{}</p>", esc(para.trim()));
    }
    body.push_str("</article>");
    let mut dl = String::from("<dl>");
    let mut row = |k: &str, v: String| {
        let _ = write!(dl, "<dt>{}</dt><dd>{v}</dd>", esc(&t(lang, k)));
    };
    // Each language links to the page with that text.
    let langs: Vec<String> = m
        .texts
        .iter()
        .map(|x| {
            if x.lang == text.lang {
                format!("<strong>{}</strong>", esc(&x.lang))
            } else {
                format!(
                    "<a hreflang=\"{l}\" href=\"/bundle/{id}{}\">{l}</a>",
                    query_string(&[("hl", &x.lang)]),
                    l = esc(&x.lang)
                )
            }
        })
        .collect();
    row("bundle.other_langs", langs.join(", "));
    row("bundle.size", human(m.total_size()));
    row("bundle.name", esc(&m.name));
    row("bundle.version", m.seq.to_string());
    if !m.tags.is_empty() {
        row("bundle.tags", tags_html(&m.tags, lang));
    }
    if !m.licence.is_empty() {
        row("bundle.licence", esc(&m.licence));
    }
    row(
        "bundle.publisher",
        format!(
            "<a href=\"/{}\"><code>{}</code></a>",
            query_string(&[("publisher", &m.publisher.to_string()), ("hl", lang)]),
            m.publisher
        ),
    );
    row("bundle.id", format!("<code>{id}</code>"));
    dl.push_str("</dl>");
    body.push_str(&dl);
    let _ = write!(
        body,
        "<h2>{}</h2><table class=\"files\"><tbody>",
        esc(&t(lang, "gateway.files_of"))
    );
    for f in &m.files {
        let _ = write!(
            body,
            "<tr><td><a href=\"/file/{id}/{}\">{}</a></td><td class=\"size\">{}</td></tr>",
            esc(&pct(&f.path, true)),
            esc(&f.path),
            human(f.size)
        );
    }
    body.push_str("</tbody></table>");
    let here = format!("/bundle/{id}");
    html(StatusCode::OK, page(&st, lang, &text.title, &here, &body))
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "10")],
        "busy; try again in a few seconds\n",
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// The content type for a file name, and whether it is passive enough
/// to show in the browser (text, images other than SVG, audio, video).
pub fn content_type(path: &str) -> (&'static str, bool) {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "md" | "csv" | "tsv" | "srt" | "vtt" => ("text/plain; charset=utf-8", true),
        "png" => ("image/png", true),
        "jpg" | "jpeg" => ("image/jpeg", true),
        "gif" => ("image/gif", true),
        "webp" => ("image/webp", true),
        "avif" => ("image/avif", true),
        "mp3" => ("audio/mpeg", true),
        "ogg" | "oga" | "opus" => ("audio/ogg", true),
        "wav" => ("audio/wav", true),
        "flac" => ("audio/flac", true),
        "m4a" => ("audio/mp4", true),
        "mp4" | "m4v" => ("video/mp4", true),
        "webm" => ("video/webm", true),
        "ogv" => ("video/ogg", true),
        "pdf" => ("application/pdf", false),
        "html" | "htm" | "xhtml" => ("text/html; charset=utf-8", false),
        "svg" => ("image/svg+xml", false),
        "xml" => ("application/xml", false),
        "js" | "mjs" => ("text/javascript", false),
        "css" => ("text/css", false),
        "json" => ("application/json", false),
        "zip" => ("application/zip", false),
        "epub" => ("application/epub+zip", false),
        "odt" => ("application/vnd.oasis.opendocument.text", false),
        "ods" => ("application/vnd.oasis.opendocument.spreadsheet", false),
        "odp" => ("application/vnd.oasis.opendocument.presentation", false),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            false,
        ),
        _ => ("application/octet-stream", false),
    }
}

/// A `Range` header's one range as `(first, last)` inclusive, `Ok(None)`
/// for the whole file (no header, several ranges, or another unit), and
/// `Err` when it cannot be satisfied.
fn parse_range(h: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
            Err(())
        } else {
            s.parse::<u64>().map_err(|_| ())
        }
    };
    let (first, last) = if a.is_empty() {
        let n = num(b)?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let first = num(a)?;
        let last = if b.is_empty() { u64::MAX } else { num(b)? };
        if first > last || first >= size {
            return Err(());
        }
        (first, last.min(size - 1))
    };
    Ok(Some((first, last)))
}

/// The chunk hashes of one file, from its index when it has one.
fn chunks_of(node: &Node, f: &weft_protocol::FileEntry) -> Result<Vec<ContentHash>, String> {
    if has_index(f.size) {
        let index = node
            .store
            .get_blob(&f.hash)
            .map_err(|e| e.to_string())?
            .ok_or("the file's chunk index is missing")?;
        parse_index(&f.hash, f.size, &index).map_err(|e| e.to_string())
    } else {
        Ok(small_file_chunks(&f.hash, f.size))
    }
}

async fn file(
    State(st): State<GatewayState>,
    method: Method,
    headers: HeaderMap,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    let lang = negotiate(None, accept_language(&headers));
    let signed = match servable(&st, &id).await {
        Ok(m) => m,
        Err(key) => return not_found_page(&st, lang, key),
    };
    let Some(f) = signed
        .manifest()
        .files
        .iter()
        .find(|f| f.path == path)
        .cloned()
    else {
        return not_found_page(&st, lang, "gateway.not_found");
    };
    let size = f.size;
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    );
    let (ctype, inline) = content_type(&f.path);
    let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        name.replace(
            |c: char| !c.is_ascii_graphic() || c == '"' || c == '\\',
            "_"
        ),
        pct(&name, false)
    );
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_CSP)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{}\"", f.hash))
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    let (first, last) = match range {
        Err(()) => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .unwrap_or_default();
        }
        Ok(Some((a, b))) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{size}"));
            (a, b)
        }
        Ok(None) => {
            builder = builder.status(StatusCode::OK);
            (0, size.saturating_sub(1))
        }
    };
    let len = if size == 0 { 0 } else { last - first + 1 };
    builder = builder.header(header::CONTENT_LENGTH, len);
    if method == Method::HEAD || len == 0 {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    let Ok(permit) = st.downloads.clone().try_acquire_owned() else {
        return busy();
    };
    let node = st.node.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        let _permit = permit;
        let stop = |why: String| {
            tracing::warn!(file = %f.path, "gateway download stopped: {why}");
            Err(std::io::Error::other(why))
        };
        let read = {
            let (node, f) = (node.clone(), f.clone());
            tokio::task::spawn_blocking(move || chunks_of(&node, &f)).await
        };
        let chunks = match read {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return drop(tx.send_timeout(stop(e), STALL_TIMEOUT).await),
            Err(e) => return drop(tx.send_timeout(stop(e.to_string()), STALL_TIMEOUT).await),
        };
        for i in first / CHUNK_SIZE..=last / CHUNK_SIZE {
            let Some(hash) = chunks.get(i as usize).copied() else {
                let short = stop("the chunk index is shorter than the file".into());
                let _ = tx.send_timeout(short, STALL_TIMEOUT).await;
                return;
            };
            let want = chunk_len(size, i);
            let node = node.clone();
            let piece = tokio::task::spawn_blocking(move || -> Result<Bytes, String> {
                let bytes = node
                    .store
                    .get_blob(&hash)
                    .map_err(|e| e.to_string())?
                    .ok_or("a block is missing")?;
                // Nothing is sent that does not match the signed hashes.
                verify_blob(&hash, want, &bytes)
                    .map_err(|e| format!("a stored block is damaged: {e}"))?;
                let start = i * CHUNK_SIZE;
                let from = first.saturating_sub(start) as usize;
                let to = (last - start + 1).min(want) as usize;
                Ok(Bytes::from(bytes).slice(from..to))
            })
            .await;
            let piece = match piece {
                Ok(Ok(p)) => Ok(p),
                Ok(Err(e)) => stop(e),
                Err(e) => stop(e.to_string()),
            };
            let failed = piece.is_err();
            // A reader that takes nothing for a minute gives its slot back;
            // one that left ends the loop at once.
            match tx.send_timeout(piece, STALL_TIMEOUT).await {
                Ok(()) if !failed => {}
                _ => return,
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    builder.body(Body::from_stream(stream)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=50-5000"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("pages=1-2"), 100), Ok(None));
        assert_eq!(
            parse_range(Some("bytes=99999999999999999999999-"), 100),
            Err(())
        );
    }

    #[test]
    fn active_types_are_attachments_and_text_is_escaped() {
        assert_eq!(
            content_type("a/index.html"),
            ("text/html; charset=utf-8", false)
        );
        assert!(!content_type("x.SVG").1);
        assert!(!content_type("noext").1);
        assert!(content_type("photo.JPG").1);
        assert!(content_type("notes.md").1);
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(pct("a b/ü?.txt", true), "a%20b/%C3%BC%3F.txt");
        assert_eq!(query_string(&[("q", "a&b"), ("tag", "")]), "?q=a%26b");
    }

    #[test]
    fn the_reader_gets_their_own_language_first() {
        let want = reader_langs(None, Some("pt-BR,pt;q=0.9,en;q=0.5"), "en");
        let have = ["en", "es", "pt"];
        assert_eq!(best_lang(have.iter().copied(), &want), 2);
        let want = reader_langs(Some("es"), Some("pt"), "en");
        assert_eq!(best_lang(have.iter().copied(), &want), 1);
        let want = reader_langs(None, Some("de"), "fr");
        assert_eq!(best_lang(["es", "en"].iter().copied(), &want), 0);
    }
}
