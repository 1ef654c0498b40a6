//! The local HTTP/JSON API and the web UI, on 127.0.0.1 only.
//!
//! Every route requires `Authorization: Bearer <token>`, where the token is
//! the random secret in the data dir's `api.token` (mode 0600). The `Host`
//! header must name the loopback listener (a DNS-rebinding page sends its own
//! host name), a browser `Origin` must be this listener's own, state changes
//! only happen on POST, and bodies are capped ([`auth`]). Bundle content is
//! served here only to the web UI's previews (`/ui/file/…`,
//! `/ui/preview/…`), with the gateway's headers: `Content-Security-Policy:
//! sandbox` (a unique origin, no script) and `nosniff`; `weft get` asks the
//! daemon to write files to a folder.
//!
//! Handlers ([`routes`]) parse the request, call an operation
//! ([`crate::ops`]) or read state, and answer with the typed responses of
//! [`weft_protocol::api`]. Domain errors become statuses in [`error`]; the
//! domain itself knows nothing of HTTP.

pub mod auth;
pub mod error;
pub mod metrics;
pub mod routes;
pub mod ui;
pub mod uploads;

use std::net::SocketAddr;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use weft_protocol::{BundleId, PublisherId};

use crate::node::Node;
use error::{bad, ApiError};
use routes::{
    catalog::*, groups::*, identity::*, jobs::*, names::*, node::*, rules::*, storage::*,
};

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
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
    pub sessions: std::sync::Arc<auth::Sessions>,
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
        .route("/v1/why/{publisher}", get(why))
        .route("/v1/identity", get(show_identity))
        .route("/v1/identity/device", post(certify_device))
        .route("/v1/identity/revoke", post(revoke_device))
        .route("/v1/identity/rotate", post(rotate_root))
        .route("/v1/identity/upgrade", post(upgrade_identity))
        .route("/v1/names", get(names))
        .route("/v1/name", post(name))
        .route("/v1/unname", post(unname))
        .route("/v1/profile", post(set_profile))
        .route("/v1/profile/{publisher}", get(show_profile))
        .route("/v1/groups", get(groups))
        .route("/v1/group", post(create_group))
        .route("/v1/groups/{group}", get(show_group))
        .route("/v1/groups/{group}/add", post(add_member))
        .route("/v1/groups/{group}/remove", post(remove_member))
        .route("/v1/groups/{group}/rekey", post(rekey_group))
        .route("/v1/vouch", post(vouch))
        .route("/v1/unvouch", post(unvouch))
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
        .route("/v1/ui/login", post(ui::login_link))
        .route("/v1/uploads", post(uploads::new_upload))
        .route("/v1/uploads/{id}", post(uploads::upload_file))
        .route("/metrics", get(metrics::metrics))
        .route("/ui/login", get(ui::login))
        .route("/ui/", get(ui::index))
        .route(
            "/ui",
            get(|| async { axum::response::Redirect::permanent("/ui/") }),
        )
        .route("/ui/app.js", get(ui::app_js))
        .route("/ui/app.css", get(ui::app_css))
        .route("/ui/i18n/{lang}", get(ui::texts))
        .route("/ui/previews/{id}", get(ui::previews))
        .route("/ui/file/{id}/{*path}", get(ui::file))
        .route("/ui/preview/{id}/{*path}", get(ui::preview))
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such API route".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
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
pub(crate) fn local_path(p: &std::path::Path, what: &str) -> Result<(), ApiError> {
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

pub(crate) fn parse_id(s: &str) -> Result<BundleId, ApiError> {
    BundleId::from_str(s).map_err(|e| bad(e.to_string()))
}

/// A bundle id, or `publisher/name` for the latest version of that name.
pub(crate) fn resolve_ref(node: &Node, s: &str) -> Result<BundleId, ApiError> {
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
