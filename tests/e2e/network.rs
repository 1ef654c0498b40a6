//! Three real daemons in a line, A - B - C: publish on A, discover on B and
//! C by gossip, fetch on C through B, survive a SIGKILL on B.

use std::time::Duration;

use weft_e2e::{make_folder, read_tree, wait_until, Daemon};

const BIG: usize = 21 * 1024 * 1024 + 12_345;

#[test]
fn a_bundle_published_on_a_reaches_c_through_b_byte_for_byte_and_b_keeps_it_across_a_kill() {
    let a = Daemon::start("a");
    let b = Daemon::start("b");
    let c = Daemon::start("c");
    b.connect(&a);
    c.connect(&b);
    assert!(
        !c.connected_to(&a.peer_id()),
        "C must reach A only through B"
    );

    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), BIG);
    a.weft_json(&["init"]);
    let published = a.weft_json(&[
        "publish",
        folder.to_str().unwrap(),
        "--lang",
        "en",
        "--title",
        "Organizing guide",
        "--title",
        "es=Guía de organización",
        "--description",
        "How to run a meeting",
        "--tag",
        "training",
        "--licence",
        "CC-BY-4.0",
    ]);
    let id = published["id"].as_str().unwrap().to_string();
    assert_eq!(published["files"], 4);
    assert_eq!(published["name"], "organizing-guide");

    wait_until("B to list the bundle", Duration::from_secs(20), || {
        b.lists(&id)
    });
    wait_until("C to list the bundle", Duration::from_secs(20), || {
        c.lists(&id)
    });
    let hits = c.weft_json(&["search", "guía", "--lang", "es", "--tag", "training"]);
    assert_eq!(
        hits["results"][0]["id"],
        id.as_str(),
        "search by title, language and tag on C"
    );

    // B keeps it; C fetches it from B (C has no connection to A).
    b.weft_json(&["pin", &id]);
    let out = work.path().join("from-c");
    let got = c.weft_json(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(
        got["size"].as_u64().unwrap() as usize,
        read_tree(&folder).iter().map(|f| f.1.len()).sum::<usize>()
    );
    assert_eq!(
        read_tree(&out),
        read_tree(&folder),
        "C's files are byte-identical to A's"
    );
    assert!(c.counters().bytes_fetched >= BIG as u64);
    assert_eq!(c.counters().chunks_rejected, 0);

    // SIGKILL B and start it again with A and C gone (B would redial them
    // from its peer book): catalog, pin and bytes are all there.
    let (mut a, mut c, mut b) = (a, c, b);
    a.kill();
    c.kill();
    b.kill_and_restart();
    assert!(b.lists(&id), "B's catalog survives a kill");
    let pins = b.weft_json(&["pins"]);
    assert_eq!(
        pins["pins"][0]["id"],
        id.as_str(),
        "B's pin survives a kill"
    );
    assert_eq!(
        b.weft_json(&["peers"])["peers"].as_array().unwrap().len(),
        0,
        "B is alone after restart"
    );
    let out_b = work.path().join("from-b");
    b.weft_json(&["get", &id, "-o", out_b.to_str().unwrap()]);
    assert_eq!(
        read_tree(&out_b),
        read_tree(&folder),
        "B's pinned bytes survive a kill"
    );
}

#[test]
fn a_clean_shutdown_on_sigterm_exits_zero_and_keeps_the_catalog() {
    let mut a = Daemon::start("term");
    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), 1000);
    a.weft_json(&["init"]);
    let id = a.weft_json(&["publish", folder.to_str().unwrap()])["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(a.terminate(), "weftd exits 0 on SIGTERM");
    assert!(
        !a.path().join("api.addr").exists(),
        "a clean stop removes the API address file"
    );
    let out = a.weft(&["status"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("weftd is not running"));
    a.kill_and_restart();
    assert!(a.lists(&id));
}

/// Each size exercises a different branch of the chunking rules
/// (`protocol/src/chunk.rs`): no chunk, one short chunk, exactly one chunk,
/// a chunk index of two, of many; plus two files with the same content.
/// The transfer runs over QUIC, dialled from `weftd --peer`.
#[test]
fn files_of_every_interesting_size_arrive_intact() {
    const C: usize = 1 << 20;
    // B dials A over QUIC, from its --peer flag.
    let a = Daemon::start("sizes-a");
    let b = Daemon::start_with("sizes-b", &["--peer", &a.quic_multiaddr()]);
    let b_id = b.peer_id();
    wait_until("A to see B over QUIC", Duration::from_secs(15), || {
        a.connected_to(&b_id)
    });
    let link = b.weft_json(&["peers"])["peers"][0]["address"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        link.contains("/quic-v1"),
        "B reached A over QUIC, got {link}"
    );
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("sizes");
    std::fs::create_dir_all(&root).unwrap();
    for (i, size) in [0, 1, C - 1, C, C + 1, 5 * C + 17].into_iter().enumerate() {
        std::fs::write(
            root.join(format!("size-{size}.bin")),
            weft_e2e::pseudo_random(size, i as u64 + 1),
        )
        .unwrap();
    }
    std::fs::write(
        root.join("same-as-c-plus-1.bin"),
        std::fs::read(root.join(format!("size-{}.bin", C + 1))).unwrap(),
    )
    .unwrap();
    a.weft_json(&["init"]);
    let id = a.weft_json(&["publish", root.to_str().unwrap()])["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("B to list the bundle", Duration::from_secs(20), || {
        b.lists(&id)
    });
    let out = work.path().join("out");
    b.weft_json(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(read_tree(&out), read_tree(&root));
    let shown = b.weft_json(&["show", &id]);
    assert_eq!(shown["file_list"].as_array().unwrap().len(), 7);
    assert_eq!(shown["local"], true);
}
