//! Private groups across real daemons on loopback: a group's members read
//! it, an outsider carries its records without reading them, and a removed
//! member does not receive the key of the epoch its removal starts.

use std::time::Duration;

use weft_e2e::{wait_until, Daemon};
use weft_protocol::api::{GroupView, InitOutput};

const WAIT: Duration = Duration::from_secs(60);

fn show(d: &Daemon, group: &str) -> Option<GroupView> {
    let o = d.weft(&["--json", "group", "show", group]);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).expect("weft --json prints a group"))
}

fn fails_with(o: &std::process::Output, needle: &str) {
    assert!(!o.status.success(), "expected a failure: {o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// Three nodes, ana, bo and cy, each with a publisher of its own.
fn three() -> (Daemon, Daemon, Daemon, Vec<InitOutput>) {
    let (ana, bo, cy) = (
        Daemon::start("ana"),
        Daemon::start("bo"),
        Daemon::start("cy"),
    );
    let ids = [&ana, &bo, &cy]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
    (ana, bo, cy, ids)
}

/// Runs `f` until it succeeds, for up to [`WAIT`]; its JSON output. On
/// timeout, fails with the last error it printed.
fn retry_ok<T: serde::de::DeserializeOwned>(
    what: &str,
    mut f: impl FnMut() -> std::process::Output,
) -> T {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let o = f();
        if o.status.success() {
            return serde_json::from_slice(&o.stdout).expect("weft --json prints JSON");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; last error: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn members_read_their_group_an_outsider_cannot_and_a_removed_member_loses_the_new_key() {
    let (ana, bo, cy, ids) = three();
    let (a, b, c) = (
        ids[0].publisher.to_string(),
        ids[1].publisher.to_string(),
        ids[2].publisher.to_string(),
    );
    bo.connect(&ana);
    cy.connect(&ana);
    cy.connect(&bo);

    let made: GroupView = ana.weft_json_as(&["group", "create", "legal team"]);
    let gid = made.id.to_string();
    assert_eq!(made.name.as_deref(), Some("legal team"));
    assert!(made.admin && made.member && made.readable);
    assert_eq!(made.epoch, 0);

    // ana adds bo once ana's node has bo's key log (its devices), which
    // catch-up brings; until then the add is refused and nothing signed.
    let added: GroupView = retry_ok("ana to add bo", || {
        ana.weft(&["--json", "group", "add", &gid, &b])
    });
    assert_eq!(added.members.len(), 2);

    // bo's node opens its key box and reads the group.
    wait_until("bo to read the group", WAIT, || {
        show(&bo, &gid).is_some_and(|v| v.readable && v.member)
    });
    let seen = show(&bo, &gid).unwrap();
    assert_eq!(seen.name.as_deref(), Some("legal team"));
    let members: Vec<String> = seen
        .members
        .iter()
        .map(|m| m.publisher.to_string())
        .collect();
    assert!(members.contains(&a) && members.contains(&b), "{members:?}");
    assert!(!seen.admin);
    // bo can read the group by its name too.
    assert_eq!(show(&bo, "legal team").unwrap().id, seen.id);

    // cy carries the records but reads nothing of them.
    wait_until("cy to hear of the group", WAIT, || {
        show(&cy, &gid).is_some_and(|v| v.records == 2)
    });
    let outside = show(&cy, &gid).unwrap();
    assert_eq!(outside.name, None);
    assert!(outside.members.is_empty());
    assert!(!outside.readable && !outside.member && outside.epochs_held.is_empty());
    assert_eq!(outside.admins.len(), 1, "admins are public");

    // A member who is no admin cannot change the group.
    fails_with(&bo.weft(&["group", "add", &gid, &c]), "only an admin");
    // Nor can anyone remove its founder.
    fails_with(
        &ana.weft(&["group", "remove", &gid, &a]),
        "cannot be removed",
    );

    // ana removes bo: epoch 1, whose key bo's node never receives.
    let removed: GroupView = ana.weft_json_as(&["group", "remove", &gid, &b]);
    assert_eq!(removed.epoch, 1);
    assert!(removed.readable);
    assert_eq!(removed.epochs_held, vec![0, 1]);
    wait_until("bo to see the removal", WAIT, || {
        show(&bo, &gid).is_some_and(|v| v.epoch == 1)
    });
    let after = show(&bo, &gid).unwrap();
    assert!(!after.readable && !after.member, "{after:?}");
    assert_eq!(after.epochs_held, vec![0], "bo keeps only the key it had");
    wait_until("cy to see the removal", WAIT, || {
        show(&cy, &gid).is_some_and(|v| v.epoch == 1)
    });
    assert!(show(&cy, &gid).unwrap().epochs_held.is_empty());
}

/// Whether any file under `dir` contains `needle`.
fn any_file_contains(dir: &std::path::Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            any_file_contains(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

#[test]
fn a_private_bundle_is_read_by_members_and_carried_sealed_by_everyone_else() {
    let (ana, bo, cy, ids) = three();
    let b = ids[1].publisher.to_string();
    bo.connect(&ana);
    cy.connect(&ana);
    cy.connect(&bo);
    let made: GroupView = ana.weft_json_as(&["group", "create", "safeguarding"]);
    let gid = made.id.to_string();
    let _: GroupView = retry_ok("ana to add bo", || {
        ana.weft(&["--json", "group", "add", &gid, &b])
    });

    // A folder whose every byte says what it is: a grep for it anywhere
    // that holds plaintext finds it.
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("procedures");
    std::fs::create_dir_all(src.join("forms")).unwrap();
    let marker = b"SAFEGUARDING-PLAINTEXT-MARKER ";
    let big: Vec<u8> = marker.iter().copied().cycle().take(300_000).collect();
    std::fs::write(src.join("procedures.txt"), &big).unwrap();
    std::fs::write(src.join("forms/incident-report.md"), b"# Incident report\n").unwrap();
    let title = "Confidential safeguarding procedures";
    let published: weft_protocol::api::PublishResult = ana.weft_json_as(&[
        "publish",
        src.to_str().unwrap(),
        "--title",
        title,
        "--group",
        &gid,
    ]);
    assert_eq!(published.files, 2);
    let id = published.id.to_string();

    // bo, a member, fetches it and reads every file byte for byte.
    wait_until("bo to read the group", WAIT, || {
        show(&bo, &gid).is_some_and(|v| v.readable)
    });
    let out = work.path().join("bo-out");
    let got: weft_protocol::api::FetchResult =
        bo.weft_json_as(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!((got.files, got.size), (2, big.len() as u64 + 18));
    assert_eq!(std::fs::read(out.join("procedures.txt")).unwrap(), big);
    assert_eq!(
        std::fs::read(out.join("forms/incident-report.md")).unwrap(),
        b"# Incident report\n"
    );

    // bo's search lists it by its sealed title, as shared with the group.
    let found: weft_protocol::api::SearchResponse = bo.weft_json_as(&["search", "safeguarding"]);
    let hit = found
        .results
        .iter()
        .find(|r| r.id == published.id)
        .expect("bo's search lists the private bundle");
    assert_eq!(hit.titles[0].title, title);
    assert_eq!(hit.group, Some(made.id));
    assert_eq!(hit.publisher, ids[0].publisher);
    // Searching in the group lists it too, and `weft show` shows what is
    // sealed inside: the real name, and the files once held.
    let in_group: weft_protocol::api::SearchResponse =
        bo.weft_json_as(&["search", "--group", "safeguarding"]);
    assert_eq!(in_group.results.len(), 1);
    assert_eq!(in_group.results[0].id, published.id);
    let details: weft_protocol::api::BundleDetails = bo.weft_json_as(&["show", &id]);
    assert_eq!(details.group, Some(made.id));
    assert_eq!(details.titles[0].title, title);
    let files: Vec<String> = details
        .file_list
        .expect("bo holds it")
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(files, ["forms/incident-report.md", "procedures.txt"]);

    // cy, no member, stores and serves the same bundle but cannot open it.
    let cy_out = work.path().join("cy-out");
    let o = cy.weft(&["get", &id, "-o", cy_out.to_str().unwrap()]);
    fails_with(&o, "whose key this node does not hold");
    assert!(!cy_out.join("procedures.txt").exists());
    let found = cy.weft(&["--json", "search", "safeguarding"]);
    assert!(found.status.success());
    assert!(!String::from_utf8_lossy(&found.stdout).contains(title));
    let in_group: weft_protocol::api::SearchResponse =
        cy.weft_json_as(&["search", "--group", &gid]);
    assert!(in_group.results.is_empty());
    let details: weft_protocol::api::BundleDetails = cy.weft_json_as(&["show", &id]);
    assert_eq!(details.group, None);
    assert!(!serde_json::to_string(&details).unwrap().contains(title));
    // bo is removed; what ana publishes next bo's node fetches but cannot
    // open, while bo keeps what it already wrote out.
    let _: GroupView = ana.weft_json_as(&["group", "remove", &gid, &b]);
    std::fs::write(
        src.join("forms/incident-report.md"),
        b"# Incident report v2\n",
    )
    .unwrap();
    let after: weft_protocol::api::PublishResult = ana.weft_json_as(&[
        "publish",
        src.to_str().unwrap(),
        "--title",
        title,
        "--group",
        &gid,
    ]);
    let late = work.path().join("bo-late");
    let mut last = String::new();
    wait_until(
        "bo to be refused the new bundle for want of its key",
        WAIT,
        || {
            let o = bo.weft(&["get", &after.id.to_string(), "-o", late.to_str().unwrap()]);
            last = String::from_utf8_lossy(&o.stderr).into_owned();
            !o.status.success() && last.contains("whose key this node does not hold")
        },
    );
    assert!(!late.join("forms/incident-report.md").exists(), "{last}");
    assert_eq!(std::fs::read(out.join("procedures.txt")).unwrap(), big);

    // Nothing of the plaintext is in any node's data dir, the publisher's
    // and the member's included: they hold the sealed bundle only. The
    // same grep finds it in the files bo wrote out.
    assert!(any_file_contains(&out, marker));
    for d in [&ana, &bo, &cy] {
        assert!(
            !any_file_contains(d.path(), marker),
            "{}",
            d.path().display()
        );
        assert!(!any_file_contains(d.path(), title.as_bytes()));
    }
}

#[test]
fn a_blind_hub_mirrors_a_groups_bundles_and_serves_them_while_the_publisher_is_offline() {
    let mut ana = Daemon::start("ana");
    let bo = Daemon::start("bo");
    let hub = Daemon::start_with("hub", &["--gateway", "127.0.0.1:0"]);
    let ids: Vec<InitOutput> = [&ana, &bo]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
    let b = ids[1].publisher.to_string();
    // ana and bo meet only through the hub.
    ana.connect(&hub);
    bo.connect(&hub);
    let made: GroupView = ana.weft_json_as(&["group", "create", "field notes"]);
    let gid = made.id.to_string();
    let rule = hub.weft(&["follow", "--group", &gid]);
    assert!(rule.status.success(), "{rule:?}");
    let _: GroupView = retry_ok("ana to add bo", || {
        ana.weft(&["--json", "group", "add", &gid, &b])
    });

    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("notes");
    std::fs::create_dir_all(&src).unwrap();
    let marker = b"FIELD-NOTES-PLAINTEXT ";
    let body: Vec<u8> = marker.iter().copied().cycle().take(200_000).collect();
    std::fs::write(src.join("notes.txt"), &body).unwrap();
    let published: weft_protocol::api::PublishResult =
        ana.weft_json_as(&["publish", src.to_str().unwrap(), "--group", &gid]);
    let id = published.id;

    // The hub fetches and pins the sealed bundle on its own.
    wait_until("the hub to mirror the sealed bundle", WAIT, || {
        hub.weft_json_as::<weft_protocol::api::PinsResponse>(&["pins"])
            .pins
            .iter()
            .any(|p| p.id == id && p.local)
    });
    let shown = show(&hub, &gid).expect("the hub knows the group");
    assert!(!shown.readable && shown.name.is_none());
    // The hub's public gateway neither lists nor serves it.
    let gw = std::fs::read_to_string(hub.path().join("gateway.addr")).unwrap();
    let page = weft_e2e::http::get(gw.trim(), &format!("/bundle/{id}"), &[]);
    assert_eq!(page.status, 404, "{}", page.text());
    let file = weft_e2e::http::get(gw.trim(), &format!("/file/{id}/sealed"), &[]);
    assert_eq!(file.status, 404, "{}", file.text());
    assert!(!weft_e2e::http::get(gw.trim(), "/", &[])
        .text()
        .contains(&id.to_string()));

    // The publisher goes offline; bo fetches from the hub alone.
    ana.kill();
    wait_until("bo to read the group", WAIT, || {
        show(&bo, &gid).is_some_and(|v| v.readable)
    });
    let out = work.path().join("out");
    let got: weft_protocol::api::FetchResult =
        bo.weft_json_as(&["get", &id.to_string(), "-o", out.to_str().unwrap()]);
    assert_eq!(got.size, body.len() as u64);
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), body);
    // The hub holds nothing readable.
    assert!(any_file_contains(&out, marker));
    assert!(!any_file_contains(hub.path(), marker));
    assert!(!any_file_contains(hub.path(), b"field notes"));
}

#[test]
fn a_private_bundle_travels_on_a_usb_stick_sealed_and_opens_only_for_members() {
    let (ana, dora, cy) = (
        Daemon::start("ana"),
        Daemon::start("dora"),
        Daemon::start("cy"),
    );
    let ids: Vec<InitOutput> = [&ana, &dora, &cy]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
    let work = tempfile::tempdir().unwrap();
    // dora is never online: her identity reaches ana on a stick, with a
    // bundle of hers.
    let hello = work.path().join("hello");
    std::fs::create_dir_all(&hello).unwrap();
    std::fs::write(hello.join("hi.txt"), b"hello from dora\n").unwrap();
    let hi: weft_protocol::api::PublishResult =
        dora.weft_json_as(&["publish", hello.to_str().unwrap()]);
    let stick1 = work.path().join("from-dora.weft");
    let o = dora.weft(&["export", &hi.id.to_string(), "-o", stick1.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let o = ana.weft(&["import", stick1.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");

    let made: GroupView = ana.weft_json_as(&["group", "create", "stick group"]);
    let gid = made.id.to_string();
    let _: GroupView = ana.weft_json_as(&["group", "add", &gid, &ids[1].publisher.to_string()]);
    let src = work.path().join("minutes");
    std::fs::create_dir_all(&src).unwrap();
    let marker = b"STICK-MINUTES-PLAINTEXT ";
    let body: Vec<u8> = marker.iter().copied().cycle().take(150_000).collect();
    std::fs::write(src.join("minutes.txt"), &body).unwrap();
    let title = "Minutes of the closed meeting";
    let published: weft_protocol::api::PublishResult = ana.weft_json_as(&[
        "publish",
        src.to_str().unwrap(),
        "--title",
        title,
        "--group",
        &gid,
    ]);
    let id = published.id.to_string();
    let stick2 = work.path().join("sealed.weft");
    let o = ana.weft(&["export", &id, "-o", stick2.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    // The stick says nothing: no title, no group name, no plaintext.
    let on_stick = std::fs::read(&stick2).unwrap();
    for needle in [&marker[..], title.as_bytes(), b"stick group"] {
        assert!(!on_stick.windows(needle.len()).any(|w| w == needle));
    }

    // dora imports it and reads it, never having been online.
    let o = dora.weft(&["import", stick2.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let out = work.path().join("dora-out");
    let got: weft_protocol::api::FetchResult =
        dora.weft_json_as(&["get", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(got.files, 1);
    assert_eq!(std::fs::read(out.join("minutes.txt")).unwrap(), body);
    assert_eq!(
        show(&dora, &gid).unwrap().name.as_deref(),
        Some("stick group")
    );

    // cy, no member, stores it but cannot open it.
    let o = cy.weft(&["import", stick2.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let cy_out = work.path().join("cy-out");
    fails_with(
        &cy.weft(&["get", &id, "-o", cy_out.to_str().unwrap()]),
        "whose key this node does not hold",
    );
    assert!(!any_file_contains(cy.path(), marker));
    assert!(!any_file_contains(cy.path(), title.as_bytes()));
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn forged_and_replayed_group_entries_are_refused_and_go_no_further() {
    use rand::rngs::OsRng;
    use weft_e2e::raw::{rpc, RawPeer};
    use weft_protocol::group::{self, Admin, BoxContents, Change, EpochSecret};
    use weft_protocol::manifest::{GroupKind, SignedPrivate};
    use weft_protocol::wire::ANNOUNCE_TOPIC;
    use weft_protocol::{Announcement, BundleId, LangTitle, PublisherKey, SignedAnnouncement};

    let (ana, bo) = (Daemon::start("ana"), Daemon::start("bo"));
    let ids: Vec<InitOutput> = [&ana, &bo]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
    bo.connect(&ana);
    let made: GroupView = ana.weft_json_as(&["group", "create", "real group"]);
    let gid = made.id;
    let g = gid.to_string();
    let _: GroupView = retry_ok("ana to add bo", || {
        ana.weft(&["--json", "group", "add", &g, &ids[1].publisher.to_string()])
    });
    wait_until("bo to read the group", WAIT, || {
        show(&bo, &g).is_some_and(|v| v.readable && v.records == 2)
    });
    let state_before = show(&bo, &g).unwrap();

    // An evil peer, no admin of the group, tries to change it.
    let evil = PublisherKey::from_seed([0x66; 32]);
    let me = Admin {
        key: &evil,
        admin: evil.id(),
    };
    let mut records = Vec::new();
    // The evil peer runs a group of its own, legitimately, and then tries
    // what the protocol forbids in it and in the real group.
    let (own, s0) = group::create(&me, "evil group", now() - 7200, &mut OsRng).unwrap();
    let own_id = own.record().group;
    records.push(own.clone());
    let st = group::resolve(&own_id, &records).unwrap();
    let victim = PublisherKey::from_seed([0x67; 32]).id();
    let add = group::change(
        &me,
        &st,
        Change {
            kind: GroupKind::Add,
            member: Some(victim),
            history: false,
            name: "evil group".into(),
            members: vec![evil.id(), victim],
            admins: vec![evil.id()],
        },
        &s0,
        now() - 7200,
        &mut OsRng,
    )
    .unwrap();
    records.push(add.clone());
    let st = group::resolve(&own_id, &records).unwrap();
    let s1 = EpochSecret::generate(&mut OsRng);
    let remove = group::change(
        &me,
        &st,
        Change {
            kind: GroupKind::Remove,
            member: Some(victim),
            history: false,
            name: "evil group".into(),
            members: vec![evil.id()],
            admins: vec![evil.id()],
        },
        &s1,
        now() - 3600,
        &mut OsRng,
    )
    .unwrap();
    // Refused: a change signed by a member who is no admin.
    let victim_key = PublisherKey::from_seed([0x67; 32]);
    let by_member = group::change(
        &Admin {
            key: &victim_key,
            admin: victim,
        },
        &st,
        Change {
            kind: GroupKind::Add,
            member: Some(ids[1].publisher),
            history: true,
            name: "evil group".into(),
            members: vec![evil.id(), victim, ids[1].publisher],
            admins: vec![evil.id()],
        },
        &s0,
        now() - 7000,
        &mut OsRng,
    )
    .unwrap();
    let (m, _) = weft_protocol::vectors::signed_manifest();
    let inner = SignedAnnouncement::sign(&m, &weft_protocol::vectors::key()).unwrap();
    let private = |s: &EpochSecret, epoch: u64, created: u64, n: u8| -> SignedPrivate {
        group::announce(
            s,
            &own_id,
            epoch,
            BundleId::from_bytes([n; 32]),
            1000,
            &inner,
            created,
            &mut OsRng,
        )
        .unwrap()
    };
    // Kept: epoch 0's bundle from before the removal, and epoch 1's.
    let before = private(&s0, 0, now() - 5000, 1);
    let current = private(&s1, 1, now(), 2);
    // Refused: epoch 0's key used after its epoch ended (the removed
    // member's replay), a bundle signed by a key that is no epoch's, and
    // a box for the real group by someone who is no admin of it.
    let replayed = private(&s0, 0, now(), 3);
    let stray = EpochSecret::generate(&mut OsRng);
    let forged = private(&stray, 1, now(), 4);
    let fake_box = group::boxes(
        &me,
        &gid,
        &weft_protocol::ContentHash::from_bytes([0; 32]),
        &[ids[1].device],
        &BoxContents::new(vec![(0, &stray)]),
        now(),
        &mut OsRng,
    )
    .unwrap();
    // Tampered: a flipped byte in a valid announcement's sealed metadata.
    let mut tampered = current.bytes().to_vec();
    let at = tampered.len() - 200;
    tampered[at] ^= 1;
    // The sentinel: a plain public announcement sent after the refused
    // ones on the same stream; once the publisher's node lists it,
    // everything before it has been judged and, if kept, forwarded.
    let sentinel = SignedAnnouncement::sign_announcement(
        Announcement {
            v: weft_protocol::VERSION,
            id: BundleId::from_bytes([9; 32]),
            seq: 1,
            name: "sentinel".into(),
            size: 10,
            tags: vec![],
            files: 1,
            titles: vec![LangTitle {
                lang: "en".into(),
                title: "sentinel".into(),
            }],
            created: now(),
            publisher: evil.id(),
        },
        &evil,
    )
    .unwrap();

    let rejected = |d: &Daemon| d.status().counters.gossip_rejected;
    let (bo_rejected, ana_rejected) = (rejected(&bo), rejected(&ana));
    let peer = RawPeer::start();
    let bo_peer = peer.connect(&bo.multiaddr());
    let mut gossip = peer.gossip(bo_peer);
    gossip.send(&rpc::subscribe(ANNOUNCE_TOPIC)).unwrap();
    let batch: Vec<&[u8]> = vec![
        own.bytes(),
        add.bytes(),
        remove.bytes(),
        by_member.bytes(),
        before.bytes(),
        current.bytes(),
        replayed.bytes(),
        forged.bytes(),
        fake_box[0].bytes(),
        // The sentinel goes before the tampered entry: an invalid message
        // costs the sender its gossip score, after which bo may ignore the
        // rest of what it sends.
        sentinel.bytes(),
        &tampered,
    ];
    for e in batch {
        gossip.send(&rpc::publish(ANNOUNCE_TOPIC, &[e])).unwrap();
    }
    wait_until("ana to list the sentinel", WAIT, || {
        ana.lists(&BundleId::from_bytes([9; 32]).to_string())
    });
    wait_until("bo to judge the tampered entry", WAIT, || {
        rejected(&bo) - bo_rejected >= 5
    });

    // bo refused each of the five (a change by a member who is no admin,
    // a replay of an ended epoch's key, a bundle signed by no epoch's key,
    // a key box by someone who is no admin, a tampered announcement), and
    // none of them reached ana.
    let log = bo.log();
    let judged: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("refused")
                || l.contains("rejected")
                || l.contains("not kept")
                || l.contains("group record")
        })
        .collect();
    assert_eq!(rejected(&bo) - bo_rejected, 5, "{judged:#?}");
    assert_eq!(rejected(&ana), ana_rejected);
    let own_g = own_id.to_string();
    for d in [&bo, &ana] {
        // The evil peer's own group is kept as far as it is valid: three
        // records, and only the two private bundles it may publish.
        let v = show(d, &own_g).expect("the evil group is known");
        assert_eq!(
            (v.records, v.epoch, v.bundles),
            (3, 1, 2),
            "{}",
            d.path().display()
        );
        // The real group is untouched, and bo's node holds no false key.
        let real = show(d, &g).unwrap();
        assert_eq!(real.records, state_before.records);
    }
    let bo_view = show(&bo, &g).unwrap();
    assert_eq!(bo_view.epochs_held, state_before.epochs_held);
    assert!(bo_view.readable);
}

#[test]
fn a_revoked_device_of_a_member_is_shut_out_by_a_new_epoch_the_admin_starts_on_its_own() {
    let ana = Daemon::start("ana");
    let laptop = Daemon::start("bo-laptop");
    let phone = Daemon::start("bo-phone");
    let _: InitOutput = ana.weft_json_as(&["init"]);
    let bo: InitOutput = laptop.weft_json_as(&["init", "--device-name", "laptop"]);
    let b = bo.publisher.to_string();
    let words = bo.paper_backup.join(" ");
    laptop.connect(&ana);
    phone.connect(&ana);
    phone.connect(&laptop);
    // bo certifies a phone with the paper backup.
    wait_until("the phone to hear of bo's identity", WAIT, || {
        phone.heard_from(&b)
    });
    let o = phone.weft_with_input(
        &[
            "device",
            "add",
            "--identity",
            &b,
            "--name",
            "phone",
            "--paper",
        ],
        &format!("{words}\n"),
    );
    assert!(o.status.success(), "{o:?}");
    let info: weft_protocol::api::IdentityInfo = phone.weft_json_as(&["identity"]);
    let laptop_key = info
        .devices
        .iter()
        .find(|d| d.name == "laptop")
        .expect("the laptop is a device")
        .key
        .to_string();

    let made: GroupView = ana.weft_json_as(&["group", "create", "tenants union"]);
    let gid = made.id.to_string();
    // ana adds bo once her node knows both of bo's devices.
    wait_until("ana to know the phone", WAIT, || {
        ana.weft_json(&["why", &b])["entries"].as_u64() >= Some(3)
    });
    let _: GroupView = retry_ok("ana to add bo", || {
        ana.weft(&["--json", "group", "add", &gid, &b])
    });
    for d in [&laptop, &phone] {
        wait_until("both of bo's devices to read the group", WAIT, || {
            show(d, &gid).is_some_and(|v| v.readable && v.member)
        });
    }

    // The laptop is seized; the phone revokes it. ana's node sees the
    // revocation and starts epoch 1 by itself, sealed to the phone only.
    let o = phone.weft_with_input(
        &["device", "revoke", &laptop_key, "--paper"],
        &format!("{words}\n"),
    );
    assert!(o.status.success(), "{o:?}");
    wait_until("ana's node to start a new epoch", WAIT, || {
        show(&ana, &gid).is_some_and(|v| v.epoch == 1)
    });
    let after = show(&ana, &gid).unwrap();
    assert!(!after.rekey_due, "{after:?}");
    assert_eq!(after.members.len(), 2, "the same members");
    wait_until("the phone to read epoch 1", WAIT, || {
        show(&phone, &gid).is_some_and(|v| v.readable && v.epochs_held == [0, 1])
    });
    wait_until("the laptop to see epoch 1", WAIT, || {
        show(&laptop, &gid).is_some_and(|v| v.epoch == 1)
    });
    let seized = show(&laptop, &gid).unwrap();
    assert!(!seized.readable, "{seized:?}");
    assert_eq!(
        seized.epochs_held,
        vec![0],
        "the laptop keeps only the old key"
    );

    // What ana shares now the phone reads and the laptop cannot open.
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rent-strike");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("plan.md"), b"# Rent strike plan\n").unwrap();
    let published: weft_protocol::api::PublishResult = ana.weft_json_as(&[
        "publish",
        src.to_str().unwrap(),
        "--title",
        "Rent strike plan",
        "--group",
        &gid,
    ]);
    let id = published.id.to_string();
    let out = work.path().join("phone-out");
    let _: weft_protocol::api::FetchResult = retry_ok("the phone to fetch it", || {
        phone.weft(&["--json", "get", &id, "-o", out.to_str().unwrap()])
    });
    assert_eq!(
        std::fs::read(out.join("plan.md")).unwrap(),
        b"# Rent strike plan\n"
    );
    let seized_out = work.path().join("laptop-out");
    let mut last = String::new();
    wait_until("the laptop to be refused for want of the key", WAIT, || {
        let o = laptop.weft(&["get", &id, "-o", seized_out.to_str().unwrap()]);
        last = String::from_utf8_lossy(&o.stderr).into_owned();
        !o.status.success() && last.contains("whose key this node does not hold")
    });
    assert!(!seized_out.join("plan.md").exists(), "{last}");
}
