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

/// How a NAT router maps inside addresses to outside ones and which
/// packets from outside it lets in: the behaviours of RFC 4787, as far as
/// hole punching cares. Every kind drops unsolicited packets to the router
/// itself, as home routers do (a RST or an ICMP error from the router
/// would end a punch early, and a conntrack entry left by an unsolicited
/// packet would take the port the inside host needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NatKind {
    /// Endpoint-independent mapping keeping the port; endpoint-independent
    /// filtering (anyone may send to the mapped port: "full cone").
    FullCone,
    /// Endpoint-independent mapping keeping the port; address-dependent
    /// filtering (only hosts the inside host has sent to).
    AddressRestricted,
    /// Endpoint-independent mapping keeping the port; address- and
    /// port-dependent filtering (only the exact endpoints sent to). This is
    /// what Linux masquerading does by default.
    PortRestricted,
    /// Endpoint-independent mapping to another port (4141 inside is 5141
    /// outside, whoever the peer); address- and port-dependent filtering.
    PortChanging,
    /// Address- and port-dependent mapping to random ports: a new outside
    /// port for every peer ("symmetric"). Punching is not expected to
    /// work with it unless the other side lets anyone in.
    Symmetric,
}

impl NatKind {
    /// Every kind, from the most open to the most closed.
    pub const ALL: [NatKind; 5] = [
        NatKind::FullCone,
        NatKind::AddressRestricted,
        NatKind::PortRestricted,
        NatKind::PortChanging,
        NatKind::Symmetric,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            NatKind::FullCone => "full-cone",
            NatKind::AddressRestricted => "address-restricted",
            NatKind::PortRestricted => "port-restricted",
            NatKind::PortChanging => "port-changing",
            NatKind::Symmetric => "symmetric",
        }
    }

    /// The ruleset of a router whose outside cable is `wan` (address
    /// `public`) and inside cable `lan`, with one host `inside` behind it
    /// using `port` (TCP and UDP).
    pub fn ruleset(self, wan: &str, lan: &str, inside: &str, public: &str, port: u16) -> String {
        let forward_in = format!(
            "iifname \"{wan}\" meta l4proto {{ tcp, udp }} th dport {port} dnat ip to {inside}"
        );
        let masq = "masquerade".to_string();
        let (pre, post, track) = match self {
            NatKind::FullCone => (forward_in, vec![masq], ""),
            NatKind::AddressRestricted => (
                format!("ip saddr @contacted {forward_in}"),
                vec![masq],
                "update @contacted { ip daddr }",
            ),
            NatKind::PortRestricted => (String::new(), vec![masq], ""),
            NatKind::PortChanging => (
                String::new(),
                vec![
                    format!(
                        "meta l4proto {{ tcp, udp }} th sport {port} snat ip to {public}:{}",
                        u32::from(port) + 1000
                    ),
                    masq,
                ],
                "",
            ),
            NatKind::Symmetric => (String::new(), vec!["masquerade random".into()], ""),
        };
        let post: Vec<String> = post
            .into_iter()
            .map(|r| format!("oifname \"{wan}\" {r}"))
            .collect();
        let post = post.join("\n");
        format!(
            r#"table inet nat {{
                set contacted {{ type ipv4_addr; flags timeout; timeout 5m; }}
                chain pre {{
                    type nat hook prerouting priority -100;
                    {pre}
                }}
                chain post {{
                    type nat hook postrouting priority 100;
                    {post}
                }}
                chain input {{
                    type filter hook input priority 0; policy drop;
                    iifname "lo" accept
                    ct state established,related accept
                    iifname "{lan}" accept
                }}
                chain forwarding {{
                    type filter hook forward priority 0; policy drop;
                    ct state established,related accept
                    ct status dnat accept
                    iifname "{lan}" {track} accept
                }}
            }}"#
        )
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
