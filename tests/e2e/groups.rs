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
    let (ana, bo, cy) = (
        Daemon::start("ana"),
        Daemon::start("bo"),
        Daemon::start("cy"),
    );
    let ids: Vec<InitOutput> = [&ana, &bo, &cy]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
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
    let (ana, bo, cy) = (
        Daemon::start("ana"),
        Daemon::start("bo"),
        Daemon::start("cy"),
    );
    let ids: Vec<InitOutput> = [&ana, &bo, &cy]
        .iter()
        .map(|d| d.weft_json_as(&["init"]))
        .collect();
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

    // cy, no member, stores and serves the same bundle but cannot open it.
    let cy_out = work.path().join("cy-out");
    let o = cy.weft(&["get", &id, "-o", cy_out.to_str().unwrap()]);
    fails_with(&o, "whose key this node does not hold");
    assert!(!cy_out.join("procedures.txt").exists());
    let found = cy.weft(&["--json", "search", "safeguarding"]);
    assert!(found.status.success());
    assert!(!String::from_utf8_lossy(&found.stdout).contains(title));
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
    let (bo, hub) = (Daemon::start("bo"), Daemon::start("hub"));
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
