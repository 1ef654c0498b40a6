//! The local HTTP/JSON API, on 127.0.0.1 only.
//!
//! Every route requires `Authorization: Bearer <token>`, where the token is
//! the random secret in the data dir's `api.token` (mode 0600). The `Host`
//! header must name the loopback listener (a DNS-rebinding page sends its own
//! host name), a browser `Origin` must be this listener's own, state changes
//! only happen on POST, and bodies are capped. Bundle content is never served
//! here: `weft get` asks the daemon to write files to a folder instead.

use std::net::SocketAddr;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use weft_protocol::api::{
    ConnectBody, ExportBody, FetchBody, IdBody, ImportBody, JobQuery, JoinBody, PublishRequest,
    RuleBody, SearchQuery,
};
use weft_protocol::{Announcement, BundleId, PublisherId};

use crate::catalog;
use crate::node::{status_of, JobState, Node, NodeError};
use crate::policy::Rule;
use crate::store::{PinKind, StoreError};

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 1000;
/// Results a search returns when it does not say how many it wants.
pub const DEFAULT_SEARCH_RESULTS: usize = 50;

/// Shared state of the API handlers.
#[derive(Clone)]
pub struct ApiState {
    /// The node.
    pub node: Node,
    /// The secret every request must carry.
    pub token: String,
    /// The address the API is bound to, for Host and Origin checks.
    pub addr: SocketAddr,
    /// The web UI's login codes and sessions.
    pub sessions: std::sync::Arc<crate::ui::Sessions>,
}

/// An API error: an HTTP status and one sentence for a person.
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// An error with this status and sentence.
    pub fn new(status: StatusCode, msg: String) -> Self {
        Self(status, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        ApiError(
            StatusCode::from_u16(status_of(&e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.to_string(),
        )
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

type ApiResult = Result<Json<Value>, ApiError>;

/// Whether two secrets are equal, in time that does not depend on where
/// they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn guard(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let port = st.addr.port();
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let hosts = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if !hosts.iter().any(|h| h == host) {
        return ApiError(
            StatusCode::MISDIRECTED_REQUEST,
            format!("Host {host:?} is not this API; use http://127.0.0.1:{port}"),
        )
        .into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin.to_str().is_ok_and(|o| {
            o == format!("http://127.0.0.1:{port}") || o == format!("http://localhost:{port}")
        });
        if !ok {
            return ApiError(
                StatusCode::FORBIDDEN,
                "requests from other web origins are refused".into(),
            )
            .into_response();
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let path = req.uri().path();
    // The login link's code is its own credential.
    let login = path == "/ui/login";
    let by_token = constant_time_eq(token.as_bytes(), st.token.as_bytes());
    let by_session = !by_token
        && crate::ui::sessions_of(headers, port)
            .iter()
            .any(|s| st.sessions.valid(s));
    if !(login || by_token || by_session) {
        if path.starts_with("/ui/") || path == "/ui" {
            return crate::ui::login_needed(headers);
        }
        return ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong API token; the token is in api.token in the data dir".into(),
        )
        .into_response();
    }
    // A browser's change must say where it comes from; the check above
    // has made sure that, if it does, it is this listener.
    if by_session
        && req.method() != axum::http::Method::GET
        && req.method() != axum::http::Method::HEAD
        && !headers.contains_key(header::ORIGIN)
    {
        return ApiError(
            StatusCode::FORBIDDEN,
            "a change made with the web UI's session must carry the page's Origin".into(),
        )
        .into_response();
    }
    let response = next.run(req).await;
    // Errors the framework raises itself (wrong method, body too large,
    // unreadable body) get the same JSON shape as the API's own.
    let status = response.status();
    // (The web UI's own pages for a person, in HTML, stay as they are.)
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if status.is_client_error() && !ours {
        let msg = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                "wrong method for this route: reads are GET, changes are POST".to_string()
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("the request body is over the API's limit of {MAX_BODY_BYTES} bytes")
            }
            s => format!("bad request ({s})"),
        };
        return ApiError(status, msg).into_response();
    }
    response
}

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/peers", get(peers))
        .route("/v1/doctor", get(doctor))
        .route("/v1/connect", post(connect))
        .route("/v1/invite", get(invite))
        .route("/v1/providers/{id}", get(providers))
        .route("/v1/join", post(join))
        .route("/v1/search", get(search))
        .route("/v1/bundles/{id}", get(show))
        .route("/v1/publish", post(publish))
        .route("/v1/fetch", post(fetch))
        .route("/v1/jobs/{id}", get(job))
        .route("/v1/unpin", post(unpin))
        .route("/v1/pins", get(pins))
        .route("/v1/rules", get(rules))
        .route("/v1/follow", post(follow))
        .route("/v1/unfollow", post(unfollow))
        .route("/v1/block", post(block))
        .route("/v1/unblock", post(unblock))
        .route("/v1/retract", post(retract))
        .route("/v1/gc", post(gc))
        .route("/v1/check", post(check))
        .route("/v1/export", post(export))
        .route("/v1/import", post(import))
        .route("/v1/ui/login", post(crate::ui::login_link))
        .route("/v1/uploads", post(crate::ui::new_upload))
        .route("/v1/uploads/{id}", post(crate::ui::upload_file))
        .route("/ui/login", get(crate::ui::login))
        .route("/ui/", get(crate::ui::index))
        .route(
            "/ui",
            get(|| async { axum::response::Redirect::permanent("/ui/") }),
        )
        .route("/ui/app.js", get(crate::ui::app_js))
        .route("/ui/app.css", get(crate::ui::app_css))
        .route("/ui/i18n/{lang}", get(crate::ui::texts))
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such API route".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request bodies must be application/json".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("bad request body: {e}")))
}

/// A path from a request: absolute, and without `..` (a caller that means
/// a parent folder resolves it first, as `weft` does), so no request can
/// climb out of the folder it names.
fn local_path(p: &std::path::Path, what: &str) -> Result<(), ApiError> {
    if !p.is_absolute() {
        return Err(bad(format!("{what} must be an absolute path")));
    }
    if p.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(bad(format!(
            "{what} ({}) must not contain `..`; give the folder itself",
            p.display()
        )));
    }
    Ok(())
}

fn parse_id(s: &str) -> Result<BundleId, ApiError> {
    BundleId::from_str(s).map_err(|e| bad(e.to_string()))
}

/// A bundle id, or `publisher/name` for the latest version of that name.
fn resolve_ref(node: &Node, s: &str) -> Result<BundleId, ApiError> {
    let Some((publisher, name)) = s.split_once('/') else {
        return parse_id(s);
    };
    let publisher = PublisherId::from_str(publisher).map_err(|e| {
        bad(format!(
            "{s:?}: the part before / must be a publisher id: {e}"
        ))
    })?;
    node.catalog
        .resolve(&publisher, name)
        .map(|a| a.id)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no version of {name:?} by publisher {publisher} is in this node's catalog (a retracted one is not offered)"),
            )
        })
}

async fn status(State(st): State<ApiState>) -> ApiResult {
    let node = &st.node;
    let info = node.net.info().await.map_err(NodeError::from)?;
    let counts = node.blocking(|s| s.counts()).await?;
    // While the index loads at start-up, the store's estimate stands in.
    let (catalog, catalog_loading) = if node.catalog.is_loaded() {
        (node.catalog.len() as u64, false)
    } else {
        (counts.catalog_estimate, true)
    };
    let publisher = node.publisher_id().ok().map(|k| k.to_string());
    let publisher_locked = node.publisher_locked();
    let usage = node.storage.usage();
    let disk = node.blocking(|s| s.disk_usage()).await?;
    let pending: Vec<String> = node
        .blocking(|s| s.list_kv(crate::store::CF_FETCHES))
        .await?
        .into_iter()
        .filter_map(|(k, _)| BundleId::from_slice(&k).ok())
        .map(|id| id.to_string())
        .collect();
    let mut warnings = Vec::new();
    if let Some(w) = node.policy.warning() {
        warnings.push(w);
    } else if let Some(w) = node.storage.pins_over_quota(0) {
        warnings.push(w);
    }
    let fetching_bundles: Vec<Value> = node
        .storage
        .fetching()
        .into_iter()
        .map(|id| {
            let a = node.catalog.get(&id);
            json!({
                "id": id,
                "name": a.as_ref().map(|a| a.name.clone()),
                "size": a.as_ref().map(|a| a.size),
            })
        })
        .collect();
    let gateway = std::fs::read_to_string(node.data_dir.join(weft_protocol::layout::GATEWAY_ADDR))
        .ok()
        .map(|s| s.trim().to_string());
    Ok(Json(json!({
        "fetching_bundles": fetching_bundles,
        "gateway": gateway,
        "storage": {
            "used": usage.used, "pinned": usage.pinned, "cached": usage.cached,
            "max": usage.max, "disk": disk,
        },
        "fetching": node.storage.fetching(),
        "interrupted_fetches": pending,
        "warnings": warnings,
        "version": env!("CARGO_PKG_VERSION"),
        "peer_id": info.peer_id,
        "listen_addrs": info.listen_addrs,
        "connected_peers": info.connected,
        "api": st.addr.to_string(),
        "data_dir": node.data_dir,
        "publisher": publisher,
        "publisher_locked": publisher_locked,
        "bundles": counts.bundles,
        "catalog": catalog,
        "catalog_loading": catalog_loading,
        "pins": counts.pins,
        "peer_book": node.book.len(),
        "network": node.network,
        "mdns": node.mdns,
        "counters": node.metrics.snapshot(),
    })))
}

async fn peers(State(st): State<ApiState>) -> ApiResult {
    let list = st.node.net.peers().await.map_err(NodeError::from)?;
    Ok(Json(json!({ "peers": list })))
}

async fn doctor(State(st): State<ApiState>) -> ApiResult {
    let reach = st.node.net.reachability().await.map_err(NodeError::from)?;
    let findings = crate::doctor::findings(&reach);
    Ok(Json(json!({ "reachability": reach, "findings": findings })))
}

async fn connect(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: ConnectBody = parse_body(&headers, &body)?;
    let addr: libp2p::Multiaddr = b.addr.parse().map_err(|e| {
        bad(format!(
            "{:?} is not a multiaddr ({e}); for example /ip4/192.0.2.1/tcp/4141/p2p/12D3Koo…",
            b.addr
        ))
    })?;
    let peer = tokio::time::timeout(std::time::Duration::from_secs(20), st.node.net.dial(addr))
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::GATEWAY_TIMEOUT,
                "no answer from that address within 20 seconds".into(),
            )
        })?
        .map_err(|e| ApiError(StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(Json(json!({ "peer_id": peer.to_string() })))
}

/// This node's addresses worth giving to another machine: loopback ones
/// only when there is nothing else (a node on one machine, or a test).
fn invite_addrs(listen: &[String], peer: libp2p::PeerId) -> Vec<libp2p::Multiaddr> {
    use libp2p::multiaddr::Protocol;
    let addrs: Vec<libp2p::Multiaddr> = listen
        .iter()
        .filter_map(|a| a.parse().ok())
        .filter(crate::peerbook::dialable)
        .collect();
    let loopback = |a: &libp2p::Multiaddr| {
        matches!(a.iter().next(), Some(Protocol::Ip4(ip)) if ip.is_loopback())
            || matches!(a.iter().next(), Some(Protocol::Ip6(ip)) if ip.is_loopback())
    };
    let outside: Vec<_> = addrs.iter().filter(|a| !loopback(a)).cloned().collect();
    let chosen = if outside.is_empty() { addrs } else { outside };
    chosen
        .into_iter()
        .take(weft_protocol::invite::MAX_INVITE_ADDRS)
        .map(|a| crate::peerbook::with_peer(a, peer))
        .collect()
}

fn network_bytes(fp: &Option<String>) -> Option<[u8; 16]> {
    let fp = fp.as_ref()?;
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(fp.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

async fn invite(State(st): State<ApiState>) -> ApiResult {
    let info = st.node.net.info().await.map_err(NodeError::from)?;
    let peer: libp2p::PeerId = info
        .peer_id
        .parse()
        .map_err(|_| NodeError::Internal("own peer id".into()))?;
    let addrs = invite_addrs(&info.listen_addrs, peer);
    if addrs.is_empty() {
        return Err(NodeError::Unavailable(
            "this node listens on no address another node could dial".into(),
        )
        .into());
    }
    let inv = weft_protocol::invite::Invite {
        addrs: addrs.iter().map(|a| a.to_vec()).collect(),
        network: network_bytes(&st.node.network),
    };
    Ok(Json(json!({
        "invite": inv.encode(),
        "addrs": addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "network": st.node.network,
    })))
}

async fn providers(State(st): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    let id: weft_protocol::BundleId = id
        .parse()
        .map_err(|e| bad(format!("{id:?} is not a bundle id: {e}")))?;
    let found = tokio::time::timeout(
        crate::net::PROVIDER_QUERY_TIMEOUT,
        st.node.net.find_providers(id),
    )
    .await
    .map_err(|_| {
        ApiError(
            StatusCode::GATEWAY_TIMEOUT,
            "the DHT lookup took too long".into(),
        )
    })?
    .map_err(NodeError::from)?;
    Ok(Json(json!({
        "id": id,
        "providers": found.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
    })))
}

async fn join(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    use libp2p::multiaddr::Protocol;
    let b: JoinBody = parse_body(&headers, &body)?;
    let inv = weft_protocol::invite::Invite::decode(&b.invite).map_err(|e| bad(e.to_string()))?;
    let ours = network_bytes(&st.node.network);
    if inv.network != ours {
        let hex = |n: Option<[u8; 16]>| n.map(|n| weft_protocol::id::to_hex(&n));
        return Err(bad(match (hex(inv.network), hex(ours)) {
            (Some(theirs), None) => format!(
                "this invite is for the private network {theirs}; put that network's key in {}/swarm.key and restart weftd first",
                st.node.data_dir.display()
            ),
            (None, Some(_)) => "this invite is for the open network, but this node is in a private network (it has a swarm.key)".into(),
            (theirs, ours) => format!(
                "this invite is for the private network {}, but this node's key is for {}",
                theirs.unwrap_or_default(),
                ours.unwrap_or_default()
            ),
        }));
    }
    let mut joined = Vec::new();
    let mut failed = Vec::new();
    for bytes in inv.addrs {
        let addr = match libp2p::Multiaddr::try_from(bytes) {
            Ok(a) => a,
            Err(e) => {
                failed.push(json!({"addr": null, "error": format!("not a multiaddr: {e}")}));
                continue;
            }
        };
        let Some(Protocol::P2p(peer)) = addr.iter().last() else {
            failed.push(json!({"addr": addr.to_string(), "error": "the address does not end in /p2p/<peer id>"}));
            continue;
        };
        let dial = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            st.node.net.dial(addr.clone()),
        )
        .await;
        match dial {
            Ok(Ok(_)) => {
                let book = st.node.book.clone();
                let a = addr.clone();
                tokio::task::spawn_blocking(move || book.record(peer, &[a], true))
                    .await
                    .map_err(|e| NodeError::Internal(e.to_string()))?
                    .map_err(NodeError::from)?;
                joined.push(json!({"addr": addr.to_string(), "peer_id": peer.to_string()}));
            }
            Ok(Err(e)) => failed.push(json!({"addr": addr.to_string(), "error": e.to_string()})),
            Err(_) => failed
                .push(json!({"addr": addr.to_string(), "error": "no answer within 20 seconds"})),
        }
    }
    if joined.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_GATEWAY,
            format!(
                "could not reach any address in the invite: {}",
                failed
                    .iter()
                    .map(|f| format!("{} ({})", f["addr"], f["error"].as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    Ok(Json(json!({ "joined": joined, "failed": failed })))
}

fn entry_json(a: &Announcement, local: bool, pinned: bool) -> Value {
    json!({
        "id": a.id,
        "publisher": a.publisher,
        "name": a.name,
        "seq": a.seq,
        "size": a.size,
        "files": a.files,
        "titles": a.titles.iter().map(|t| json!({"lang": t.lang, "title": t.title})).collect::<Vec<_>>(),
        "tags": a.tags,
        "created": a.created,
        "local": local,
        "pinned": pinned,
    })
}

async fn search(State(st): State<ApiState>, Query(q): Query<SearchQuery>) -> ApiResult {
    let publisher = match &q.publisher {
        Some(p) => Some(PublisherId::from_str(p).map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    let mut query = catalog::Query::new(
        q.q.as_deref(),
        q.lang.as_deref(),
        q.tag.as_deref(),
        publisher,
    );
    query.all_versions = q.all_versions.unwrap_or(false);
    let node = &st.node;
    node.catalog.ready().await;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_SEARCH_RESULTS)
        .min(MAX_SEARCH_RESULTS);
    let found = node.catalog.search(&query, limit);
    let ids: Vec<BundleId> = found.results.iter().map(|a| a.id).collect();
    let flags = node
        .blocking(move |s| {
            ids.iter()
                .map(|id| Ok((s.has_manifest(id)?, s.is_pinned(id)?)))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    let out: Vec<Value> = found
        .results
        .iter()
        .zip(flags)
        .map(|(a, (local, pinned))| {
            let mut v = entry_json(a, local, pinned);
            let standing = node.catalog.standing(&a.id);
            v["retracted"] = json!(standing.retracted);
            v["superseded_by"] = json!(standing.superseded_by);
            v
        })
        .collect();
    Ok(Json(json!({
        "results": out,
        "matched": found.matched,
        "total": node.catalog.len(),
    })))
}

async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &id)?;
    let node = &st.node;
    let ann = node.blocking(move |s| s.get_announcement(&id)).await?;
    let ann = ann.and_then(|b| weft_protocol::SignedAnnouncement::decode(&b).ok());
    let manifest = node.local_manifest(id).await?;
    let pinned = node.blocking(move |s| s.is_pinned(&id)).await?;
    if ann.is_none() && manifest.is_none() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("bundle {id} is not in this node's catalog; `weft get {id}` can still look for it on connected peers"),
        ));
    }
    let mut v = match (&ann, &manifest) {
        (Some(a), _) => entry_json(a.announcement(), manifest.is_some(), pinned),
        (None, Some(m)) => entry_json(&Announcement::for_manifest(m), true, pinned),
        (None, None) => Value::Null,
    };
    let standing = node.catalog.standing(&id);
    v["retracted"] = json!(standing.retracted);
    v["superseded_by"] = json!(standing.superseded_by);
    v["pin"] = json!(node.storage.pin_kind(&id));
    if let Some(m) = &manifest {
        let m = m.manifest();
        v["licence"] = json!(m.licence);
        v["texts"] = json!(m
            .texts
            .iter()
            .map(|t| json!({"lang": t.lang, "title": t.title, "description": t.description}))
            .collect::<Vec<_>>());
        v["file_list"] = json!(m
            .files
            .iter()
            .map(|f| json!({"path": f.path, "size": f.size, "hash": f.hash}))
            .collect::<Vec<_>>());
    }
    Ok(Json(v))
}

async fn publish(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let req: PublishRequest = parse_body(&headers, &body)?;
    // Refuse obvious mistakes now, so the CLI can say so without a job.
    local_path(&req.path, "the path to publish")?;
    if std::fs::symlink_metadata(&req.path).is_err() {
        return Err(bad(format!("{} does not exist", req.path.display())));
    }
    let key = st.node.key_file()?;
    if key.is_sealed() && req.passphrase.is_none() && st.node.publisher_locked() {
        return Err(bad(
            weft_protocol::keyfile::KeyFileError::PassphraseRequired(key.publisher()).to_string(),
        ));
    }
    let node = st.node.clone();
    // Files uploaded from the web UI are staged; a publish that worked
    // ends their staging folder. One that failed (a wrong passphrase, a
    // bad title) keeps it, so the same upload can be published again.
    let staged = crate::ui::staging_folder(&node.data_dir, &req.path);
    let job = st.node.start_job("publish", move |p| async move {
        let result = crate::publish::publish(node, req, p).await;
        if let (Some(dir), Ok(_)) = (staged, &result) {
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
        result
    })?;
    Ok(Json(json!({ "job": job })))
}

async fn fetch(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: FetchBody = parse_body(&headers, &body)?;
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &b.id)?;
    if let Some(out) = &b.out {
        local_path(out, "the output folder")?;
    }
    let node = st.node.clone();
    let job = st.node.start_job("fetch", move |progress| async move {
        let pin = b.pin.then_some(PinKind::Explicit);
        let signed = crate::fetch::fetch(&node, id, pin, progress.clone()).await?;
        let files = signed.manifest().files.len();
        let size = signed.manifest().total_size();
        if let Some(out) = &b.out {
            progress.done.store(0, std::sync::atomic::Ordering::Relaxed);
            crate::export::export(&node, signed.clone(), out.clone(), progress).await?;
        }
        Ok(json!({ "id": id, "name": signed.manifest().name, "files": files, "size": size, "out": b.out, "pinned": b.pin }))
    })?;
    Ok(Json(json!({ "job": job })))
}

/// Longest a job poll may wait for the job to end.
pub const MAX_JOB_WAIT_MS: u64 = 1000;

async fn job(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<JobQuery>,
) -> ApiResult {
    let n: u64 = id
        .parse()
        .map_err(|_| bad(format!("{id:?} is not a job number")))?;
    let job = st
        .node
        .jobs
        .get(n)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no job {n}")))?;
    if let Some(ms) = q.wait_ms {
        let wait = std::time::Duration::from_millis(ms.min(MAX_JOB_WAIT_MS));
        let _ = tokio::time::timeout(wait, job.finished()).await;
    }
    let done = job.progress.done.load(std::sync::atomic::Ordering::Relaxed);
    let total = job
        .progress
        .total
        .load(std::sync::atomic::Ordering::Relaxed);
    let (state, result, error, code) = match job.state() {
        JobState::Running => ("running", Value::Null, Value::Null, Value::Null),
        JobState::Done(v) => ("done", v, Value::Null, Value::Null),
        JobState::Failed(code, msg) => ("failed", Value::Null, json!(msg), json!(code)),
    };
    Ok(Json(json!({
        "job": n, "kind": job.kind, "state": state, "done_bytes": done, "total_bytes": total,
        "result": result, "error": error, "status": code,
    })))
}

async fn unpin(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: IdBody = parse_body(&headers, &body)?;
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &b.id)?;
    if !st.node.blocking(move |s| s.is_pinned(&id)).await? {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("bundle {id} is not pinned"),
        ));
    }
    let storage = st.node.storage.clone();
    st.node
        .blocking(move |s| storage.set_pin(s, &id, None))
        .await?;
    st.node.catalog.set_exempt(id, false);
    // A follow rule may pin it again; a retraction may now remove it.
    st.node.policy.wake.notify_one();
    Ok(Json(json!({ "id": id, "pinned": false })))
}

async fn pins(State(st): State<ApiState>) -> ApiResult {
    let pins = st.node.blocking(|s| s.pins()).await?;
    let mut out = Vec::new();
    for (id, pin) in pins {
        let m = st.node.local_manifest(id).await?;
        out.push(json!({
            "id": id,
            "pinned_at": pin.at,
            "kind": pin.kind,
            "name": m.as_ref().map(|m| m.manifest().name.clone()),
            "size": m.as_ref().map(|m| m.manifest().total_size()),
            "local": m.is_some(),
        }));
    }
    Ok(Json(json!({ "pins": out })))
}

async fn rules(State(st): State<ApiState>) -> ApiResult {
    Ok(Json(st.node.policy.describe()))
}

fn rule_of(b: RuleBody, block: bool) -> Result<Rule, ApiError> {
    let publisher = |p: &str| {
        PublisherId::from_str(p).map_err(|e| bad(format!("{p:?} is not a publisher id: {e}")))
    };
    let rule = match (b.publisher, b.tag, b.lang) {
        (Some(p), None, None) if block => Rule::Block(publisher(&p)?),
        (_, _, _) if block => return Err(bad("give the publisher to block, and nothing else")),
        (Some(p), None, None) => Rule::Publisher(publisher(&p)?),
        (None, Some(t), None) => Rule::Tag(t),
        (None, None, Some(l)) => Rule::Lang(l),
        _ => return Err(bad("give exactly one of publisher, tag or lang")),
    };
    rule.normalized().map_err(bad)
}

async fn change_rule(st: &ApiState, rule: Rule, add: bool) -> ApiResult {
    let policy = st.node.policy.clone();
    let r2 = rule.clone();
    let changed = tokio::task::spawn_blocking({
        let store = st.node.store.clone();
        move || policy.change(store.as_ref(), &r2, add)
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    st.node.catalog.set_blocked(st.node.policy.blocked());
    Ok(Json(
        json!({ "rule": rule, "changed": changed, "rules": st.node.policy.describe() }),
    ))
}

async fn follow(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let rule = rule_of(parse_body(&headers, &body)?, false)?;
    change_rule(&st, rule, true).await
}

async fn unfollow(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let rule = rule_of(parse_body(&headers, &body)?, false)?;
    change_rule(&st, rule, false).await
}

async fn block(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let rule = rule_of(parse_body(&headers, &body)?, true)?;
    change_rule(&st, rule, true).await
}

async fn unblock(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let rule = rule_of(parse_body(&headers, &body)?, true)?;
    change_rule(&st, rule, false).await
}

async fn retract(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: weft_protocol::api::RetractRequest = parse_body(&headers, &body)?;
    let node = &st.node;
    node.catalog.ready().await;
    let id = resolve_ref(node, &b.id)?;
    let key = node.signing_key(b.passphrase).await?;
    let publisher = match (node.catalog.get(&id), node.local_manifest(id).await?) {
        (_, Some(m)) => m.manifest().publisher,
        (Some(a), None) => a.publisher,
        (None, None) => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("bundle {id} is not in this node's catalog"),
            ))
        }
    };
    if publisher != key.id() {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "bundle {id} was published by {publisher}; only that publisher's key can retract it, and this node's key is {}",
                key.id()
            ),
        ));
    }
    let r = weft_protocol::SignedRetraction::sign(
        weft_protocol::Retraction {
            v: weft_protocol::VERSION,
            created: crate::node::now_secs(),
            retracts: id,
            publisher,
        },
        &key,
    )
    .map_err(|e| NodeError::Internal(e.to_string()))?;
    let entry = weft_protocol::CatalogEntry::Retraction(r.clone());
    let catalog = node.catalog.clone();
    let added = node.blocking(move |s| catalog.add_entry(s, &entry)).await?;
    if let catalog::Added::Refused(why) = added {
        return Err(ApiError(StatusCode::CONFLICT, why));
    }
    node.net
        .announce(r.bytes().to_vec())
        .await
        .map_err(NodeError::from)?;
    Ok(Json(json!({ "id": id, "retraction": r.entry_id() })))
}

/// Verifies every block held; a job, as it reads the whole store.
async fn check(State(st): State<ApiState>) -> ApiResult {
    let node = st.node.clone();
    let job = st.node.start_job("check", move |_progress| async move {
        let storage = node.storage.clone();
        let report = node.blocking(move |s| storage.check(s)).await?;
        if !report.damaged.is_empty() {
            node.policy.wake.notify_one();
        }
        Ok(json!(report))
    })?;
    Ok(Json(json!({ "job": job })))
}

async fn gc(State(st): State<ApiState>) -> ApiResult {
    let storage = st.node.storage.clone();
    let report = st.node.blocking(move |s| storage.gc(s, 0)).await?;
    Ok(Json(json!(report)))
}

/// Most bundles one export names.
pub const MAX_EXPORT_BUNDLES: usize = 1000;

async fn export(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: ExportBody = parse_body(&headers, &body)?;
    local_path(&b.out, "the output path")?;
    if b.bundles.is_empty() || b.bundles.len() > MAX_EXPORT_BUNDLES {
        return Err(bad(format!(
            "name 1 to {MAX_EXPORT_BUNDLES} bundles to export"
        )));
    }
    let node = &st.node;
    node.catalog.ready().await;
    let mut manifests = Vec::new();
    for r in &b.bundles {
        let id = resolve_ref(node, r)?;
        let m = node.local_manifest(id).await?.ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("bundle {id} is not stored on this node; `weft pin {id}` fetches it first"),
            )
        })?;
        if !manifests
            .iter()
            .any(|x: &weft_protocol::SignedManifest| x.id() == id)
        {
            manifests.push(m);
        }
    }
    let n2 = node.clone();
    let job = node.start_job("export", move |progress| async move {
        tokio::task::spawn_blocking(move || {
            crate::archive::export_blocking(&n2, &manifests, &b.out, b.dir, &progress)
        })
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
    })?;
    Ok(Json(json!({ "job": job })))
}

async fn import(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let b: ImportBody = parse_body(&headers, &body)?;
    local_path(&b.path, "the path to import")?;
    if std::fs::metadata(&b.path).is_err() {
        return Err(bad(format!("{} does not exist", b.path.display())));
    }
    let node = st.node.clone();
    let job = st
        .node
        .start_job("import", move |p| crate::archive::import(node, b.path, p))?;
    Ok(Json(json!({ "job": job })))
}
