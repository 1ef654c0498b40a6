//! Files uploaded from the browser for publishing. They go to a staging
//! folder under the data dir (`POST /v1/uploads`, then one `POST
//! /v1/uploads/{id}?path=...` per file). A publish of that folder that
//! works removes it; one that fails keeps it for another try. Folders left
//! untouched for a day go, and all of them at start.

use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use weft_protocol::api::{UploadStarted, UploadedFile};
use weft_protocol::layout as files;

use super::auth::random_hex;
use super::error::{ApiError, ApiResult};
use super::ApiState;

/// Largest file one upload takes.
pub const MAX_UPLOAD_FILE: u64 = 4 << 30;

/// Staging folders at once.
const MAX_STAGING: usize = 16;

/// A staging folder untouched this long is abandoned and removed.
const STAGING_TTL: Duration = Duration::from_secs(24 * 3600);

fn uploads_dir(data_dir: &FsPath) -> PathBuf {
    data_dir.join(files::UPLOADS)
}

/// Removes staging folders a previous run left (weftd stopped before the
/// publish that would have removed them).
pub fn clear_uploads(data_dir: &FsPath) {
    let _ = std::fs::remove_dir_all(uploads_dir(data_dir));
}

/// The staging folder that `path` is, if it is one.
pub fn staging_folder(data_dir: &FsPath, path: &FsPath) -> Option<PathBuf> {
    (path.parent() == Some(uploads_dir(data_dir).as_path())).then(|| path.to_path_buf())
}

/// Removes staging folders nobody touched for [`STAGING_TTL`].
fn expire_uploads(root: &FsPath) {
    let Ok(dir) = std::fs::read_dir(root) else {
        return;
    };
    for e in dir.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STAGING_TTL);
        if old {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// `POST /v1/uploads`: a new, empty staging folder.
pub async fn new_upload(State(st): State<ApiState>) -> ApiResult<UploadStarted> {
    let root = uploads_dir(&st.node.data_dir);
    expire_uploads(&root);
    let count = std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
    if count >= MAX_STAGING {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{count} uploads are waiting to be published already; publish them, or restart weftd to clear them (they also go after a day untouched)"),
        ));
    }
    let id = random_hex()[..32].to_string();
    let dir = root.join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot make an upload folder in {}: {e}", root.display()),
        )
    })?;
    Ok(Json(UploadStarted {
        path: dir,
        upload: id,
    }))
}

/// The query of `POST /v1/uploads/{id}`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    path: String,
}

/// `POST /v1/uploads/{id}?path=`: one file's bytes, streamed to disk.
pub async fn upload_file(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<UploadedFile> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/octet-stream") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "an uploaded file's body must be application/octet-stream".into(),
        ));
    }
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!("{id:?} is not an upload id")));
    }
    let dir = uploads_dir(&st.node.data_dir).join(&id);
    if !dir.is_dir() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no upload {id}; start one with POST /v1/uploads"),
        ));
    }
    weft_protocol::path::validate_path(&q.path).map_err(|e| {
        bad(format!(
            "{:?} cannot be a file's path in a bundle: {e}",
            q.path
        ))
    })?;
    let target = dir.join(&q.path);
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| bad(format!("cannot make the folder for {}: {e}", q.path)))?;
    }
    let io = |e: std::io::Error| {
        let msg = if e.raw_os_error() == Some(28) {
            "the disk holding the data dir is full; free some space and try again".to_string()
        } else {
            format!("cannot write the uploaded file {}: {e}", q.path)
        };
        ApiError::new(StatusCode::INSUFFICIENT_STORAGE, msg)
    };
    if target.exists() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{} was uploaded already", q.path),
        ));
    }
    // The bytes go to a side file that becomes the file only when complete;
    // a cut-off upload (the handler dropped mid-way) leaves nothing.
    let part = PartFile(dir.join(format!(".part-{}", &random_hex()[..16])));
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part.0)
        .await
        .map_err(io)?;
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    let result: Result<(), ApiError> = async {
        while let Some(piece) = stream.next().await {
            let piece = piece.map_err(|e| bad(format!("the upload was cut off: {e}")))?;
            size += piece.len() as u64;
            if size > MAX_UPLOAD_FILE {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "{} is over the {} an upload may be; publish a folder on this machine instead",
                        q.path,
                        weft_protocol::units::human(MAX_UPLOAD_FILE)
                    ),
                ));
            }
            file.write_all(&piece).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(())
    }
    .await;
    result?;
    drop(file);
    // A hard link never replaces a file that appeared meanwhile; a file
    // system without hard links gets a checked rename.
    let taken = || {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("{} was uploaded already", q.path),
        )
    };
    match std::fs::hard_link(&part.0, &target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(taken()),
        Err(_) if std::fs::symlink_metadata(&target).is_ok() => return Err(taken()),
        Err(_) => std::fs::rename(&part.0, &target).map_err(io)?,
    }
    Ok(Json(UploadedFile { path: q.path, size }))
}

/// An upload's side file, removed when dropped (done or not).
struct PartFile(PathBuf);

impl Drop for PartFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
