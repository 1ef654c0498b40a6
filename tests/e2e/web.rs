//! The browser side: the web UI in a real headless Chromium (search, a
//! bundle, fetching it with live progress, pinning, publishing uploads,
//! rules, peers, storage, switching language), the public gateway in the
//! same browser with no JavaScript, and the gateway's HTTP contract
//! (verified streaming, ranges, safe headers, light pages, read-only).
//!
//! A screenshot of each main page is written to `docs/screenshots/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use weft_e2e::http;
use weft_e2e::webdriver::{keys, screenshot_path, unavailable, Browser};
use weft_e2e::{dir_with_config, init, pseudo_random, skip, wait_until, Daemon};

const VIDEO: usize = 6 << 20;
const WAIT: Duration = Duration::from_secs(60);

/// A publisher node A with a bundle in three languages and a second small
/// bundle, and the user's node B, connected to A, listing both. A uploads
/// at 1 MiB/s, so fetching the big bundle takes a few seconds.
struct World {
    a: Daemon,
    b: Daemon,
    guide: String,
    posters: String,
    src: PathBuf,
}

fn world(b_config: &str) -> World {
    let a = Daemon::start_in(
        "a",
        dir_with_config("a", "[net]\nupload_limit = \"1 MiB\"\n"),
        &[],
    );
    init(&a);
    let src = a.path().join("src/field-guide");
    std::fs::create_dir_all(src.join("es")).unwrap();
    std::fs::write(
        src.join("guide.md"),
        "# Field guide\n\nHow to run a meeting.\n",
    )
    .unwrap();
    std::fs::write(src.join("es/guia.md"), "# Guía de campo\n").unwrap();
    std::fs::write(
        src.join("page.html"),
        "<script>document.title='pwned'</script>",
    )
    .unwrap();
    std::fs::write(
        src.join("logo.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    )
    .unwrap();
    std::fs::write(src.join("video.bin"), pseudo_random(VIDEO, 7)).unwrap();
    let v = a.weft_json(&[
        "publish",
        src.to_str().unwrap(),
        "--name",
        "field-guide",
        "--lang",
        "en",
        "--title",
        "Field guide",
        "--title",
        "es=Guía de campo",
        "--title",
        "fr=Guide de terrain",
        "--description",
        "How to run a meeting in the open.",
        "--description",
        "es=Cómo organizar una reunión al aire libre.",
        "--description",
        "fr=Comment tenir une réunion en plein air.",
        "--tag",
        "training",
        "--licence",
        "CC-BY-SA-4.0",
    ]);
    let guide = v["id"].as_str().unwrap().to_string();
    let posters_dir = a.path().join("src/posters");
    std::fs::create_dir_all(&posters_dir).unwrap();
    std::fs::write(posters_dir.join("poster.txt"), "A poster\n").unwrap();
    let v = a.weft_json(&[
        "publish",
        posters_dir.to_str().unwrap(),
        "--name",
        "posters",
        "--lang",
        "en",
        "--title",
        "Poster pack",
        "--tag",
        "design",
    ]);
    let posters = v["id"].as_str().unwrap().to_string();
    let b = Daemon::start_in("b", dir_with_config("b", b_config), &[]);
    b.connect(&a);
    wait_until("B lists both bundles", Duration::from_secs(30), || {
        b.lists(&guide) && b.lists(&posters)
    });
    World {
        a,
        b,
        guide,
        posters,
        src,
    }
}

fn pinned(d: &Daemon, id: &str) -> bool {
    d.weft_json(&["pins"])["pins"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id)
}

fn gateway_addr(d: &Daemon) -> String {
    std::fs::read_to_string(d.path().join("gateway.addr"))
        .expect("gateway.addr")
        .trim()
        .to_string()
}

/// A raw peer sends `node` a profile of a fresh key claiming `name`.
fn lookalike_profile(node: &Daemon, name: &str) -> weft_e2e::raw::RawPeer {
    use weft_e2e::raw::{rpc, RawPeer};
    let key = weft_protocol::PublisherKey::from_seed([0x77; 32]);
    let profile = weft_protocol::SignedProfile::sign(
        weft_protocol::Profile {
            v: weft_protocol::VERSION,
            seq: 1,
            links: vec![],
            texts: vec![weft_protocol::ProfileText {
                lang: "en".into(),
                name: name.into(),
                about: String::new(),
            }],
            contact: String::new(),
            created: 1_700_000_000,
            publisher: key.id(),
        },
        &key,
    )
    .unwrap();
    let evil = RawPeer::start();
    let peer = evil.connect(&node.multiaddr());
    let mut g = evil.gossip(peer);
    let topic = weft_protocol::wire::ANNOUNCE_TOPIC;
    g.send(&rpc::subscribe(topic)).unwrap();
    g.send(&rpc::publish(topic, &[profile.bytes()])).unwrap();
    evil
}

fn shot(b: &Browser, name: &str) {
    b.screenshot(&screenshot_path(name));
}

/// Picks `code` in the UI's language selector, as a person would.
fn switch_language(b: &Browser, code: &str) {
    b.eval(
        "const s = document.querySelector('#lang'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        json!([code]),
    );
}

/// Waits for the UI to finish rendering the current view.
fn ready(b: &Browser) {
    b.wait_for("body[data-ready='1']");
}

#[test]
fn web_ui_in_chromium() {
    if let Some(why) = unavailable() {
        return skip("web_ui_in_chromium", &why);
    }
    let w = world("[storage]\nmax = \"1 GiB\"\n[gateway]\nlisten = \"127.0.0.1:0\"\ntitle = \"Regional hub\"\n");
    let b = &w.b;
    init(b);
    // A names itself; another key claims a name that reads the same (two
    // digit ones for the letters l), sent to B by a raw peer.
    let a_id = w.a.status().publisher.unwrap();
    assert!(w
        .a
        .weft(&["profile", "set", "--name", "Field Guides Collective"])
        .status
        .success());
    let raw = lookalike_profile(b, "Field Guides Co11ective");
    wait_until(
        "B flags the lookalike name",
        Duration::from_secs(30),
        || {
            b.weft_json(&["search"])["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == w.guide && r["publisher_name"]["same_name"] == true)
        },
    );
    drop(raw);
    wait_until("the raw peer is gone", Duration::from_secs(30), || {
        b.weft_json(&["peers"])["peers"].as_array().unwrap().len() == 1
    });
    let browser = Browser::start("en-US,en");

    // The link `weft ui` prints logs the browser in.
    let url = String::from_utf8(b.weft(&["ui"]).stdout).unwrap();
    let url = url.trim();
    assert!(url.contains("/ui/login?code="), "{url}");
    browser.goto(url);
    ready(&browser);
    assert_eq!(browser.find_all("#results .result").len(), 2);
    assert!(browser.text("#summary").contains("Peers: 1"));
    // Every result shows who published it: the name it claims, marked as
    // its claim, its fingerprint, and the lookalike warning.
    let fp = weft_protocol::words::fingerprint(&a_id);
    let first = browser.text("#results .result");
    assert!(first.contains("Field Guides Collective"), "{first}");
    assert!(
        first.contains("its own claim") && first.contains(&fp),
        "{first}"
    );
    assert!(!browser.find_all("#results .result .same-name").is_empty());
    shot(&browser, "ui-catalog");

    // Search.
    browser.type_into("#search-q", "field");
    browser.click("#search-go");
    browser.wait_text("#matched", "Bundles found: 1");
    assert_eq!(browser.find_all("#results .result").len(), 1);
    assert!(browser.text("#results .result").contains("Field guide"));
    // A filter alone.
    browser.clear("#search-q");
    browser.type_into("#search-tag", "design");
    browser.click("#search-go");
    browser.wait_text("#results", "Poster pack");
    assert_eq!(browser.find_all("#results .result").len(), 1);
    // Only publishers B trusts: none yet (it follows nobody, pinned
    // nothing), so nothing is listed.
    browser.clear("#search-tag");
    browser.click("#search-trusted_only");
    browser.click("#search-go");
    browser.wait_text("#results", "Nothing matches");
    assert!(browser.find_all("#results .result").is_empty());

    // B names A: the name replaces the claim, and the warning goes.
    assert!(b
        .weft(&["name", &a_id.to_string(), "Our trainers"])
        .status
        .success());
    // Open the bundle and fetch it, watching the progress bar move.
    browser.goto(&format!("{}#/b/{}", ui_base(url), w.guide));
    browser.wait_text("#bundle-title", "Field guide");
    let dl = browser.text("dl");
    assert!(dl.contains("Our trainers") && dl.contains(&fp), "{dl}");
    assert!(browser.find_all(".same-name").is_empty());
    assert!(browser
        .text("#bundle-state")
        .contains("Not on this node yet"));
    shot(&browser, "ui-bundle");
    browser.click("#btn-fetch-pin");
    let mut seen_midway = false;
    let mut seen_text = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while browser.find_all("#btn-unpin").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the fetch never finished in the UI"
        );
        let p = browser.eval(
            "const p = document.querySelector('#progress'); const t = document.querySelector('#progress-text');\
             return p ? [p.value, p.max, t.textContent] : null;",
            json!([]),
        );
        if let Some(a) = p.as_array() {
            let (v, m) = (a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
            if v > 0.0 && v < m && m >= VIDEO as f64 {
                if !seen_midway {
                    shot(&browser, "ui-fetching");
                }
                seen_midway = true;
                seen_text = a[2].as_str().unwrap_or("").to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        seen_midway,
        "the progress bar never showed a fetch partway through"
    );
    assert!(seen_text.starts_with("Fetching:"), "{seen_text}");
    assert!(browser.text("#bundle-state").contains("Kept on this node"));
    let files = browser.text("#files");
    for f in ["guide.md", "es/guia.md", "video.bin", "page.html"] {
        assert!(files.contains(f), "the file list shows {f}: {files}");
    }
    assert!(pinned(b, &w.guide), "the node says the bundle is pinned");

    // Unpin, then pin again.
    browser.click("#btn-unpin");
    browser.wait_for("#btn-pin");
    assert!(!pinned(b, &w.guide));
    browser.click("#btn-pin");
    browser.wait_for("#btn-unpin");
    assert!(pinned(b, &w.guide));

    // Switch language: the UI's words and the bundle's texts follow.
    switch_language(&browser, "es");
    browser.wait_text("#bundle-title", "Guía de campo");
    browser.wait_text("#nav a[data-view='catalog']", "Catálogo");
    assert!(browser.text("#bundle-description").contains("aire libre"));
    shot(&browser, "ui-bundle-es");
    switch_language(&browser, "fr");
    browser.wait_text("#bundle-title", "Guide de terrain");
    browser.wait_text("#btn-unpin", "Ne plus conserver");
    // The choice is remembered on the next visit.
    browser.goto(&format!("{}#/", ui_base(url)));
    ready(&browser);
    browser.wait_text("#nav a[data-view='catalog']", "Catalogue");
    // Portuguese, and Arabic, where the whole page mirrors: the document
    // is right to left, the first menu entry sits right of the last, and
    // the language selector (pushed to the inline end) sits left of the
    // menu.
    switch_language(&browser, "pt");
    browser.wait_text("#nav a[data-view='catalog']", "Catálogo");
    shot(&browser, "ui-catalog-pt");
    switch_language(&browser, "ar");
    browser.wait_text("#nav a[data-view='catalog']", "الفهرس");
    let layout = browser.eval(
        "const r = (s) => document.querySelector(s).getBoundingClientRect(); \
         return [document.documentElement.dir, getComputedStyle(document.body).direction, \
                 r(\"#nav a[data-view='catalog']\").left, r(\"#nav a[data-view='storage']\").left, \
                 r('.langsel').left, r('#nav').left, document.documentElement.lang];",
        serde_json::json!([]),
    );
    assert_eq!(layout[0], "rtl", "{layout}");
    assert_eq!(layout[1], "rtl", "{layout}");
    assert!(
        layout[2].as_f64() > layout[3].as_f64(),
        "the menu is not mirrored: {layout}"
    );
    assert!(
        layout[4].as_f64() < layout[5].as_f64(),
        "the language selector is not on the left: {layout}"
    );
    assert_eq!(layout[6], "ar");
    shot(&browser, "ui-catalog-ar");
    switch_language(&browser, "en");
    browser.wait_text("#nav a[data-view='catalog']", "Catalog");
    let ltr = browser.eval(
        "return document.documentElement.dir;",
        serde_json::json!([]),
    );
    assert_eq!(ltr, "ltr");

    // Publish two files uploaded from the browser, with titles in two
    // languages.
    let up = b.path().join("to-upload");
    std::fs::create_dir_all(&up).unwrap();
    std::fs::write(up.join("notes.md"), "# Workshop notes\n").unwrap();
    std::fs::write(up.join("slides.bin"), pseudo_random(300_000, 9)).unwrap();
    browser.goto(&format!("{}#/publish", ui_base(url)));
    ready(&browser);
    browser.type_into(
        "#pub-files",
        &format!(
            "{}\n{}",
            up.join("notes.md").display(),
            up.join("slides.bin").display()
        ),
    );
    browser.clear("#pub-name");
    browser.type_into("#pub-name", "workshop-notes");
    browser.type_into("#pub-tags", "workshop, training");
    browser.type_into(
        "#texts .text-row:nth-child(1) [name=t-title]",
        "Workshop notes",
    );
    browser.click("#add-lang");
    browser.type_into("#texts .text-row:nth-child(2) [name=t-lang]", "es");
    browser.type_into(
        "#texts .text-row:nth-child(2) [name=t-title]",
        "Notas del taller",
    );
    shot(&browser, "ui-publish");
    browser.click("#pub-submit");
    browser.wait_for("#published a");
    let found = b.weft_json(&["search", "workshop"]);
    let r = &found["results"][0];
    assert_eq!(r["name"], "workshop-notes");
    let titles: Vec<&str> = r["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Workshop notes", "Notas del taller"]);
    assert_eq!(r["files"], 2);
    let shown = b.weft_json(&["show", r["id"].as_str().unwrap()]);
    let sizes: Vec<u64> = shown["file_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [17, 300_000]);
    let left = std::fs::read_dir(b.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the staging folder is removed after publishing");

    // Follow and block rules.
    browser.goto(&format!("{}#/rules", ui_base(url)));
    ready(&browser);
    browser.eval(
        "document.querySelector('#follow-form [name=kind]').value = 'tag';",
        json!([]),
    );
    browser.type_into("#follow-form [name=value]", "design");
    browser.click("#follow-form button");
    browser.wait_text("#follow-list", "design");
    let stranger = weft_protocol::PublisherKey::from_seed([9; 32])
        .id()
        .to_string();
    browser.type_into("#block-form [name=value]", &stranger);
    browser.click("#block-form button");
    browser.wait_text("#block-list", &stranger);
    let rules = b.weft_json(&["rules"]);
    assert_eq!(rules["follow"]["tags"], json!(["design"]));
    assert_eq!(rules["block"]["publishers"], json!([stranger]));
    shot(&browser, "ui-rules");
    browser.click("#block-list button");
    browser.wait_text("#block-list", "None.");
    assert_eq!(b.weft_json(&["rules"])["block"]["publishers"], json!([]));

    // Peers and the doctor's findings.
    browser.goto(&format!("{}#/network", ui_base(url)));
    ready(&browser);
    browser.wait_text("#peers", &w.a.peer_id());
    assert!(!browser.find_all("#findings .finding").is_empty());
    // Who can see this node's IP address, in one sentence, and whether
    // each peer is reached directly.
    assert!(browser
        .text("#ip-visibility")
        .starts_with("Every peer this node connects to can see its IP address"));
    assert!(browser.text("#peers .path").contains("direct"));
    shot(&browser, "ui-network");

    // Storage against the quota.
    browser.goto(&format!("{}#/storage", ui_base(url)));
    ready(&browser);
    let storage = browser.text("#storage");
    assert!(storage.contains("of 1.0 GiB"), "{storage}");
    assert!(browser.text("#pins").contains("field-guide"));
    assert_eq!(browser.find_all("meter#quota").len(), 1);
    shot(&browser, "ui-storage");

    // The public gateway in the same browser: forms and links only.
    let g = gateway_addr(b);
    browser.goto(&format!("http://{g}/"));
    browser.wait_text("header .site", "Regional hub");
    assert_eq!(
        browser.eval("return document.scripts.length;", json!([])),
        json!(0)
    );
    // The guide (pinned), the posters (mirrored by the tag rule) and the
    // notes published here.
    browser.wait_text(".count", "Bundles found: 3");
    shot(&browser, "gateway-catalog");
    browser.type_into("input[name=q]", "guide");
    browser.click("form button[type=submit]");
    browser.wait_text(".count", "Bundles found: 1");
    browser.click(".results li > a");
    browser.wait_text("h1", "Field guide");
    assert!(browser.text(".files").contains("video.bin"));
    shot(&browser, "gateway-bundle");
    browser.click("nav a[hreflang=es]");
    browser.wait_text("h1", "Guía de campo");
    browser.wait_text("footer", "Solo lectura");
    // The gateway in Arabic: right to left, and still without script.
    browser.click("nav a[hreflang=ar]");
    browser.wait_for("html[dir=rtl][lang=ar]");
    shot(&browser, "gateway-bundle-ar");
    drop(browser);

    // A browser that prefers French gets French without being asked.
    let fr = Browser::start("fr-FR,fr");
    let url = String::from_utf8(b.weft(&["ui"]).stdout).unwrap();
    fr.goto(url.trim());
    ready(&fr);
    fr.wait_text("#nav a[data-view='catalog']", "Catalogue");
    fr.goto(&format!("http://{g}/bundle/{}", w.guide));
    fr.wait_text("h1", "Guide de terrain");
}

/// `http://127.0.0.1:PORT/ui/` from a login link.
fn ui_base(login: &str) -> String {
    let end = login.find("/ui/").unwrap();
    format!("{}/ui/", &login[..end])
}

#[test]
fn the_ui_session_cannot_be_borrowed() {
    let b = Daemon::start("b");
    let (addr, _) = b.api_addr_and_token();
    let link: Value = b.weft_json(&["ui"]);
    let url = link["url"].as_str().unwrap();
    let path = &url[url.find("/ui/").unwrap()..];
    // The page needs a session.
    let r = http::get(&addr, "/ui/", &[]);
    assert_eq!(r.status, 401);
    assert!(r.text().contains("weft ui"));
    // A made-up code does nothing; the real one works once.
    let fake = format!("/ui/login?code={}", "ab".repeat(32));
    assert_eq!(http::get(&addr, &fake, &[]).status, 401);
    let r = http::get(&addr, path, &[]);
    assert_eq!(r.status, 303);
    assert_eq!(http::get(&addr, path, &[]).status, 401, "a code works once");
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_string();
    // With the cookie: the page and reads work.
    let page = http::get(&addr, "/ui/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"));
    assert_eq!(
        http::get(&addr, "/v1/status", &[("Cookie", &cookie)]).status,
        200
    );
    // A change with the cookie needs this page's Origin: another site,
    // or no Origin at all, is refused and nothing changes.
    let body = br#"{"tag":"stolen"}"#;
    let post = |origin: Option<&str>| {
        let mut h = vec![
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        if let Some(o) = origin {
            h.push(("Origin", o));
        }
        http::request(&addr, "POST", "/v1/follow", &h, body).status
    };
    assert_eq!(post(Some("http://evil.example")), 403);
    assert_eq!(post(None), 403);
    assert_eq!(b.weft_json(&["rules"])["follow"]["tags"], json!([]));
    assert_eq!(post(Some(&format!("http://{addr}"))), 200);
    assert_eq!(b.weft_json(&["rules"])["follow"]["tags"], json!(["stolen"]));
    // The translations are served to the page.
    let es = http::get(&addr, "/ui/i18n/es", &[("Cookie", &cookie)]);
    let es: Value = serde_json::from_slice(&es.body).unwrap();
    assert_eq!(es["nav.catalog"], "Catálogo");
}

#[test]
fn an_upload_survives_a_failed_publish_and_goes_with_a_good_one() {
    let b = Daemon::start("b");
    init(&b);
    let (addr, token) = b.api_addr_and_token();
    let auth = format!("Bearer {token}");
    let post = |path: &str, ctype: &str, body: &[u8]| {
        let r = http::request(
            &addr,
            "POST",
            path,
            &[("Authorization", &auth), ("Content-Type", ctype)],
            body,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v)
    };
    let bytes = "application/octet-stream";
    let (status, up) = post("/v1/uploads", "application/json", b"");
    assert_eq!(status, 200, "{up}");
    let id = up["upload"].as_str().unwrap();
    let staging = PathBuf::from(up["path"].as_str().unwrap());
    let data = pseudo_random(200_000, 3);
    let (status, v) = post(&format!("/v1/uploads/{id}?path=docs%2Fa.bin"), bytes, &data);
    assert_eq!((status, v["size"].as_u64()), (200, Some(200_000)), "{v}");
    assert_eq!(std::fs::read(staging.join("docs/a.bin")).unwrap(), data);
    // The same path again, and a path that climbs out, are refused.
    let (status, _) = post(&format!("/v1/uploads/{id}?path=docs%2Fa.bin"), bytes, b"x");
    assert_eq!(status, 409);
    let (status, _) = post(&format!("/v1/uploads/{id}?path=..%2Fx"), bytes, b"x");
    assert_eq!(status, 400);
    assert!(!staging.join("../x").exists());
    let run = |lang: &str| {
        let body = json!({"path": staging, "name": "uploaded",
            "texts": [{"lang": lang, "title": "Up", "description": ""}]});
        let (status, v) = post(
            "/v1/publish",
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{v}");
        let job = v["job"].as_u64().unwrap();
        let mut last = Value::Null;
        wait_until("the publish job ends", Duration::from_secs(30), || {
            let j = http::get(
                &addr,
                &format!("/v1/jobs/{job}"),
                &[("Authorization", &auth)],
            );
            last = serde_json::from_slice(&j.body).unwrap();
            last["state"] != "running"
        });
        last
    };
    let failed = run("not a language");
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        staging.join("docs/a.bin").exists(),
        "a failed publish keeps the upload"
    );
    let done = run("en");
    assert_eq!(done["state"], "done", "{done}");
    assert!(
        !staging.exists(),
        "a publish that worked removes the upload"
    );
    let shown = b.weft_json(&["show", done["result"]["id"].as_str().unwrap()]);
    assert_eq!(shown["file_list"][0]["path"], "docs/a.bin");
    assert_eq!(shown["file_list"][0]["size"], 200_000);
}

/// Every `href` and `src` of a page points at the gateway itself.
fn assert_self_contained(page: &str) {
    for attr in ["href=\"", "src=\""] {
        for part in page.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            assert!(
                target.starts_with('/') && !target.starts_with("//") || target.starts_with('?'),
                "the page links outside the gateway: {target}"
            );
        }
    }
    assert!(!page.contains("<script"), "the page has no script");
}

#[test]
fn the_gateway_serves_verified_bytes_with_safe_headers() {
    let w = world("[gateway]\nlisten = \"127.0.0.1:0\"\n");
    let b = &w.b;
    let g = gateway_addr(b);
    // Nothing is held yet: the catalog is empty and a bundle page says so.
    let page = http::get(&g, "/", &[]);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Bundles found: 0"), "{}", page.text());
    let r = http::get(&g, &format!("/bundle/{}", w.guide), &[]);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("not on this server"));
    // A reader cannot make the node fetch: asking for a file changes nothing.
    let r = http::get(&g, &format!("/file/{}/video.bin", w.guide), &[]);
    assert_eq!(r.status, 404);
    assert!(!b.weft_json(&["show", &w.guide])["local"].as_bool().unwrap());

    b.weft_json(&["pin", &w.guide]);
    let page = http::get(&g, "/", &[("Accept-Language", "es-MX,es;q=0.9")]);
    let text = page.text();
    assert!(text.contains("<html lang=\"es\""));
    assert!(text.contains("Guía de campo"), "{text}");
    assert!(text.contains("Paquetes encontrados: 1"));
    assert!(
        page.body.len() < 16 * 1024,
        "a light page: {} bytes",
        page.body.len()
    );
    assert_self_contained(&text);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // Filters.
    let r = http::get(&g, "/?tag=training", &[]).text();
    assert!(r.contains("Field guide"));
    let r = http::get(&g, "/?tag=design", &[]).text();
    assert!(r.contains("Bundles found: 0"));
    let r = http::get(&g, "/?lang=fr&hl=fr", &[]).text();
    assert!(r.contains("Guide de terrain") && r.contains("Paquets trouvés : 1"));
    let publisher = w.a.status().publisher.unwrap().to_string();
    let r = http::get(&g, &format!("/?publisher={publisher}&q=field"), &[]).text();
    assert!(r.contains("Bundles found: 1"));

    // The bundle page: the reader's language, and the file list.
    let page = http::get(
        &g,
        &format!("/bundle/{}", w.guide),
        &[("Accept-Language", "fr")],
    );
    let text = page.text();
    assert!(text.contains("Guide de terrain") && text.contains("plein air"));
    assert!(text.contains(&format!("/file/{}/es/guia.md", w.guide)));
    assert_self_contained(&text);
    let page = http::get(&g, &format!("/bundle/{}?hl=es", w.guide), &[]).text();
    assert!(page.contains("aire libre"));

    // Downloads: the exact bytes, ranges, and the content headers.
    let file = |name: &str, headers: &[(&str, &str)]| {
        http::get(&g, &format!("/file/{}/{name}", w.guide), headers)
    };
    let video = pseudo_random(VIDEO, 7);
    let r = file("video.bin", &[]);
    assert_eq!(r.status, 200);
    assert!(r.body == video, "the whole file, byte-identical");
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("content-length"), Some(VIDEO.to_string().as_str()));
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // A range across a chunk boundary.
    let (first, last) = ((1 << 20) - 10, (1 << 20) + 9);
    let r = file("video.bin", &[("Range", &format!("bytes={first}-{last}"))]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, video[first..=last]);
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes {first}-{last}/{VIDEO}")
    );
    let r = file("video.bin", &[("Range", "bytes=-5")]);
    assert_eq!((r.status, &r.body[..]), (206, &video[VIDEO - 5..]));
    let r = file("video.bin", &[("Range", &format!("bytes={}-", VIDEO - 3))]);
    assert_eq!(r.body, video[VIDEO - 3..]);
    let r = file("video.bin", &[("Range", &format!("bytes={VIDEO}-"))]);
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes */{VIDEO}")
    );
    let r = file("video.bin", &[("Range", "bytes=0-1,5-6")]);
    assert_eq!(
        (r.status, r.body.len()),
        (200, VIDEO),
        "several ranges: the whole file"
    );
    let r = http::request(
        &g,
        "HEAD",
        &format!("/file/{}/video.bin", w.guide),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(VIDEO.to_string().as_str()));
    // Active types are attachments; text is shown inline, never sniffed.
    for (name, ctype) in [("page.html", "text/html"), ("logo.svg", "image/svg+xml")] {
        let r = file(name, &[]);
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with(ctype));
        assert!(
            r.header("content-disposition")
                .unwrap()
                .starts_with("attachment"),
            "{name} is only offered as a download"
        );
        assert_eq!(r.body, std::fs::read(w.src.join(name)).unwrap());
    }
    let r = file("guide.md", &[]);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("inline"));
    let r = file("es/guia.md", &[]);
    assert_eq!(r.text(), "# Guía de campo\n");
    assert_eq!(file("nope.txt", &[]).status, 404);
    assert_eq!(file("../guide.md", &[]).status, 404);

    // Read-only, and none of the API.
    let (api, token) = b.api_addr_and_token();
    let auth = format!("Bearer {token}");
    assert_eq!(
        http::request(&g, "POST", "/", &[("Authorization", &auth)], b"x").status,
        405
    );
    for path in ["/v1/status", "/ui/", "/ui/app.js", "/v1/pins"] {
        let r = http::get(&g, path, &[("Authorization", &auth)]);
        assert_eq!(r.status, 404, "{path} is not on the gateway");
    }
    assert_ne!(api, g);
    assert_ne!(
        api.rsplit(':').next(),
        g.rsplit(':').next(),
        "another port, so another origin"
    );
    let bad = http::get(&g, &format!("/?q={}", "x".repeat(300)), &[]);
    assert_eq!(bad.status, 400);
    // Only what the node holds is offered.
    assert_eq!(
        http::get(&g, &format!("/bundle/{}", w.posters), &[]).status,
        404
    );
}

#[test]
fn a_gateway_connection_that_sends_nothing_is_closed() {
    use std::io::Read;
    let b = Daemon::start_in(
        "b",
        dir_with_config("b", "[gateway]\nlisten = \"127.0.0.1:0\"\n"),
        &[],
    );
    let g = gateway_addr(&b);
    // A slow-loris client: half a request head, then silence.
    let mut s = std::net::TcpStream::connect(&g).unwrap();
    std::io::Write::write_all(&mut s, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(45),
        "the gateway closed the silent connection (after {waited:?}, {n} bytes)"
    );
    // The gateway still answers everyone else.
    assert_eq!(http::get(&g, "/", &[]).status, 200);
}

#[test]
fn a_gateway_on_the_api_port_is_refused() {
    let dir = Daemon::temp_dir("g");
    let out = std::process::Command::new(weft_e2e::bin_dir().join("weftd"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args([
            "--api-port",
            "4999",
            "--gateway",
            "127.0.0.1:4999",
            "--no-mdns",
        ])
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never share an origin"), "{err}");
}

/// A private group run from the web UI: ana founds it, adds bo and cy by
/// the names she gave them, publishes to it from the browser and removes
/// cy; bo, whose browser speaks Spanish, finds the bundle in the group's
/// page, fetches it and reads its files; cy's node, once removed, cannot
/// read the group.
#[test]
fn groups_in_the_web_ui() {
    if let Some(why) = unavailable() {
        return skip("groups_in_the_web_ui", &why);
    }
    let (ana, bo, cy) = (
        Daemon::start("ana"),
        Daemon::start("bo"),
        Daemon::start("cy"),
    );
    let (b_id, c_id) = {
        init(&ana);
        (init(&bo), init(&cy))
    };
    bo.connect(&ana);
    cy.connect(&ana);
    for (id, name) in [(&b_id, "Bo"), (&c_id, "Cy")] {
        assert!(ana.weft(&["name", id, name]).status.success());
        wait_until("ana to hear from the member", WAIT, || ana.heard_from(id));
    }

    let browser = Browser::start("en-US,en");
    let login = String::from_utf8(ana.weft(&["ui"]).stdout).unwrap();
    let base = ui_base(login.trim());
    browser.goto(login.trim());
    ready(&browser);
    browser.goto(&format!("{base}#/groups"));
    ready(&browser);
    browser.wait_text("#groups", "knows of no group");
    browser.type_into("#group-name", "legal team");
    browser.click("#group-create button");
    browser.wait_text("#group-title", "legal team");
    assert!(browser.text("#group-role").contains("admin"));
    let gid = ana.weft_json(&["group", "show", "legal team"])["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Members are added by the names ana gave them.
    for name in ["Bo", "Cy"] {
        ready(&browser);
        browser.type_into("#member", name);
        browser.click("#member-add button");
        browser.wait_text("#members", name);
    }
    let members = ana.weft_json(&["group", "show", &gid])["members"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 3, "ana, bo and cy");
    shot(&browser, "ui-group");

    // Publish to the group from its page, with files uploaded from the
    // browser.
    let up = ana.path().join("to-upload");
    std::fs::create_dir_all(&up).unwrap();
    let secret = "Witness list: Marisol, Kwame, Aline";
    std::fs::write(up.join("minutes.md"), format!("# Minutes\n\n{secret}\n")).unwrap();
    browser.click("#group-publish");
    ready(&browser);
    assert_eq!(
        browser.eval(
            "return document.querySelector('#pub-group').value;",
            json!([])
        ),
        json!(gid),
        "the group is chosen for the bundle"
    );
    browser.type_into("#pub-files", &up.join("minutes.md").display().to_string());
    browser.clear("#pub-name");
    browser.type_into("#pub-name", "minutes");
    browser.type_into(
        "#texts .text-row:nth-child(1) [name=t-title]",
        "Meeting minutes",
    );
    browser.type_into(
        "#texts .text-row:nth-child(1) [name=t-desc]",
        "What we decided on Tuesday.",
    );
    browser.click("#pub-submit");
    browser.wait_for("#published a");
    browser.click("#published a");
    browser.wait_text("#bundle-title", "Meeting minutes");
    browser.wait_text("#bundle-private", "legal team");
    assert!(browser.text("#files").contains("minutes.md"));
    let bundle = browser
        .eval("return location.hash.split('/').pop();", json!([]))
        .as_str()
        .unwrap()
        .to_string();
    shot(&browser, "ui-bundle-private");
    // The catalog lists it, marked private to the group.
    browser.goto(&format!("{base}#/"));
    ready(&browser);
    browser.wait_text("#results .badge.private", "legal team");

    // bo reads it in Spanish: the group, its bundle, its files.
    wait_until("bo to list the private bundle", WAIT, || {
        bo.weft_json(&["search", "minutes"])["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == bundle.as_str())
    });
    let es = Browser::start("es-ES,es");
    let login = String::from_utf8(bo.weft(&["ui"]).stdout).unwrap();
    let bo_base = ui_base(login.trim());
    es.goto(login.trim());
    ready(&es);
    es.goto(&format!("{bo_base}#/groups"));
    ready(&es);
    es.wait_text("h1", "Grupos");
    es.click(&format!("#groups a[href='#/g/{gid}']"));
    es.wait_text("#group-title", "legal team");
    es.wait_text("#group-role", "Eres miembro");
    es.wait_text("#group-bundles", "Meeting minutes");
    shot(&es, "ui-group-es");
    es.click("#group-bundles .result a");
    es.wait_text("#bundle-private", "Privado");
    es.click("#btn-fetch-pin");
    es.wait_for("#btn-unpin");
    es.wait_text("#files", "minutes.md");
    assert!(es.text("#bundle-description").contains("Tuesday"));
    let out = bo.path().join("read");
    assert!(bo
        .weft(&["get", &bundle, "-o", out.to_str().unwrap()])
        .status
        .success());
    assert_eq!(
        std::fs::read_to_string(out.join("minutes.md")).unwrap(),
        format!("# Minutes\n\n{secret}\n")
    );
    drop(es);

    // ana removes cy, in French.
    browser.goto(&format!("{base}#/g/{gid}"));
    ready(&browser);
    switch_language(&browser, "fr");
    browser.wait_text("#members", "administrateur");
    browser.click("#members button[aria-label='Retirer Cy du groupe']");
    wait_until("the removal to show", WAIT, || {
        !browser.text("#members").contains("Cy")
    });
    browser.wait_text("#group-epoch", "1");
    // A new key by hand, same members.
    browser.click("#btn-rekey");
    browser.wait_text("#group-epoch", "2");
    assert!(browser.text("#members").contains("Bo"));
    shot(&browser, "ui-group-fr");
    let left = ana.weft_json(&["group", "show", &gid]);
    assert_eq!(left["epoch"], 2);
    assert_eq!(left["members"].as_array().unwrap().len(), 2);
    wait_until("cy to see the removal and the new key", WAIT, || {
        cy.weft_json(&["group", "show", &gid])["epoch"] == 2
    });
    let outside = cy.weft_json(&["group", "show", &gid]);
    assert_eq!(outside["readable"], false, "{outside}");
    assert_eq!(outside["member"], false, "{outside}");
}

/// The UI's main pages, as hash routes (`{id}` is a bundle).
const UI_PAGES: [(&str, &str); 7] = [
    ("catalog", "#/"),
    ("bundle", "#/b/{id}"),
    ("publish", "#/publish"),
    ("groups", "#/groups"),
    ("rules", "#/rules"),
    ("network", "#/network"),
    ("storage", "#/storage"),
];

/// The gateway's main pages (`{id}` is a bundle).
const GATEWAY_PAGES: [(&str, &str); 2] = [("catalog", "/"), ("bundle", "/bundle/{id}")];

/// On a phone-sized window: what scrolls sideways, and which controls are
/// smaller than a fingertip (44 by 44 CSS pixels). Text links inside a
/// sentence are exempt, as WCAG's target-size rule allows.
fn phone_problems(b: &Browser) -> Vec<String> {
    let v = b.eval(
        "const out = []; \
         const doc = document.documentElement; \
         if (doc.scrollWidth > window.innerWidth + 1) { \
           const wide = [...document.querySelectorAll('body *')].filter((e) => (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible') || e.getBoundingClientRect().right > window.innerWidth + 1 || e.getBoundingClientRect().left < -1); \
           out.push('scrolls sideways: ' + doc.scrollWidth + ' > ' + window.innerWidth + ', because of: ' + wide.slice(0, 6).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ' ' + JSON.stringify((e.textContent || '').slice(0, 80))).join('; ')); \
         } \
         for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, summary, nav a, ul.results li > a, .actions a, header a.site')) { \
           const r = el.getBoundingClientRect(); \
           if (r.width === 0 && r.height === 0) continue; \
           if (r.height < 44 || r.width < 44) out.push((el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height)); \
           if (r.right > window.innerWidth + 1) out.push((el.id || el.tagName) + ' sticks out to ' + Math.round(r.right)); \
         } \
         return out;",
        serde_json::json!([]),
    );
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// Every main page of the UI and the gateway, in every language: axe-core
/// finds no violation of impact serious or critical; on a phone (360 CSS
/// pixels wide) nothing scrolls sideways and every control is at least 44
/// pixels both ways, with a screenshot of each page; and search, fetch,
/// pin and publish work from the keyboard alone.
#[test]
fn every_page_is_accessible_fits_a_phone_and_works_from_the_keyboard() {
    const WHAT: &str = "web: accessibility, phones and the keyboard";
    if let Some(why) = unavailable() {
        return skip(WHAT, &why);
    }
    let w = world("[storage]\nmax = \"1 GiB\"\n[gateway]\nlisten = \"127.0.0.1:0\"\n");
    let b = &w.b;
    let g = gateway_addr(b);
    let browser = Browser::start("en");
    let url = String::from_utf8(b.weft(&["ui"]).stdout).unwrap();
    let url = url.trim();
    browser.goto(url);
    ready(&browser);
    let base = ui_base(url);
    let ui = |route: &str| format!("{base}{}", route.replace("{id}", &w.guide));
    let gw =
        |path: &str, lang: &str| format!("http://{g}{}?hl={lang}", path.replace("{id}", &w.guide));

    // Accessibility, with axe-core in this Chromium.
    if axe_available() {
        let mut found = Vec::new();
        for lang in ["en", "es", "fr", "pt", "ar"] {
            open_ui(&browser, &ui("#/"), "catalog");
            switch_language(&browser, lang);
            for (page, route) in UI_PAGES {
                open_ui(&browser, &ui(route), page);
                for v in browser.serious_violations().unwrap() {
                    found.push(format!("ui {page} ({lang}): {v}"));
                }
                // A desktop screenshot of every page (in English; the
                // other tests take most), and of the catalog in every
                // language.
                if lang == "en" && page == "groups" {
                    shot(&browser, "ui-groups");
                } else if lang != "en" && page == "catalog" {
                    shot(&browser, &format!("ui-catalog-{lang}"));
                }
            }
            for (page, path) in GATEWAY_PAGES {
                browser.goto(&gw(path, lang));
                browser.wait_for("main");
                for v in browser.serious_violations().unwrap() {
                    found.push(format!("gateway {page} ({lang}): {v}"));
                }
                if lang != "en" && page == "catalog" {
                    shot(&browser, &format!("gateway-catalog-{lang}"));
                }
            }
        }
        assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
    } else {
        skip(
            "web: axe-core on every page",
            "axe-core is not installed in tests/web (./dev test runs npm ci there)",
        );
    }

    // A phone: every page, in English and in Arabic.
    browser.resize(360, 740);
    let width = browser.eval("return window.innerWidth;", serde_json::json!([]));
    assert!(width.as_u64().is_some_and(|w| w <= 400), "{width}");
    let mut found = Vec::new();
    for lang in ["en", "ar"] {
        open_ui(&browser, &ui("#/"), "catalog");
        switch_language(&browser, lang);
        for (page, route) in UI_PAGES {
            open_ui(&browser, &ui(route), page);
            found.extend(
                phone_problems(&browser)
                    .into_iter()
                    .map(|p| format!("ui {page} ({lang}): {p}")),
            );
            shot(
                &browser,
                &format!("phone-ui-{page}{}", if lang == "en" { "" } else { "-ar" }),
            );
        }
        for (page, path) in GATEWAY_PAGES {
            browser.goto(&gw(path, lang));
            browser.wait_for("main");
            found.extend(
                phone_problems(&browser)
                    .into_iter()
                    .map(|p| format!("gateway {page} ({lang}): {p}")),
            );
            shot(
                &browser,
                &format!(
                    "phone-gateway-{page}{}",
                    if lang == "en" { "" } else { "-ar" }
                ),
            );
        }
    }
    assert!(found.is_empty(), "on a phone:\n{}", found.join("\n"));

    // The keyboard alone: search, open, fetch and pin, unpin, publish.
    browser.resize(1100, 900);
    open_ui(&browser, &ui("#/"), "catalog");
    switch_language(&browser, "en");
    browser.goto(&ui("#/"));
    browser.wait_text("#nav a[data-view='catalog']", "Catalog");
    browser.tab_to("#search-q");
    browser.press("guide");
    browser.press(keys::ENTER);
    browser.wait_text("#matched", "Bundles found: 1");
    browser.tab_to("#results a");
    browser.press(keys::ENTER);
    browser.wait_text("#bundle-title", "Field guide");
    browser.tab_to("#btn-fetch-pin");
    browser.press(keys::ENTER);
    browser.wait_for("#btn-unpin");
    assert!(pinned(b, &w.guide));
    browser.tab_to("#btn-unpin");
    browser.press(keys::ENTER);
    browser.wait_for("#btn-pin");
    assert!(!pinned(b, &w.guide));
    browser.tab_to("#btn-pin");
    browser.press(keys::ENTER);
    browser.wait_for("#btn-unpin");
    assert!(pinned(b, &w.guide));
    // Publishing needs a publisher key on this node.
    init(b);
    let folder = b.path().join("keyboard-notes");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("notes.md"), "# Notes typed without a mouse\n").unwrap();
    open_ui(&browser, &ui("#/publish"), "publish");
    browser.tab_to("#pub-folder");
    browser.press(folder.to_str().unwrap());
    browser.tab_to("#pub-name");
    browser.press("keyboard-notes");
    browser.tab_to("#texts [name=t-title]");
    browser.press("Notes typed without a mouse");
    browser.tab_to("#pub-submit");
    browser.press(keys::ENTER);
    browser.wait_for("#published");
    let found = b.weft_json(&["search", "typed without"]);
    assert_eq!(found["matched"], 1, "{found}");
}

/// Opens a page of the UI and waits until that view has rendered.
fn open_ui(b: &Browser, url: &str, page: &str) {
    b.goto(url);
    b.wait_for(&format!("body[data-view='{page}'][data-ready='1']"));
}

fn axe_available() -> bool {
    weft_e2e::webdriver::axe_path().exists()
}

/// Publishes, on `d`, a bundle of one file of every preview kind and a
/// few hostile ones: an SVG with a script, HTML named `.png`, a polyglot
/// (a PDF header on HTML with a script), Markdown with raw HTML and a
/// `javascript:` link. Returns its id.
fn preview_bundle(d: &Daemon) -> String {
    let src = d.path().join("src/previews");
    std::fs::create_dir_all(&src).unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/preview");
    for f in ["poster.png", "clip.webm", "talk.wav", "guide.pdf"] {
        std::fs::copy(fixtures.join(f), src.join(f)).unwrap();
    }
    let pwn = "<script>document.title='pwned'</script>";
    std::fs::write(
        src.join("notes.md"),
        format!("# Workshop notes\n\n{pwn}\n\n[open](javascript:document.title='pwned')\n\n![poster](poster.png)\n\n| day | topic |\n|---|---|\n| 1 | safety |\n"),
    )
    .unwrap();
    std::fs::write(
        src.join("readme.txt"),
        format!("Plain text, {pwn} shown as text.\n"),
    )
    .unwrap();
    std::fs::write(src.join("evil.png"), format!("<html>{pwn}</html>")).unwrap();
    std::fs::write(
        src.join("logo.svg"),
        format!("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'>{pwn}<rect width='10' height='10'/></svg>"),
    )
    .unwrap();
    std::fs::write(
        src.join("poly.pdf"),
        format!("%PDF-1.4\n<html>{pwn}</html>\n%%EOF\n"),
    )
    .unwrap();
    init(d);
    let v = d.weft_json(&["publish", src.to_str().unwrap(), "--name", "previews"]);
    v["id"].as_str().unwrap().to_string()
}

/// Waits until `script` (a function body) returns true in the page.
fn wait_js(b: &Browser, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if b.eval(script, json!([])) == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never; the page is:\n{}",
            b.describe()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// In the gateway and in the UI, a bundle page previews its images, audio,
/// video, PDF, text and Markdown: the media seek, the PDF's first page is
/// an image, the Markdown is rendered without its raw HTML, and no hostile
/// file (an SVG with a script, HTML named .png, a polyglot PDF, Markdown
/// with a script and a javascript: link) runs anything, in the page or
/// opened on its own.
#[test]
fn previews_show_every_kind_and_run_nothing() {
    const WHAT: &str = "web: previews";
    let w = world("[gateway]\nlisten = \"127.0.0.1:0\"\n");
    let b = &w.b;
    let g = gateway_addr(b);
    let id = preview_bundle(b);

    // What the gateway sends, byte for byte.
    let page = http::get(&g, &format!("/bundle/{id}"), &[]).text();
    for kind in ["image", "audio", "video", "pdf", "text", "markdown"] {
        assert!(
            page.contains(&format!("preview preview-{kind}")),
            "no {kind} preview:\n{page}"
        );
    }
    assert!(
        !page.contains("alt=\"evil.png\""),
        "HTML named .png was previewed as an image"
    );
    assert!(page.contains("<iframe sandbox src=\"/preview/"), "{page}");
    assert_self_contained(&page);
    let md = http::get(&g, &format!("/preview/{id}/notes.md"), &[]);
    assert_eq!(md.status, 200);
    assert!(md
        .header("content-security-policy")
        .unwrap_or("")
        .contains("sandbox"));
    assert_eq!(md.header("x-content-type-options"), Some("nosniff"));
    let body = md.text();
    assert!(
        body.contains("<h1>Workshop notes</h1>") && body.contains("<table>"),
        "{body}"
    );
    assert!(
        !body.contains("<script") && !body.contains("javascript:"),
        "{body}"
    );
    let pdf = http::get(&g, &format!("/preview/{id}/guide.pdf"), &[]);
    assert_eq!(
        (pdf.status, pdf.header("content-type")),
        (200, Some("image/png"))
    );
    assert!(pdf.body.starts_with(b"\x89PNG"));
    let poly = http::get(&g, &format!("/preview/{id}/poly.pdf"), &[]);
    assert_ne!(poly.status, 200, "the polyglot was rendered");
    assert!(!poly.header("content-type").unwrap_or("").contains("html"));
    let evil = http::get(&g, &format!("/file/{id}/evil.png"), &[]);
    assert_eq!(evil.header("content-type"), Some("image/png"));
    assert_eq!(evil.header("x-content-type-options"), Some("nosniff"));
    assert!(evil
        .header("content-security-policy")
        .unwrap_or("")
        .contains("sandbox"));
    let wav = std::fs::read(b.path().join("src/previews/talk.wav")).unwrap();
    let part = http::get(
        &g,
        &format!("/file/{id}/talk.wav"),
        &[("Range", "bytes=100-199")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, wav[100..200]);

    if let Some(why) = unavailable() {
        return skip(WHAT, &why);
    }
    let browser = Browser::start("en");
    // Each hostile file opened on its own: nothing runs.
    for path in ["evil.png", "logo.svg", "poly.pdf", "notes.md"] {
        let route = if path == "notes.md" {
            "preview"
        } else {
            "file"
        };
        browser.goto(&format!("http://{g}/{route}/{id}/{path}"));
        let title = browser.eval("return document.title;", json!([]));
        assert_ne!(title, "pwned", "{path} ran a script");
    }
    let check_media = |b: &Browser, place: &str| {
        wait_js(b, "the image", "const i = document.querySelector('.preview-image img[alt=\"poster.png\"]'); return !!i && i.complete && i.naturalWidth === 240;");
        wait_js(b, "the PDF's first page", "const i = document.querySelector('.preview-pdf img'); return !!i && i.complete && i.naturalWidth > 100;");
        wait_js(b, "the video", "const v = document.querySelector('.preview-video video'); return !!v && v.readyState >= 1 && v.videoWidth === 160;");
        wait_js(b, "the audio", "const a = document.querySelector('.preview-audio audio'); return !!a && a.readyState >= 1 && a.duration > 1.5;");
        // Seek into the audio, as a reader dragging the bar would.
        b.eval(
            "const a = document.querySelector('.preview-audio audio'); a.currentTime = 1.2;",
            json!([]),
        );
        wait_js(b, "the seek", "const a = document.querySelector('.preview-audio audio'); return !a.seeking && Math.abs(a.currentTime - 1.2) < 0.05 && a.seekable.length > 0 && a.seekable.end(0) > 1.5;");
        // The rendered frames are sandboxed: the page cannot reach into
        // them, nor they into it.
        let reach = b.eval("const f = document.querySelector('.preview-markdown iframe'); return [f.getAttribute('sandbox'), f.contentDocument === null];", json!([]));
        assert_eq!(reach, json!(["", true]), "{place}");
        let title = b.eval("return document.title;", json!([]));
        assert_ne!(title, "pwned", "{place}");
    };
    browser.goto(&format!("http://{g}/bundle/{id}"));
    browser.wait_for(".previews");
    check_media(&browser, "gateway");
    shot(&browser, "gateway-previews");
    browser.goto(&format!("http://{g}/preview/{id}/notes.md"));
    shot(&browser, "preview-markdown");

    let url = String::from_utf8(b.weft(&["ui"]).stdout).unwrap();
    browser.goto(url.trim());
    ready(&browser);
    browser.goto(&format!("{}#/b/{id}", ui_base(url.trim())));
    browser.wait_for("#previews");
    check_media(&browser, "ui");
    assert!(browser
        .find_all("#previews figure[data-path='evil.png']")
        .is_empty());
    shot(&browser, "ui-previews");
}
