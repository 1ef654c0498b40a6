//! `weft export` and `weft import`: bundles carried between nodes as
//! archive files (on a USB stick, say).

use std::path::PathBuf;

use serde_json::json;
use weft_protocol::api::{ExportResult, ImportResult};
use weft_protocol::units::human;

use crate::context::{other, Answer, Ctx, Res};
use crate::input::{absolute, parse_ref};
use crate::output::{plural, simple};

pub(crate) fn export(
    ctx: &Ctx,
    bundles: &[String],
    out: Option<PathBuf>,
    dir: Option<PathBuf>,
) -> Res {
    let refs = bundles
        .iter()
        .map(|b| parse_ref(b))
        .collect::<Result<Vec<_>, _>>()?;
    let (path, is_dir) = match (out, dir) {
        (Some(o), None) => (absolute(o)?, false),
        (None, Some(d)) => (absolute(d)?, true),
        _ => return Err(other("give either -o FILE or --dir DIR")),
    };
    let body = json!({ "bundles": refs, "out": path, "dir": is_dir });
    let v: Answer<ExportResult> = ctx.run_job("/v1/export", body, "exporting")?;
    simple(ctx, v, |v| {
        for f in &v.files {
            println!("Wrote {} ({})", f.path.display(), human(f.bytes));
        }
    })
}

pub(crate) fn import(ctx: &Ctx, path: PathBuf) -> Res {
    let body = json!({ "path": absolute(path)? });
    let v: Answer<ImportResult> = ctx.run_job("/v1/import", body, "verifying and importing")?;
    simple(ctx, v, |v| {
        for b in &v.imported {
            println!("Imported {} (seq {}): {}", b.name, b.seq, b.id);
        }
        let here = v.already_here.len() as u64;
        if here > 0 {
            println!("Already on this node: {}.", plural(here, "bundle"));
        }
        let blocked = v.blocked.len() as u64;
        if blocked > 0 {
            println!(
                "{} skipped: their publishers are blocked.",
                plural(blocked, "bundle")
            );
        }
        for id in &v.refused {
            println!(
                "Refused {id}: it is signed by a device its publisher revoked, or by a key the publisher has not certified."
            );
        }
    })
}
