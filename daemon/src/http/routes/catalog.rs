//! Catalog routes: search, a bundle, retract.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use weft_protocol::api::{
    BundleDetails, RetractResponse, SearchQuery, SearchResponse, SearchResult, Tier, VouchBody,
    VouchResponse, WhyResponse,
};
use weft_protocol::{Announcement, BundleId};

use crate::catalog;
use crate::http::error::{bad, ApiError, ApiResult};
use crate::http::{parse_body, resolve_ref, ApiState};
use crate::store::StoreError;

/// Most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 1000;

/// Results a search returns when it does not say how many it wants.
pub const DEFAULT_SEARCH_RESULTS: usize = 50;

/// A catalog entry as search lists it.
pub(crate) fn search_result(
    a: &Announcement,
    local: bool,
    pinned: bool,
    standing: catalog::Standing,
    tier: Tier,
    contested: bool,
    publisher_name: weft_protocol::api::PublisherName,
) -> SearchResult {
    SearchResult {
        publisher_name,
        contested,
        created: a.created,
        files: a.files,
        group: None,
        id: a.id,
        local,
        name: a.name.clone(),
        pinned,
        publisher: a.publisher,
        retracted: standing.retracted,
        seq: a.seq,
        size: a.size,
        superseded_by: standing.superseded_by,
        tags: a.tags.clone(),
        tier,
        titles: a.titles.clone(),
    }
}

pub(crate) async fn search(
    State(st): State<ApiState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<SearchResponse> {
    let publisher = match &q.publisher {
        Some(p) => Some(st.node.resolve_publisher(p)?),
        None => None,
    };
    let mut query = catalog::Query::new(
        q.q.as_deref(),
        q.lang.as_deref(),
        q.tag.as_deref(),
        publisher,
    );
    query.all_versions = q.all_versions.unwrap_or(false);
    query.trusted_only = q.trusted_only.unwrap_or(false);
    let node = &st.node;
    node.catalog.ready().await;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_SEARCH_RESULTS)
        .min(MAX_SEARCH_RESULTS);
    let group = match &q.group {
        Some(g) => Some(crate::ops::group::resolve(node, g)?),
        None => None,
    };
    // A group's bundles are all private: the public catalog has none.
    let found = match group {
        Some(_) => catalog::Found::default(),
        None => node.catalog.search(&query, limit),
    };
    let ids: Vec<BundleId> = found.results.iter().map(|a| a.id).collect();
    let flags = node
        .blocking(move |s| {
            ids.iter()
                .map(|id| Ok((s.has_manifest(id)?, s.is_pinned(id)?)))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    let private = crate::ops::group::search_private(node, &query, group).await;
    let mut results: Vec<SearchResult> = found
        .results
        .iter()
        .zip(flags)
        .map(|(a, (local, pinned))| {
            let tier = node.catalog.trust().tier(&a.publisher);
            let contested = node.catalog.contested(&a.id);
            search_result(
                a,
                local,
                pinned,
                node.catalog.standing_of(a),
                tier,
                contested,
                node.describe(&a.publisher, q.lang.as_deref()),
            )
        })
        .collect();
    let n = private.len() as u64;
    results.splice(0..0, private);
    results.truncate(limit);
    Ok(Json(SearchResponse {
        matched: found.matched as u64 + n,
        results,
        total: node.catalog.len() as u64,
    }))
}

pub(crate) async fn show(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<BundleDetails> {
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &id)?;
    let node = &st.node;
    let ann = node.catalog.get(&id);
    let manifest = node.local_manifest(id).await?;
    let pinned = node.blocking(move |s| s.is_pinned(&id)).await?;
    if ann.is_none() {
        let private = crate::ops::group::readable_privates(node, None).await;
        if let Some(p) = private.iter().find(|p| p.id == id) {
            return show_private(node, p, manifest, pinned).await;
        }
    }
    let (a, local) = match (&ann, &manifest) {
        (Some(a), _) => (a.clone(), manifest.is_some()),
        (None, Some(m)) => (Announcement::for_manifest(m), true),
        (None, None) => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("bundle {id} is not in this node's catalog; `weft get {id}` can still look for it on connected peers"),
            ))
        }
    };
    let tier = node.catalog.trust().tier(&a.publisher);
    let contested = node.catalog.contested(&id);
    let standing = node.catalog.standing(&id);
    let revoked = standing.revoked;
    let name = node.describe(&a.publisher, None);
    let r = search_result(&a, local, pinned, standing, tier, contested, name);
    let m = manifest.as_ref().map(|m| m.manifest());
    Ok(Json(BundleDetails {
        contested: r.contested,
        created: r.created,
        file_list: m.map(|m| m.files.clone()),
        files: r.files,
        group: None,
        id: r.id,
        licence: m.map(|m| m.licence.clone()),
        local: r.local,
        name: r.name,
        pin: node.holdings.pin_kind(&id),
        pinned: r.pinned,
        publisher: r.publisher,
        publisher_name: r.publisher_name,
        retracted: r.retracted,
        revoked,
        seq: r.seq,
        size: r.size,
        superseded_by: r.superseded_by,
        tags: r.tags,
        texts: m.map(|m| m.texts.clone()),
        tier: r.tier,
        titles: r.titles,
    }))
}

/// A private bundle this node can read, shown by what is sealed inside:
/// the titles of its announcement, and once it is held, the licence, texts
/// and files of its inner manifest.
async fn show_private(
    node: &crate::node::Node,
    p: &crate::ops::group::ReadablePrivate,
    outer: Option<weft_protocol::SignedManifest>,
    pinned: bool,
) -> ApiResult<BundleDetails> {
    let r = crate::ops::group::private_result(node, p, None);
    let inner = match outer {
        Some(outer) => {
            let n = node.clone();
            tokio::task::spawn_blocking(move || crate::ops::private::inner_manifest(&n, &outer))
                .await
                .map_err(|e| crate::error::NodeError::Internal(e.to_string()))??
        }
        None => None,
    };
    let m = inner.as_ref().map(|m| m.manifest());
    Ok(Json(BundleDetails {
        contested: false,
        created: r.created,
        file_list: m.map(|m| m.files.clone()),
        files: r.files,
        group: r.group,
        id: r.id,
        licence: m.map(|m| m.licence.clone()),
        local: r.local,
        name: r.name,
        pin: node.holdings.pin_kind(&r.id),
        pinned,
        publisher: r.publisher,
        publisher_name: r.publisher_name,
        retracted: false,
        revoked: false,
        seq: r.seq,
        size: r.size,
        superseded_by: None,
        tags: r.tags,
        texts: m.map(|m| m.texts.clone()),
        tier: r.tier,
        titles: r.titles,
    }))
}

pub(crate) async fn retract(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RetractResponse> {
    let b: weft_protocol::api::RetractRequest = parse_body(&headers, &body)?;
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &b.id)?;
    let retraction = crate::ops::retract::retract(&st.node, id, b.passphrase).await?;
    Ok(Json(RetractResponse { id, retraction }))
}

/// `POST /v1/vouch` (`active`) and `POST /v1/unvouch`.
async fn change_vouch(
    st: &ApiState,
    headers: &HeaderMap,
    body: &Bytes,
    active: bool,
) -> ApiResult<VouchResponse> {
    let b: VouchBody = parse_body(headers, body)?;
    let vouchee = st.node.resolve_publisher(&b.publisher)?;
    if !active && b.note.is_some() {
        return Err(bad("a note goes with a vouch, not with its withdrawal"));
    }
    let note = b.note.unwrap_or_default();
    let r = crate::ops::vouch::vouch(&st.node, vouchee, note, active, b.passphrase).await?;
    Ok(Json(r))
}

pub(crate) async fn vouch(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<VouchResponse> {
    change_vouch(&st, &headers, &body, true).await
}

pub(crate) async fn unvouch(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<VouchResponse> {
    change_vouch(&st, &headers, &body, false).await
}

/// `GET /v1/why/{publisher}`: a publisher's trust tier and why.
pub(crate) async fn why(
    State(st): State<ApiState>,
    Path(publisher): Path<String>,
) -> ApiResult<WhyResponse> {
    let publisher = st.node.resolve_publisher(&publisher)?;
    st.node.catalog.ready().await;
    let (tier, reasons) = st.node.catalog.trust().why(&publisher);
    Ok(Json(WhyResponse {
        entries: st.node.catalog.entries_of(&publisher),
        name: st.node.describe(&publisher, None),
        publisher,
        reasons: reasons.iter().map(|r| r.sentence()).collect(),
        tier,
    }))
}
