//! Private groups: what sealing costs, and how fast a removal spreads.
//!
//! Publish and fetch: a folder of one file of `size_mib` random bytes (new
//! bytes for each publish), published publicly and then privately to a
//! group (three runs each, alternated), on the same daemon; then fetched with `weft get -o` by a
//! new daemon each time, a member of the group, publicly and privately,
//! alternated. The private figures are against the public ones of the same
//! run; every timed step writes into warm memory (see `warm_memory`).
//!
//! Removal: `nodes[0]` daemons (each dials up to three earlier ones), a
//! group of three members on three of them; the time from the start of
//! `weft group remove` until every node's catalog resolves the group to
//! the new epoch, and the remaining member's node holds its key.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use weft_e2e::Daemon;
use weft_protocol::api::{FetchResult, GroupView, InitOutput, PublishResult};

use crate::report::Report;
use crate::util::{sync, warm_memory, weft_timed, write_random_file};
use crate::Sizes;

const MIB: u64 = 1 << 20;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Adds `member` to `group` on `admin`, once `admin` has heard from it.
fn add_member(admin: &Daemon, group: &str, member: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let o = admin.weft(&["group", "add", group, member]);
        if o.status.success() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("adding {member}: {}", String::from_utf8_lossy(&o.stderr));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn group_of(d: &Daemon, group: &str) -> Option<GroupView> {
    let o = d.weft(&["--json", "group", "show", group]);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

/// Publishing and fetching a private bundle against a public one.
fn transfer(sizes: &Sizes, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    let bytes = sizes.size_mib * MIB;
    let src = work.join("private-src");
    let a = Daemon::start("private-a");
    weft_timed::<InitOutput>(&a, &["init"])?;
    let (made, _) = weft_timed::<GroupView>(&a, &["group", "create", "bench group"])?;
    let gid = made.id.to_string();
    let (mut public, mut private) = (Vec::new(), Vec::new());
    let (mut public_ids, mut private_ids) = (Vec::new(), Vec::new());
    let dir = src.to_string_lossy().to_string();
    for run in 0..sizes.publish_runs {
        for sealed in [false, true] {
            // New bytes every time: a public publish of bytes already
            // stored writes nothing, while sealing always makes new ones.
            std::fs::create_dir_all(&src)?;
            write_random_file(
                &src.join("data.bin"),
                bytes,
                61 + 2 * run as u64 + u64::from(sealed),
            )?;
            sync();
            warm_memory(2 * bytes)?;
            let name = format!("bench-{run}-{}", if sealed { "private" } else { "public" });
            let mut args = vec!["publish", dir.as_str(), "--name", name.as_str()];
            if sealed {
                args.extend(["--group", gid.as_str()]);
            }
            let (p, t) = weft_timed::<PublishResult>(&a, &args)?;
            if sealed {
                private.push(t);
                private_ids.push(p.id.to_string());
            } else {
                public.push(t);
                public_ids.push(p.id.to_string());
            }
        }
    }
    let (tp, tq) = (median(public.clone()), median(private.clone()));
    report.add(
        &format!(
            "publish {} MiB privately to a group (median of {} runs)",
            sizes.size_mib,
            private.len()
        ),
        format!("{tq:.2} s"),
        format!("the same folder published publicly, same run: {tp:.2} s"),
        format!("{:.2}×", tq / tp),
        "≤ 1.15×",
        Some(tq / tp <= 1.15),
    );
    let (mut fp, mut fq) = (Vec::new(), Vec::new());
    for run in 0..sizes.publish_runs {
        for sealed in [false, true] {
            let b = Daemon::start(&format!("private-b{run}{sealed}"));
            let init: InitOutput = b.weft_json_as(&["init"]);
            b.connect(&a);
            if sealed {
                add_member(&a, &gid, &init.publisher.to_string())?;
                let deadline = Instant::now() + Duration::from_secs(120);
                while !group_of(&b, &gid).is_some_and(|v| v.readable) {
                    if Instant::now() > deadline {
                        bail!("the member never read the group");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let id = if sealed {
                &private_ids[run]
            } else {
                &public_ids[run]
            };
            let out = work.join(format!("private-out-{run}-{sealed}"));
            sync();
            warm_memory(2 * bytes)?;
            let (got, t) =
                weft_timed::<FetchResult>(&b, &["get", id, "-o", &out.to_string_lossy()])?;
            if got.size != bytes {
                bail!("the fetch wrote {} bytes, not {bytes}", got.size);
            }
            let written =
                std::fs::metadata(out.join("data.bin")).context("the file written out")?;
            if written.len() != bytes {
                bail!("the file written out has {} bytes", written.len());
            }
            std::fs::remove_dir_all(&out)?;
            if sealed {
                fq.push(t)
            } else {
                fp.push(t)
            }
        }
    }
    let (tp, tq) = (median(fp), median(fq));
    report.add(
        &format!("fetch {} MiB of a private bundle as a member and write it out (`weft get -o`, median of {} runs)", sizes.size_mib, sizes.publish_runs),
        format!("{tq:.2} s"),
        format!("the same bytes as a public bundle, same run: {tp:.2} s"),
        format!("{:.2}×", tq / tp),
        "≤ 1.15×",
        Some(tq / tp <= 1.15),
    );
    Ok(())
}

/// How fast a removal reaches every node.
fn removal(sizes: &Sizes, report: &mut Report) -> anyhow::Result<()> {
    let n = sizes.nodes.first().copied().unwrap_or(25).max(3);
    let nodes: Vec<Daemon> = (0..n).map(|i| Daemon::start(&format!("rm-{i}"))).collect();
    let ids: Vec<InitOutput> = nodes[..3]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
    let mut rng = 7u64;
    for i in 1..n {
        for _ in 0..3.min(i) {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let j = (rng >> 33) as usize % i;
            nodes[i].connect(&nodes[j]);
        }
    }
    let (made, _) = weft_timed::<GroupView>(&nodes[0], &["group", "create", "removal bench"])?;
    let gid = made.id.to_string();
    for m in &ids[1..] {
        add_member(&nodes[0], &gid, &m.publisher.to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while !nodes
        .iter()
        .all(|d| group_of(d, &gid).is_some_and(|v| v.records == 3))
    {
        if Instant::now() > deadline {
            bail!("the group never reached every node");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let start = Instant::now();
    weft_timed::<GroupView>(
        &nodes[0],
        &["group", "remove", &gid, &ids[2].publisher.to_string()],
    )?;
    let mut done = vec![None; n];
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.iter().any(Option::is_none) {
        for (i, d) in nodes.iter().enumerate() {
            if done[i].is_none()
                && group_of(d, &gid).is_some_and(|v| v.epoch == 1 && (i != 1 || v.readable))
            {
                done[i] = Some(start.elapsed().as_secs_f64());
            }
        }
        if Instant::now() > deadline {
            bail!("the removal never reached every node");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let times: Vec<f64> = done.into_iter().flatten().collect();
    let all = times.iter().copied().fold(0.0, f64::max);
    report.add(
        &format!("a member's removal, until all {n} nodes resolve the new epoch and the remaining member holds its key"),
        format!("{:.0} ms (per node p50 {:.0} ms)", all * 1000.0, median(times) * 1000.0),
        "—".into(),
        "—".into(),
        "—",
        None,
    );
    Ok(())
}

/// Runs both parts.
pub fn run(sizes: &Sizes, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    transfer(sizes, work, report)?;
    removal(sizes, report)
}
