//! `weft follow`, `unfollow`, `block`, `unblock` and `rules`: what this node
//! mirrors and what it refuses.

use serde_json::{json, Value};
use weft_protocol::api::{RuleChangeResponse, RulesResponse, VouchResponse};
use weft_protocol::PublisherId;

use weft_cli::http::CallError;

use crate::context::{other, Answer, Ctx, Res};
use crate::output::simple;

/// What a follow rule names.
pub(crate) struct Target {
    pub(crate) publisher: Option<String>,
    pub(crate) tag: Option<String>,
    pub(crate) lang: Option<String>,
    pub(crate) vouched_by: Option<String>,
    pub(crate) group: Option<String>,
}

/// A publisher is an id or one of the user's names; the daemon resolves
/// it and says so if it is neither.
fn rule_body(t: Target) -> Result<Value, CallError> {
    match (t.publisher, t.tag, t.lang, t.vouched_by, t.group) {
        (Some(p), None, None, None, None) => Ok(json!({ "publisher": p })),
        (None, Some(t), None, None, None) => Ok(json!({ "tag": t })),
        (None, None, Some(l), None, None) => Ok(json!({ "lang": l })),
        (None, None, None, Some(p), None) => Ok(json!({ "vouched_by": p })),
        (None, None, None, None, Some(g)) => Ok(json!({ "group": g })),
        _ => Err(other(
            "name a publisher, or give --tag, --lang, --vouched-by or --group (one rule at a time)",
        )),
    }
}

fn publisher_only(p: String) -> Target {
    Target {
        publisher: Some(p),
        tag: None,
        lang: None,
        vouched_by: None,
        group: None,
    }
}

/// `weft vouch` (`active`) and `weft unvouch`.
pub(crate) fn vouch(ctx: &Ctx, publisher: &str, note: Option<String>, active: bool) -> Res {
    let passphrase = ctx.passphrase_for_signing()?;
    let (route, mut body) = if active {
        ("/v1/vouch", json!({ "publisher": publisher, "note": note }))
    } else {
        ("/v1/unvouch", json!({ "publisher": publisher }))
    };
    if let Some(p) = passphrase {
        body["passphrase"] = json!(p);
    }
    let v: Answer<VouchResponse> = ctx.post(route, Some(body))?;
    simple(ctx, v, |v| {
        if v.active {
            println!(
                "You vouch for {} until {} (Unix time); nodes that trust you now trust it too. Vouch again to renew.",
                v.vouchee, v.expires
            );
        } else {
            println!("You no longer vouch for {}.", v.vouchee);
        }
    })
}

fn print_rules(v: &RulesResponse) {
    let shown = |p: &PublisherId| match v.names.get(p) {
        Some(n) => format!("{}  {p}", n.display()),
        None => p.to_string(),
    };
    let mut any = false;
    for (src, base) in [("", &v.follow), (" (config)", &v.config.follow)] {
        let rules = base
            .publishers
            .iter()
            .map(|p| ("publisher", shown(p)))
            .chain(base.tags.iter().map(|t| ("tag", t.clone())))
            .chain(base.langs.iter().map(|l| ("lang", l.clone())))
            .chain(base.vouched_by.iter().map(|p| ("vouched-by", shown(p))))
            .chain(base.groups.iter().map(|g| ("group", g.to_string())));
        for (kind, x) in rules {
            println!("follow {kind} {x}{src}");
            any = true;
        }
    }
    for (src, base) in [("", &v.block), (" (config)", &v.config.block)] {
        for x in &base.publishers {
            println!("block publisher {}{src}", shown(x));
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

pub(crate) fn follow(ctx: &Ctx, target: Target) -> Res {
    change(
        ctx,
        "/v1/follow",
        rule_body(target)?,
        "That rule was already there.",
        "Following. Matching bundles are fetched and pinned in the background (see `weft status`).",
    )
}

pub(crate) fn unfollow(ctx: &Ctx, target: Target) -> Res {
    change(
        ctx,
        "/v1/unfollow",
        rule_body(target)?,
        "There was no such rule.",
        "Unfollowed. Bundles it mirrored stay in the cache until space is needed.",
    )
}

pub(crate) fn block(ctx: &Ctx, publisher: String) -> Res {
    let body = rule_body(publisher_only(publisher))?;
    let v: Answer<RuleChangeResponse> = ctx.post("/v1/block", Some(body))?;
    simple(ctx, v, |_| {
        println!("Blocked. Its bundles are hidden, never mirrored or served, and removed from this node.")
    })
}

pub(crate) fn unblock(ctx: &Ctx, publisher: String) -> Res {
    let body = rule_body(publisher_only(publisher))?;
    let v: Answer<RuleChangeResponse> = ctx.post("/v1/unblock", Some(body))?;
    simple(ctx, v, |_| println!("Unblocked."))
}
