//! Bad input through the real CLI gets a clear error, a non-zero exit, and
//! changes nothing. The API refuses requests without the token, with a
//! forged Host, or from a foreign Origin.

use std::io::{Read, Write};
use std::net::TcpStream;

use weft_e2e::{make_folder, weft_in, Daemon};

fn fails_with(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(
        err.contains(needle),
        "stderr {err:?} should contain {needle:?}"
    );
    assert!(
        err.lines().count() <= 2,
        "errors are one or two sentences: {err:?}"
    );
}

fn nothing_changed(d: &Daemon) {
    let s = d.status();
    assert_eq!((s.bundles, s.catalog, s.pins), (0, 0, 0));
}

#[test]
fn the_cli_says_how_to_start_the_daemon_when_it_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(&weft_in(dir.path(), &["status"]), "weftd is not running");
    fails_with(&weft_in(dir.path(), &["status"]), "Start it with `weftd");
}

#[test]
fn bad_ids_paths_and_escapes_are_refused_and_nothing_changes() {
    let d = Daemon::start("cli");
    // No key yet.
    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), 10);
    fails_with(&d.weft(&["publish", folder.to_str().unwrap()]), "weft init");

    d.weft_json(&["init"]);
    let key_before = std::fs::read(d.path().join("publisher.key")).unwrap();
    fails_with(&d.weft(&["init"]), "already exists");
    assert_eq!(
        std::fs::read(d.path().join("publisher.key")).unwrap(),
        key_before,
        "init never overwrites a key"
    );

    // Malformed ids.
    fails_with(&d.weft(&["show", "not-an-id"]), "is not a bundle id");
    fails_with(&d.weft(&["get", "abc"]), "64 hex characters");
    fails_with(
        &d.weft(&["pin", &"g".repeat(64)]),
        "may only contain 0-9 and a-f",
    );
    // Unknown ids.
    let unknown = "ab".repeat(32);
    fails_with(&d.weft(&["show", &unknown]), "not in this node's catalog");
    fails_with(&d.weft(&["get", &unknown]), "not connected to any peer");
    fails_with(&d.weft(&["unpin", &unknown]), "is not pinned");
    // Missing path.
    fails_with(
        &d.weft(&["publish", "/no/such/folder"]),
        "cannot publish /no/such/folder",
    );
    // A symlink escaping the folder.
    std::os::unix::fs::symlink("/etc/hostname", folder.join("escape")).unwrap();
    fails_with(
        &d.weft(&["publish", folder.to_str().unwrap()]),
        "escapes the folder",
    );
    std::fs::remove_file(folder.join("escape")).unwrap();
    // Bad metadata.
    fails_with(
        &d.weft(&["publish", folder.to_str().unwrap(), "--name", "Bad Name"]),
        "may only use a-z",
    );
    fails_with(
        &d.weft(&[
            "publish",
            folder.to_str().unwrap(),
            "--lang",
            "english!",
            "--title",
            "x",
        ]),
        "language tag",
    );
    // Neither an id nor a name the user gave a publisher.
    fails_with(
        &d.weft(&["search", "--publisher", "xyz"]),
        "neither a publisher id",
    );
    nothing_changed(&d);

    // And the good path still works afterwards, with no progress bar when piped.
    let out = d.weft(&["publish", folder.to_str().unwrap(), "--title", "Guide"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Published organizing-guide (seq 1): "),
        "{stdout}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('#'),
        "no progress bar on a pipe"
    );
    let again = d.weft_json(&["publish", folder.to_str().unwrap(), "--title", "Guide"]);
    assert_eq!(again["seq"], 2, "republishing the same name bumps seq");

    // `get` never overwrites a file or writes through a symlink, and checks
    // every target before writing anything.
    let id = again["id"].as_str().unwrap();
    let out = work.path().join("out");
    std::fs::create_dir_all(out.join("docs")).unwrap();
    std::fs::write(out.join("docs/empty.txt"), b"mine").unwrap();
    fails_with(
        &d.weft(&["get", id, "-o", out.to_str().unwrap()]),
        "already exists",
    );
    assert_eq!(std::fs::read(out.join("docs/empty.txt")).unwrap(), b"mine");
    assert!(
        !out.join("README.md").exists(),
        "nothing was written before the conflict was found"
    );
    let out2 = work.path().join("out2");
    std::fs::create_dir_all(&out2).unwrap();
    std::os::unix::fs::symlink(work.path(), out2.join("media")).unwrap();
    fails_with(
        &d.weft(&["get", id, "-o", out2.to_str().unwrap()]),
        "in the way",
    );
    assert!(
        !work.path().join("training.bin").exists(),
        "nothing was written through the symlink"
    );
    let out3 = work.path().join("out3");
    d.weft_json(&["get", id, "-o", out3.to_str().unwrap()]);
    assert_eq!(weft_e2e::read_tree(&out3), weft_e2e::read_tree(&folder));
}

fn raw_get(addr: &str, host: &str, headers: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /v1/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    buf.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_api_refuses_missing_tokens_forged_hosts_and_foreign_origins() {
    let d = Daemon::start("api");
    let (addr, token) = d.api_addr_and_token();
    let auth = format!("Authorization: Bearer {token}\r\n");
    assert_eq!(raw_get(&addr, &addr, &auth), 200);
    assert_eq!(raw_get(&addr, &addr, ""), 401, "no token");
    assert_eq!(
        raw_get(&addr, &addr, "Authorization: Bearer 00\r\n"),
        401,
        "wrong token"
    );
    assert_eq!(
        raw_get(&addr, "evil.example:80", &auth),
        421,
        "DNS-rebinding Host"
    );
    assert_eq!(
        raw_get(
            &addr,
            &addr,
            &format!("{auth}Origin: http://evil.example\r\n")
        ),
        403,
        "foreign Origin"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.path().join("api.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is private");
}

#[test]
fn a_second_daemon_on_the_same_data_dir_or_port_refuses_to_start() {
    let d = Daemon::start("twice");
    let run = |args: &[&str]| {
        std::process::Command::new(weft_e2e::bin_dir().join("weftd"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let same_dir = run(&[
        "--data-dir",
        d.path().to_str().unwrap(),
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--api-port",
        "0",
    ]);
    fails_with(&same_dir, "in use by another weftd");
    let tcp = d.multiaddr();
    let port_only = tcp.split("/p2p/").next().unwrap();
    let other = tempfile::tempdir().unwrap();
    let same_port = run(&[
        "--data-dir",
        other.path().to_str().unwrap(),
        "--listen",
        port_only,
        "--api-port",
        "0",
    ]);
    fails_with(&same_port, "is another weftd running?");
    assert!(
        d.weft_json(&["status"])["peer_id"].is_string(),
        "the first daemon is unaffected"
    );
}

/// `weft init --passphrase` seals the publisher key: the file alone signs
/// nothing, a wrong passphrase is refused, the right one publishes and
/// retracts, and `weftd --passphrase-fd` unlocks it once for unattended
/// hubs (and refuses to start with a wrong one).
#[test]
fn a_sealed_publisher_key_signs_only_with_its_passphrase() {
    let mut d = Daemon::start("sealed");
    let pass = "correct horse battery staple\n";
    let out = d.weft_with_input(
        &["--json", "init", "--passphrase", "--passphrase-fd", "0"],
        pass,
    );
    assert!(out.status.success(), "{out:?}");
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let publisher = created["publisher"].as_str().unwrap().to_string();
    let device = created["device"].as_str().unwrap().to_string();
    let key_file = std::fs::read_to_string(d.path().join("publisher.key")).unwrap();
    assert!(key_file.starts_with(weft_protocol::keyfile::SEALED_HEADER));
    assert!(
        key_file.contains(&device),
        "the device key's id is in clear"
    );
    // The root is sealed with the same passphrase.
    let root_file = std::fs::read_to_string(d.path().join("root.key")).unwrap();
    assert!(root_file.starts_with(weft_protocol::keyfile::SEALED_HEADER));
    let s = d.status();
    assert_eq!(
        s.publisher.map(|p| p.to_string()).as_deref(),
        Some(publisher.as_str()),
        "status needs no passphrase"
    );
    assert!(s.publisher_locked);

    // A passphrase too short for a new key is refused before anything is
    // written.
    let other = Daemon::start("sealed-short");
    fails_with(
        &other.weft_with_input(&["init", "--passphrase", "--passphrase-fd", "0"], "short\n"),
        "at least 8 characters",
    );
    assert!(!other.path().join("publisher.key").exists());

    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), 10_000);
    let folder = folder.to_str().unwrap();
    // No terminal, no passphrase: refused, with what to do.
    fails_with(&d.weft(&["publish", folder]), "--passphrase-fd");
    fails_with(
        &d.weft_with_input(
            &["publish", folder, "--passphrase-fd", "0"],
            "wrong horse battery\n",
        ),
        "does not unlock",
    );
    nothing_changed(&d);
    let out = d.weft_with_input(&["--json", "publish", folder, "--passphrase-fd", "0"], pass);
    assert!(out.status.success(), "{out:?}");
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = d.weft_json(&["show", &id]);
    assert_eq!(shown["publisher"], publisher.as_str());

    // Unlocked at start: signs without asking.
    let pass_file = work.path().join("pass");
    std::fs::write(&pass_file, pass).unwrap();
    d.restart_with(&["--passphrase-fd", "0"], Some(pass_file.clone()));
    assert!(!d.status().publisher_locked);
    let out = d.weft(&["--json", "retract", &id]);
    assert!(out.status.success(), "{out:?}");

    // A wrong passphrase at start: weftd says so and does not start.
    assert!(d.terminate());
    std::fs::write(&pass_file, "wrong horse battery\n").unwrap();
    let out = std::process::Command::new(weft_e2e::bin_dir().join("weftd"))
        .args([
            "--data-dir",
            d.path().to_str().unwrap(),
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .args(["--api-port", "0", "--no-mdns", "--passphrase-fd", "0"])
        .stdin(std::fs::File::open(&pass_file).unwrap())
        .output()
        .unwrap();
    fails_with(&out, "does not unlock");
}

/// `weft search | head -1` and the like: when the reader has gone, every
/// command that prints a list ends quietly with success (as ripgrep does),
/// not with a panic and exit code 101.
#[test]
fn a_closed_pipe_ends_every_listing_command_quietly() {
    let d = Daemon::start("cli-pipe");
    weft_e2e::init(&d);
    let id = weft_e2e::publish(&d, "pipe-guide", 4096, 81, &[]);
    let group = d.weft_json(&["group", "create", "pipe-group"]);
    assert!(group.is_object(), "{group}");
    let commands: Vec<Vec<&str>> = vec![
        vec!["search"],
        vec!["search", "--json"],
        vec!["show", &id],
        vec!["why", &id],
        vec!["pins"],
        vec!["names"],
        vec!["rules"],
        vec!["peers"],
        vec!["doctor"],
        vec!["status"],
        vec!["group", "list"],
        vec!["identity"],
        vec!["invite"],
        vec!["completions", "bash"],
    ];
    for args in commands {
        // The reading end is closed before weft starts, so its first
        // write meets a closed pipe, every time.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = d
            .weft_command(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.is_empty(),
            "`weft {}` into a closed pipe: {:?}, stderr {err:?}",
            args.join(" "),
            out.status
        );
    }
}
