//! Discovery that survives: catalog catch-up for late joiners and healed
//! partitions, DHT providers across a ring, the peer book, invites and
//! private networks. Real daemons on 127.0.0.1.

use std::path::Path;
use std::time::Duration;

use weft_e2e::{pseudo_random, read_tree, wait_until, Daemon, Options};

fn init(d: &Daemon) {
    d.weft_json(&["init"]);
}

fn small_file(dir: &Path, name: &str, len: usize, seed: u64) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, pseudo_random(len, seed)).unwrap();
    p
}

fn wait_catalog(d: &Daemon, n: u64, timeout: Duration) {
    wait_until(
        &format!("{} to hold {n} catalog entries", d.name),
        timeout,
        || d.catalog_len() >= n,
    );
    assert_eq!(d.catalog_len(), n, "{} holds exactly {n}", d.name);
}

fn sync_bytes(d: &Daemon) -> u64 {
    d.counters().sync_bytes_sent + d.counters().sync_bytes_received
}

#[test]
fn a_late_joiner_catches_up_on_2000_bundles_from_a_5_node_network() {
    let work = tempfile::tempdir().unwrap();
    let nodes: Vec<Daemon> = (0..5).map(|i| Daemon::start(&format!("net{i}"))).collect();
    for i in 0..5 {
        nodes[i].connect(&nodes[(i + 1) % 5]);
        init(&nodes[i]);
    }
    // 2,000 bundles, 400 published on each node at once.
    std::thread::scope(|s| {
        for (i, d) in nodes.iter().enumerate() {
            let file = small_file(work.path(), &format!("note-{i}.txt"), 200, i as u64);
            s.spawn(move || {
                for k in 0..400 {
                    d.publish_api(&file, &format!("note-{i}-{k}"));
                }
            });
        }
    });
    for d in &nodes {
        wait_catalog(d, 2000, Duration::from_secs(120));
    }

    let joiner = Daemon::start_with("joiner", &["--peer", &nodes[2].multiaddr()]);
    wait_catalog(&joiner, 2000, Duration::from_secs(60));
    // The bundles, and each of the five publishers' key logs (its incept
    // event and the certificate of the device that signs).
    assert_eq!(joiner.counters().sync_entries_added, 2000 + 5 * 2);
    assert_eq!(joiner.counters().sync_entries_rejected, 0);
    let bytes = sync_bytes(&joiner);
    eprintln!("late joiner: 2000 entries caught up with {bytes} bytes of reconciliation messages");
    // The entries themselves are a few hundred bytes each; the set
    // reconciliation around them must stay a small share of that.
    assert!(
        bytes < 2000 * 1024,
        "{bytes} bytes to catch up on 2000 entries"
    );
}

#[test]
fn two_partitions_that_heal_both_end_with_the_union() {
    let work = tempfile::tempdir().unwrap();
    let a1 = Daemon::start("part-a1");
    let a2 = Daemon::start("part-a2");
    let b1 = Daemon::start("part-b1");
    let b2 = Daemon::start("part-b2");
    a1.connect(&a2);
    b1.connect(&b2);
    for d in [&a1, &a2, &b1, &b2] {
        init(d);
    }
    let file = small_file(work.path(), "f.txt", 500, 7);
    let mut ids = Vec::new();
    for (d, n) in [(&a1, 3), (&a2, 2), (&b1, 3), (&b2, 2)] {
        for k in 0..n {
            ids.push(d.publish_api(&file, &format!("{}-{k}", d.name)));
        }
    }
    for d in [&a1, &a2, &b1, &b2] {
        wait_catalog(d, 5, Duration::from_secs(30));
    }
    // Heal through one link only; a1 and b2 are not part of it.
    a2.connect(&b1);
    for d in [&a1, &a2, &b1, &b2] {
        wait_catalog(d, 10, Duration::from_secs(30));
        for id in &ids {
            assert!(d.lists(id), "{} lists {id}", d.name);
        }
    }
    assert!(a1.counters().sync_entries_added >= 5 || b2.counters().sync_entries_added >= 5);
}

#[test]
fn a_bundle_on_one_side_of_a_12_node_ring_is_fetched_on_the_other_through_dht_providers() {
    let work = tempfile::tempdir().unwrap();
    let ring: Vec<Daemon> = (0..12)
        .map(|i| Daemon::start(&format!("ring{i}")))
        .collect();
    for i in 0..12 {
        ring[i].connect(&ring[(i + 1) % 12]);
    }
    init(&ring[0]);
    let folder = work.path().join("ring-guide");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("guide.bin"), pseudo_random(300_000, 12)).unwrap();
    let id = ring[0].publish_api(&folder, "ring-guide");
    let far = &ring[6];
    wait_until(
        "the far node to list the bundle",
        Duration::from_secs(30),
        || far.lists(&id),
    );
    // The DHT names ring0 as the provider, to a node never told about it.
    let holder = ring[0].peer_id();
    wait_until(
        "the DHT to name ring0 as provider",
        Duration::from_secs(30),
        || far.names_provider(&id, &holder),
    );
    let out = work.path().join("fetched");
    far.weft_json(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(read_tree(&out), read_tree(&folder), "byte-identical");
    assert!(
        far.connected_to(&holder),
        "the far node dialled the provider"
    );
    // Once it holds the bundle, the far node provides it too.
    let mid = &ring[3];
    let far_id = far.peer_id();
    wait_until(
        "ring6 to be a provider as well",
        Duration::from_secs(30),
        || {
            mid.weft_json(&["providers", &id])["providers"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p == far_id.as_str()))
        },
    );
}

#[test]
fn a_node_offline_for_a_while_redials_its_peer_book_and_catches_up() {
    let work = tempfile::tempdir().unwrap();
    let hub = Daemon::start("book-hub");
    let mut laptop = Daemon::start("book-laptop");
    laptop.connect(&hub);
    wait_until(
        "the laptop to remember the hub",
        Duration::from_secs(15),
        || laptop.status().peer_book == 1,
    );
    laptop.kill();
    init(&hub);
    let file = small_file(work.path(), "news.txt", 300, 3);
    let id = hub.publish_api(&file, "news-while-away");
    // No --peer, no config: only the peer book knows the hub.
    laptop.start_again();
    wait_until("the laptop to catch up", Duration::from_secs(60), || {
        laptop.lists(&id)
    });
    assert!(laptop.connected_to(&hub.peer_id()));
}

#[test]
fn an_invite_lets_a_new_node_join_and_catch_up_and_a_bad_one_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let host = Daemon::start("inviter");
    init(&host);
    let file = small_file(work.path(), "welcome.txt", 300, 4);
    let id = host.publish_api(&file, "welcome");
    let inv = host.weft_json(&["invite"]);
    let code = inv["invite"].as_str().unwrap().to_string();
    assert!(code.starts_with("WEFT1"), "{code}");
    assert!(
        code.len() < 400,
        "an invite stays compact: {} chars",
        code.len()
    );
    // Plain output (no terminal): just the invite, no QR code.
    let plain = host.weft(&["invite"]);
    assert_eq!(String::from_utf8_lossy(&plain.stdout).trim(), code);

    let guest = Daemon::start("guest");
    let joined = guest.weft_json(&["join", &code]);
    assert_eq!(joined["joined"][0]["peer_id"], host.peer_id().as_str());
    wait_until("the guest to catch up", Duration::from_secs(30), || {
        guest.lists(&id)
    });
    assert_eq!(guest.status().peer_book, 1);

    let broken = format!("{}XYZ!", &code[..code.len() / 2]);
    let out = guest.weft(&["join", &broken]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invite"), "{err}");
}

#[test]
fn a_private_network_keeps_out_nodes_without_its_key() {
    let work = tempfile::tempdir().unwrap();
    let key = std::process::Command::new(weft_e2e::bin_dir().join("weftd"))
        .arg("--new-swarm-key")
        .output()
        .unwrap();
    assert!(key.status.success());
    let other_key = std::process::Command::new(weft_e2e::bin_dir().join("weftd"))
        .arg("--new-swarm-key")
        .output()
        .unwrap();
    let tcp_only = Options {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        ..Options::default()
    };
    let with_key = |name: &str, k: &[u8]| {
        let dir = Daemon::temp_dir(name);
        std::fs::write(dir.path().join("swarm.key"), k).unwrap();
        Daemon::start_opts(name, dir, &[], tcp_only.clone())
    };
    let a = with_key("closed-a", &key.stdout);
    let b = with_key("closed-b", &key.stdout);
    let wrong = with_key("closed-wrong", &other_key.stdout);
    let open = Daemon::start_opts("open", Daemon::temp_dir("open"), &[], tcp_only.clone());
    let network = a.status().network.unwrap();
    assert_eq!(b.status().network.as_deref(), Some(network.as_str()));

    b.connect(&a);
    init(&a);
    let file = small_file(work.path(), "secret.txt", 400, 5);
    let id = a.publish_api(&file, "closed-plan");
    wait_until("b to list the bundle", Duration::from_secs(30), || {
        b.lists(&id)
    });

    for outsider in [&wrong, &open] {
        let out = outsider.weft(&["connect", &a.multiaddr()]);
        assert!(
            !out.status.success(),
            "{} must not connect to the closed network",
            outsider.name
        );
        assert!(!a.connected_to(&outsider.peer_id()));
        assert_eq!(outsider.catalog_len(), 0);
    }
    // An open node's invite is refused by a closed node, and the other way.
    let code = open.weft_json(&["invite"])["invite"]
        .as_str()
        .unwrap()
        .to_string();
    let out = a.weft(&["join", &code]);
    assert!(!out.status.success());
    let code = a.weft_json(&["invite"])["invite"]
        .as_str()
        .unwrap()
        .to_string();
    let out = open.weft(&["join", &code]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("swarm.key"),
        "the refusal says what to do"
    );
    assert_eq!(open.catalog_len(), 0);
    assert_eq!(wrong.catalog_len(), 0);
}

/// A network namespace of the test's own, deleted on drop.
struct Netns(String);

impl Netns {
    /// A namespace with loopback and a veth pair on a private subnet; `Err` says why it cannot be made here.
    fn lan() -> Result<Self, String> {
        let name = format!("weft-mdns-{}", std::process::id());
        let ip = |args: &[&str]| -> Result<(), String> {
            let out = std::process::Command::new("ip")
                .args(args)
                .output()
                .map_err(|e| format!("cannot run `ip` ({e}); install iproute2"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "`ip {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        ip(&["netns", "add", &name])?;
        let ns = Netns(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        // A cable with both ends in the namespace: a LAN that reaches
        // nothing outside it.
        ip(&[
            "-n", &name, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1",
        ])?;
        ip(&["-n", &name, "addr", "add", "10.213.0.1/24", "dev", "lan0"])?;
        ip(&["-n", &name, "link", "set", "lan0", "up"])?;
        ip(&["-n", &name, "link", "set", "lan1", "up"])?;
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn two_nodes_on_a_lan_with_no_bootstrap_peer_find_each_other_by_mdns_and_share() {
    let ns = match Netns::lan() {
        Ok(ns) => ns,
        Err(why) => {
            return weft_e2e::skip(
                "mDNS on a LAN",
                &format!("needs a network namespace of its own: {why}"),
            );
        }
    };
    let lan = Options {
        listen: vec!["/ip4/0.0.0.0/tcp/0".into()],
        mdns: true,
        prefix: vec!["ip".into(), "netns".into(), "exec".into(), ns.0.clone()],
        ..Options::default()
    };
    let work = tempfile::tempdir().unwrap();
    let a = Daemon::start_opts("lan-a", Daemon::temp_dir("lan-a"), &[], lan.clone());
    let b = Daemon::start_opts("lan-b", Daemon::temp_dir("lan-b"), &[], lan);
    assert!(a.status().mdns);
    init(&a);
    let file = small_file(work.path(), "lan.txt", 2000, 9);
    let published = a.weft_json(&[
        "publish",
        file.to_str().unwrap(),
        "--name",
        "lan-guide",
        "--title",
        "LAN guide",
    ]);
    let id = published["id"].as_str().unwrap().to_string();
    let b_id = b.peer_id();
    wait_until(
        "a and b to find each other",
        Duration::from_secs(30),
        || a.connected_to(&b_id),
    );
    wait_until("b to list a's bundle", Duration::from_secs(30), || {
        b.lists(&id)
    });
    let out = work.path().join("from-lan");
    b.weft_json(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(out.join("lan.txt")).unwrap(),
        std::fs::read(&file).unwrap()
    );
}
