//! `weft group`: private groups (create, add, remove, rekey, list, show).

use serde_json::json;
use weft_protocol::api::{GroupView, GroupsResponse};

use crate::cmd::search::urlencode;
use crate::context::{Answer, Ctx, Res};
use crate::output::simple;

fn print_group(v: &GroupView) {
    match &v.name {
        Some(n) => println!("{n}  {}", v.id),
        None => println!("(a group this node cannot read)  {}", v.id),
    }
    let role = match (v.admin, v.member) {
        (true, _) => "you are an admin",
        (false, true) => "you are a member",
        (false, false) if v.readable => "you hold its key",
        (false, false) if !v.epochs_held.is_empty() => {
            "you held an earlier key: removed, or not yet given the new one"
        }
        _ => "you are not a member",
    };
    println!(
        "  epoch {}, {} records, {} private bundles; {role}",
        v.epoch, v.records, v.bundles
    );
    for m in &v.members {
        let tag = if m.admin { " (admin)" } else { "" };
        println!("  member: {}{tag}", m.name.display());
    }
    if v.members.is_empty() {
        println!("  {} admin(s); its members are sealed", v.admins.len());
    }
    if v.rekey_due {
        println!("  WARNING: a member's device was revoked after this key epoch began; an admin should run `weft group rekey {}`", v.id);
    }
}

fn member_body(
    ctx: &Ctx,
    member: &str,
    history: bool,
    admin: bool,
) -> Result<serde_json::Value, weft_cli::http::CallError> {
    let mut body = json!({"member": member, "history": history, "admin": admin});
    if let Some(p) = ctx.passphrase_for_signing()? {
        body["passphrase"] = json!(p);
    }
    Ok(body)
}

/// `weft group create NAME`.
pub(crate) fn create(ctx: &Ctx, name: &str) -> Res {
    let mut body = json!({"name": name});
    if let Some(p) = ctx.passphrase_for_signing()? {
        body["passphrase"] = json!(p);
    }
    let v: Answer<GroupView> = ctx.post("/v1/group", Some(body))?;
    simple(ctx, v, |v| {
        println!(
            "Created the group. Add members with `weft group add {} PUBLISHER`.",
            v.id
        );
        print_group(v);
    })
}

/// `weft group add GROUP PUBLISHER`.
pub(crate) fn add(ctx: &Ctx, group: &str, member: &str, history: bool, admin: bool) -> Res {
    let body = member_body(ctx, member, history, admin)?;
    let v: Answer<GroupView> =
        ctx.post(&format!("/v1/groups/{}/add", urlencode(group)), Some(body))?;
    simple(ctx, v, |v| {
        println!("Added. The member's node receives the group's key when it next hears from the network.");
        print_group(v);
    })
}

/// `weft group remove GROUP PUBLISHER`.
pub(crate) fn remove(ctx: &Ctx, group: &str, member: &str) -> Res {
    let body = member_body(ctx, member, false, false)?;
    let v: Answer<GroupView> = ctx.post(
        &format!("/v1/groups/{}/remove", urlencode(group)),
        Some(body),
    )?;
    simple(ctx, v, |v| {
        println!(
            "Removed. Epoch {} begins: what is shared from now on is sealed with a key the removed member never receives; what it already fetched, it keeps.",
            v.epoch
        );
        print_group(v);
    })
}

/// `weft group rekey GROUP`.
pub(crate) fn rekey(ctx: &Ctx, group: &str) -> Res {
    let mut body = json!({});
    if let Some(p) = ctx.passphrase_for_signing()? {
        body["passphrase"] = json!(p);
    }
    let v: Answer<GroupView> = ctx.post(
        &format!("/v1/groups/{}/rekey", urlencode(group)),
        Some(body),
    )?;
    simple(ctx, v, |v| {
        println!(
            "Epoch {} begins: what is shared from now on is sealed with a key only the members' devices in good standing receive.",
            v.epoch
        );
        print_group(v);
    })
}

/// `weft group list`.
pub(crate) fn list(ctx: &Ctx) -> Res {
    let v: Answer<GroupsResponse> = ctx.get("/v1/groups")?;
    simple(ctx, v, |v| {
        if v.groups.is_empty() {
            println!("No groups yet. `weft group create NAME` founds one.");
        }
        for g in &v.groups {
            print_group(g);
        }
    })
}

/// `weft group show GROUP`.
pub(crate) fn show(ctx: &Ctx, group: &str) -> Res {
    let v: Answer<GroupView> = ctx.get(&format!("/v1/groups/{}", urlencode(group)))?;
    simple(ctx, v, print_group)
}
