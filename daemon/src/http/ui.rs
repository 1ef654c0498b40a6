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
//! Uploads for publishing are in [`super::uploads`], sessions in
//! [`super::auth`].

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use weft_protocol::api::LoginLinkResponse;

use super::auth::{cookie_name, CODE_TTL};
use super::error::{ApiError, ApiResult};
use super::ApiState;
use crate::i18n;

const INDEX: &str = include_str!("../../ui/index.html");
const APP_JS: &str = include_str!("../../ui/app.js");
const APP_CSS: &str = include_str!("../../ui/app.css");

/// What the UI's scripts may do: talk to this listener, nothing else.
const UI_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; media-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `POST /v1/ui/login`: a one-time link that logs a browser in.
pub async fn login_link(State(st): State<ApiState>) -> ApiResult<LoginLinkResponse> {
    let code = st.sessions.new_code();
    Ok(Json(LoginLinkResponse {
        expires_in: CODE_TTL.as_secs(),
        url: format!("http://{}/ui/login?code={code}", st.addr),
    }))
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
        .replace("{{DIR}}", i18n::dir(lang))
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

/// Previews and raw files served to the UI at once, at most (a semaphore
/// each, like the gateway's).
const UI_PREVIEW_SLOTS: usize = 8;

fn slots() -> &'static (
    std::sync::Arc<tokio::sync::Semaphore>,
    std::sync::Arc<tokio::sync::Semaphore>,
) {
    static S: std::sync::OnceLock<(
        std::sync::Arc<tokio::sync::Semaphore>,
        std::sync::Arc<tokio::sync::Semaphore>,
    )> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        (
            std::sync::Arc::new(tokio::sync::Semaphore::new(UI_PREVIEW_SLOTS)),
            std::sync::Arc::new(tokio::sync::Semaphore::new(UI_PREVIEW_SLOTS)),
        )
    })
}

/// A public bundle this node holds, and one of its files. A private
/// group's sealed bundle has no previews.
async fn held_file(
    st: &ApiState,
    id: &str,
    path: Option<&str>,
) -> Result<
    (
        weft_protocol::SignedManifest,
        Option<weft_protocol::FileEntry>,
    ),
    ApiError,
> {
    let id = super::parse_id(id)?;
    let signed = st
        .node
        .local_manifest(id)
        .await?
        .filter(|m| !crate::ops::private::looks_sealed(m))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "this node does not hold that public bundle".into(),
            )
        })?;
    let file = match path {
        Some(p) => Some(
            signed
                .manifest()
                .files
                .iter()
                .find(|f| f.path == p)
                .cloned()
                .ok_or_else(|| {
                    ApiError::new(StatusCode::NOT_FOUND, "no such file in that bundle".into())
                })?,
        ),
        None => None,
    };
    Ok((signed, file))
}

/// `GET /ui/previews/{id}`: the files of a held bundle worth previewing,
/// with their kind (`image`, `audio`, `video`, `pdf`, `text`,
/// `markdown`).
pub async fn previews(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (signed, _) = held_file(&st, &id, None).await?;
    let node = st.node.clone();
    let list = tokio::task::spawn_blocking(move || {
        crate::gateway::preview::previews(&node, signed.manifest())
    })
    .await
    .unwrap_or_default();
    let body: Vec<serde_json::Value> = list
        .into_iter()
        .map(|(kind, path)| serde_json::json!({"kind": kind, "path": path}))
        .collect();
    Ok(Json(serde_json::json!({ "previews": body })).into_response())
}

/// `GET /ui/file/{id}/{*path}`: a held file's bytes, as the gateway serves
/// them (inline only for passive types, `Content-Security-Policy:
/// sandbox`, `nosniff`, Range), for the UI's image, audio and video
/// previews.
pub async fn file(
    State(st): State<ApiState>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, f) = held_file(&st, &id, Some(&path)).await?;
    let f = f.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such file".into()))?;
    Ok(crate::gateway::send_file(
        st.node.clone(),
        &slots().0,
        &method,
        &headers,
        f,
    ))
}

/// `GET /ui/preview/{id}/{*path}`: a held file's rendered preview (text,
/// Markdown, a PDF's first page), sandboxed.
pub async fn preview(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (signed, f) = held_file(&st, &id, Some(&path)).await?;
    let f = f.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such file".into()))?;
    let base = crate::gateway::raw_folder("/ui/file", &signed.id().to_string(), &f.path);
    Ok(crate::gateway::preview::response(&st.node, &slots().1, f, base, page_lang(&headers)).await)
}
