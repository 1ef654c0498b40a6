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
use weft_protocol::units::human;
use weft_protocol::{Announcement, BundleId, PublisherId, SignedManifest};

mod download;
mod html;
mod pages;
pub mod preview;
#[cfg(test)]
mod tests;

use download::*;
pub use download::{raw_folder, send_file};
pub use html::esc;
use html::*;
use pages::*;

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
pub(super) const HELD_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Highest page number served.
pub(super) const MAX_PAGE: usize = 1000;
/// Longest query value read, in bytes.
pub(super) const MAX_QUERY_VALUE: usize = 256;
/// Entries shown in a filter list.
pub(super) const MAX_FACETS: usize = 50;

/// Policy of the gateway's own pages: its stylesheet and nothing else.
pub(super) const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Policy of bundle content: no scripts, no requests, a unique origin.
pub(super) const CONTENT_CSP: &str = "default-src 'none'; sandbox";

pub(super) const STYLE: &str = include_str!("../../ui/gateway.css");

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
pub(super) type HeldAt = (std::time::Instant, [u64; 4], Arc<Held>);

/// What the node holds, as the catalog page needs it.
pub(super) struct Held {
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
        .route("/preview/{id}/{*path}", get(preview))
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
pub(super) async fn common_headers(req: Request, next: Next) -> Response {
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
    // A rendered preview may be framed by the bundle page; nothing else.
    h.entry("x-frame-options")
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(PAGE_CSP));
    r
}

/// Every complete bundle held, and what the filters can offer. Read
/// again when holdings or the catalog change (or after [`HELD_TTL`]), not
/// for every reader.
pub(super) async fn held(st: &GatewayState) -> Result<Arc<Held>, crate::error::NodeError> {
    let u = st.node.holdings.usage();
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
    let node = st.node.clone();
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
            publishers: top(pubs, |p| {
                (p.to_string(), publisher_label(&node.describe(p, None)))
            }),
        }
    })
    .await
    .map_err(|e| crate::error::NodeError::Internal(e.to_string()))?;
    let h = Arc::new(h);
    *cache = Some((std::time::Instant::now(), key, h.clone()));
    Ok(h)
}

pub(super) async fn not_found(State(st): State<GatewayState>, headers: HeaderMap) -> Response {
    let lang = negotiate(None, accept_language(&headers));
    not_found_page(&st, lang, "gateway.not_found")
}

pub(super) fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "10")],
        "busy; try again in a few seconds\n",
    )
        .into_response()
}

pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}
