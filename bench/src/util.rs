//! Small shared pieces: finding the binaries, timing, percentiles, data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use weft_e2e::Daemon;

/// Points the harness at the `weftd` and `weft` built next to this binary
/// (unless `WEFT_BIN_DIR` is set) and keeps daemon logs quiet, so logging
/// does not weigh on the figures. Runs before any thread starts.
pub fn locate_binaries() -> anyhow::Result<()> {
    let dir = match std::env::var_os("WEFT_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark binary has no folder")?
            .to_path_buf(),
    };
    for b in ["weftd", "weft"] {
        if !dir.join(b).exists() {
            bail!(
                "{b} is not built in {}; build it with `cargo build --release -p weft-daemon -p weft-cli` (scripts/bench.sh does)",
                dir.display()
            );
        }
    }
    std::env::set_var("WEFT_BIN_DIR", &dir);
    if std::env::var_os("WEFT_DAEMON_LOG").is_none() {
        std::env::set_var("WEFT_DAEMON_LOG", "warn");
    }
    Ok(())
}

/// The folder holding `weftd` and `weft`.
pub fn bin_dir() -> PathBuf {
    weft_e2e::bin_dir()
}

/// Seconds since `t`.
pub fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// The `p` quantile (0..=1) of `v`, nearest rank; NaN when empty.
pub fn quantile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

/// Runs `weft --data-dir <dir> --json args...`, requires success, and
/// returns the output read into `T` (the command's answer type from
/// `weft_protocol::api`) with the wall time the command took.
pub fn weft_timed<T: DeserializeOwned>(d: &Daemon, args: &[&str]) -> anyhow::Result<(T, f64)> {
    let t = Instant::now();
    let out = Command::new(bin_dir().join("weft"))
        .arg("--data-dir")
        .arg(d.path())
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let took = secs(t);
    if !out.status.success() {
        bail!(
            "`weft {}` failed on {}: {}",
            args.join(" "),
            d.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let answer = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "`weft --json {}` on {} printed what does not read as {}: {}",
            args.join(" "),
            d.name,
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    Ok((answer, took))
}

/// Writes `bytes` of incompressible pseudo-random data to `path`, 1 MiB at
/// a time, seeded so runs are repeatable.
pub fn write_random_file(path: &Path, bytes: u64, seed: u64) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for w in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

/// Flushes the page cache's dirty pages so one case's writes do not land
/// in the next case's timing.
pub fn sync() {
    let _ = Command::new("sync").status();
}

/// Puts the next timed step on warm memory. A virtual machine like this
/// one hands memory the kernel has freed back to its host after about two
/// seconds (virtio-balloon free page reporting), and the first write into
/// such a page faults on the host: writing a file into it costs about
/// 3 ms per MiB instead of 0.2. Whichever step writes first after an idle
/// moment pays that, so every timed step that writes files, weft's and its
/// reference's alike, is preceded by this: `bytes` of anonymous memory
/// touched page by page and freed at once, so the step's page cache reuses
/// memory the kernel has just taken back. (A scratch file would do the
/// same but start writeback to the disk, which the step would then wait
/// behind.) Elsewhere it costs a moment of page faults.
pub fn warm_memory(bytes: u64) -> anyhow::Result<()> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(bytes as usize)
        .map_err(|e| anyhow::anyhow!("cannot take {bytes} bytes to warm memory: {e}"))?;
    // Filling writes every page, which maps it.
    v.resize(bytes as usize, 1);
    std::hint::black_box(&v);
    Ok(())
}

/// The opposite of [`warm_memory`], for the one run of a case measured
/// as a new user would first see it: waits until the memory freed by the
/// steps before has been handed back to the host (the kernel reports free
/// memory two seconds after it is freed; five leave it time to finish).
pub fn cold_memory() {
    sync();
    std::thread::sleep(Duration::from_secs(5));
}

/// Resident memory of a process, in bytes, from /proc.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed VmRSS line")?
        .parse()?;
    Ok(kb * 1024)
}

/// Bytes a process has asked the disk to write since it started
/// (`write_bytes` in /proc/PID/io, which counts all its threads).
pub fn write_bytes(pid: u32) -> anyhow::Result<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io"))
        .with_context(|| format!("reading /proc/{pid}/io"))?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .context("no write_bytes in /proc/PID/io")
}

/// Polls `cond` every `every` until it holds, or fails after `timeout`.
pub fn poll(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut cond: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(every);
    }
    Ok(())
}

/// MiB in `bytes`.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
