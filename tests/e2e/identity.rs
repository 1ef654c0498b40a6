//! Identities that outlive a device: a seized laptop's key revoked from
//! another device, a root rotated to the key it committed to, and forged
//! key events refused. Real daemons on loopback.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use weft_e2e::raw::{rpc, RawPeer};
use weft_e2e::{publish, wait_until, Daemon, Scenario};
use weft_protocol::api::{DeviceStatus, IdentityInfo, InitOutput, KeyEventsMade};
use weft_protocol::identity::file::IdentityFile;
use weft_protocol::keyfile::KeyFile;
use weft_protocol::manifest::{identity_id, next_commitment};
use weft_protocol::wire::ANNOUNCE_TOPIC;
use weft_protocol::words::PaperBackup;
use weft_protocol::{
    Announcement, BundleId, KeyEvent, KeyKind, LangTitle, PublisherId, PublisherKey,
    SignedAnnouncement, SignedKeyEvent, VERSION,
};

const WAIT: Duration = Duration::from_secs(60);

/// `weft --json init` on `d`.
fn init_identity(d: &Daemon, extra: &[&str]) -> InitOutput {
    let mut args = vec!["init"];
    args.extend_from_slice(extra);
    d.weft_json_as(&args)
}

/// Copies a stopped node's data dir, as whoever seizes the laptop does.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else if !["api.addr", "weftd.log", "weftd.running"].contains(&name.to_str().unwrap()) {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn ok(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{o:?}");
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

fn fails_with(o: &std::process::Output, needle: &str) {
    assert!(!o.status.success(), "expected a failure: {o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// Whether `d` holds bundle `id` complete.
fn holds(d: &Daemon, id: &str) -> bool {
    let o = d.weft(&["--json", "show", id]);
    o.status.success()
        && serde_json::from_slice::<Value>(&o.stdout).is_ok_and(|v| v["local"] == true)
}

/// A raw peer connected to `node` gossips `entries` on the announcement
/// topic, as a node that does not care about revocations would.
fn gossip_to(node: &Daemon, entries: &[&[u8]]) -> RawPeer {
    let evil = RawPeer::start();
    let peer = evil.connect(&node.multiaddr());
    let mut g = evil.gossip(peer);
    g.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    g.send(&rpc::publish(ANNOUNCE_TOPIC, entries)).unwrap();
    evil
}

/// An announcement of a bundle nobody has, for `publisher`, signed by
/// `key`.
fn announcement_by(key: &PublisherKey, publisher: PublisherId, name: &str) -> SignedAnnouncement {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let a = Announcement {
        v: VERSION,
        id: BundleId::from_bytes(*blake3::hash(name.as_bytes()).as_bytes()),
        seq: 1,
        name: name.into(),
        size: 10,
        tags: vec![],
        files: 1,
        titles: vec![LangTitle {
            lang: "en".into(),
            title: name.into(),
        }],
        created: now,
        publisher,
    };
    SignedAnnouncement::sign_announcement(a, key).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_seized_laptop_is_revoked_from_another_device_and_everyone_refuses_it() {
    let _scenario = Scenario::begin("seizure_drill");
    // P sets up on laptop L, writes the words down and takes the root off
    // the laptop.
    let mut laptop = Daemon::start("id-laptop");
    let created = init_identity(&laptop, &["--device-name", "laptop"]);
    let p = created.publisher.to_string();
    let words = created.paper_backup.join(" ");
    ok(&laptop.weft(&["identity", "remove-root"]));
    let b1 = publish(&laptop, "water-guide", 30_000, 1, &[]);
    let b2 = publish(&laptop, "first-aid", 20_000, 2, &[]);

    // A hub mirrors P; a reader and a node that will be offline listen.
    let hub = Daemon::start("id-hub");
    let reader = Daemon::start("id-reader");
    let mut offline = Daemon::start("id-offline");
    ok(&hub.weft(&["follow", &p]));
    for n in [&hub, &reader, &offline] {
        laptop.connect(n);
    }
    reader.connect(&hub);
    wait_until("the hub mirrors both bundles", WAIT, || {
        holds(&hub, &b1) && holds(&hub, &b2)
    });
    wait_until("the reader and the offline node list both", WAIT, || {
        [&reader, &offline]
            .iter()
            .all(|n| n.lists(&b1) && n.lists(&b2))
    });
    assert!(offline.terminate());
    // The reader keeps its own copies (an explicit pin outlives a
    // retraction); the hub only mirrors.
    ok(&reader.weft(&["pin", &b1]));
    ok(&reader.weft(&["pin", &b2]));

    // The laptop is seized, at least a second after it last published
    // (`--keep-before` keeps what is dated strictly before the time given):
    // its data dir is copied to the attacker's node.
    let last = laptop.weft_json(&["show", &b2])["created"]
        .as_u64()
        .unwrap();
    wait_until("a second after the last publish", WAIT, || now() > last);
    assert!(laptop.terminate());
    let seized_at = now();
    let attacker_dir = Daemon::temp_dir("id-attacker");
    copy_dir(laptop.path(), attacker_dir.path());
    let mut attacker = Daemon::start_in("id-attacker", attacker_dir, &[]);
    let laptop_key: PublisherId = attacker.weft_json_as::<IdentityInfo>(&["identity"]).device;
    let laptop_secret =
        KeyFile::parse(&std::fs::read_to_string(attacker.path().join("publisher.key")).unwrap())
            .unwrap()
            .open(None)
            .unwrap();
    // Its bundles are dated after the cut-off P will choose.
    wait_until("a second passes", WAIT, || now() > seized_at);
    // Before P reacts, the attacker publishes as P: a new bundle, a new
    // version of the guide, and a retraction of the guide.
    let early = publish(&attacker, "evil-early", 10_000, 66, &[]);
    let evil_v2 = publish(&attacker, "water-guide", 10_000, 68, &["--seq", "9"]);
    ok(&attacker.weft(&["--json", "retract", &b1]));
    attacker.connect(&reader);
    attacker.connect(&hub);
    wait_until("the reader takes the attacker's entries", WAIT, || {
        reader.lists(&early)
            && reader.lists(&evil_v2)
            && reader.weft_json(&["show", &b1])["retracted"] == true
    });
    assert!(attacker.terminate());

    // P, on a second device D, joins with the paper backup and revokes
    // the laptop's key, keeping what it signed before the seizure.
    let device = Daemon::start("id-device");
    device.connect(&hub);
    wait_until("the new device learns P's catalog", WAIT, || {
        device.lists(&b2)
    });
    ok(&device.weft_with_input(
        &[
            "--json",
            "device",
            "add",
            "--identity",
            &p,
            "--name",
            "phone",
            "--paper",
        ],
        &format!("{words}\n"),
    ));
    let revoked: KeyEventsMade = serde_json::from_value(ok(&device.weft_with_input(
        &[
            "--json",
            "device",
            "revoke",
            &laptop_key.to_string(),
            "--keep-before",
            &seized_at.to_string(),
            "--paper",
        ],
        &format!("{words}\n"),
    )))
    .unwrap();
    // Each of the two bundles from before the seizure: its manifest (by
    // the bundle id) and its announcement (by the hash of its bytes).
    assert_eq!(
        revoked.kept,
        4,
        "the two bundles from before the seizure; {}",
        device.weft_json(&["search", "--all-versions"])
    );
    let info: IdentityInfo = device.weft_json_as(&["identity"]);
    assert!(info
        .devices
        .iter()
        .any(|d| d.key == laptop_key && d.revoked));
    assert!(info
        .devices
        .iter()
        .any(|d| d.this && !d.revoked && d.name == "phone"));

    // The revocation spreads: the attacker's entries go everywhere, the
    // forged retraction with them, and the kept bundles are listed and
    // served again.
    for (n, name) in [(&reader, "reader"), (&hub, "hub")] {
        wait_until(
            &format!("the {name} drops the attacker's entries"),
            WAIT,
            || !n.lists(&early) && !n.lists(&evil_v2) && n.lists(&b1) && n.lists(&b2),
        );
        let shown: Value = n.weft_json(&["show", &b1]);
        assert_eq!(
            shown["retracted"], false,
            "the {name} still takes the forged retraction"
        );
    }
    // The hub drops its mirrored copies of the attacker's bundles, and
    // mirrors the guide again (it had dropped it for the forged
    // retraction) from the reader's pinned copy.
    wait_until(
        "the hub mirrors P's true bundles and no others",
        WAIT,
        || !holds(&hub, &early) && !holds(&hub, &evil_v2) && holds(&hub, &b1) && holds(&hub, &b2),
    );

    // Anything the laptop's key signs from now on is refused on arrival.
    let before = reader.counters().entries_dropped.revoked;
    let late = announcement_by(&laptop_secret, created.publisher, "evil-late");
    let _raw = gossip_to(&reader, &[late.bytes()]);
    wait_until("the reader refuses the attacker's late entry", WAIT, || {
        reader.counters().entries_dropped.revoked > before
    });
    assert!(!reader.lists(&late.announcement().id.to_string()));

    // The node that was offline comes back and hears the attacker first.
    offline.start_again();
    attacker.start_again();
    attacker.connect(&offline);
    offline.connect(&hub);
    wait_until(
        "the node that was offline lists the kept bundles",
        WAIT,
        || offline.lists(&b1) && offline.lists(&b2),
    );
    wait_until("and drops the attacker's", WAIT, || {
        !offline.lists(&early) && !offline.lists(&evil_v2)
    });
    let shown: Value = offline.weft_json(&["show", &b1]);
    assert_eq!(shown["retracted"], false);
    let out = offline.path().join("got");
    ok(&offline.weft(&["get", &b1, "-o", out.to_str().unwrap()]));

    // P goes on publishing from D; the hub mirrors it with no change on
    // its side.
    let next = publish(&device, "water-guide", 25_000, 3, &["--seq", "10"]);
    wait_until(
        "the hub mirrors P's new version from the phone",
        WAIT,
        || holds(&hub, &next),
    );
    wait_until("the reader lists it", WAIT, || reader.lists(&next));
    let shown: Value = reader.weft_json(&["show", &next]);
    assert_eq!(shown["publisher"], p.as_str());
    // The attacker's own node refuses to sign now that it knows.
    wait_until("the attacker's node learns the revocation", WAIT, || {
        attacker.weft_json_as::<IdentityInfo>(&["identity"]).status == DeviceStatus::Revoked
    });
    fails_with(&attacker.weft(&["retract", &b2]), "was revoked");
}

#[test]
fn the_root_rotates_to_the_committed_key_and_a_thief_with_the_old_root_gets_nowhere() {
    let _scenario = Scenario::begin("root_rotation");
    let owner = Daemon::start("rot-owner");
    let created = init_identity(&owner, &[]);
    let id = created.publisher;
    let words = created.paper_backup.join(" ");
    let paper = PaperBackup::parse(&words).unwrap();
    // The thief copies the root key off the laptop.
    let stolen = KeyFile::parse(&std::fs::read_to_string(owner.path().join("root.key")).unwrap())
        .unwrap()
        .open(None)
        .unwrap();
    assert_eq!(stolen.id(), paper.root(0).id());
    let own_log =
        IdentityFile::parse(&std::fs::read_to_string(owner.path().join("identity")).unwrap())
            .unwrap();
    let reader = Daemon::start("rot-reader");
    owner.connect(&reader);
    let b1 = publish(&owner, "guide", 20_000, 1, &[]);
    wait_until("the reader lists the guide", WAIT, || reader.lists(&b1));

    // The owner rotates with the paper backup.
    let rotated: KeyEventsMade = serde_json::from_value(ok(
        &owner.weft_with_input(&["--json", "identity", "rotate"], &format!("{words}\n"))
    ))
    .unwrap();
    assert_eq!(rotated.root, paper.root(1).id());
    assert_eq!(rotated.seq, 2);
    assert!(
        !owner.path().join("root.key").exists(),
        "the stale root file is gone"
    );
    let info: IdentityInfo = owner.weft_json_as(&["identity"]);
    assert_eq!((info.rotations, info.root), (1, Some(paper.root(1).id())));
    // The same words rotate again only to root 2, not to root 1 twice.
    fails_with(
        &owner.weft_with_input(
            &["identity", "rotate", "--from-seq", "1"],
            &format!("{words}\n"),
        ),
        "rotated after seq 1",
    );

    // The thief, with the old root, tries every way in: a rotation to a
    // key of its own, a device certified after the rotation, a device on
    // a fork from before it; then a bundle from each device.
    let device_event = &own_log.events[1];
    let rotation_hash = weft_protocol::ContentHash::from_bytes(*rotated.events[0].as_bytes());
    let thief_next = PublisherKey::from_seed([65; 32]);
    let thief_dev = PublisherKey::from_seed([66; 32]);
    let thief_dev2 = PublisherKey::from_seed([67; 32]);
    let event = |seq,
                 kind,
                 prev,
                 root: &PublisherKey,
                 device: Option<&PublisherKey>,
                 next: Option<&PublisherKey>| {
        SignedKeyEvent::sign(
            KeyEvent {
                v: VERSION,
                id,
                seq,
                keep: None,
                kind,
                name: device.map(|_| "thief".to_string()),
                next: next.map(|n| next_commitment(&n.id())),
                prev: Some(prev),
                root: root.id(),
                device: device.map(PublisherKey::id),
                created: now(),
            },
            root,
        )
        .unwrap()
    };
    let fake_rotation = event(
        2,
        KeyKind::Rotate,
        device_event.hash(),
        &thief_next,
        None,
        Some(&thief_next),
    );
    let after_fake = event(
        3,
        KeyKind::Device,
        fake_rotation.hash(),
        &thief_next,
        Some(&thief_dev),
        None,
    );
    let late_cert = event(
        3,
        KeyKind::Device,
        rotation_hash,
        &stolen,
        Some(&thief_dev),
        None,
    );
    let fork_cert = event(
        2,
        KeyKind::Device,
        device_event.hash(),
        &stolen,
        Some(&thief_dev2),
        None,
    );
    // A certificate from another identity's root, for this identity.
    let other_paper = PaperBackup::from_entropy([0x99; 32]);
    let thief_dev3 = PublisherKey::from_seed([68; 32]);
    let foreign_cert = event(
        3,
        KeyKind::Device,
        rotation_hash,
        &other_paper.root(0),
        Some(&thief_dev3),
        None,
    );
    // A revocation of the owner's device signed by a device, not the root.
    let owner_device = own_log.events[1].event().device.unwrap();
    let thief_dev_key = thief_dev.id();
    let device_revocation = SignedKeyEvent::sign(
        KeyEvent {
            v: VERSION,
            id,
            seq: 3,
            keep: None,
            kind: KeyKind::Revoke,
            name: None,
            next: None,
            prev: Some(rotation_hash),
            root: thief_dev_key,
            device: Some(owner_device),
            created: now(),
        },
        &thief_dev,
    )
    .unwrap();
    let a1 = announcement_by(&thief_dev, id, "thief-one");
    let a2 = announcement_by(&thief_dev2, id, "thief-two");
    let a3 = announcement_by(&thief_dev3, id, "thief-three");
    let before = reader.counters().entries_dropped.unknown_signer;
    let _raw = gossip_to(
        &reader,
        &[
            fake_rotation.bytes(),
            after_fake.bytes(),
            late_cert.bytes(),
            fork_cert.bytes(),
            foreign_cert.bytes(),
            device_revocation.bytes(),
            a1.bytes(),
            a2.bytes(),
            a3.bytes(),
        ],
    );
    wait_until("the reader refuses the thief's bundles", WAIT, || {
        reader.counters().entries_dropped.unknown_signer >= before + 3
    });
    for a in [&a1, &a2, &a3] {
        assert!(!reader.lists(&a.announcement().id.to_string()));
    }
    // The owner's device goes on signing; the reader takes it.
    let b2 = publish(&owner, "guide", 20_000, 2, &["--seq", "2"]);
    wait_until("the reader lists the owner's new version", WAIT, || {
        reader.lists(&b2)
    });
    // The old root can no longer approve a device, even on the owner's
    // own node.
    std::fs::write(
        owner.path().join("root.key"),
        KeyFile::Plain(stolen.seed()).to_text(),
    )
    .unwrap();
    fails_with(
        &owner.weft(&[
            "device",
            "approve",
            &thief_dev.id().to_string(),
            "--name",
            "x",
        ]),
        "no longer",
    );
    // A new device approved with the paper (root 1) signs for the identity.
    let second = Daemon::start("rot-second");
    second.connect(&owner);
    wait_until("the second device learns the log", WAIT, || {
        second.lists(&b2)
    });
    ok(&second.weft_with_input(
        &[
            "--json",
            "device",
            "add",
            "--identity",
            &id.to_string(),
            "--paper",
        ],
        &format!("{words}\n"),
    ));
    let b3 = publish(&second, "notes", 5_000, 3, &[]);
    wait_until("the reader lists the second device's bundle", WAIT, || {
        reader.lists(&b3)
    });
    assert_eq!(
        identity_id(&paper.root(0).id(), &next_commitment(&paper.root(1).id())),
        id
    );
    // A machine that does not know the identity yet keeps its new key and
    // says how to finish; once connected, the paper approves it.
    let lonely = Daemon::start("rot-lonely");
    fails_with(
        &lonely.weft_with_input(
            &["device", "add", "--identity", &id.to_string(), "--paper"],
            &format!("{words}\n"),
        ),
        "weft device approve",
    );
    let key =
        KeyFile::parse(&std::fs::read_to_string(lonely.path().join("publisher.key")).unwrap())
            .unwrap()
            .publisher()
            .to_string();
    lonely.connect(&owner);
    wait_until("the lonely machine learns the log", WAIT, || {
        lonely.lists(&b2)
    });
    ok(&lonely.weft_with_input(
        &[
            "--json", "device", "approve", &key, "--name", "spare", "--paper",
        ],
        &format!("{words}\n"),
    ));
    let b4 = publish(&lonely, "spare-notes", 5_000, 4, &[]);
    wait_until("the reader lists it", WAIT, || reader.lists(&b4));
}

/// `weft --json search` on `d`, as a value.
fn search(d: &Daemon, args: &[&str]) -> Value {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    d.weft_json(&a)
}

/// The `publisher_name` of bundle `id` in `d`'s search results.
fn shown_as(d: &Daemon, id: &str) -> Value {
    search(d, &[])["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["publisher_name"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn readers_see_profile_names_petnames_and_lookalikes_flagged() {
    let _scenario = Scenario::begin("names");
    let p = Daemon::start("names-p");
    let q = Daemon::start("names-q");
    let reader = Daemon::start_with("names-reader", &["--gateway", "127.0.0.1:0"]);
    let p_id = init_identity(&p, &[]).publisher.to_string();
    let q_id = init_identity(&q, &[]).publisher.to_string();
    ok(&p.weft(&[
        "profile",
        "set",
        "--name",
        "Coalicion Agua",
        "--about",
        "Water guides",
        "--lang",
        "es",
    ]));
    // Q claims a name that reads the same: a digit one for the letter l.
    ok(&q.weft(&["profile", "set", "--name", "Coa1icion Agua"]));
    let bp = publish(&p, "water-guide", 10_000, 1, &[]);
    let bq = publish(&q, "water-guide", 10_000, 2, &[]);
    p.connect(&reader);
    q.connect(&reader);
    wait_until("the reader shows both claims, flagged", WAIT, || {
        shown_as(&reader, &bp)["same_name"] == true && shown_as(&reader, &bq)["same_name"] == true
    });
    let shown = shown_as(&reader, &bp);
    assert_eq!(shown["profile_name"], "Coalicion Agua");
    assert_eq!(shown["petname"], Value::Null);
    let fp = weft_protocol::words::fingerprint(&p_id.parse().unwrap());
    assert_eq!(shown["fingerprint"], fp.as_str());
    // The CLI's text says whose claim it is and flags the lookalike.
    let text = String::from_utf8(reader.weft(&["search"]).stdout).unwrap();
    assert!(
        text.contains(&format!(
            "~Coalicion Agua, its own claim ({fp}) [another key claims this name]"
        )),
        "{text}"
    );
    // So does the gateway, with no JavaScript (it lists what it holds).
    ok(&reader.weft(&["pin", &bp]));
    ok(&reader.weft(&["pin", &bq]));
    let gw = std::fs::read_to_string(reader.path().join("gateway.addr")).unwrap();
    let page = weft_e2e::http::get(gw.trim(), "/", &[]).text();
    assert!(
        page.contains("Coalicion Agua") && page.contains(&fp),
        "{page}"
    );
    assert!(page.contains("same-name"), "{page}");

    // The reader names P: the petname replaces the claim everywhere and
    // stands in for the id.
    ok(&reader.weft(&["name", &p_id, "Water coalition"]));
    let shown = shown_as(&reader, &bp);
    assert_eq!(shown["petname"], "Water coalition");
    let text = String::from_utf8(reader.weft(&["show", &bp]).stdout).unwrap();
    assert!(text.contains(&format!("Water coalition ({fp})")), "{text}");
    let only: Value = search(&reader, &["--publisher", "Water coalition"]);
    let ids: Vec<&str> = only["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![bp.as_str()]);
    ok(&reader.weft(&["follow", "Water coalition"]));
    let rules = String::from_utf8(reader.weft(&["rules"]).stdout).unwrap();
    assert!(rules.contains("Water coalition"), "{rules}");
    let why: Value = reader.weft_json(&["why", "Water coalition"]);
    assert_eq!(why["tier"], "trusted");
    let page = weft_e2e::http::get(gw.trim(), &format!("/bundle/{bp}"), &[]).text();
    assert!(page.contains("Water coalition"), "{page}");
    let names: Value = reader.weft_json(&["names"]);
    assert_eq!(names["names"][0]["publisher"], p_id.as_str());

    // Bad names are refused with a reason, and nothing changes.
    for (bad, why) in [
        ("Water\u{202E}coalition", "invisible"),
        ("C\u{043e}alition", "scripts"),
        (" Water", "spaces"),
        ("water coa1ition", "already names"),
    ] {
        fails_with(&reader.weft(&["name", &q_id, bad]), why);
    }
    fails_with(
        &reader.weft(&["name", "nobody-by-that-name", "X"]),
        "neither a publisher id",
    );
    assert_eq!(
        reader.weft_json(&["names"])["names"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let before = q.weft_json(&["profile", "show"]);
    fails_with(
        &q.weft(&[
            "profile",
            "set",
            "--name",
            "Water",
            "--about",
            &"x".repeat(600),
        ]),
        "about",
    );
    fails_with(
        &q.weft(&["profile", "set", "--name", "W\u{200B}ater"]),
        "invisible",
    );
    assert_eq!(q.weft_json(&["profile", "show"]), before, "nothing stored");

    // An invite carries P's publisher and name: joining names it.
    let invite: Value = p.weft_json(&["invite"]);
    assert_eq!(invite["publisher"], p_id.as_str());
    let newcomer = Daemon::start("names-newcomer");
    let joined: Value = newcomer.weft_json(&["join", invite["invite"].as_str().unwrap()]);
    assert_eq!(joined["named"]["name"]["petname"], "Coalicion Agua");
    assert_eq!(
        newcomer.weft_json(&["why", &p_id])["reasons"][0],
        "you gave this publisher a name"
    );
}

#[test]
fn a_single_key_publisher_upgrades_and_followers_see_no_change() {
    let _scenario = Scenario::begin("single_key_upgrade");
    let single = Daemon::start("up-single");
    // A publisher from before identities: one plain key, no identity file.
    let old = PublisherKey::from_seed([0x44; 32]);
    std::fs::write(
        single.path().join("publisher.key"),
        KeyFile::Plain(old.seed()).to_text(),
    )
    .unwrap();
    let status: IdentityInfo = single.weft_json_as(&["identity"]);
    assert_eq!(status.status, DeviceStatus::SingleKey);
    assert_eq!(status.identity, old.id());
    let b1 = publish(&single, "handbook", 20_000, 1, &[]);
    let follower = Daemon::start("up-follower");
    ok(&follower.weft(&["follow", &old.id().to_string()]));
    single.connect(&follower);
    wait_until("the follower mirrors the handbook", WAIT, || {
        holds(&follower, &b1)
    });

    let up: Value = single.weft_json(&["identity", "upgrade", "--device-name", "office"]);
    assert_eq!(up["identity"], old.id().to_string().as_str());
    assert_eq!(up["paper_backup"].as_array().unwrap().len(), 24);
    assert!(up["kept"].as_u64().unwrap() >= 1, "{up}");
    let info: IdentityInfo = single.weft_json_as(&["identity"]);
    assert_eq!(info.status, DeviceStatus::Certified);
    assert_eq!(info.rotations, 1);
    assert!(info.devices.iter().any(|d| d.this && d.name == "office"));
    // The old key is gone from the device.
    let key =
        KeyFile::parse(&std::fs::read_to_string(single.path().join("publisher.key")).unwrap())
            .unwrap();
    assert_ne!(key.publisher(), old.id());
    fails_with(
        &single.weft(&["identity", "upgrade"]),
        "already signs for an identity",
    );

    // New bundles come from the device; the follower changes nothing and
    // keeps the old one.
    let b2 = publish(&single, "handbook", 20_000, 2, &["--seq", "2"]);
    wait_until("the follower mirrors the new version", WAIT, || {
        holds(&follower, &b2)
    });
    let shown: Value = follower.weft_json(&["show", &b1]);
    assert_eq!(shown["revoked"], false);
    assert_eq!(shown["publisher"], old.id().to_string().as_str());
    // A node that has just connected fetches by id at once: the fetch
    // brings the publisher's key log before it judges the device.
    let fresh = Daemon::start("up-fresh");
    fresh.connect(&single);
    weft_e2e::get_and_check(&fresh, &b2, "got", 20_000, 2);
}
