//! New versions of a bundle: what a node that holds the old version
//! fetches.
//!
//! A publisher publishes a folder whose largest file is most of it, and a
//! second node fetches it. The publisher then publishes two new versions
//! under the same name: one with 1 MiB + 12,345 bytes inserted in the
//! middle of the largest file (at an offset that is no multiple of any
//! chunk size), one with 5 bytes changed near the start of another file.
//! The second node fetches each; the figure is the verified bytes it
//! fetched (its `bytes_fetched` counter) against the bundle's size. The
//! reference, computed in the same run on the same files, is what the
//! earlier fixed 1 MiB chunks would have had to fetch. Every version's
//! files are written out with `weft get -o` and compared with the source.

use std::path::Path;

use anyhow::{bail, Context as _};
use weft_e2e::Daemon;
use weft_protocol::api::{InitOutput, PublishResult};
use weft_protocol::ContentHash;

use crate::report::Report;
use crate::util::{weft_timed, write_random_file};
use crate::Sizes;

const MIB: u64 = 1 << 20;

/// Bytes of `new` in 1 MiB pieces from its start that `old` has no piece
/// equal to: what fixed-size chunking fetches.
fn fixed_chunk_bytes(old: &[u8], new: &[u8]) -> u64 {
    let have: std::collections::HashSet<ContentHash> =
        old.chunks(MIB as usize).map(ContentHash::of).collect();
    new.chunks(MIB as usize)
        .filter(|c| !have.contains(&ContentHash::of(c)))
        .map(|c| c.len() as u64)
        .sum()
}

fn publish(d: &Daemon, dir: &Path) -> anyhow::Result<String> {
    let (p, _) = weft_timed::<PublishResult>(
        d,
        &[
            "publish",
            &dir.to_string_lossy(),
            "--name",
            "field-video",
            "--title",
            "Field video",
        ],
    )?;
    Ok(p.id.to_string())
}

/// Fetches `id` with `weft get -o`, checks every file against `src`, and
/// returns the verified bytes fetched.
fn fetch(d: &Daemon, id: &str, src: &Path, out: &Path) -> anyhow::Result<u64> {
    let before = d.counters().bytes_fetched;
    let o = d.weft(&["get", id, "-o", &out.to_string_lossy()]);
    if !o.status.success() {
        bail!("weft get {id}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let fetched = d.counters().bytes_fetched - before;
    for entry in std::fs::read_dir(src)? {
        let name = entry?.file_name();
        let (a, b) = (
            std::fs::read(src.join(&name))?,
            std::fs::read(out.join(&name))?,
        );
        if a != b {
            bail!(
                "{} differs from its source after weft get",
                name.to_string_lossy()
            );
        }
    }
    std::fs::remove_dir_all(out)?;
    Ok(fetched)
}

/// One version's row: `got` bytes fetched of a `size`-byte bundle, against
/// `fixed`, what fixed 1 MiB chunks would fetch.
fn row(report: &mut Report, label: &str, got: u64, fixed: u64, size: u64) {
    let ratio = got as f64 / size as f64;
    report.add(
        label,
        format!("{:.2} MiB ({:.2}%)", got as f64 / MIB as f64, ratio * 100.0),
        format!(
            "fixed 1 MiB chunks: {:.1} MiB ({:.1}%)",
            fixed as f64 / MIB as f64,
            fixed as f64 / size as f64 * 100.0
        ),
        format!("{:.2}% of the bundle", ratio * 100.0),
        "≤ 3%",
        Some(ratio <= 0.03),
    );
}

/// The case.
pub fn run(sizes: &Sizes, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    let total = sizes.update_mib * MIB;
    let src = work.join("update-src");
    std::fs::create_dir_all(&src)?;
    let video = total - total / 8;
    let guide = total / 8 - 64 * 1024;
    write_random_file(&src.join("video.bin"), video, 41)?;
    write_random_file(&src.join("guide.pdf"), guide, 42)?;
    write_random_file(&src.join("handout.md"), 64 * 1024, 43)?;
    let a = Daemon::start("update-a");
    let b = Daemon::start("update-b");
    weft_timed::<InitOutput>(&a, &["init"])?;
    b.connect(&a);
    let out = work.join("update-out");
    let v1 = publish(&a, &src)?;
    let first = fetch(&b, &v1, &src, &out)?;
    if first < total {
        bail!("the first version fetched {first} bytes, less than its {total}");
    }

    // Version 2: 1 MiB + 12,345 bytes inserted in the middle of the video.
    let old = std::fs::read(src.join("video.bin"))?;
    let at = (video / 2 + 777) as usize;
    let inserted = weft_e2e::pseudo_random((MIB + 12_345) as usize, 44);
    let mut new = old[..at].to_vec();
    new.extend_from_slice(&inserted);
    new.extend_from_slice(&old[at..]);
    std::fs::write(src.join("video.bin"), &new)?;
    let fixed = fixed_chunk_bytes(&old, &new);
    drop((old, new));
    let v2 = publish(&a, &src)?;
    let size2 = total + inserted.len() as u64;
    let got = fetch(&b, &v2, &src, &out)?;
    row(
        report,
        &format!(
            "new version of a {} MiB bundle, {} bytes inserted at {} in its largest file: bytes fetched",
            size2 / MIB,
            inserted.len(),
            at
        ),
        got,
        fixed,
        size2,
    );

    // Version 3: 5 bytes changed near the start of the guide.
    let old = std::fs::read(src.join("guide.pdf"))?;
    let mut new = old.clone();
    new[1000..1005].copy_from_slice(b"weft!");
    std::fs::write(src.join("guide.pdf"), &new)?;
    let fixed = fixed_chunk_bytes(&old, &new);
    let v3 = publish(&a, &src)?;
    let got = fetch(&b, &v3, &src, &out)?;
    row(
        report,
        "new version with 5 bytes changed near the start of a file: bytes fetched",
        got,
        fixed,
        size2,
    );
    std::fs::remove_dir_all(&src).context("removing the update case's folder")?;
    Ok(())
}
