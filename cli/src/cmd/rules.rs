//! `weft follow`, `unfollow`, `block`, `unblock` and `rules`: what this node
//! mirrors and what it refuses.

use serde_json::{json, Value};
use weft_protocol::api::{RuleChangeResponse, RulesResponse};
use weft_protocol::PublisherId;

use weft_cli::http::CallError;

use crate::context::{other, Answer, Ctx, Res};
use crate::output::simple;

fn rule_body(
    publisher: Option<String>,
    tag: Option<String>,
    lang: Option<String>,
) -> Result<Value, CallError> {
    match (publisher, tag, lang) {
        (Some(p), None, None) => {
            p.parse::<PublisherId>()
                .map_err(|e| other(format!("{p:?} is not a publisher id: {e}")))?;
            Ok(json!({ "publisher": p }))
        }
        (None, Some(t), None) => Ok(json!({ "tag": t })),
        (None, None, Some(l)) => Ok(json!({ "lang": l })),
        _ => Err(other(
            "name a publisher, or give --tag or --lang (one rule at a time)",
        )),
    }
}

fn print_rules(v: &RulesResponse) {
    let mut any = false;
    for (src, base) in [("", &v.follow), (" (config)", &v.config.follow)] {
        let rules = base
            .publishers
            .iter()
            .map(|p| ("publisher", p.to_string()))
            .chain(base.tags.iter().map(|t| ("tag", t.clone())))
            .chain(base.langs.iter().map(|l| ("lang", l.clone())));
        for (kind, x) in rules {
            println!("follow {kind} {x}{src}");
            any = true;
        }
    }
    for (src, base) in [("", &v.block), (" (config)", &v.config.block)] {
        for x in &base.publishers {
            println!("block publisher {x}{src}");
            any = true;
        }
    }
    if !any {
        println!("No rules. Mirror with `weft follow <publisher>`, `--tag T` or `--lang L`.");
    }
}

/// `weft rules`, and `weft follow` with no rule.
pub(crate) fn list(ctx: &Ctx) -> Res {
    let v: Answer<RulesResponse> = ctx.get("/v1/rules")?;
    simple(ctx, v, print_rules)
}

/// A rule added or removed: says `unchanged` when the node already had
/// it that way, else `changed`.
fn change(ctx: &Ctx, route: &str, body: Value, unchanged: &str, changed: &str) -> Res {
    let v: Answer<RuleChangeResponse> = ctx.post(route, Some(body))?;
    simple(ctx, v, |v| {
        println!("{}", if v.changed { changed } else { unchanged });
    })
}

pub(crate) fn follow(
    ctx: &Ctx,
    publisher: Option<String>,
    tag: Option<String>,
    lang: Option<String>,
) -> Res {
    change(
        ctx,
        "/v1/follow",
        rule_body(publisher, tag, lang)?,
        "That rule was already there.",
        "Following. Matching bundles are fetched and pinned in the background (see `weft status`).",
    )
}

pub(crate) fn unfollow(
    ctx: &Ctx,
    publisher: Option<String>,
    tag: Option<String>,
    lang: Option<String>,
) -> Res {
    change(
        ctx,
        "/v1/unfollow",
        rule_body(publisher, tag, lang)?,
        "There was no such rule.",
        "Unfollowed. Bundles it mirrored stay in the cache until space is needed.",
    )
}

pub(crate) fn block(ctx: &Ctx, publisher: String) -> Res {
    let body = rule_body(Some(publisher), None, None)?;
    let v: Answer<RuleChangeResponse> = ctx.post("/v1/block", Some(body))?;
    simple(ctx, v, |_| {
        println!("Blocked. Its bundles are hidden, never mirrored or served, and removed from this node.")
    })
}

pub(crate) fn unblock(ctx: &Ctx, publisher: String) -> Res {
    let body = rule_body(Some(publisher), None, None)?;
    let v: Answer<RuleChangeResponse> = ctx.post("/v1/unblock", Some(body))?;
    simple(ctx, v, |_| println!("Unblocked."))
}
