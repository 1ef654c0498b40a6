//! The packages: the Debian package is built (`./dev package`, from the
//! debug build the other tests use), installed on this machine with
//! `dpkg -i`, and its weftd, started from the installed path, answers the
//! installed weft. The image recipe is built where a container engine
//! runs, and reported as skipped elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use weft_e2e::{bin_dir, skip, wait_until};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("start the command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Removes the package when the test ends, however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .args(["--purge", "weft"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Kills the installed weftd when the test ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_debian_package_installs_and_its_weftd_answers_the_installed_weft() {
    const WHAT: &str = "package: the .deb installed with dpkg";
    if Command::new("dpkg").arg("--version").output().is_err() {
        return skip(WHAT, "dpkg is not on this machine (not a Debian system)");
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip(WHAT, "installing a package needs root");
    }
    let already = Command::new("dpkg")
        .args(["-s", "weft"])
        .output()
        .is_ok_and(|o| o.status.success());
    if already {
        return skip(
            WHAT,
            "a weft package is already installed here; the test would replace and then purge it",
        );
    }
    let target = bin_dir().parent().expect("the target dir").to_path_buf();
    let built = run(Command::new(repo().join("dev"))
        .arg("package")
        .current_dir(repo())
        .env("WEFT_PACKAGE_PROFILE", "dev")
        .env("CARGO_TARGET_DIR", &target));
    let deb = String::from_utf8_lossy(&built.stdout)
        .lines()
        .rev()
        .find(|l| l.ends_with(".deb"))
        .expect("./dev package names the .deb it built")
        .to_string();

    let _installed = Installed;
    run(Command::new("dpkg").args(["-i", &deb]));
    for path in [
        "/usr/bin/weftd",
        "/usr/bin/weft",
        "/usr/share/man/man1/weftd.1.gz",
        "/usr/share/man/man1/weft-search.1.gz",
        "/usr/share/bash-completion/completions/weft",
        "/usr/share/zsh/vendor-completions/_weft",
        "/usr/share/fish/vendor_completions.d/weft.fish",
        "/usr/lib/systemd/user/weftd.service",
        "/usr/lib/systemd/system/weftd-hub.service",
        "/etc/weft/config.toml",
    ] {
        assert!(
            Path::new(path).exists(),
            "the package did not install {path}"
        );
    }
    for unit in [
        "/usr/lib/systemd/user/weftd.service",
        "/usr/lib/systemd/system/weftd-hub.service",
    ] {
        let text = std::fs::read_to_string(unit).unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with("ExecStart=/usr/bin/weftd")),
            "{unit} does not start the installed weftd"
        );
    }
    // The hub's user exists, and only it (and root) reads the config.
    run(Command::new("getent").args(["passwd", "weft"]));
    let ls = run(Command::new("stat").args(["-c", "%a %G", "/etc/weft/config.toml"]));
    assert_eq!(String::from_utf8_lossy(&ls.stdout).trim(), "640 weft");

    // The shipped hub config is one weftd accepts.
    let scratch = tempfile::tempdir().unwrap();
    run(Command::new("/usr/bin/weftd").args([
        "--data-dir",
        scratch.path().join("check").to_str().unwrap(),
        "--config",
        "/etc/weft/config.toml",
        "--print-config",
    ]));

    // The installed weftd, started from its installed path, answers the
    // installed weft.
    let data = scratch.path().join("node");
    let daemon = Command::new("/usr/bin/weftd")
        .args(["--data-dir", data.to_str().unwrap()])
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api-port",
            "0",
            "--no-mdns",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the installed weftd");
    let _running = Running(daemon);
    wait_until(
        "the installed weftd to write api.addr",
        Duration::from_secs(60),
        || data.join("api.addr").exists(),
    );
    let status = run(Command::new("/usr/bin/weft").args([
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
        "status",
    ]));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"), "{status}");
    assert!(status["peer_id"]
        .as_str()
        .is_some_and(|p| p.starts_with("12D3")));
}

#[test]
fn the_hub_image_builds_where_a_container_engine_runs() {
    const WHAT: &str = "package: the OCI image of a hub";
    let engine = ["docker", "podman"].into_iter().find(|e| {
        Command::new(e)
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some(engine) = engine else {
        return skip(
            WHAT,
            "no container engine runs here (`docker info` and `podman info` fail); packaging/Dockerfile and packaging/compose.yaml are not built",
        );
    };
    run(Command::new(engine)
        .args([
            "build",
            "-f",
            "packaging/Dockerfile",
            "-t",
            "weft-hub:test",
            ".",
        ])
        .current_dir(repo()));
    let out = run(Command::new(engine).args([
        "run",
        "--rm",
        "--entrypoint",
        "/usr/local/bin/weftd",
        "weft-hub:test",
        "--version",
    ]));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
