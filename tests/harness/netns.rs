//! Small networks of our own, for the censorship scenarios: network
//! namespaces joined by veth cables, with routes, NAT and firewalls set
//! with `ip` and `nft`. Nothing in them can reach the machine's real
//! networks: a namespace starts with only its own loopback, and every
//! cable built here has both ends in namespaces this lab created.
//!
//! Everything is deleted when the [`Lab`] is dropped (deleting a namespace
//! deletes its cables and rules, and kills nothing: daemons are stopped by
//! their own `Drop` first).

use std::process::{Child, Command, Stdio};

use crate::Options;

/// A set of namespaces for one test.
pub struct Lab {
    tag: String,
    made: Vec<String>,
    children: Vec<Child>,
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run `{program}` ({e})"))?;
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(text.as_bytes())
            .map_err(|e| format!("`{program}`: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`{program}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Lab {
    /// A lab for one test, if this machine can build one: it needs root
    /// (or CAP_NET_ADMIN), `ip`, and each of `tools`. The error says why
    /// not, for the SKIPPED line.
    pub fn new(tag: &str, tools: &[&str]) -> Result<Self, String> {
        for t in ["ip"].iter().chain(tools) {
            if !have(t) {
                return Err(format!(
                    "`{t}` is not installed (./dev test installs it on Debian)"
                ));
            }
        }
        let mut lab = Lab {
            tag: format!("w{}{tag}", std::process::id()),
            made: Vec::new(),
            children: Vec::new(),
        };
        // Creating the first namespace is the real test of privilege.
        lab.host("probe")?;
        Ok(lab)
    }

    /// The full name of host `name`'s namespace.
    pub fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.tag)
    }

    /// A new namespace (a host or a router) with its loopback up.
    pub fn host(&mut self, name: &str) -> Result<(), String> {
        let ns = self.ns(name);
        run("ip", &["netns", "add", &ns], None)?;
        self.made.push(ns.clone());
        run("ip", &["-n", &ns, "link", "set", "lo", "up"], None)?;
        // No IPv6 chatter (router solicitations) on the cables.
        self.sh(
            name,
            "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
        )?;
        Ok(())
    }

    /// A cable between hosts `a` and `b`, with an address (CIDR) on each
    /// end. The interface in `a` is named `v-<b>`, and the other way round.
    pub fn link(&self, a: &str, a_addr: &str, b: &str, b_addr: &str) -> Result<(), String> {
        let (na, nb) = (self.ns(a), self.ns(b));
        let (ia, ib) = (iface(b), iface(a));
        run(
            "ip",
            &[
                "-n", &na, "link", "add", &ia, "type", "veth", "peer", "name", &ib, "netns", &nb,
            ],
            None,
        )?;
        for (ns, i, addr) in [(&na, &ia, a_addr), (&nb, &ib, b_addr)] {
            if !addr.is_empty() {
                run("ip", &["-n", ns, "addr", "add", addr, "dev", i], None)?;
            }
            run("ip", &["-n", ns, "link", "set", i, "up"], None)?;
        }
        Ok(())
    }

    /// New hosts `members` on one LAN: a bridge in host `name` joins
    /// their cables, each member getting its address (CIDR) on its end.
    pub fn switch(&mut self, name: &str, members: &[(&str, &str)]) -> Result<(), String> {
        for (member, _) in members {
            self.host(member)?;
        }
        self.host(name)?;
        let ns = self.ns(name);
        run(
            "ip",
            &["-n", &ns, "link", "add", "br0", "type", "bridge"],
            None,
        )?;
        run("ip", &["-n", &ns, "link", "set", "br0", "up"], None)?;
        for (member, addr) in members {
            self.link(member, addr, name, "")?;
            run(
                "ip",
                &["-n", &ns, "link", "set", &iface(member), "master", "br0"],
                None,
            )?;
        }
        Ok(())
    }

    /// Runs a shell command inside host `name`.
    pub fn sh(&self, name: &str, script: &str) -> Result<String, String> {
        run(
            "ip",
            &["netns", "exec", &self.ns(name), "sh", "-c", script],
            None,
        )
    }

    /// Loads an nftables ruleset inside host `name`.
    pub fn nft(&self, name: &str, ruleset: &str) -> Result<(), String> {
        run(
            "ip",
            &["netns", "exec", &self.ns(name), "nft", "-f", "-"],
            Some(ruleset),
        )
        .map(drop)
    }

    /// The packets counted so far by the named nftables counter in `table`
    /// (family inet) inside host `name`.
    pub fn counter(&self, name: &str, table: &str, counter: &str) -> Result<u64, String> {
        let out = run(
            "ip",
            &[
                "netns",
                "exec",
                &self.ns(name),
                "nft",
                "list",
                "counter",
                "inet",
                table,
                counter,
            ],
            None,
        )?;
        out.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no packet count in {out:?}"))
    }

    /// Makes host `name` a router: it forwards between its cables.
    pub fn router(&self, name: &str) -> Result<(), String> {
        self.sh(name, "sysctl -qw net.ipv4.ip_forward=1").map(drop)
    }

    /// Adds a route inside host `name` (`ip route add …`).
    pub fn route(&self, name: &str, spec: &str) -> Result<(), String> {
        let mut args = vec![
            "-n".to_string(),
            self.ns(name),
            "route".into(),
            "add".into(),
        ];
        args.extend(spec.split_whitespace().map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run("ip", &args, None).map(drop)
    }

    /// Starts a program inside host `name`; it is killed when the lab is
    /// dropped.
    pub fn spawn(&mut self, name: &str, program: &str, args: &[&str]) -> Result<(), String> {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(name), program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        self.children.push(child);
        Ok(())
    }

    /// Daemon options for a node in host `name`, listening on `listen`.
    pub fn options(&self, name: &str, listen: &[&str]) -> Options {
        Options {
            listen: listen.iter().map(|s| s.to_string()).collect(),
            prefix: vec!["ip".into(), "netns".into(), "exec".into(), self.ns(name)],
            ..Options::default()
        }
    }
}

/// The interface name for a cable towards `peer` (at most 15 bytes).
fn iface(peer: &str) -> String {
    format!("v-{peer}").chars().take(15).collect()
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in self.made.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
