//! A hostile world, part one: the disk and the local API. A block that rots
//! on disk is caught when it is read, never served, and fetched again; a
//! disk that fills up during a fetch gives a clear error, leaves reads
//! working and recovers once space is freed; and the local API refuses every
//! kind of forged or out-of-bounds request. Real daemons on 127.0.0.1.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use weft_e2e::{
    get_and_check, init, publish, record_figure, router_routes, skip, wait_until, Daemon,
};

const MIB: usize = 1 << 20;

/// Every file under `dir` whose name ends in `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_block_rotted_on_disk_is_detected_never_served_and_fetched_again() {
    let mut a = Daemon::start("rot-a");
    init(&a);
    let id = publish(&a, "rot", 6 * MIB + 3, 61, &[]);
    let mut b = Daemon::start("rot-b");
    b.connect(&a);
    assert!(b.weft(&["pin", &id]).status.success());
    assert!(b.terminate(), "b stops cleanly");
    // Rot: flip bytes spread through every block segment file, where the
    // chunks' bytes are.
    let blobs: Vec<PathBuf> = files_ending(b.path(), "")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seg-"))
        })
        .collect();
    assert!(!blobs.is_empty(), "b keeps its chunks in segment files");
    for f in &blobs {
        let mut bytes = std::fs::read(f).unwrap();
        let len = bytes.len();
        for i in 1..16 {
            bytes[len * i / 16] ^= 0x5a;
        }
        std::fs::write(f, bytes).unwrap();
    }
    // The only honest copy goes away; c can reach only the rotted b.
    assert!(a.terminate());
    b.start_again();
    let c = Daemon::start("rot-c");
    c.connect(&b);
    let out = c.weft(&["get", &id, "-o", c.path().join("early").to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "c cannot complete from a rotted copy: {out:?}"
    );
    wait_until("b to notice the damage", Duration::from_secs(20), || {
        b.counters().blocks_damaged > 0
    });
    assert_eq!(
        c.counters().chunks_rejected,
        0,
        "b never served a bad block"
    );
    let get = b.weft(&["get", &id, "-o", b.path().join("bad").to_str().unwrap()]);
    assert!(
        !get.status.success(),
        "b does not write out a damaged bundle"
    );
    // The honest peer returns: b fetches what rotted and is whole again.
    a.start_again();
    b.connect(&a);
    let healed = || {
        b.status().interrupted_fetches.is_empty()
            && b.weft_json(&["pins"])["pins"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["id"] == id.as_str()))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !healed() {
        assert!(
            std::time::Instant::now() < deadline,
            "b did not fetch the damaged blocks again:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let check = b.weft_json(&["check"]);
    assert_eq!(check["damaged"].as_array().unwrap().len(), 0, "{check}");
    assert!(check["blocks"].as_u64().unwrap() >= 7, "{check}");
    get_and_check(&b, &id, "healed", 6 * MIB + 3, 61);
    get_and_check(&c, &id, "late", 6 * MIB + 3, 61);
    assert_eq!(c.counters().chunks_rejected, 0);
}

/// A tmpfs of `mib` MiB mounted on a fresh folder; unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u64) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("weft-fulldisk-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cannot mount a small tmpfs (needs root): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self { dir })
    }

    fn grow(&self, mib: u64) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={mib}m")])
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn job_error(d: &Daemon, args: &[&str]) -> String {
    let out = d.weft(args);
    assert!(
        !out.status.success(),
        "`weft {}` should fail",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_full_disk_during_a_fetch_gives_a_clear_error_keeps_reads_and_recovers() {
    let disk = match SmallDisk::mount(96) {
        Ok(d) => d,
        Err(why) => return skip("full disk", &why),
    };
    let a = Daemon::start("disk-a");
    init(&a);
    let small = publish(&a, "small", 2 * MIB, 71, &[]);
    let big = publish(&a, "big", 128 * MIB, 72, &[]);
    let data = disk.dir.path().join("node");
    std::fs::create_dir(&data).unwrap();
    let mut b = Daemon::start_in(
        "disk-b",
        tempfile::Builder::new().tempdir_in(&data).unwrap(),
        &[],
    );
    b.connect(&a);
    let o = b.weft(&["pin", &small]);
    assert!(o.status.success(), "{o:?}\n{}", b.log());
    let err = job_error(&b, &["pin", &big]);
    assert!(
        err.contains("disk") && err.contains("full"),
        "the error says the disk is full: {err}"
    );
    assert!(b.is_running(), "the daemon stays up");
    // Reads keep working.
    assert!(b.lists(&big));
    let outside = tempfile::tempdir().unwrap();
    let o = b.weft(&[
        "get",
        &small,
        "-o",
        outside.path().join("s").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read(outside.path().join("s/data.bin")).unwrap(),
        weft_e2e::pseudo_random(2 * MIB, 71)
    );
    b.status();
    // Space comes back; the same command now works.
    disk.grow(512);
    let t = std::time::Instant::now();
    wait_until(
        "writes to recover once space is free",
        Duration::from_secs(90),
        || b.weft(&["pin", &big]).status.success(),
    );
    eprintln!("writes recovered {:?} after space came back", t.elapsed());
    let check = b.weft_json(&["check"]);
    assert_eq!(check["damaged"].as_array().unwrap().len(), 0, "{check}");
    let dest = tempfile::tempdir().unwrap();
    let o = b.weft(&["get", &big, "-o", dest.path().join("x").to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read(dest.path().join("x/data.bin")).unwrap(),
        weft_e2e::pseudo_random(128 * MIB, 72)
    );
    let _ = b.terminate();
}

/// One raw HTTP/1.1 request; returns the status and the body.
fn raw(addr: &str, request: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// The API's routes, read from the router in the daemon's source.
fn routes() -> Vec<(String, String)> {
    let out: Vec<(String, String)> = router_routes("daemon/src/http/mod.rs")
        .into_iter()
        .map(|(method, path)| (method, path.replace("{id}", "1")))
        .collect();
    assert!(out.len() >= 20, "found the routes: {out:?}");
    out
}

#[test]
fn the_local_api_refuses_forged_unauthenticated_cross_site_and_oversized_requests() {
    let d = Daemon::start("api-neg");
    init(&d);
    let id = publish(&d, "held", 3000, 81, &[]);
    let (addr, token) = d.api_addr_and_token();
    let before = (d.weft_json(&["pins"]), d.weft_json(&["rules"]));
    let mut cases = 0;
    let mut refused = |what: &str, req: String, want: u16| {
        cases += 1;
        let (status, body) = raw(&addr, &req);
        assert_eq!(status, want, "{what}: {body}");
        // The web UI's pages answer a browser with a page that says how to
        // log in; everything else answers with the API's JSON error.
        if (req.contains(" /ui/") || req.contains(" /ui ")) && status == 401 {
            assert!(body.contains("`weft ui`"), "{what}: {body}");
            return;
        }
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: JSON error: {body}"));
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {body}"
        );
    };
    let auth = format!("Authorization: Bearer {token}\r\n");
    let json_post = |path: &str, extra: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    // Every route, without a token and with a wrong one.
    for (method, path) in routes() {
        for (label, header) in [
            ("no token", String::new()),
            (
                "wrong token",
                format!("Authorization: Bearer {}\r\n", "0".repeat(token.len())),
            ),
        ] {
            let req = if method == "POST" {
                json_post(&path, &header, "{}")
            } else {
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{header}Connection: close\r\n\r\n")
            };
            refused(&format!("{method} {path} with {label}"), req, 401);
        }
    }
    // DNS rebinding: a page on evil.example that resolves to 127.0.0.1.
    let port = addr.rsplit(':').next().unwrap();
    for host in [
        format!("evil.example:{port}"),
        "127.0.0.1.nip.io".to_string(),
        String::new(),
    ] {
        refused(
            &format!("Host {host:?}"),
            format!("GET /v1/status HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"),
            421,
        );
    }
    // Foreign origins, even with the token.
    for origin in [
        "http://evil.example",
        "null",
        &format!("http://127.0.0.1.evil.example:{port}"),
    ] {
        refused(
            &format!("Origin {origin}"),
            json_post(
                "/v1/follow",
                &format!("{auth}Origin: {origin}\r\n"),
                r#"{"tag":"x"}"#,
            ),
            403,
        );
    }
    // State changes by GET.
    for path in [
        "/v1/follow?tag=x",
        "/v1/unpin?id=x",
        "/v1/gc",
        "/v1/publish",
    ] {
        refused(
            &format!("GET {path}"),
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"),
            405,
        );
    }
    // A cross-site form post: a form's content types, from another origin
    // and (as a form cannot set headers) without the token, or with it.
    for (ct, extra) in [
        ("application/x-www-form-urlencoded", String::new()),
        ("multipart/form-data; boundary=x", auth.clone()),
        ("text/plain", auth.clone()),
    ] {
        let body = "tag=x";
        refused(
            &format!("form post as {ct}"),
            format!("POST /v1/follow HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()),
            if extra.is_empty() { 401 } else { 415 },
        );
    }
    // Oversized bodies.
    let big = format!(r#"{{"tag":"{}"}}"#, "x".repeat(128 * 1024));
    refused("a 128 KiB body", json_post("/v1/follow", &auth, &big), 413);
    // Path traversal through import, export and fetch.
    let tmp = std::env::temp_dir();
    let t = tmp.to_str().unwrap();
    for (path, body) in [
        (
            "/v1/import",
            format!(r#"{{"path":"{t}/../../etc/passwd"}}"#),
        ),
        ("/v1/import", r#"{"path":"../../etc"}"#.to_string()),
        (
            "/v1/export",
            format!(r#"{{"bundles":["{id}"],"out":"{t}/x/../../../etc/cron.d/weft"}}"#),
        ),
        (
            "/v1/export",
            format!(r#"{{"bundles":["{id}"],"out":"weft.archive"}}"#),
        ),
        (
            "/v1/fetch",
            format!(r#"{{"id":"{id}","out":"{t}/a/../../../root/.ssh"}}"#),
        ),
        ("/v1/publish", format!(r#"{{"path":"{t}/../../etc"}}"#)),
    ] {
        refused(
            &format!("{path} {body}"),
            json_post(path, &auth, &body),
            400,
        );
    }
    // Bundle content is never served from the API's origin.
    for path in [
        format!("/v1/bundles/{id}/files/data.bin"),
        format!("/{id}/data.bin"),
        format!("/ipfs/{id}"),
    ] {
        refused(
            &format!("content at {path}"),
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"),
            404,
        );
    }
    assert_eq!(
        before,
        (d.weft_json(&["pins"]), d.weft_json(&["rules"])),
        "nothing changed"
    );
    record_figure("api.negative", &format!("{cases} cases, all refused"));
}

/// The start-up sweep (which reads every chunk) runs only after a run that
/// did not stop cleanly: a marker file says so.
#[test]
fn only_a_run_cut_short_makes_the_next_start_sweep() {
    let mut d = Daemon::start("marker");
    let marker = d.path().join(weft_protocol::layout::RUNNING);
    assert!(marker.exists(), "the marker is written at start");
    assert!(d.terminate(), "a clean stop");
    assert!(
        !marker.exists(),
        "a clean stop with nothing in progress removes it"
    );
    d.start_again();
    let swept = "did not stop cleanly";
    assert!(!d.log().contains(swept), "no sweep after a clean stop");
    d.kill();
    assert!(marker.exists(), "SIGKILL leaves it");
    d.start_again();
    assert!(d.log().contains(swept), "the next start sweeps");
}
