//! `weft search` and `weft show`: reading the catalog.

use weft_protocol::api::{BundleDetails, SearchResponse, WhyResponse};
use weft_protocol::units::human;

use crate::context::{Answer, Ctx, Res};
use crate::input::parse_ref;
use crate::output::{plural, simple, title_of};

/// What `weft search` filters by.
pub(crate) struct Filters {
    pub(crate) text: Option<String>,
    pub(crate) lang: Option<String>,
    pub(crate) tag: Option<String>,
    pub(crate) publisher: Option<String>,
    pub(crate) limit: usize,
    pub(crate) all_versions: bool,
    pub(crate) trusted_only: bool,
    pub(crate) group: Option<String>,
}

pub(crate) fn search(ctx: &Ctx, f: Filters) -> Res {
    let lang_filter = f.lang.clone();
    let mut q = Vec::new();
    for (k, v) in [
        ("q", f.text),
        ("lang", f.lang),
        ("tag", f.tag),
        ("publisher", f.publisher),
        ("limit", Some(f.limit.to_string())),
        ("all_versions", f.all_versions.then(|| "true".to_string())),
        ("trusted_only", f.trusted_only.then(|| "true".to_string())),
        ("group", f.group),
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
            let flags = match (e.pinned, e.local, e.contested) {
                (true, _, _) => "pinned",
                (_, true, _) => "stored",
                (_, _, true) => {
                    "CONTESTED: another publisher claims this id; `weft get` settles it"
                }
                _ => "",
            };
            let flags = match &e.group {
                Some(g) => format!("private to group {g}  {flags}")
                    .trim_end()
                    .to_string(),
                None => flags.to_string(),
            };
            println!(
                "{}  {} (seq {})  {}  {}  by {} [{}]  {}",
                e.id,
                e.name,
                e.seq,
                human(e.size),
                title_of(&e.titles, lang_filter.as_deref()),
                e.publisher_name.display(),
                e.tier.as_str(),
                flags
            );
        }
        if v.matched > results.len() as u64 {
            println!(
                "({} of {} matches shown, trusted publishers first, then newest; --limit shows more)",
                results.len(),
                v.matched
            );
        }
    })
}

pub(crate) fn urlencode(s: &str) -> String {
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
    if let Some(g) = &v.group {
        println!("private:   shared with group {g} only (`weft group show {g}`)");
    }
    println!("publisher: {}", v.publisher_name.display());
    println!("           {} ({})", v.publisher, v.tier.as_str());
    if v.revoked {
        println!("WARNING:   signed by a device its publisher revoked; kept here only because you pinned it");
    }
    if v.contested {
        println!("WARNING:   another publisher claims this bundle id; `weft get` fetches the manifest, which settles which claim is true");
    }
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

pub(crate) fn why(ctx: &Ctx, publisher: &str) -> Res {
    let v: Answer<WhyResponse> = ctx.get(&format!("/v1/why/{}", urlencode(publisher)))?;
    simple(ctx, v, |v| {
        println!("{}: {}", v.name.display(), v.tier.as_str());
        println!("  {}", v.publisher);
        if v.reasons.is_empty() {
            println!("  nothing makes it trusted: its entries are kept within the quotas for unknown publishers");
        }
        for r in &v.reasons {
            println!("  because {r}");
        }
        match v.entries {
            1 => println!("  1 entry in this node's catalog"),
            n => println!("  {n} entries in this node's catalog"),
        }
    })
}
