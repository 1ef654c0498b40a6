//! The conventions of a well-kept daemon: where the configuration comes
//! from and in what order, `--print-config`, unknown keys named, exit
//! codes, shell completions, man pages in step with the commands, and a
//! reference entry in docs/api.md for every route the daemon serves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use weft_e2e::{bin_dir, router_routes, Daemon};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `weftd --print-config` with only the given environment (plus PATH).
fn print_config(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(bin_dir().join("weftd"));
    cmd.env_clear()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .arg("--print-config");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn parsed(o: &Output) -> toml::Table {
    toml::from_str(&stdout(o)).expect("--print-config prints TOML")
}

#[test]
fn file_then_environment_then_flags() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let xdg = home.path().join("config");
    std::fs::create_dir_all(xdg.join("weft")).unwrap();
    std::fs::write(
        xdg.join("weft/config.toml"),
        "api_port = 5000\nmdns = false\n[storage]\nmax = \"2 GiB\"\n",
    )
    .unwrap();
    let xdg_s = xdg.to_str().unwrap();
    // The XDG file.
    let o = print_config(&data, &[("XDG_CONFIG_HOME", xdg_s)], &[]);
    let text = stdout(&o);
    assert!(text.contains(&format!(
        "# read from {}",
        xdg.join("weft/config.toml").display()
    )));
    let t = parsed(&o);
    assert_eq!(t["api_port"].as_integer(), Some(5000));
    assert_eq!(t["storage"]["max"].as_integer(), Some(2 << 30));
    assert_eq!(t["mdns"].as_bool(), Some(false));
    // The environment over the file.
    let env = [
        ("XDG_CONFIG_HOME", xdg_s),
        ("WEFTD_API_PORT", "5001"),
        ("WEFTD_STORAGE__MAX", "20 GiB"),
        ("WEFTD_GATEWAY__LISTEN", "127.0.0.1:8080"),
        ("WEFTD_RELAY", "true"),
    ];
    let t = parsed(&print_config(&data, &env, &[]));
    assert_eq!(t["api_port"].as_integer(), Some(5001));
    assert_eq!(t["storage"]["max"].as_integer(), Some(20 << 30));
    assert_eq!(t["gateway"]["listen"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(t["relay"]["enabled"].as_bool(), Some(true));
    // Flags over both.
    let t = parsed(&print_config(
        &data,
        &env,
        &["--api-port", "5002", "--gateway", "127.0.0.1:9090"],
    ));
    assert_eq!(t["api_port"].as_integer(), Some(5002));
    assert_eq!(t["gateway"]["listen"].as_str(), Some("127.0.0.1:9090"));
    // A config.toml in the data dir is that node's own, and --config wins.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "api_port = 6000\n").unwrap();
    let t = parsed(&print_config(&data, &[("XDG_CONFIG_HOME", xdg_s)], &[]));
    assert_eq!(t["api_port"].as_integer(), Some(6000));
    let other = home.path().join("other.toml");
    std::fs::write(&other, "api_port = 7000\n").unwrap();
    let t = parsed(&print_config(
        &data,
        &[("XDG_CONFIG_HOME", xdg_s)],
        &["--config", other.to_str().unwrap()],
    ));
    assert_eq!(t["api_port"].as_integer(), Some(7000));
    let t = parsed(&print_config(
        &data,
        &[("WEFT_CONFIG", other.to_str().unwrap())],
        &[],
    ));
    assert_eq!(t["api_port"].as_integer(), Some(7000));
    // What it prints is a config file weftd accepts as it is.
    let again = home.path().join("again.toml");
    std::fs::write(&again, stdout(&print_config(&data, &env, &[]))).unwrap();
    let t = parsed(&print_config(
        &data,
        &[],
        &["--config", again.to_str().unwrap()],
    ));
    assert_eq!(t["storage"]["max"].as_integer(), Some(20 << 30));
}

#[test]
fn unknown_keys_and_bad_values_are_named_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let err = |o: Output| {
        assert_eq!(o.status.code(), Some(2), "bad configuration exits 2");
        String::from_utf8(o.stderr).unwrap()
    };
    std::fs::write(data.join("config.toml"), "[storage]\nmaximum = 5\n").unwrap();
    let e = err(print_config(&data, &[], &[]));
    assert!(e.contains("maximum") && e.contains("config.toml"), "{e}");
    std::fs::remove_file(data.join("config.toml")).unwrap();
    let e = err(print_config(&data, &[("WEFTD_STORAGE__MAXIMUM", "5")], &[]));
    assert!(
        e.contains("WEFTD_STORAGE__MAXIMUM") && e.contains("maximum"),
        "{e}"
    );
    let e = err(print_config(&data, &[("WEFTD_API_PORT", "lots")], &[]));
    assert!(e.contains("WEFTD_API_PORT"), "{e}");
    let e = err(print_config(
        &data,
        &[("WEFT_CONFIG", "/nonexistent/weft.toml")],
        &[],
    ));
    assert!(e.contains("/nonexistent/weft.toml"), "{e}");
    let e = err(print_config(
        &data,
        &[("WEFTD_GATEWAY__LISTEN", "not an address")],
        &[],
    ));
    assert!(e.contains("gateway.listen"), "{e}");
    // A whole value and a key inside it cannot both be set.
    let e = err(print_config(
        &data,
        &[("WEFTD_RELAY__MAX_CIRCUITS", "4"), ("WEFTD_RELAY", "true")],
        &[],
    ));
    assert!(e.contains("WEFTD_RELAY__MAX_CIRCUITS"), "{e}");
    // A value that reads as a number where text is wanted is text.
    let t = parsed(&print_config(
        &data,
        &[
            ("WEFTD_GATEWAY__LISTEN", "127.0.0.1:8080"),
            ("WEFTD_GATEWAY__TITLE", "1984"),
        ],
        &[],
    ));
    assert_eq!(t["gateway"]["title"].as_str(), Some("1984"));
}

#[test]
fn exit_codes_say_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let weft = |args: &[&str]| {
        Command::new(bin_dir().join("weft"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(weft(&["status"]).status.code(), Some(3), "no daemon");
    let o = weft(&["--json", "status"]);
    assert_eq!(o.status.code(), Some(3));
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert!(e["error"].as_str().unwrap().contains("not running"));
    assert_eq!(weft(&["no-such-command"]).status.code(), Some(2));
    let d = Daemon::start("d");
    let o = d.weft(&["show", "0123"]);
    assert_eq!(o.status.code(), Some(1), "the daemon refused");
    assert_eq!(d.weft(&["status"]).status.code(), Some(0));
    // One screen of status.
    let text = String::from_utf8(d.weft(&["status"]).stdout).unwrap();
    for line in ["peers:", "catalog:", "stored:", "storage:", "fetching:"] {
        assert!(text.contains(line), "status shows {line}\n{text}");
    }
    assert!(
        text.lines().count() <= 24,
        "status fits one screen:\n{text}"
    );
}

#[test]
fn completions_for_every_shell() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef weft"),
        ("fish", "complete -c weft"),
        ("elvish", "weft"),
        ("powershell", "weft"),
    ] {
        let o = Command::new(bin_dir().join("weft"))
            .args(["completions", shell])
            .output()
            .unwrap();
        let text = stdout(&o);
        assert!(
            text.contains(mark),
            "{shell}: {}",
            &text[..text.len().min(200)]
        );
        assert!(text.contains("publish"), "{shell} completes subcommands");
    }
}

#[test]
fn man_pages_match_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |mut c: Command| assert!(c.status().unwrap().success());
    let mut c = Command::new(bin_dir().join("weft"));
    c.arg("manpages").arg(dir.path());
    ok(c);
    let mut c = Command::new(bin_dir().join("weftd"));
    c.arg("--manpage").arg(dir.path());
    ok(c);
    let committed = repo().join("docs/man");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"weft.1".to_string()) && names.contains(&"weftd.1".to_string()));
    assert!(names.contains(&"weft-publish.1".to_string()));
    for n in &names {
        let fresh = std::fs::read(dir.path().join(n)).unwrap();
        let have = std::fs::read(committed.join(n)).unwrap_or_default();
        assert!(
            fresh == have,
            "docs/man/{n} is out of date with the commands; run ./dev man"
        );
    }
    let extra: Vec<String> = std::fs::read_dir(&committed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !names.contains(n))
        .collect();
    assert!(
        extra.is_empty(),
        "docs/man has pages of no command: {extra:?}; run ./dev man"
    );
}

/// The paths of every `.route("...")` in a router's source.
fn routes_in(file: &str) -> Vec<String> {
    router_routes(file).into_iter().map(|(_, p)| p).collect()
}

#[test]
fn every_route_is_in_the_api_reference() {
    let doc = std::fs::read_to_string(repo().join("docs/api.md")).unwrap();
    let api = routes_in("daemon/src/http/mod.rs");
    let gateway = routes_in("daemon/src/gateway/mod.rs");
    assert!(api.len() > 30 && gateway.len() >= 4, "{api:?} {gateway:?}");
    let missing: Vec<&String> = api
        .iter()
        .chain(&gateway)
        .filter(|r| !doc.contains(&format!("`{r}`")) && !doc.contains(&format!(" {r}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/api.md does not document these routes: {missing:?}"
    );
}
