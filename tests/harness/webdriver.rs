//! Drives Debian's headless Chromium through ChromeDriver's W3C WebDriver
//! protocol (plain HTTP and JSON on a loopback port), so browser tests
//! need nothing beyond the two packages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::http;

/// Where Debian puts the browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Why a browser test cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    [CHROMIUM, CHROMEDRIVER]
        .iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| {
            format!("{p} is missing (apt-get install chromium chromium-driver; ./dev test does it)")
        })
}

/// A running ChromeDriver and one browser session.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// The key WebDriver names an element reference with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium whose preferred
    /// languages are `languages` (an Accept-Language list such as "fr-FR,fr").
    pub fn start(languages: &str) -> Self {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER);
        // WEFT_CHROMEDRIVER_LOG=/path keeps ChromeDriver's verbose log.
        if let Some(log) = std::env::var_os("WEFT_CHROMEDRIVER_LOG") {
            driver
                .arg("--verbose")
                .arg(format!("--log-path={}", log.to_string_lossy()));
        }
        let driver = driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(&addr).is_ok()
                && http::get(&addr, "/status", &[]).status == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // As root, in a sandbox with no network beyond loopback.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1100,900",
                    format!("--lang={}", languages.split(',').next().unwrap_or("en")),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {"intl.accept_languages": languages},
            }
        }}});
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .expect("a WebDriver session id")
            .to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} failed: {e}"))
    }

    /// A WebDriver command, or its error (such as a stale element, when
    /// the page re-rendered between finding and reading).
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = http::request(
            &self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if r.status != 200 {
            return Err(format!("({}) {}", r.status, v["value"]["message"]));
        }
        Ok(v["value"].clone())
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the
    /// page and returns its result.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.at("/execute/sync"),
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// The element references matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.call(
            "POST",
            &self.at("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT].as_str().map(String::from))
            .collect()
    }

    /// Waits for an element matching `css`, then returns it.
    pub fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never appeared; the page is:\n{}",
                self.describe()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where the browser is and what it shows, for a failure message.
    pub fn describe(&self) -> String {
        let v = self.eval(
            "return location.href + '\\n' + document.body.outerHTML.slice(0, 4000);",
            json!([]),
        );
        v.as_str().unwrap_or("").to_string()
    }

    /// Waits until the text of the first element matching `css` contains
    /// `want`.
    pub fn wait_text(&self, css: &str, want: &str) {
        let mut last = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                let got = self.try_call("GET", &self.at(&format!("/element/{e}/text")), None);
                last = got
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                if last.contains(want) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {want:?}; it shows {last:?}; the page is:\n{}",
                self.describe()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The visible text of an element.
    pub fn text_of(&self, element: &str) -> String {
        self.call("GET", &self.at(&format!("/element/{element}/text")), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let e = self.wait_for(css);
        self.text_of(&e)
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let e = self.wait_for(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{e}/click")),
            Some(json!({})),
        );
    }

    /// Types `text` into the first element matching `css` (for a file
    /// input, absolute paths separated by newlines).
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{e}/value")),
            Some(json!({ "text": text })),
        );
    }

    /// Empties an input.
    pub fn clear(&self, css: &str) {
        let e = self.wait_for(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{e}/clear")),
            Some(json!({})),
        );
    }

    /// Sets the window's size in CSS pixels (a phone is 360 wide).
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.at("/window/rect"),
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Presses keys as a person on a keyboard would, into whatever has the
    /// focus (`\u{E004}` is Tab, `\u{E007}` Enter; see [`keys`]).
    pub fn press(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.call(
            "POST",
            &self.at("/actions"),
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    /// Presses Tab until the focused element matches `css` (at most 60
    /// times), as a keyboard user reaches a control.
    pub fn tab_to(&self, css: &str) {
        for _ in 0..60 {
            let here = self.eval(
                "return !!(document.activeElement && document.activeElement.matches(arguments[0]));",
                json!([css]),
            );
            if here == Value::Bool(true) {
                return;
            }
            self.press(keys::TAB);
        }
        panic!(
            "{css} cannot be reached with Tab; the page is:\n{}",
            self.describe()
        );
    }

    /// Runs axe-core (from npm, in `tests/web`) on the page and returns its
    /// violations of impact "serious" or "critical", each as
    /// `rule: help (impact) at selectors`; `None` when axe-core is not
    /// installed.
    pub fn serious_violations(&self) -> Option<Vec<String>> {
        let source = std::fs::read_to_string(axe_path()).ok()?;
        let script = format!(
            "{source}\n;return axe.run(document).then((r) => ({{passes: r.passes.length, \
             bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical') \
             .map((v) => v.id + ': ' + v.help + ' (' + v.impact + ') at ' + \
             v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | '))}}));"
        );
        let v = self.eval(&script, json!([]));
        // A run that checked nothing would pass anything.
        assert!(
            v["passes"].as_u64().unwrap_or(0) > 10,
            "axe-core checked too little: {v}"
        );
        Some(
            v["bad"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
        )
    }

    /// Saves a PNG of the window to `path`.
    pub fn screenshot(&self, path: &Path) {
        let v = self.call("GET", &self.at("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 screenshot"))
            .expect("a PNG");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http::request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Keys for [`Browser::press`], as WebDriver names them.
pub mod keys {
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
}

/// axe-core's script, as `./dev test` installs it (`npm ci` in `tests/web`).
pub fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web/node_modules/axe-core/axe.min.js")
}

/// `docs/screenshots/<name>.png` in the source tree.
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(format!("{name}.png"))
}
