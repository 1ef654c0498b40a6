//! The web UI for the node's owner, on the local API listener.
//!
//! `weft ui` asks for a one-time login code (`POST /v1/ui/login`, with the
//! token) and prints a link to `/ui/login?code=...`. Opening it swaps the
//! code for a session cookie (HttpOnly, SameSite=Strict, named after the
//! port, since browsers share cookies between the ports of one host) and
//! lands on `/ui/`. The page is plain HTML, CSS and a little JavaScript
//! compiled into the binary; it talks to the same `/v1` API as the CLI,
//! authenticated by the cookie. Codes live 2 minutes and work once;
//! sessions live in memory until weftd stops.
//!
//! Files uploaded from the browser for publishing go to a staging folder
//! under the data dir (`POST /v1/uploads`, then one `POST
//! /v1/uploads/{id}?path=...` per file). A publish of that folder that
//! works removes it; one that fails keeps it for another try. Folders left
//! untouched for a day go, and all of them at start.

use std::collections::VecDeque;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use weft_protocol::layout as files;

use crate::api::{ApiError, ApiState};
use crate::i18n;

/// How long a login code works.
pub const CODE_TTL: Duration = Duration::from_secs(120);
/// Login codes waiting at once; the oldest goes first.
const MAX_CODES: usize = 16;
/// Sessions at once; the oldest goes first.
const MAX_SESSIONS: usize = 32;
/// Largest file one upload takes.
pub const MAX_UPLOAD_FILE: u64 = 4 << 30;
/// Staging folders at once.
const MAX_STAGING: usize = 16;
/// A staging folder untouched this long is abandoned and removed.
const STAGING_TTL: Duration = Duration::from_secs(24 * 3600);

const INDEX: &str = include_str!("../ui/index.html");
const APP_JS: &str = include_str!("../ui/app.js");
const APP_CSS: &str = include_str!("../ui/app.css");

/// What the UI's scripts may do: talk to this listener, nothing else.
const UI_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn random_hex() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    weft_protocol::id::to_hex(&raw)
}

fn same(a: &str, b: &str) -> bool {
    crate::api::constant_time_eq(a.as_bytes(), b.as_bytes())
}

#[derive(Default)]
struct Inner {
    codes: VecDeque<(String, Instant)>,
    sessions: VecDeque<String>,
}

/// Login codes and sessions of the web UI.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new one-time login code.
    pub fn new_code(&self) -> String {
        let code = random_hex();
        let mut i = self.lock();
        if i.codes.len() >= MAX_CODES {
            i.codes.pop_front();
        }
        i.codes.push_back((code.clone(), Instant::now()));
        code
    }

    /// Swaps a fresh code for a new session id; a code works once.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let mut i = self.lock();
        i.codes.retain(|(_, at)| at.elapsed() < CODE_TTL);
        let pos = i.codes.iter().position(|(c, _)| same(c, code))?;
        i.codes.remove(pos);
        let session = random_hex();
        if i.sessions.len() >= MAX_SESSIONS {
            i.sessions.pop_front();
        }
        i.sessions.push_back(session.clone());
        Some(session)
    }

    /// Whether `session` is a live session.
    pub fn valid(&self, session: &str) -> bool {
        let i = self.lock();
        // Every entry is compared, so the time taken says nothing.
        i.sessions.iter().fold(false, |ok, s| ok | same(s, session))
    }
}

/// The session cookie's name for the API on `port`.
pub fn cookie_name(port: u16) -> String {
    format!("weft_session_{port}")
}

/// Every value the request's cookies give the session cookie's name (a
/// page on another port of this host can set one too, so each is tried).
pub fn sessions_of(headers: &HeaderMap, port: u16) -> Vec<String> {
    let name = cookie_name(port);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .take(8)
        .collect()
}

/// `POST /v1/ui/login`: a one-time link that logs a browser in.
pub async fn login_link(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let code = st.sessions.new_code();
    Ok(Json(json!({
        "url": format!("http://{}/ui/login?code={code}", st.addr),
        "expires_in": CODE_TTL.as_secs(),
    })))
}

/// The query of `/ui/login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    code: Option<String>,
}

fn page_lang(headers: &HeaderMap) -> &'static str {
    i18n::negotiate(
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The page a browser without a session gets.
pub fn login_needed(headers: &HeaderMap) -> Response {
    let lang = page_lang(headers);
    let body = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>weft</title></head><body><p>{}</p></body></html>",
        crate::gateway::esc(&i18n::t(lang, "login.needed"))
    );
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, UI_CSP),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /ui/login?code=`: swaps a code for a session cookie.
pub async fn login(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let session = q
        .code
        .as_deref()
        .filter(|c| c.len() == 64)
        .and_then(|c| st.sessions.redeem(c));
    let Some(session) = session else {
        return login_needed(&headers);
    };
    let cookie = format!(
        "{}={session}; Path=/; HttpOnly; SameSite=Strict",
        cookie_name(st.addr.port())
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/ui/".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

fn asset(ctype: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CONTENT_SECURITY_POLICY, UI_CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /ui/`: the app's page, in the browser's language until the
/// script applies the reader's choice.
pub async fn index(headers: HeaderMap) -> Response {
    let lang = page_lang(&headers);
    let options: String = i18n::LANGUAGES
        .iter()
        .map(|(code, _)| {
            format!(
                "<option value=\"{code}\"{}>{}</option>",
                if *code == lang { " selected" } else { "" },
                crate::gateway::esc(&i18n::t(code, "lang.name"))
            )
        })
        .collect();
    let html = INDEX
        .replace("{{LANG}}", lang)
        .replace("{{LANG_OPTIONS}}", &options);
    asset("text/html; charset=utf-8", html)
}

/// `GET /ui/app.js`.
pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS.into())
}

/// `GET /ui/app.css`.
pub async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS.into())
}

/// `GET /ui/i18n/{lang}`: one language's texts.
pub async fn texts(Path(lang): Path<String>) -> Result<Response, ApiError> {
    let text = i18n::json(&lang).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no translation for {lang:?}; there are: {}",
                i18n::LANGUAGES
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    Ok(asset("application/json", text.into()))
}

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
pub async fn new_upload(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "upload": id, "path": dir })))
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
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "path": q.path, "size": size })))
}

/// An upload's side file, removed when dropped (done or not).
struct PartFile(PathBuf);

impl Drop for PartFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_and_sessions_are_checked() {
        let s = Sessions::default();
        let code = s.new_code();
        assert!(s.redeem("0".repeat(64).as_str()).is_none());
        let session = s.redeem(&code).expect("a fresh code works");
        assert!(s.redeem(&code).is_none(), "a code works only once");
        assert!(s.valid(&session));
        assert!(!s.valid(&random_hex()));
        for _ in 0..MAX_SESSIONS {
            let c = s.new_code();
            s.redeem(&c).unwrap();
        }
        assert!(!s.valid(&session), "the oldest session goes first");
    }

    #[test]
    fn the_cookie_is_found_by_its_port_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; weft_session_4152=other; weft_session_4142=mine"
                .parse()
                .unwrap(),
        );
        assert_eq!(sessions_of(&h, 4142), ["mine"]);
        assert!(sessions_of(&h, 9).is_empty());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "weft_session_4142=planted; weft_session_4142=mine"
                .parse()
                .unwrap(),
        );
        assert_eq!(sessions_of(&h, 4142), ["planted", "mine"]);
    }
}
