//! `weft publish` and `weft retract`: the commands that sign with the
//! publisher key.

use std::path::Path;

use serde_json::json;
use weft_protocol::api::{PublishResult, RetractResponse};
use weft_protocol::units::human;
use weft_protocol::LangText;

use crate::context::{other, Answer, Ctx, Res};
use crate::input::parse_ref;
use crate::output::{plural, simple};

/// Splits `LANG=TEXT` into its parts when LANG is a language tag.
fn split_lang<'a>(s: &'a str, default: &'a str) -> (&'a str, &'a str) {
    if let Some((l, t)) = s.split_once('=') {
        if weft_protocol::manifest::normalize_lang(l).is_some() && l.len() <= 12 {
            return (l, t);
        }
    }
    (default, s)
}

#[allow(clippy::too_many_arguments)]
/// What `weft publish` says of the bundle.
pub(crate) struct Describe {
    pub(crate) name: Option<String>,
    pub(crate) titles: Vec<String>,
    pub(crate) descriptions: Vec<String>,
    pub(crate) lang: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) licence: String,
    pub(crate) seq: Option<u64>,
    pub(crate) group: Option<String>,
}

pub(crate) fn publish(ctx: &Ctx, path: &Path, d: Describe) -> Res {
    let Describe {
        name,
        titles,
        descriptions,
        lang,
        tags,
        licence,
        seq,
        group,
    } = d;
    let abs = std::fs::canonicalize(path)
        .map_err(|e| other(format!("cannot publish {}: {e}", path.display())))?;
    let default_lang = lang.unwrap_or_else(|| "und".into());
    let mut texts: Vec<LangText> = Vec::new();
    for t in &titles {
        let (l, title) = split_lang(t, &default_lang);
        texts.push(LangText {
            lang: l.to_string(),
            title: title.to_string(),
            description: String::new(),
        });
    }
    for d in &descriptions {
        let (l, desc) = split_lang(d, &default_lang);
        match texts.iter_mut().find(|t| t.lang == l) {
            Some(t) => t.description = desc.to_string(),
            None => {
                return Err(other(format!(
                    "a description in {l} needs a title in {l} too (--title {l}=…)"
                )))
            }
        }
    }
    let passphrase = ctx.passphrase_for_signing()?;
    let private = group.is_some();
    let body = json!({"path": abs, "name": name, "texts": texts, "tags": tags, "licence": licence, "seq": seq, "passphrase": passphrase, "group": group});
    let r: Answer<PublishResult> = ctx.run_job("/v1/publish", body, "publishing")?;
    simple(ctx, r, |r| {
        if private {
            println!(
                "Published {} (seq {}) privately to the group: {}",
                r.name, r.seq, r.id
            );
            println!("  Only the group's members can read it; other nodes carry it sealed.");
        } else {
            println!("Published {} (seq {}): {}", r.name, r.seq, r.id);
        }
        println!("  {}, {}", plural(r.files, "file"), human(r.size));
    })
}

pub(crate) fn retract(ctx: &Ctx, id: &str) -> Res {
    let id = parse_ref(id)?;
    let passphrase = ctx.passphrase_for_signing()?;
    let v: Answer<RetractResponse> = ctx.post(
        "/v1/retract",
        Some(json!({ "id": id, "passphrase": passphrase })),
    )?;
    simple(ctx, v, |v| {
        println!(
            "Retracted {}. The retraction spreads to other nodes; copies pinned by their users stay.",
            v.id
        )
    })
}
