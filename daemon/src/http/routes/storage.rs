//! Storage routes: pins, unpin, gc, check, export and import.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use weft_protocol::api::{
    ExportBody, GcReport, IdBody, ImportBody, JobKind, JobResult, JobStarted, PinInfo,
    PinsResponse, UnpinResponse,
};

use crate::error::NodeError;
use crate::http::error::{bad, ApiError, ApiResult};
use crate::http::{local_path, parse_body, resolve_ref, ApiState};

pub(crate) async fn unpin(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<UnpinResponse> {
    let b: IdBody = parse_body(&headers, &body)?;
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &b.id)?;
    if !st.node.blocking(move |s| s.is_pinned(&id)).await? {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("bundle {id} is not pinned"),
        ));
    }
    let storage = st.node.holdings.clone();
    st.node
        .blocking(move |s| storage.set_pin(s, &id, None))
        .await?;
    // A follow rule may pin it again; a retraction may now remove it.
    st.node.rules.wake.notify_one();
    Ok(Json(UnpinResponse { id, pinned: false }))
}

pub(crate) async fn pins(State(st): State<ApiState>) -> ApiResult<PinsResponse> {
    let pins = st.node.blocking(|s| s.pins()).await?;
    let mut out = Vec::new();
    for (id, pin) in pins {
        let m = st.node.local_manifest(id).await?;
        out.push(PinInfo {
            id,
            kind: pin.kind,
            local: m.is_some(),
            name: m.as_ref().map(|m| m.manifest().name.clone()),
            pinned_at: pin.at,
            revoked: st.node.catalog.standing(&id).revoked,
            size: m.as_ref().map(|m| m.manifest().total_size()),
        });
    }
    Ok(Json(PinsResponse { pins: out }))
}

/// Verifies every block held; a job, as it reads the whole store.
pub(crate) async fn check(State(st): State<ApiState>) -> ApiResult<JobStarted> {
    let node = st.node.clone();
    let job = st
        .node
        .start_job(JobKind::Check, move |_progress| async move {
            let storage = node.holdings.clone();
            let report = node.blocking(move |s| storage.check(s)).await?;
            if !report.damaged.is_empty() {
                node.rules.wake.notify_one();
            }
            Ok(JobResult::Check(report))
        })?;
    Ok(Json(JobStarted { job }))
}

pub(crate) async fn gc(State(st): State<ApiState>) -> ApiResult<GcReport> {
    let storage = st.node.holdings.clone();
    let report = st.node.blocking(move |s| storage.gc(s, 0)).await?;
    Ok(Json(report))
}

/// Most bundles one export names.
pub const MAX_EXPORT_BUNDLES: usize = 1000;

pub(crate) async fn export(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<JobStarted> {
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
    let job = node.start_job(JobKind::Export, move |progress| async move {
        tokio::task::spawn_blocking(move || {
            crate::ops::archive::export_blocking(&n2, &manifests, &b.out, b.dir, &progress)
        })
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map(JobResult::Export)
    })?;
    Ok(Json(JobStarted { job }))
}

pub(crate) async fn import(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<JobStarted> {
    let b: ImportBody = parse_body(&headers, &body)?;
    local_path(&b.path, "the path to import")?;
    if std::fs::metadata(&b.path).is_err() {
        return Err(bad(format!("{} does not exist", b.path.display())));
    }
    let node = st.node.clone();
    let job = st.node.start_job(JobKind::Import, move |p| async move {
        crate::ops::archive::import(node, b.path, p)
            .await
            .map(JobResult::Import)
    })?;
    Ok(Json(JobStarted { job }))
}
