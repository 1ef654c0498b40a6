//! `weft gc` and `weft check`: looking after this node's store.

use serde_json::json;
use weft_protocol::api::{CheckReport, GcReport};
use weft_protocol::units::human;

use crate::context::{other, Answer, Ctx, Res};
use crate::output::{plural, simple};

pub(crate) fn gc(ctx: &Ctx) -> Res {
    let v: Answer<GcReport> = ctx.post("/v1/gc", None)?;
    simple(ctx, v, |v| {
        println!(
            "Evicted {} from the cache ({}); deleted {} unused blocks ({}).",
            plural(v.evicted.len() as u64, "bundle"),
            human(v.evicted_bytes),
            v.blobs_deleted,
            human(v.blob_bytes)
        );
        println!(
            "The store takes {} on disk (was {}).",
            human(v.disk_after),
            human(v.disk_before)
        );
    })
}

pub(crate) fn check(ctx: &Ctx) -> Res {
    let v: Answer<CheckReport> = ctx.run_job("/v1/check", json!({}), "verifying")?;
    let damaged = v.data.damaged.len();
    simple(ctx, v, |v| {
        println!(
            "Verified {} blocks ({}) of {}.",
            v.blocks,
            human(v.bytes),
            plural(v.bundles, "bundle")
        );
        for id in &v.damaged {
            println!(
                "DAMAGED: {id} misses a block or has a bad one; it is being fetched again from peers."
            );
        }
        if v.orphans > 0 {
            println!(
                "{} blocks belong to no bundle; `weft gc` deletes them.",
                v.orphans
            );
        }
    })?;
    if damaged > 0 {
        return Err(other(format!(
            "{damaged} bundle(s) had a damaged or missing block; weftd is fetching them again (see `weft status`)"
        )));
    }
    Ok(())
}
