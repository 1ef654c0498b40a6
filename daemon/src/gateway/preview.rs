//! Previews: what a browser can show of a bundle's files without running
//! any of their code, for the gateway's bundle page and the web UI's.
//!
//! - images, audio and video are shown by the page's own `<img>`,
//!   `<audio>` and `<video>` elements from the raw-file route (Range, so
//!   media seek; `nosniff`; an image whose first bytes are not of its type,
//!   such as HTML named `.png`, gets no preview);
//! - plain text and Markdown are rendered here into a small HTML document
//!   (Markdown by pulldown-cmark, with raw HTML turned into text, then
//!   cleaned by ammonia), shown in an `<iframe sandbox>`;
//! - a PDF's first page is rendered here into a PNG (hayro, in pure Rust,
//!   with a deadline and a size limit), shown as an image.
//!
//! Every preview response carries `Content-Security-Policy: sandbox` (a
//! unique origin: no script, no cookie, no access to the page that shows
//! it) and `nosniff`.

use super::*;

/// Files previewed on one bundle page, at most.
pub const MAX_PREVIEWS: usize = 8;
/// Files whose first bytes are read to choose a bundle page's previews,
/// at most.
pub const MAX_PREVIEW_CHECKS: usize = 4 * MAX_PREVIEWS;
/// Longest text read for a text or Markdown preview.
pub const MAX_TEXT_PREVIEW: u64 = 512 * 1024;
/// Largest PDF whose first page is rendered.
pub const MAX_PDF_PREVIEW: u64 = 16 << 20;
/// Policy of a rendered preview: no script, no request but images of the
/// same origin, its own inline style, a unique origin, framed only by the
/// page of the same origin that shows it.
pub const PREVIEW_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'self'; sandbox";

/// What kind of preview a file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Shown by `<img>` from the raw file.
    Image,
    /// Shown by `<audio controls>` from the raw file.
    Audio,
    /// Shown by `<video controls>` from the raw file.
    Video,
    /// Its first page rendered to a PNG.
    Pdf,
    /// Rendered as preformatted text.
    Text,
    /// Rendered from Markdown.
    Markdown,
}

fn ext(path: &str) -> String {
    path.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The preview a file's name asks for, if any.
pub fn kind_of(path: &str) -> Option<Kind> {
    Some(match ext(path).as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg" => Kind::Image,
        "mp3" | "ogg" | "oga" | "opus" | "wav" | "flac" | "m4a" => Kind::Audio,
        "mp4" | "m4v" | "webm" | "ogv" => Kind::Video,
        "pdf" => Kind::Pdf,
        "txt" | "csv" | "tsv" | "srt" | "vtt" => Kind::Text,
        "md" | "markdown" => Kind::Markdown,
        _ => return None,
    })
}

/// Whether a file's first bytes are what its name says, for the kinds a
/// browser would otherwise guess at: an image or a PDF that is really
/// something else (HTML named `.png`) gets no preview.
pub fn looks_right(path: &str, head: &[u8]) -> bool {
    let e = ext(path);
    match e.as_str() {
        "png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => head.starts_with(&[0xff, 0xd8, 0xff]),
        "gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "webp" => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
        "avif" => head.len() >= 12 && &head[4..8] == b"ftyp",
        // An SVG is XML; it is shown only through <img>, which runs none
        // of its scripts.
        "svg" => {
            let t = String::from_utf8_lossy(head);
            let t = t.trim_start_matches('\u{feff}').trim_start();
            t.starts_with("<svg") || t.starts_with("<?xml")
        }
        "pdf" => head.starts_with(b"%PDF-"),
        _ => true,
    }
}

/// Up to `max` bytes from the start of file `f`, every block checked
/// against its hash by the store. Blocking.
pub fn read_start(node: &Node, f: &weft_protocol::FileEntry, max: u64) -> Result<Vec<u8>, String> {
    let chunks = chunks_of(node, f)?;
    let mut out = Vec::new();
    for c in chunks {
        if out.len() as u64 >= max {
            break;
        }
        let bytes = block(node, &c)?;
        let take = (max - out.len() as u64).min(bytes.len() as u64) as usize;
        out.extend_from_slice(&bytes[..take]);
    }
    Ok(out)
}

/// The files of `m` worth previewing, in manifest order, at most
/// [`MAX_PREVIEWS`], each with its kind. Reads the first bytes of images
/// and PDFs. Blocking.
pub fn previews(node: &Node, m: &weft_protocol::Manifest) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    // Each check reads a block: a bundle of many files that are not what
    // their names say costs at most this many reads per page.
    let mut checks = 0;
    for f in &m.files {
        if out.len() >= MAX_PREVIEWS || checks >= MAX_PREVIEW_CHECKS {
            break;
        }
        let Some(kind) = kind_of(&f.path) else {
            continue;
        };
        if matches!(kind, Kind::Image | Kind::Pdf) {
            checks += 1;
            match read_start(node, f, 64) {
                Ok(head) if looks_right(&f.path, &head) => {}
                _ => continue,
            }
        }
        if kind == Kind::Pdf && f.size > MAX_PDF_PREVIEW {
            continue;
        }
        out.push((kind, f.path.clone()));
    }
    out
}

/// Markdown as safe HTML: raw HTML in the source is shown as text, and the
/// result keeps only ammonia's allow-list (no script, style, event handler
/// or `javascript:` link).
pub fn markdown_html(source: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    )
    .map(|ev| match ev {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string()
}

/// The HTML document of a text or Markdown preview. `base` is the folder
/// the file's relative links resolve against (the raw-file route).
pub fn document(kind: Kind, text: &str, truncated: bool, base: &str, lang: &str) -> String {
    let body = match kind {
        Kind::Markdown => markdown_html(text),
        _ => format!("<pre>{}</pre>", esc(text)),
    };
    let more = if truncated {
        format!(
            "<p class=\"more\">{}</p>",
            esc(&t(lang, "preview.truncated"))
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><base href=\"{}\">\
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:.8rem;color:#1b1b1b;overflow-wrap:anywhere}}\
pre{{white-space:pre-wrap}}img{{max-width:100%}}table{{border-collapse:collapse}}\
td,th{{border:1px solid #ddd;padding:.2rem .4rem}}.more{{color:#555}}</style></head>\
<body>{body}{more}</body></html>",
        esc(base)
    )
}

/// The first page of a PDF as a PNG, at most 800 pixels wide, or why not.
/// Blocking; run under [`render_pdf`]'s deadline.
fn pdf_first_page(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    use hayro::{PixmapSettings, RenderCache, RenderSettings};
    let pdf = Pdf::new(bytes).map_err(|e| format!("not a PDF this node can read: {e:?}"))?;
    let pages = pdf.pages();
    let page = pages.first().ok_or("the PDF has no page")?;
    let (w, h) = page.render_dimensions();
    if !(w > 0.0 && h > 0.0 && w < 20_000.0 && h < 20_000.0) {
        return Err("the PDF's first page has no sensible size".into());
    }
    let scale = (800.0 / w).min(2.0);
    let cache = RenderCache::new();
    let pixmap = hayro::render(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: hayro::vello_cpu::color::palette::css::WHITE,
        },
    );
    pixmap
        .into_png()
        .map_err(|e| format!("cannot encode the page: {e:?}"))
}

/// Renders a PDF's first page on the blocking pool, giving up after 10
/// seconds or on a panic in the renderer (the PDF came from a stranger).
pub async fn render_pdf(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let job = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(move || pdf_first_page(bytes))
            .unwrap_or_else(|_| Err("the PDF could not be rendered".into()))
    });
    match tokio::time::timeout(std::time::Duration::from_secs(10), job).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("rendering the PDF took too long".into()),
    }
}

/// The preview of file `f` (text, Markdown or a PDF's first page) as a
/// response; `base` is the raw-file route's folder for relative links.
pub async fn response(
    node: &Node,
    renders: &Arc<tokio::sync::Semaphore>,
    f: weft_protocol::FileEntry,
    base: String,
    lang: &str,
) -> Response {
    let Some(kind) = kind_of(&f.path) else {
        return (StatusCode::NOT_FOUND, "no preview for this kind of file\n").into_response();
    };
    let Ok(_permit) = renders.clone().try_acquire_owned() else {
        return busy();
    };
    let limit = match kind {
        Kind::Text | Kind::Markdown => MAX_TEXT_PREVIEW,
        Kind::Pdf if f.size <= MAX_PDF_PREVIEW => f.size,
        _ => {
            return (StatusCode::NOT_FOUND, "no preview of this file here\n").into_response();
        }
    };
    let read = {
        let (node, f) = (node.clone(), f.clone());
        tokio::task::spawn_blocking(move || read_start(&node, &f, limit)).await
    };
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    let headers = |ctype: &'static str| {
        [
            (header::CONTENT_TYPE, ctype),
            (header::CONTENT_SECURITY_POLICY, PREVIEW_CSP),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ]
    };
    if kind == Kind::Pdf {
        if !looks_right(&f.path, &bytes) {
            return (StatusCode::NOT_FOUND, "this file is not a PDF\n").into_response();
        }
        return match render_pdf(bytes).await {
            Ok(png) => (headers("image/png"), png).into_response(),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, format!("{e}\n")).into_response(),
        };
    }
    let truncated = f.size > limit;
    let text = String::from_utf8_lossy(&bytes);
    (
        headers("text/html; charset=utf-8"),
        document(kind, &text, truncated, &base, lang),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_its_text_and_loses_everything_that_could_run() {
        let html = markdown_html(
            "# Notes\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) \
             <img src=x onerror=alert(3)> ![poster](poster.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>Notes</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<img src=\"poster.png\""), "{html}");
        // Inside the tags (not the text, where the source is shown escaped),
        // nothing that runs or loads from elsewhere.
        let tags: Vec<&str> = html
            .split('<')
            .skip(1)
            .filter_map(|t| t.split_once('>').map(|(tag, _)| tag))
            .collect();
        for tag in &tags {
            let tag = tag.to_ascii_lowercase();
            for bad in ["script", "javascript:", "onerror", "src=\"x\""] {
                assert!(!tag.contains(bad), "<{tag}> in {html}");
            }
        }
        // Raw HTML is shown as text, not dropped silently.
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn a_file_that_is_not_what_its_name_says_gets_no_preview() {
        assert!(looks_right("a.png", b"\x89PNG\r\n\x1a\n...."));
        assert!(!looks_right("a.png", b"<html><script>alert(1)</script>"));
        assert!(looks_right("a.pdf", b"%PDF-1.4"));
        assert!(!looks_right("a.pdf", b"<html>%PDF-1.4"));
        assert!(looks_right("logo.svg", b"<svg xmlns="));
        assert!(!looks_right("logo.svg", b"<html><svg"));
        assert_eq!(kind_of("talk.WAV"), Some(Kind::Audio));
        assert_eq!(kind_of("page.html"), None);
    }

    #[test]
    fn a_damaged_or_hostile_pdf_is_refused_not_rendered() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(render_pdf(
            b"%PDF-1.4\n<html><script>alert(1)</script>".to_vec(),
        ));
        assert!(r.is_err());
        let png = rt
            .block_on(render_pdf(
                include_bytes!("../../../tests/fixtures/preview/guide.pdf").to_vec(),
            ))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
