//! `weft search` and `weft show`: reading the catalog.

use weft_protocol::api::{BundleDetails, SearchResponse};
use weft_protocol::units::human;
use weft_protocol::PublisherId;

use crate::context::{other, Answer, Ctx, Res};
use crate::input::parse_ref;
use crate::output::{plural, simple, title_of};

pub(crate) fn search(
    ctx: &Ctx,
    text: Option<String>,
    lang: Option<String>,
    tag: Option<String>,
    publisher: Option<String>,
    limit: usize,
    all_versions: bool,
) -> Res {
    if let Some(p) = &publisher {
        p.parse::<PublisherId>()
            .map_err(|e| other(format!("{p:?} is not a publisher id: {e}")))?;
    }
    let lang_filter = lang.clone();
    let mut q = Vec::new();
    for (k, v) in [
        ("q", text),
        ("lang", lang),
        ("tag", tag),
        ("publisher", publisher),
        ("limit", Some(limit.to_string())),
        ("all_versions", all_versions.then(|| "true".to_string())),
    ] {
        if let Some(v) = v {
            q.push(format!("{k}={}", urlencode(&v)));
        }
    }
    let path = format!("/v1/search?{}", q.join("&"));
    let v: Answer<SearchResponse> = ctx.get(&path)?;
    simple(ctx, v, |v| {
        let results = &v.results;
        if results.is_empty() {
            println!("No matching bundles in the catalog ({} entries).", v.total);
            return;
        }
        for e in results {
            let flags = match (e.pinned, e.local) {
                (true, _) => "pinned",
                (_, true) => "stored",
                _ => "",
            };
            println!(
                "{}  {} (seq {})  {}  {}  {}",
                e.id,
                e.name,
                e.seq,
                human(e.size),
                title_of(&e.titles, lang_filter.as_deref()),
                flags
            );
        }
        if v.matched > results.len() as u64 {
            println!(
                "({} of {} matches shown, newest first; --limit shows more)",
                results.len(),
                v.matched
            );
        }
    })
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn show(ctx: &Ctx, id: &str) -> Res {
    let id = parse_ref(id)?;
    let v: Answer<BundleDetails> = ctx.get(&format!("/v1/bundles/{}", urlencode(&id)))?;
    simple(ctx, v, print_details)
}

/// `weft show` for people.
fn print_details(v: &BundleDetails) {
    println!("id:        {}", v.id);
    println!("name:      {} (seq {})", v.name, v.seq);
    println!("publisher: {}", v.publisher);
    println!(
        "size:      {} in {}",
        human(v.size),
        plural(v.files, "file")
    );
    for t in &v.titles {
        println!("title:     [{}] {}", t.lang, t.title);
    }
    if !v.tags.is_empty() {
        println!("tags:      {}", v.tags.join(", "));
    }
    if let Some(l) = v.licence.as_deref().filter(|l| !l.is_empty()) {
        println!("licence:   {l}");
    }
    println!(
        "here:      {}",
        match (v.local, v.pinned) {
            (_, true) => "stored and pinned",
            (true, _) => "stored",
            _ => "not stored; `weft get` fetches it",
        }
    );
    for f in v.file_list.iter().flatten() {
        println!("  {:>10}  {}", human(f.size), f.path);
    }
}
