//! File downloads: content types, ranges, and chunks verified as they
//! are sent.

use super::*;

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
pub(super) fn parse_range(h: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
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

/// The chunks of one file, from its index when it has one.
pub(super) fn chunks_of(
    node: &Node,
    f: &weft_protocol::FileEntry,
) -> Result<Vec<weft_protocol::chunk::Chunk>, String> {
    crate::store::chunks_of(node.store.as_ref(), f)
        .map(|fc| fc.chunks)
        .map_err(|e| match e {
            crate::store::ChunkListError::Damaged(e) => e,
            e => e.to_string(),
        })
}

/// A file of a bundle the gateway serves, with the reader's language, or
/// the page that says why not.
async fn servable_file(
    st: &GatewayState,
    headers: &HeaderMap,
    id: &str,
    path: &str,
) -> Result<(SignedManifest, weft_protocol::FileEntry, &'static str), Response> {
    let lang = negotiate(None, accept_language(headers));
    let signed = servable(st, id)
        .await
        .map_err(|key| not_found_page(st, lang, key))?;
    let f = signed
        .manifest()
        .files
        .iter()
        .find(|f| f.path == path)
        .cloned()
        .ok_or_else(|| not_found_page(st, lang, "gateway.not_found"))?;
    Ok((signed, f, lang))
}

/// One block of a file. Nothing is sent that does not match the signed
/// hashes: the store checks every read against its hash. Blocking.
pub(super) fn block(node: &Node, c: &weft_protocol::chunk::Chunk) -> Result<Vec<u8>, String> {
    node.store
        .get_blob(&c.hash)
        .map_err(|e| e.to_string())?
        .filter(|b| b.len() as u64 == c.len)
        .ok_or_else(|| "a block is missing or damaged".to_string())
}

pub(super) async fn file(
    State(st): State<GatewayState>,
    method: Method,
    headers: HeaderMap,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    match servable_file(&st, &headers, &id, &path).await {
        Ok((_, f, _)) => send_file(st.node.clone(), &st.downloads, &method, &headers, f),
        Err(page) => page,
    }
}

/// Rendered previews of a bundle's files (text, Markdown, a PDF's first
/// page): see [`super::preview`].
pub(super) async fn preview(
    State(st): State<GatewayState>,
    headers: HeaderMap,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    let (signed, f, lang) = match servable_file(&st, &headers, &id, &path).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let base = raw_folder("/file", &signed.id().to_string(), &f.path);
    super::preview::response(&st.node, &st.renders, f, base, lang).await
}

/// The raw-file route's folder holding `path` of bundle `id`, for the
/// relative links of a rendered preview.
pub fn raw_folder(route: &str, id: &str, path: &str) -> String {
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut out = format!("{route}/{id}/");
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        out.push_str(&pct(part, false));
        out.push('/');
    }
    out
}

/// File `f` as a response: its content type (inline only for passive
/// types), `Range`, and every block checked against its hash as it is
/// sent. Shared by the gateway and the web UI's previews.
pub fn send_file(
    node: Node,
    downloads: &Arc<tokio::sync::Semaphore>,
    method: &Method,
    headers: &HeaderMap,
    f: weft_protocol::FileEntry,
) -> Response {
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
    let Ok(permit) = downloads.clone().try_acquire_owned() else {
        return busy();
    };
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
        // The chunks the range touches: from the one holding `first`.
        let start = chunks.partition_point(|c| c.offset + c.len <= first);
        for c in chunks[start..]
            .iter()
            .take_while(|c| c.offset <= last)
            .copied()
        {
            let node = node.clone();
            let piece = tokio::task::spawn_blocking(move || -> Result<Bytes, String> {
                let bytes = block(&node, &c)?;
                let from = first.saturating_sub(c.offset) as usize;
                let to = (last - c.offset + 1).min(c.len) as usize;
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
