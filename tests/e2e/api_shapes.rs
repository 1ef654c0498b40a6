//! The API's JSON on the wire is exactly its type in `weft_protocol::api`:
//! every JSON route of the local API, called on real daemons, answers
//! bytes that read as the route's type and write back as the same JSON,
//! no key missing and none extra. So the daemon, the CLI, the bench and the
//! harness, which all share the types, agree with what a script sees.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use weft_e2e::{http, make_folder, router_routes, wait_until, Daemon};
use weft_protocol::api::{
    BundleDetails, CheckReport, ConnectResponse, DoctorResponse, ErrorResponse, ExportResult,
    FetchResult, GcReport, GroupView, GroupsResponse, IdentityInfo, ImportResult, InviteResponse,
    JobStarted, JobStatus, JoinResponse, KeyEventsMade, LoginLinkResponse, NamedPublisher,
    NamesResponse, PeersResponse, PinsResponse, ProfileResponse, ProvidersResponse, PublishResult,
    RetractResponse, RuleChangeResponse, RulesResponse, SearchResponse, StatusResponse, Tier,
    UnpinResponse, UpgradeResult, UploadStarted, UploadedFile, VouchResponse, WhyResponse,
};

/// Checks that `v` reads as `T` and writes back as `v` itself.
fn exactly<T: Serialize + DeserializeOwned + Debug>(route: &str, v: &Value) -> T {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{route}: {v} does not read as its type: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(&back, v, "{route}: the type and the wire differ");
    typed
}

/// Calls the API on `d` and checks the answer against `T`.
fn call<T: Serialize + DeserializeOwned + Debug>(
    d: &Daemon,
    covered: &mut BTreeSet<String>,
    method: &str,
    route: &str,
    path: &str,
    body: Option<Value>,
) -> T {
    let v = d
        .api()
        .call(method, path, body.as_ref(), d.path())
        .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
    covered.insert(format!("{method} {route}"));
    exactly(&format!("{method} {path}"), &v)
}

/// Polls a job to its end and checks its status against `JobStatus<R>`.
fn job<R: Serialize + DeserializeOwned + Debug>(
    d: &Daemon,
    covered: &mut BTreeSet<String>,
    started: JobStarted,
) -> R {
    let path = format!("/v1/jobs/{}?wait_ms=1000", started.job);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s: JobStatus<R> = call(d, covered, "GET", "/v1/jobs/{id}", &path, None);
        if let Some(r) = s.result {
            return r;
        }
        assert!(
            s.error.is_none(),
            "job {} failed: {:?}",
            started.job,
            s.error
        );
        assert!(
            std::time::Instant::now() < deadline,
            "job {} did not end",
            started.job
        );
    }
}

#[test]
fn every_json_route_answers_exactly_its_type() {
    let a = Daemon::start("shapes-a");
    let b = Daemon::start("shapes-b");
    let mut covered = BTreeSet::new();
    let c = &mut covered;
    let created: weft_protocol::api::InitOutput = a.weft_json_as(&["init"]);
    let work = tempfile::tempdir().unwrap();
    let folder = make_folder(work.path(), 300_000);

    // Publishing and the job it runs.
    let started: JobStarted = call(
        &a,
        c,
        "POST",
        "/v1/publish",
        "/v1/publish",
        Some(
            json!({"path": folder, "name": "shapes", "tags": ["training"],
            "texts": [{"lang": "en", "title": "Shapes", "description": "Every route"}]}),
        ),
    );
    let published: PublishResult = job(&a, c, started);
    let id = published.id.to_string();

    // The node.
    let _: StatusResponse = call(&a, c, "GET", "/v1/status", "/v1/status", None);
    let invite: InviteResponse = call(&a, c, "GET", "/v1/invite", "/v1/invite", None);
    let _: ConnectResponse = call(
        &b,
        c,
        "POST",
        "/v1/connect",
        "/v1/connect",
        Some(json!({"addr": a.multiaddr()})),
    );
    let _: JoinResponse = call(
        &b,
        c,
        "POST",
        "/v1/join",
        "/v1/join",
        Some(json!({"invite": invite.invite})),
    );
    let _: PeersResponse = call(&b, c, "GET", "/v1/peers", "/v1/peers", None);
    let _: DoctorResponse = call(&b, c, "GET", "/v1/doctor", "/v1/doctor", None);
    let route = "/v1/providers/{id}";
    let _: ProvidersResponse = call(&b, c, "GET", route, &format!("/v1/providers/{id}"), None);

    // The catalog, on both sides.
    wait_until("B lists A's bundle", Duration::from_secs(30), || {
        b.lists(&id)
    });
    let found: SearchResponse = call(&b, c, "GET", "/v1/search", "/v1/search?q=shapes", None);
    assert_eq!(found.results[0].id, published.id);
    let route = "/v1/bundles/{id}";
    let listed: BundleDetails = call(&b, c, "GET", route, &format!("/v1/bundles/{id}"), None);
    assert!(listed.texts.is_none(), "B does not hold it yet");
    let stored: BundleDetails = call(&a, c, "GET", route, &format!("/v1/bundles/{id}"), None);
    assert!(stored.texts.is_some() && stored.file_list.is_some());

    // Fetching, pins and storage.
    let out = b.path().join("fetched");
    let started: JobStarted = call(
        &b,
        c,
        "POST",
        "/v1/fetch",
        "/v1/fetch",
        Some(json!({"id": id, "out": out, "pin": true})),
    );
    let fetched: FetchResult = job(&b, c, started);
    assert_eq!(fetched.id, published.id);
    let _: PinsResponse = call(&b, c, "GET", "/v1/pins", "/v1/pins", None);
    let _: UnpinResponse = call(
        &b,
        c,
        "POST",
        "/v1/unpin",
        "/v1/unpin",
        Some(json!({"id": id})),
    );
    let _: GcReport = call(&b, c, "POST", "/v1/gc", "/v1/gc", None);
    let started: JobStarted = call(&a, c, "POST", "/v1/check", "/v1/check", None);
    let _: CheckReport = job(&a, c, started);

    // Archives.
    let archive = a.path().join("out.weft");
    let started: JobStarted = call(
        &a,
        c,
        "POST",
        "/v1/export",
        "/v1/export",
        Some(json!({"bundles": [id], "out": archive})),
    );
    let _: ExportResult = job(&a, c, started);
    let started: JobStarted = call(
        &b,
        c,
        "POST",
        "/v1/import",
        "/v1/import",
        Some(json!({"path": archive})),
    );
    let _: ImportResult = job(&b, c, started);

    // Rules.
    let _: RulesResponse = call(&b, c, "GET", "/v1/rules", "/v1/rules", None);
    for route in ["/v1/follow", "/v1/unfollow"] {
        let _: RuleChangeResponse = call(
            &b,
            c,
            "POST",
            route,
            route,
            Some(json!({"tag": "training"})),
        );
    }
    let publisher = published.publisher.to_string();
    let why: WhyResponse = call(
        &a,
        c,
        "GET",
        "/v1/why/{publisher}",
        &format!("/v1/why/{publisher}"),
        None,
    );
    assert_eq!(why.tier, Tier::Trusted, "A's own key");
    let someone = weft_protocol::PublisherKey::from_seed([0x55; 32])
        .id()
        .to_string();
    for (route, active) in [("/v1/vouch", true), ("/v1/unvouch", false)] {
        let v: VouchResponse = call(
            &a,
            c,
            "POST",
            route,
            route,
            Some(json!({"publisher": someone})),
        );
        assert_eq!(v.active, active);
    }
    // The identity: a spare device certified with root.key, revoked, then
    // the root rotated with the paper backup.
    let me: IdentityInfo = call(&a, c, "GET", "/v1/identity", "/v1/identity", None);
    assert_eq!(me.identity, created.publisher);
    let spare = weft_protocol::PublisherKey::from_seed([0x56; 32]).id();
    for (route, body) in [
        (
            "/v1/identity/device",
            json!({"device": spare, "name": "spare"}),
        ),
        (
            "/v1/identity/revoke",
            json!({"device": spare, "keep_before": 0}),
        ),
        (
            "/v1/identity/rotate",
            json!({"paper": created.paper_backup.join(" ")}),
        ),
    ] {
        let made: KeyEventsMade = call(&a, c, "POST", route, route, Some(body));
        assert_eq!(made.events.len(), 1, "{route}");
    }
    let revoked_at = unix_now();
    // A single-key publisher becomes an identity: B gets a plain key.
    std::fs::write(
        b.path().join("publisher.key"),
        weft_protocol::keyfile::KeyFile::Plain([0x33; 32]).to_text(),
    )
    .unwrap();
    let up: UpgradeResult = call(
        &b,
        c,
        "POST",
        "/v1/identity/upgrade",
        "/v1/identity/upgrade",
        Some(json!({"device_name": "spare"})),
    );
    assert_eq!(up.paper_backup.len(), 24);

    // Names and profiles.
    let _: ProfileResponse = call(
        &a,
        c,
        "POST",
        "/v1/profile",
        "/v1/profile",
        Some(json!({"name": "Shapes collective", "lang": "en"})),
    );
    let route = "/v1/profile/{publisher}";
    let mine: ProfileResponse = call(
        &b,
        c,
        "GET",
        route,
        &format!("/v1/profile/{publisher}"),
        None,
    );
    assert_eq!(mine.publisher.to_string(), publisher);
    let named: NamedPublisher = call(
        &a,
        c,
        "POST",
        "/v1/name",
        "/v1/name",
        Some(json!({"publisher": someone, "name": "Someone"})),
    );
    assert_eq!(named.name.petname.as_deref(), Some("Someone"));
    let all: NamesResponse = call(&a, c, "GET", "/v1/names", "/v1/names", None);
    assert_eq!(all.names.len(), 1);
    let _: NamedPublisher = call(
        &a,
        c,
        "POST",
        "/v1/unname",
        "/v1/unname",
        Some(json!({"publisher": "Someone"})),
    );
    for route in ["/v1/block", "/v1/unblock"] {
        let _: RuleChangeResponse = call(
            &b,
            c,
            "POST",
            route,
            route,
            Some(json!({"publisher": publisher})),
        );
    }

    // The web UI's JSON routes.
    let _: LoginLinkResponse = call(&a, c, "POST", "/v1/ui/login", "/v1/ui/login", None);
    let up: UploadStarted = call(&a, c, "POST", "/v1/uploads", "/v1/uploads", None);
    let (addr, token) = a.api_addr_and_token();
    let auth = format!("Bearer {token}");
    let r = http::request(
        &addr,
        "POST",
        &format!("/v1/uploads/{}?path=a.txt", up.upload),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/octet-stream"),
        ],
        b"uploaded",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let _: UploadedFile = exactly("POST /v1/uploads/{id}", &v);
    c.insert("POST /v1/uploads/{id}".into());

    // Private groups. B (a single key by now) signs its profile, which
    // A hears: A can then seal a group's key to it.
    let member = b.status().publisher.expect("B has a key").to_string();
    let _: ProfileResponse = call(
        &b,
        c,
        "POST",
        "/v1/profile",
        "/v1/profile",
        Some(json!({"name": "Shapes member"})),
    );
    // A group founded in the second of the revocation above starts a new
    // epoch at once (the revoked device might have had its key); a second
    // later, none is due.
    wait_until(
        "a second after the revocation",
        Duration::from_secs(5),
        || unix_now() > revoked_at,
    );
    let made: GroupView = call(
        &a,
        c,
        "POST",
        "/v1/group",
        "/v1/group",
        Some(json!({"name": "shapes group"})),
    );
    let gid = made.id.to_string();
    let add = format!("/v1/groups/{gid}/add");
    let body = json!({"member": member});
    wait_until("A to hear from B", Duration::from_secs(60), || {
        a.api().call("POST", &add, Some(&body), a.path()).is_ok()
    });
    // Adding a member again seals the key to its devices again.
    let added: GroupView = call(
        &a,
        c,
        "POST",
        "/v1/groups/{group}/add",
        &add,
        Some(body.clone()),
    );
    assert_eq!(added.members.len(), 2);
    let all: GroupsResponse = call(&a, c, "GET", "/v1/groups", "/v1/groups", None);
    assert_eq!(all.groups.len(), 1);
    let one: GroupView = call(
        &a,
        c,
        "GET",
        "/v1/groups/{group}",
        &format!("/v1/groups/{gid}"),
        None,
    );
    assert_eq!(one.name.as_deref(), Some("shapes group"));
    let removed: GroupView = call(
        &a,
        c,
        "POST",
        "/v1/groups/{group}/remove",
        &format!("/v1/groups/{gid}/remove"),
        Some(body),
    );
    assert_eq!(removed.epoch, 1);
    let rekeyed: GroupView = call(
        &a,
        c,
        "POST",
        "/v1/groups/{group}/rekey",
        &format!("/v1/groups/{gid}/rekey"),
        Some(json!({})),
    );
    assert_eq!((rekeyed.epoch, rekeyed.members.len()), (2, 1));

    // Retraction last: it removes the bundle from listings.
    let _: RetractResponse = call(
        &a,
        c,
        "POST",
        "/v1/retract",
        "/v1/retract",
        Some(json!({"id": id})),
    );

    // Errors have one shape on every route.
    let r = http::request(
        &addr,
        "GET",
        "/v1/bundles/nonsense",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let _: ErrorResponse = exactly("an error", &v);

    // Every JSON route of the router was called.
    let json_routes: BTreeSet<String> = router_routes("daemon/src/http/mod.rs")
        .into_iter()
        .filter(|(_, route)| route.starts_with("/v1/"))
        .map(|(method, route)| format!("{method} {route}"))
        .collect();
    let missed: Vec<_> = json_routes.difference(&covered).collect();
    assert!(missed.is_empty(), "routes not checked: {missed:?}");
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
