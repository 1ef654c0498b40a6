//! Routes that start jobs (publish, fetch) and the job route itself.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use weft_protocol::api::{
    self, FetchBody, FetchResult, JobKind, JobQuery, JobResult, JobStarted, JobStatus,
    PublishRequest,
};

use crate::http::error::{bad, ApiError, ApiResult};
use crate::http::{local_path, parse_body, resolve_ref, ApiState};
use crate::jobs::JobState;
use crate::store::PinKind;

pub(crate) async fn publish(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<JobStarted> {
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
    let staged = crate::http::uploads::staging_folder(&node.data_dir, &req.path);
    let job = st.node.start_job(JobKind::Publish, move |p| async move {
        let result = crate::ops::publish::publish(node, req, p).await;
        if let (Some(dir), Ok(_)) = (staged, &result) {
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
        result.map(JobResult::Publish)
    })?;
    Ok(Json(JobStarted { job }))
}

pub(crate) async fn fetch(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<JobStarted> {
    let b: FetchBody = parse_body(&headers, &body)?;
    st.node.catalog.ready().await;
    let id = resolve_ref(&st.node, &b.id)?;
    if let Some(out) = &b.out {
        local_path(out, "the output folder")?;
    }
    let node = st.node.clone();
    let job = st
        .node
        .start_job(JobKind::Fetch, move |progress| async move {
            let pin = b.pin.then_some(PinKind::Explicit);
            let started = std::time::Instant::now();
            let mut signed = crate::ops::fetch::fetch(&node, id, pin, progress.clone()).await?;
            let fetched = started.elapsed();
            if let Some(out) = &b.out {
                progress.done.store(0, std::sync::atomic::Ordering::Relaxed);
                signed = crate::ops::export::export(&node, signed, out.clone(), progress).await?;
            }
            let files = signed.manifest().files.len() as u64;
            let size = signed.manifest().total_size();
            tracing::info!(
                bundle = %id,
                fetch_ms = fetched.as_millis() as u64,
                write_out_ms = (started.elapsed() - fetched).as_millis() as u64,
                "fetch job done"
            );
            Ok(JobResult::Fetch(FetchResult {
                files,
                id,
                name: signed.manifest().name.clone(),
                out: b.out,
                pinned: b.pin,
                size,
            }))
        })?;
    Ok(Json(JobStarted { job }))
}

/// Longest a job poll may wait for the job to end.
pub const MAX_JOB_WAIT_MS: u64 = 1000;

pub(crate) async fn job(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<JobQuery>,
) -> ApiResult<JobStatus> {
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
    let (state, result, error, status) = match job.state() {
        JobState::Running => (api::JobState::Running, None, None, None),
        JobState::Done(r) => (api::JobState::Done, Some(r), None, None),
        JobState::Failed(kind, msg) => (
            api::JobState::Failed,
            None,
            Some(msg),
            Some(crate::http::error::status_of(kind).as_u16()),
        ),
    };
    Ok(Json(JobStatus {
        done_bytes: done,
        error,
        job: n,
        kind: job.kind,
        result,
        state,
        status,
        total_bytes: total,
    }))
}
