//! `weft get`, `pin`, `unpin` and `pins`: fetching bundles and keeping them.

use std::path::PathBuf;

use serde_json::json;
use weft_protocol::api::{FetchResult, PinsResponse, UnpinResponse};
use weft_protocol::units::human;

use crate::context::{other, Answer, Ctx, Res};
use crate::input::{absolute, parse_ref};
use crate::output::{plural, print_lines, simple};

pub(crate) fn get(ctx: &Ctx, id: &str, out: Option<PathBuf>) -> Res {
    let id = parse_ref(id)?;
    let cwd = std::env::current_dir()
        .map_err(|e| other(format!("cannot read the current folder: {e}")))?;
    let out = match out {
        Some(o) => absolute(o)?,
        None => {
            // The folder is named after the bundle, which only the manifest
            // tells; fetch first, then write.
            let r: FetchResult = ctx.run_job("/v1/fetch", json!({"id": id}), "fetching")?;
            cwd.join(r.name)
        }
    };
    let r: Answer<FetchResult> =
        ctx.run_job("/v1/fetch", json!({"id": id, "out": out}), "fetching")?;
    simple(ctx, r, |r| {
        println!(
            "Fetched and verified {} ({}, {}) into {}",
            r.name,
            plural(r.files, "file"),
            human(r.size),
            out.display()
        );
    })
}

pub(crate) fn pin(ctx: &Ctx, id: &str) -> Res {
    let id = parse_ref(id)?;
    let r: Answer<FetchResult> =
        ctx.run_job("/v1/fetch", json!({"id": id, "pin": true}), "fetching")?;
    simple(ctx, r, |r| println!("Pinned {} ({})", id, r.name))
}

pub(crate) fn unpin(ctx: &Ctx, id: &str) -> Res {
    let id = parse_ref(id)?;
    let v: Answer<UnpinResponse> = ctx.post("/v1/unpin", Some(json!({"id": id})))?;
    simple(ctx, v, |_| println!("Unpinned {id}"))
}

pub(crate) fn pins(ctx: &Ctx) -> Res {
    let v: Answer<PinsResponse> = ctx.get("/v1/pins")?;
    simple(ctx, v, |v| {
        print_lines(&v.pins, "No pinned bundles.", |p| {
            format!(
                "{}  {}  {}",
                p.id,
                p.name.as_deref().unwrap_or("?"),
                human(p.size.unwrap_or(0))
            )
        })
    })
}
