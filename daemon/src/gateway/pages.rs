//! The catalog page and the bundle page.

use super::*;

/// The query of the catalog page. Every field is optional and bounded.
#[derive(Debug, Default, Deserialize)]
pub struct CatalogParams {
    q: Option<String>,
    lang: Option<String>,
    tag: Option<String>,
    publisher: Option<String>,
    hl: Option<String>,
    page: Option<usize>,
}

pub(super) fn too_long(v: &Option<String>) -> bool {
    v.as_ref().is_some_and(|s| s.len() > MAX_QUERY_VALUE)
}

pub(super) async fn catalog_page(
    State(st): State<GatewayState>,
    headers: HeaderMap,
    Query(p): Query<CatalogParams>,
) -> Response {
    let lang = negotiate(p.hl.as_deref(), accept_language(&headers));
    if [&p.q, &p.lang, &p.tag, &p.publisher, &p.hl]
        .iter()
        .any(|v| too_long(v))
    {
        return html(
            StatusCode::BAD_REQUEST,
            page(&st, lang, "400", "/", "<h1>400</h1>"),
        );
    }
    let Ok(_render) = st.renders.clone().try_acquire_owned() else {
        return busy();
    };
    let node = &st.node;
    node.catalog.ready().await;
    let held = match held(&st).await {
        Ok(h) => h,
        Err(e) => return error_page(&st, lang, &e),
    };
    let publisher = p
        .publisher
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| PublisherId::from_str(s).ok());
    let mut query = CatalogQuery::new(
        p.q.as_deref(),
        p.lang.as_deref(),
        p.tag.as_deref(),
        publisher,
    );
    query.only = Some(held.ids.clone());
    let page_no = p.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let catalog = node.catalog.clone();
    let found =
        match tokio::task::spawn_blocking(move || catalog.search(&query, page_no * PER_PAGE)).await
        {
            Ok(f) => f,
            Err(e) => {
                return error_page(&st, lang, &crate::error::NodeError::Internal(e.to_string()))
            }
        };
    let want = reader_langs(None, accept_language(&headers), lang);
    let q = p.q.clone().unwrap_or_default();
    let sel_lang = p.lang.clone().unwrap_or_default();
    let sel_tag = p.tag.clone().unwrap_or_default();
    let sel_pub = p.publisher.clone().unwrap_or_default();
    let any = esc(&t(lang, "filter.any"));
    let options = |items: &[(String, String)], selected: &str| -> String {
        let mut o = format!("<option value=\"\">{any}</option>");
        for (value, label) in items {
            let sel = if value == selected { " selected" } else { "" };
            let _ = write!(
                o,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(value),
                esc(label)
            );
        }
        o
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"intro\">{}</p><form method=\"get\" action=\"/\" role=\"search\">\
<input type=\"hidden\" name=\"hl\" value=\"{lang}\">\
<label>{} <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"{}\" maxlength=\"200\"></label> \
<label>{} <select name=\"lang\">{}</select></label> \
<label>{} <select name=\"tag\">{}</select></label> \
<label>{} <select name=\"publisher\">{}</select></label> \
<button type=\"submit\">{}</button> <a href=\"/{}\">{}</a></form>",
        esc(&t(lang, "gateway.intro")),
        esc(&t(lang, "search.label")),
        esc(&q),
        esc(&t(lang, "search.placeholder")),
        esc(&t(lang, "filter.lang")),
        options(&held.langs, &sel_lang),
        esc(&t(lang, "filter.tag")),
        options(&held.tags, &sel_tag),
        esc(&t(lang, "filter.publisher")),
        options(&held.publishers, &sel_pub),
        esc(&t(lang, "search.button")),
        query_string(&[("hl", lang)]),
        esc(&t(lang, "filter.clear")),
    );
    let _ = write!(
        body,
        "<p class=\"count\">{}</p>",
        esc(&tf(
            lang,
            "catalog.matched",
            &[("n", &found.matched.to_string())]
        ))
    );
    let start = (page_no - 1) * PER_PAGE;
    if found.results.len() <= start {
        let _ = write!(body, "<p>{}</p>", esc(&t(lang, "catalog.empty")));
    } else {
        body.push_str("<ul class=\"results\">");
        for a in &found.results[start..] {
            let _ = write!(
                body,
                "<li><a href=\"/bundle/{}{}\">{}</a> <span class=\"meta\">{} · {} · {}</span> <span class=\"by\">{}</span>{}</li>",
                a.id,
                query_string(&[("hl", lang)]),
                esc(&title_of(a, &want)),
                esc(&a.name),
                human(a.size),
                esc(&tf(lang, "bundle.file_count", &[("n", &a.files.to_string())])),
                publisher_html(&node.describe(&a.publisher, Some(lang)), lang),
                tags_html(&a.tags, lang),
            );
        }
        body.push_str("</ul>");
    }
    let here_pairs = |page: usize| -> String {
        let page = page.to_string();
        format!(
            "/{}",
            query_string(&[
                ("q", &q),
                ("lang", &sel_lang),
                ("tag", &sel_tag),
                ("publisher", &sel_pub),
                ("hl", lang),
                ("page", if page == "1" { "" } else { &page }),
            ])
        )
    };
    let mut nav = String::new();
    if page_no > 1 {
        let _ = write!(
            nav,
            "<a rel=\"prev\" href=\"{}\">{}</a> ",
            esc(&here_pairs(page_no - 1)),
            esc(&t(lang, "gateway.prev"))
        );
    }
    if found.matched > page_no * PER_PAGE {
        let _ = write!(
            nav,
            "<a rel=\"next\" href=\"{}\">{}</a>",
            esc(&here_pairs(page_no + 1)),
            esc(&t(lang, "gateway.next"))
        );
    }
    if !nav.is_empty() {
        let _ = write!(body, "<nav class=\"pages\">{nav}</nav>");
    }
    // The language links keep the search but not the page language.
    let here = format!(
        "/{}",
        query_string(&[
            ("q", &q),
            ("lang", &sel_lang),
            ("tag", &sel_tag),
            ("publisher", &sel_pub)
        ])
    );
    let title = t(lang, "nav.catalog");
    html(StatusCode::OK, page(&st, lang, &title, &here, &body))
}

/// The query of a bundle page.
#[derive(Debug, Default, Deserialize)]
pub struct LangParam {
    hl: Option<String>,
}

/// A held, listable bundle's signed manifest, or why not.
pub(super) async fn servable(st: &GatewayState, id: &str) -> Result<SignedManifest, &'static str> {
    let id = BundleId::from_str(id).map_err(|_| "gateway.not_found")?;
    let node = &st.node;
    let m = node
        .local_manifest(id)
        .await
        .ok()
        .flatten()
        .ok_or("gateway.not_here")?;
    // A private group's sealed bundle is never served: it is useless to
    // readers, and serving it would say which bundles the node carries
    // for a group.
    if crate::ops::private::looks_sealed(&m) {
        return Err("gateway.not_here");
    }
    // A retracted bundle, or one signed by a revoked device, is served only
    // where the operator pinned it explicitly.
    let kept = node.holdings.pin_kind(&id) == Some(crate::store::PinKind::Explicit);
    let standing = node.catalog.standing(&id);
    if ((standing.retracted || standing.revoked) && !kept)
        || node.rules.is_blocked(&m.manifest().publisher)
    {
        return Err("gateway.not_here");
    }
    Ok(m)
}

pub(super) async fn bundle_page(
    State(st): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<LangParam>,
) -> Response {
    let lang = negotiate(p.hl.as_deref(), accept_language(&headers));
    if too_long(&p.hl) {
        return not_found_page(&st, lang, "gateway.not_found");
    }
    let signed = match servable(&st, &id).await {
        Ok(m) => m,
        Err(key) => return not_found_page(&st, lang, key),
    };
    let id = signed.id();
    let m = signed.manifest();
    let want = reader_langs(p.hl.as_deref(), accept_language(&headers), lang);
    let text =
        &m.texts[best_lang(m.texts.iter().map(|t| t.lang.as_str()), &want).min(m.texts.len() - 1)];
    let mut body = String::new();
    let _ = write!(
        body,
        "<p><a href=\"/{}\">← {}</a></p><article lang=\"{}\"><h1>{}</h1>",
        query_string(&[("hl", lang)]),
        esc(&t(lang, "bundle.back")),
        esc(&text.lang),
        esc(&text.title)
    );
    for para in text
        .description
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
    {
        let _ = write!(body, "<p>{}</p>", esc(para.trim()));
    }
    body.push_str("</article>");
    let mut dl = String::from("<dl>");
    let mut row = |k: &str, v: String| {
        let _ = write!(dl, "<dt>{}</dt><dd>{v}</dd>", esc(&t(lang, k)));
    };
    // Each language links to the page with that text.
    let langs: Vec<String> = m
        .texts
        .iter()
        .map(|x| {
            if x.lang == text.lang {
                format!("<strong>{}</strong>", esc(&x.lang))
            } else {
                format!(
                    "<a hreflang=\"{l}\" href=\"/bundle/{id}{}\">{l}</a>",
                    query_string(&[("hl", &x.lang)]),
                    l = esc(&x.lang)
                )
            }
        })
        .collect();
    row("bundle.other_langs", langs.join(", "));
    row("bundle.size", human(m.total_size()));
    row("bundle.name", esc(&m.name));
    row("bundle.version", m.seq.to_string());
    if !m.tags.is_empty() {
        row("bundle.tags", tags_html(&m.tags, lang));
    }
    if !m.licence.is_empty() {
        row("bundle.licence", esc(&m.licence));
    }
    row(
        "bundle.publisher",
        format!(
            "{} <a href=\"/{}\"><code>{}</code></a>",
            publisher_html(&st.node.describe(&m.publisher, Some(lang)), lang),
            query_string(&[("publisher", &m.publisher.to_string()), ("hl", lang)]),
            m.publisher
        ),
    );
    row("bundle.id", format!("<code>{id}</code>"));
    dl.push_str("</dl>");
    body.push_str(&dl);
    let list = {
        let (node, m) = (st.node.clone(), m.clone());
        tokio::task::spawn_blocking(move || super::preview::previews(&node, &m))
            .await
            .unwrap_or_default()
    };
    body.push_str(&previews_html(&id.to_string(), &list, lang));
    let _ = write!(
        body,
        "<h2>{}</h2><table class=\"files\"><tbody>",
        esc(&t(lang, "gateway.files_of"))
    );
    for f in &m.files {
        let _ = write!(
            body,
            "<tr><td><a href=\"/file/{id}/{}\">{}</a></td><td class=\"size\">{}</td></tr>",
            esc(&pct(&f.path, true)),
            esc(&f.path),
            human(f.size)
        );
    }
    body.push_str("</tbody></table>");
    let here = format!("/bundle/{id}");
    html(StatusCode::OK, page(&st, lang, &text.title, &here, &body))
}

/// The previews section of a bundle page: each file shown by the page's
/// own elements (no script): images, audio and video from the raw-file
/// route, text, Markdown in a sandboxed frame, a PDF's first page as an
/// image.
pub(super) fn previews_html(
    id: &str,
    list: &[(super::preview::Kind, String)],
    lang: &str,
) -> String {
    use super::preview::Kind;
    if list.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>{}</h2><div class=\"previews\">",
        esc(&t(lang, "preview.title"))
    );
    for (kind, path) in list {
        let raw = format!("/file/{id}/{}", esc(&pct(path, true)));
        let rendered = format!("/preview/{id}/{}", esc(&pct(path, true)));
        let label = esc(path);
        let shown = match kind {
            Kind::Image => format!("<img src=\"{raw}\" alt=\"{label}\" loading=\"lazy\">"),
            Kind::Audio => format!("<audio controls preload=\"metadata\" src=\"{raw}\" aria-label=\"{label}\"></audio>"),
            Kind::Video => format!("<video controls preload=\"metadata\" src=\"{raw}\" aria-label=\"{label}\"></video>"),
            Kind::Pdf => format!(
                "<img src=\"{rendered}\" alt=\"{}\" loading=\"lazy\">",
                esc(&tf(lang, "preview.pdf_page", &[("name", path)]))
            ),
            Kind::Text | Kind::Markdown => format!(
                "<iframe sandbox src=\"{rendered}\" title=\"{label}\" loading=\"lazy\"></iframe>"
            ),
        };
        let _ = write!(
            out,
            "<figure class=\"preview preview-{}\">{shown}<figcaption><a href=\"{raw}\">{label}</a></figcaption></figure>",
            match kind {
                Kind::Image => "image",
                Kind::Audio => "audio",
                Kind::Video => "video",
                Kind::Pdf => "pdf",
                Kind::Text => "text",
                Kind::Markdown => "markdown",
            }
        );
    }
    out.push_str("</div>");
    out
}
