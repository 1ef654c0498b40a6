//! Regional hubs and offline carriers, against real `weftd` processes on
//! loopback: follow rules, versions and retractions, the storage quota,
//! multi-source and resumable fetches, and sneakernet archives.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use weft_e2e::evil::{EvilPeer, Misbehave};
use weft_e2e::{get_and_check, init, pseudo_random, publish, read_tree, wait_until, Daemon};

const MIB: usize = 1 << 20;

/// Starts a daemon whose data dir holds `config` as config.toml.
fn start_with_config(name: &str, config: &str) -> Daemon {
    let dir = Daemon::temp_dir(name);
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    Daemon::start_in(name, dir, &[])
}

fn show(d: &Daemon, id: &str) -> Value {
    d.weft_json(&["show", id])
}

fn is_local(d: &Daemon, id: &str) -> bool {
    let out = d.weft(&["show", id, "--json"]);
    out.status.success()
        && serde_json::from_slice::<Value>(&out.stdout).is_ok_and(|v| v["local"] == true)
}

fn pins(d: &Daemon) -> Vec<(String, String)> {
    d.weft_json(&["pins"])["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn search_ids(d: &Daemon, args: &[&str]) -> Vec<String> {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    d.weft_json(&a)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn a_hub_mirrors_followed_publishers_and_languages_including_while_offline() {
    let pa = Daemon::start("pub-a");
    let pb = Daemon::start("pub-b");
    let key_a = init(&pa);
    init(&pb);
    // The language rule comes from the hub's config file.
    let mut hub = start_with_config("hub", "[follow]\nlangs = [\"pt\"]\n");
    hub.connect(&pa);
    hub.connect(&pb);
    let a1 = publish(&pa, "a-one", 3000, 1, &["--title", "en=Guide one"]);
    let pt = publish(&pb, "b-pt", 2000, 2, &["--title", "pt-BR=Guia"]);
    let en = publish(&pb, "b-en", 2000, 3, &["--title", "en=Not followed"]);
    wait_until("the hub to list all three", LONG, || {
        hub.lists(&a1) && hub.lists(&pt) && hub.lists(&en)
    });
    // Rule added after a1 arrived: a1 is mirrored too.
    let out = hub.weft(&["follow", &key_a]);
    assert!(out.status.success(), "{out:?}");
    let rules = hub.weft(&["rules"]);
    let text = String::from_utf8_lossy(&rules.stdout);
    // The rule names the publisher by its fingerprint and its id.
    assert!(
        text.lines()
            .any(|l| l.starts_with("follow publisher") && l.contains(&key_a)),
        "{text}"
    );
    assert!(text.contains("follow lang pt (config)"), "{text}");
    wait_until("a1 and the Portuguese bundle to be mirrored", LONG, || {
        let p = pins(&hub);
        [&a1, &pt]
            .iter()
            .all(|id| p.contains(&(id.to_string(), "mirror".into())))
    });
    // Published while the hub is offline: mirrored once it is back.
    hub.kill();
    let a2 = publish(&pa, "a-two", 4000, 4, &["--title", "en=Guide two"]);
    hub.start_again();
    wait_until(
        "the hub to mirror what was published while it was offline",
        LONG,
        || pins(&hub).contains(&(a2.clone(), "mirror".into())),
    );
    assert!(
        !is_local(&hub, &en),
        "a bundle no rule matches is not mirrored"
    );
    assert_eq!(pins(&hub).len(), 3);
    // The mirrored bytes are the publisher's.
    get_and_check(&hub, &a2, "out", 4000, 4);
    // Unfollowing turns mirror pins into cache.
    assert!(hub.weft(&["unfollow", &key_a]).status.success());
    wait_until("mirror pins of the publisher to be dropped", LONG, || {
        let p = pins(&hub);
        !p.iter().any(|(id, _)| id == &a1 || id == &a2)
    });
    assert!(
        is_local(&hub, &a1),
        "an unfollowed bundle stays in the cache"
    );
}

#[test]
fn versions_supersede_and_retractions_spread_except_where_pinned() {
    let p = Daemon::start("publisher");
    let key = init(&p);
    let n1 = Daemon::start("reader-1");
    let n2 = Daemon::start("reader-2");
    n1.connect(&p);
    n2.connect(&p);
    let v1 = publish(&p, "kit", 1000, 10, &["--title", "en=Kit"]);
    let v2 = publish(&p, "kit", 1500, 11, &["--title", "en=Kit"]);
    assert_eq!(show(&p, &v2)["seq"], 2, "seq follows the latest known");
    wait_until("both versions to reach the readers", LONG, || {
        [&n1, &n2].iter().all(|n| {
            let all = search_ids(n, &["kit", "--all-versions"]);
            all.contains(&v1) && all.contains(&v2)
        })
    });
    assert_eq!(
        search_ids(&n1, &["kit"]),
        vec![v2.clone()],
        "only the latest is listed"
    );
    // publisher/name resolves to the latest version.
    let by_name = format!("{key}/kit");
    get_and_check(&n1, &by_name, "latest", 1500, 11);
    assert!(
        is_local(&n1, &v2) && pins(&n1).is_empty(),
        "get caches, it does not pin"
    );
    // n2 pins v2 before the retraction.
    assert!(n2.weft(&["pin", &v2]).status.success());

    // Another key cannot retract it: not through the CLI...
    init(&n1);
    let o = n1.weft(&["retract", &v2]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only that publisher can retract"), "{err}");
    // ...nor by gossip: a retraction signed by another key is refused.
    let evil = EvilPeer::start();
    evil.dial(&n1.multiaddr());
    evil.wait_subscribed(1);
    let other = weft_protocol::PublisherKey::from_seed([77; 32]);
    let forged = weft_protocol::SignedRetraction::sign(
        weft_protocol::Retraction {
            v: weft_protocol::VERSION,
            created: 1,
            retracts: v2.parse().unwrap(),
            publisher: other.id(),
        },
        &other,
    )
    .unwrap();
    let before = n1.counters().gossip_rejected;
    evil.publish(forged.bytes().to_vec());
    wait_until("n1 to refuse the forged retraction", LONG, || {
        n1.counters().gossip_rejected > before
    });
    assert_eq!(search_ids(&n1, &["kit"]), vec![v2.clone()]);
    assert_eq!(show(&n1, &v2)["retracted"], false);

    // The publisher retracts it.
    let o = p.weft(&["retract", &v2]);
    assert!(o.status.success(), "{o:?}");
    wait_until("n1 to stop listing the retracted version", LONG, || {
        search_ids(&n1, &["kit"]) == vec![v1.clone()]
    });
    assert_eq!(show(&n1, &v2)["retracted"], true);
    wait_until("n1 to drop its cached copy", LONG, || !is_local(&n1, &v2));
    // n2 pinned it before: it keeps it, lists it and serves it.
    wait_until("n2 to learn of the retraction", LONG, || {
        show(&n2, &v2)["retracted"] == true
    });
    assert!(is_local(&n2, &v2));
    assert!(search_ids(&n2, &["kit"]).contains(&v2));
    // A node that joins later learns the retraction by catch-up.
    let n3 = Daemon::start("reader-3");
    n3.connect(&n1);
    wait_until("n3 to catch up", LONG, || n3.lists(&v1));
    wait_until("n3 to hold the retraction", LONG, || {
        show(&n3, &v2)["retracted"] == true
    });
    assert_eq!(search_ids(&n3, &["kit"]), vec![v1.clone()]);
    // A fetch of the retracted version through its name gets v1.
    let o = n3.weft_json(&["show", &by_name]);
    assert_eq!(o["id"], v1.as_str());
}

#[test]
fn a_quota_evicts_the_least_recently_used_cache_and_pins_survive() {
    let p = Daemon::start("publisher");
    let key = init(&p);
    let ids: Vec<String> = (0..4)
        .map(|i| {
            publish(
                &p,
                &format!("b{i}"),
                3 * MIB,
                20 + i,
                &["--title", "en=Big"],
            )
        })
        .collect();
    let c = start_with_config("cache", "[storage]\nmax = \"10 MiB\"\n");
    c.connect(&p);
    wait_until("the catalog to arrive", LONG, || {
        ids.iter().all(|i| c.lists(i))
    });
    let get = |id: &str, to: &str| {
        let out = c.path().join(to);
        let o = c.weft(&["get", id, "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{o:?}");
    };
    assert!(c.weft(&["pin", &ids[0]]).status.success());
    get(&ids[1], "o1");
    get(&ids[2], "o2");
    // Using b1 again makes b2 the least recently used. Last use is kept to
    // the second, so the clock must move on first (this waits for nothing).
    std::thread::sleep(Duration::from_millis(1100));
    get(&ids[1], "o1-again");
    get(&ids[3], "o3");
    let st = c.status().storage;
    assert!(st.used <= 10 * MIB as u64, "{st:?}");
    assert!(is_local(&c, &ids[0]), "the pin survives");
    assert!(is_local(&c, &ids[1]) && is_local(&c, &ids[3]));
    assert!(
        !is_local(&c, &ids[2]),
        "the least recently used cache entry is evicted"
    );
    // gc reports what it freed and the disk follows.
    let gc = c.weft_json(&["gc"]);
    assert!(gc["disk_after"].as_u64().unwrap() < 16 * MIB as u64, "{gc}");

    // Pins alone over the quota: mirroring pauses with a warning, and
    // nothing pinned is deleted.
    let m = start_with_config("mirror", "[storage]\nmax = \"10 MiB\"\n");
    m.connect(&p);
    wait_until("the catalog to arrive", LONG, || {
        ids.iter().all(|i| m.lists(i))
    });
    assert!(m.weft(&["follow", &key]).status.success());
    wait_until("mirroring to fill the quota and pause", LONG, || {
        let s = m.status();
        pins(&m).len() == 3 && s.warnings.iter().any(|x| x.contains("mirroring is paused"))
    });
    let text = String::from_utf8_lossy(&m.weft(&["status"]).stdout).to_string();
    assert!(
        text.contains("WARNING") && text.contains("storage.max"),
        "{text}"
    );
    assert_eq!(pins(&m).len(), 3, "pinned data is never deleted");
}

fn served(d: &Daemon) -> u64 {
    d.counters().blobs_served
}

#[test]
fn one_bundle_comes_from_four_seeders_and_survives_a_liar_and_a_staller() {
    let s1 = Daemon::start("seed-1");
    init(&s1);
    let size = 24 * MIB;
    let id = publish(&s1, "video", size, 30, &["--title", "en=Video"]);
    let seeders: Vec<Daemon> = (2..=4)
        .map(|i| Daemon::start(&format!("seed-{i}")))
        .collect();
    for s in &seeders {
        s.connect(&s1);
        assert!(s.weft(&["pin", &id]).status.success());
    }
    let all: Vec<&Daemon> = std::iter::once(&s1).chain(seeders.iter()).collect();
    let f = Daemon::start("fetcher");
    for s in &all {
        f.connect(s);
    }
    let before: Vec<u64> = all.iter().map(|s| served(s)).collect();
    get_and_check(&f, &id, "out", size, 30);
    let shares: Vec<u64> = all
        .iter()
        .zip(&before)
        .map(|(s, b)| served(s) - b)
        .collect();
    println!("blocks served by each of the four seeders: {shares:?}");
    assert!(
        shares.iter().all(|&n| n > 0),
        "every seeder served a share: {shares:?}"
    );
    assert!(shares.iter().sum::<u64>() >= 24);

    // Second run: two honest seeders, one that sends garbage and one that
    // stalls.
    let g = Daemon::start("fetcher-2");
    g.connect(&s1);
    g.connect(&seeders[0]);
    let liar = EvilPeer::start_with(Misbehave::Garbage);
    let staller = EvilPeer::start_with(Misbehave::Stall);
    liar.dial(&g.multiaddr());
    staller.dial(&g.multiaddr());
    wait_until("the bad seeders to be connected", LONG, || {
        g.connected_to(&liar.peer_id.to_string()) && g.connected_to(&staller.peer_id.to_string())
    });
    get_and_check(&g, &id, "out", size, 30);
    let bad = liar
        .bad_blocks_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    let held = staller
        .bad_blocks_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    println!("garbage blocks sent: {bad}; requests stalled: {held}");
    assert!(bad >= 1 && held >= 1, "both bad seeders were asked");
    assert!(g.counters().peers_punished >= 1, "the liar is punished");
    assert!(g.counters().chunks_rejected >= 1);
}

fn start_fetch(d: &Daemon, id: &str) {
    let body = serde_json::json!({"id": id, "pin": true});
    d.api()
        .call("POST", "/v1/fetch", Some(&body), d.path())
        .expect("fetch starts");
}

#[test]
fn a_fetch_resumes_after_the_fetcher_is_killed_and_after_the_seeder_vanishes() {
    let size = 64 * MIB;
    let mut s = start_with_config("seed", "[net]\nupload_limit = \"8 MiB\"\n");
    init(&s);
    let id = publish(&s, "archive", size, 40, &["--title", "en=Archive"]);

    // The fetcher is killed part-way.
    let mut f = Daemon::start("fetcher");
    f.connect(&s);
    start_fetch(&f, &id);
    wait_until("56 MiB to arrive", LONG, || {
        f.counters().bytes_fetched >= 56 * MIB as u64
    });
    f.kill();
    f.start_again();
    wait_until("the fetch to resume and finish", LONG, || is_local(&f, &id));
    let after = f.counters().bytes_fetched;
    println!("bytes fetched after the restart: {after} of {size}");
    assert!(
        after <= 33 * MIB as u64,
        "only the missing blocks were fetched again: {after}"
    );
    assert_eq!(pins(&f), vec![(id.clone(), "explicit".to_string())]);
    get_and_check(&f, &id, "out", size, 40);

    // The seeder vanishes part-way and comes back.
    let g = Daemon::start("fetcher-2");
    g.connect(&s);
    start_fetch(&g, &id);
    wait_until("16 MiB to arrive", LONG, || {
        g.counters().bytes_fetched >= 16 * MIB as u64
    });
    let seeder = s.peer_id();
    s.kill();
    wait_until("the seeder to be gone", LONG, || !g.connected_to(&seeder));
    let stalled_at = g.counters().bytes_fetched;
    println!("the seeder vanished after {stalled_at} bytes");
    assert!(!is_local(&g, &id));
    s.start_again();
    wait_until("the fetch to resume when the seeder is back", LONG, || {
        is_local(&g, &id)
    });
    let total = g.counters().bytes_fetched;
    println!("bytes fetched in all, across the seeder's absence: {total} of {size}");
    assert!(
        total < (size + 8 * MIB) as u64,
        "no restart from zero: {total}"
    );
    get_and_check(&g, &id, "out", size, 40);
}

#[test]
fn weftd_stopped_during_a_fetch_exits_cleanly_and_the_fetch_resumes_at_the_next_start() {
    let size = 24 * MIB;
    let s = start_with_config("seed-term", "[net]\nupload_limit = \"2 MiB\"\n");
    init(&s);
    let id = publish(&s, "slow", size, 44, &[]);
    let mut f = Daemon::start("fetcher-term");
    f.connect(&s);
    start_fetch(&f, &id);
    wait_until("4 MiB to arrive", LONG, || {
        f.counters().bytes_fetched >= 4 * MIB as u64
    });
    // SIGTERM while blocks are still on their way: the fetch stops asking,
    // keeps what it verified, and weftd exits with success.
    assert!(
        f.terminate(),
        "weftd stops cleanly on SIGTERM during a fetch"
    );
    let log = f.log();
    assert!(
        log.contains("the fetch resumes when it starts again"),
        "the fetch said why it stopped:\n{log}"
    );
    assert!(!completed_a_fetch(&f), "it was stopped before the end");
    f.start_again();
    assert!(
        !f.log().contains("did not stop cleanly"),
        "nothing was left half-written, so the next start does not sweep"
    );
    f.connect(&s);
    wait_until("the fetch to resume and finish", LONG, || is_local(&f, &id));
    assert_eq!(pins(&f), vec![(id.clone(), "explicit".to_string())]);
    get_and_check(&f, &id, "out", size, 44);
}

/// Whether a daemon (running or stopped) completed a fetch: its log says
/// "fetched and verified" only then.
fn completed_a_fetch(d: &Daemon) -> bool {
    d.log().contains("fetched and verified")
}

fn archive_bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn archives_carry_bundles_to_an_offline_node_and_bad_ones_store_nothing() {
    let p = Daemon::start("publisher");
    init(&p);
    let a = publish(
        &p,
        "guide",
        3 * MIB + 5,
        50,
        &["--title", "en=Guide", "--title", "es=Guía"],
    );
    let b = publish(&p, "flyer", 700, 51, &["--title", "en=Flyer"]);
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("kit.weft");
    let o = p.weft(&["export", &a, &b, "-o", file.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let o = p.weft(&[
        "export",
        &a,
        &b,
        "--dir",
        usb.path().join("dir").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read_dir(usb.path().join("dir")).unwrap().count(),
        2
    );
    // Nothing is overwritten.
    let o = p.weft(&["export", &a, "-o", file.to_str().unwrap()]);
    assert!(!o.status.success());

    // Damaged archives, each refused with its reason, storing nothing.
    let offline = Daemon::start("offline");
    let good = archive_bytes(&file);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        ("no-end", good[..good.len() - 13].to_vec(), "truncated"),
        (
            "flipped",
            {
                let mut x = good.clone();
                let at = x.len() - 2000;
                x[at] ^= 1;
                x
            },
            "damaged",
        ),
        ("not-an-archive", b"hello".to_vec(), "weft archive"),
    ];
    for (name, bytes, reason) in cases {
        let path = usb.path().join(format!("{name}.weft"));
        std::fs::write(&path, bytes).unwrap();
        let o = offline.weft(&["import", path.to_str().unwrap()]);
        assert!(!o.status.success(), "{name} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(reason) && err.contains("nothing was imported"),
            "{name}: {err}"
        );
        let st = offline.status();
        assert_eq!((st.bundles, st.catalog), (0, 0), "{name}");
        assert!(st.storage.disk < MIB as u64, "{name}: {st:?}");
    }
    // A folder with one damaged file imports nothing either.
    let mixed = usb.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(&file, mixed.join("a.weft")).unwrap();
    std::fs::write(mixed.join("b.weft"), &good[..100]).unwrap();
    assert!(!offline
        .weft(&["import", mixed.to_str().unwrap()])
        .status
        .success());
    assert_eq!(offline.status().bundles, 0);

    // The good archive imports on a node that was never online.
    let v = offline.weft_json(&["import", file.to_str().unwrap()]);
    assert_eq!(v["imported"].as_array().unwrap().len(), 2, "{v}");
    assert!(offline.lists(&a) && offline.lists(&b));
    let out = offline.path().join("out");
    assert!(offline
        .weft(&["get", &a, "-o", out.to_str().unwrap()])
        .status
        .success());
    assert_eq!(
        read_tree(&out),
        vec![("data.bin".to_string(), pseudo_random(3 * MIB + 5, 50))]
    );
    // The folder form imports the same bundles (already here: nothing new).
    let v = offline.weft_json(&["import", usb.path().join("dir").to_str().unwrap()]);
    assert_eq!(v["already_here"].as_array().unwrap().len(), 2, "{v}");

    // Once online, it announces and serves them like any other.
    let peer = Daemon::start("peer");
    peer.connect(&offline);
    wait_until("the peer to learn the imported bundles", LONG, || {
        peer.lists(&a)
    });
    get_and_check(&peer, &b, "out", 700, 51);
}

#[test]
fn a_blocked_publisher_is_hidden_never_mirrored_and_not_kept() {
    let p = Daemon::start("publisher");
    let key = init(&p);
    let id = publish(
        &p,
        "spam",
        2000,
        60,
        &["--title", "en=Spam", "--tag", "news"],
    );
    let h = start_with_config("hub", "[follow]\ntags = [\"news\"]\n");
    h.connect(&p);
    wait_until("the hub to mirror it", LONG, || is_local(&h, &id));
    assert!(h.weft(&["block", &key]).status.success());
    wait_until("the blocked bundle to be removed", LONG, || {
        !is_local(&h, &id)
    });
    assert!(
        search_ids(&h, &[]).is_empty(),
        "blocked publishers are not listed"
    );
    let o = h.weft(&["pin", &id]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("blocks"),
        "{o:?}"
    );
    // A new bundle from it is not mirrored.
    let id2 = publish(&p, "spam-2", 2000, 61, &["--tag", "news"]);
    let q = Daemon::start("witness");
    q.connect(&h);
    wait_until(
        "the witness to learn the new bundle through the hub",
        LONG,
        || q.lists(&id2),
    );
    assert!(!is_local(&h, &id2));
    assert!(h.weft(&["unblock", &key]).status.success());
    wait_until("mirroring to resume once unblocked", LONG, || {
        is_local(&h, &id2)
    });
}
