//! Censored networks, simulated in network namespaces this test builds
//! itself (see `harness/netns.rs`): each scenario publishes on one side and
//! fetches on the other, and the fetched file must be byte-identical.
//!
//! Where namespaces cannot be made (no root, no `ip` or `nft`), each
//! scenario prints SKIPPED and why, and `./dev test` counts it as skipped.

use std::time::Duration;

use serde_json::Value;
use weft_e2e::netns::{Lab, NatKind};
use weft_e2e::{
    dir_with_config, get_and_check, init, pseudo_random, publish, skip, wait_until, Daemon,
};

/// Builds a lab or says why not.
macro_rules! lab {
    ($tag:expr, $what:expr, $tools:expr) => {
        match Lab::new($tag, $tools) {
            Ok(l) => l,
            Err(why) => {
                return skip(
                    $what,
                    &format!("needs network namespaces of its own: {why}"),
                )
            }
        }
    };
}

/// A data dir holding `config.toml`.
fn doctor(d: &Daemon) -> Value {
    d.weft_json(&["doctor"])["reachability"].clone()
}

/// `from` (made a publisher here) publishes a file of `size` bytes; each of
/// `to` lists it and fetches it byte-identical. Returns the bundle id.
fn share(from: &Daemon, to: &[&Daemon], name: &str, size: usize, seed: u64) -> String {
    share_with(from, to, name, size, seed, false)
}

/// [`share`], where with `dht` each receiver first waits for the DHT to
/// name the publisher as a provider (receivers not connected to it find
/// it there).
fn share_with(
    from: &Daemon,
    to: &[&Daemon],
    name: &str,
    size: usize,
    seed: u64,
    dht: bool,
) -> String {
    init(from);
    let id = publish(from, name, size, seed, &[]);
    let publisher = from.peer_id();
    for (i, d) in to.iter().enumerate() {
        wait_until(
            &format!("{name}: a receiver to list the bundle"),
            Duration::from_secs(30),
            || d.lists(&id),
        );
        if dht {
            wait_until(
                &format!("{name}: the DHT to name the publisher"),
                Duration::from_secs(30),
                || d.names_provider(&id, &publisher),
            );
        }
        get_and_check(d, &id, &format!("got{i}"), size, seed);
    }
    id
}

/// The transport `d` uses to reach `peer`, from `weft peers`.
fn transport_to(d: &Daemon, peer: &str) -> Option<String> {
    d.weft_json(&["peers"])["peers"]
        .as_array()?
        .iter()
        .find(|p| p["peer_id"] == peer)
        .and_then(|p| p["transport"].as_str().map(String::from))
}

#[test]
fn port_443_only_firewall_fetches_over_websocket_with_tls() {
    const WHAT: &str = "censorship 1: only TCP 443 to the hub";
    let mut lab = lab!("c1", WHAT, &["nft"]);
    lab.host("hub").unwrap();
    lab.host("cen").unwrap();
    lab.link("cen", "10.71.0.2/24", "hub", "10.71.0.1/24")
        .unwrap();
    // The censor: from `cen`, only TCP to the hub's port 443 gets out, and
    // only its answers get in. Everything else is refused at once.
    lab.nft(
        "cen",
        r#"table inet censor {
            chain out {
                type filter hook output priority 0; policy accept;
                oifname "lo" accept
                ip daddr 10.71.0.1 tcp dport 443 accept
                meta l4proto tcp reject with tcp reset
                reject
            }
            chain in {
                type filter hook input priority 0; policy accept;
                iifname "lo" accept
                ip saddr 10.71.0.1 tcp sport 443 accept
                drop
            }
        }"#,
    )
    .unwrap();

    // The hub's certificate, self-signed for its address; the censored
    // node is told to trust it (a real hub would use a CA-signed one).
    let cert = rcgen::generate_simple_self_signed(vec!["10.71.0.1".to_string()]).unwrap();
    let hub_dir = dir_with_config(
        "c1-hub",
        "[net]\ntls_cert = \"hub-cert.pem\"\ntls_key = \"hub-key.pem\"\n",
    );
    std::fs::write(hub_dir.path().join("hub-cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(
        hub_dir.path().join("hub-key.pem"),
        cert.key_pair.serialize_pem(),
    )
    .unwrap();
    let hub = Daemon::start_opts(
        "c1-hub",
        hub_dir,
        &[],
        lab.options(
            "hub",
            &[
                "/ip4/10.71.0.1/tcp/4141",
                "/ip4/10.71.0.1/udp/4141/quic-v1",
                "/ip4/10.71.0.1/tcp/443/tls/ws",
            ],
        ),
    );
    let hub_id = hub.peer_id();
    let cen_dir = dir_with_config(
        "c1-cen",
        &format!(
            "peers = [\"/ip4/10.71.0.1/tcp/443/tls/ws/p2p/{hub_id}\"]\n[net]\ntls_trust = [\"hub.pem\"]\n"
        ),
    );
    std::fs::write(cen_dir.path().join("hub.pem"), cert.cert.pem()).unwrap();
    let cen = Daemon::start_opts(
        "c1-cen",
        cen_dir,
        &[],
        lab.options("cen", &["/ip4/10.71.0.2/tcp/4141"]),
    );

    // The firewall is real: the hub's plain TCP port is out of reach.
    let direct = cen.weft(&["connect", &format!("/ip4/10.71.0.1/tcp/4141/p2p/{hub_id}")]);
    assert!(!direct.status.success(), "the censor let TCP 4141 through");

    share(&hub, &[&cen], "c1-guide", 3 << 20, 71);
    assert_eq!(
        transport_to(&cen, &hub_id).as_deref(),
        Some("websocket+tls"),
        "{:?}",
        cen.weft_json(&["peers"])
    );
    let d = doctor(&cen);
    assert_eq!(d["bootstrap"][0]["answered"], true, "{d}");
    assert!(d["connections"]["websocket+tls"].as_u64() >= Some(1), "{d}");
}

/// Both nodes behind symmetric NATs (a new outside port for every
/// destination), where hole punching cannot work: they find out they are
/// unreachable, reserve relay slots, and share through the relay, which
/// `weft peers` and `weft status` say plainly. (`punch.rs` shows the NATs
/// where punching does work.)
#[test]
fn two_nodes_behind_nat_share_through_a_relay_hub() {
    const WHAT: &str = "censorship 2: both behind NAT, through a relay";
    let mut lab = lab!("c2", WHAT, &["nft"]);
    for h in ["hub", "nat1", "nat2", "a", "b"] {
        lab.host(h).unwrap();
    }
    // The "internet" is the hub's two cables; each NAT router hides one
    // home network behind its own public address.
    lab.link("nat1", "172.31.1.2/24", "hub", "172.31.1.1/24")
        .unwrap();
    lab.link("nat2", "172.31.2.2/24", "hub", "172.31.2.1/24")
        .unwrap();
    lab.link("a", "10.1.0.2/24", "nat1", "10.1.0.1/24").unwrap();
    lab.link("b", "10.2.0.2/24", "nat2", "10.2.0.1/24").unwrap();
    lab.router("hub").unwrap();
    for (nat, home, inside, public, up) in [
        ("nat1", "a", "10.1.0.2", "172.31.1.2", "172.31.1.1"),
        ("nat2", "b", "10.2.0.2", "172.31.2.2", "172.31.2.1"),
    ] {
        lab.router(nat).unwrap();
        lab.route(nat, &format!("default via {up}")).unwrap();
        let rules = NatKind::Symmetric.ruleset("v-hub", &format!("v-{home}"), inside, public, 4141);
        lab.nft(nat, &rules).unwrap();
    }
    lab.route("a", "default via 10.1.0.1").unwrap();
    lab.route("b", "default via 10.2.0.1").unwrap();

    let listen = ["/ip4/0.0.0.0/tcp/4141", "/ip4/0.0.0.0/udp/4141/quic-v1"];
    let hub = Daemon::start_opts(
        "c2-hub",
        dir_with_config("c2-hub", "relay = true\n"),
        &[],
        lab.options("hub", &listen),
    );
    let hub_id = hub.peer_id();
    let behind = |name: &str, host: &str, hub_ip: &str| {
        Daemon::start_opts(
            name,
            dir_with_config(
                name,
                &format!("peers = [\"/ip4/{hub_ip}/tcp/4141/p2p/{hub_id}\"]\n"),
            ),
            &[],
            lab.options(host, &listen),
        )
    };
    let a = behind("c2-a", "a", "172.31.1.1");
    let b = behind("c2-b", "b", "172.31.2.1");

    // Each finds out it is unreachable and reserves a slot on the hub.
    for d in [&a, &b] {
        wait_until(
            "a node behind NAT to hold a relay slot",
            Duration::from_secs(60),
            || {
                let r = doctor(d);
                r["nat"] == "private"
                    && r["reservations"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| s["accepted"] == true))
            },
        );
    }
    init(&b);
    let id = publish(&b, "c2-guide", 2 << 20, 72, &[]);
    wait_until("a to list b's bundle", Duration::from_secs(30), || {
        a.lists(&id)
    });
    let b_id = b.peer_id();
    wait_until(
        "the DHT to name b as a provider",
        Duration::from_secs(30),
        || a.names_provider(&id, &b_id),
    );
    get_and_check(&a, &id, "got", 2 << 20, 72);

    let relay = doctor(&hub)["relay_server"].clone();
    assert!(
        relay["circuits_total"].as_u64() >= Some(1),
        "the bundle came some other way than through the relay: {relay}"
    );
    // Both say plainly that the bytes went through the relay.
    let peers = a.weft_json(&["peers"]);
    let to_b = peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer_id"] == b_id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(to_b["relayed"], true, "{peers}");
    let shown = String::from_utf8(a.weft(&["peers"]).stdout).unwrap();
    assert!(
        shown
            .lines()
            .any(|l| l.contains(&b_id) && l.contains("RELAYED")),
        "{shown}"
    );
    let relayed = a.status().counters.bytes_relayed;
    assert!(
        relayed >= 2 << 20,
        "the fetcher counted {relayed} bytes through relays, less than the bundle"
    );
    let shown = String::from_utf8(a.weft(&["status"]).stdout).unwrap();
    assert!(shown.contains("relayed:"), "{shown}");
}

#[test]
fn an_offline_island_of_three_shares_over_mdns() {
    const WHAT: &str = "censorship 3: offline island, mDNS";
    let mut lab = lab!("c3", WHAT, &[]);
    lab.switch(
        "lan",
        &[
            ("n1", "10.3.0.1/24"),
            ("n2", "10.3.0.2/24"),
            ("n3", "10.3.0.3/24"),
        ],
    )
    .unwrap();
    // No default route anywhere: the island reaches nothing beyond its LAN.
    assert_eq!(lab.sh("n1", "ip route show default").unwrap().trim(), "");
    let node = |name: &str, host: &str| {
        let mut o = lab.options(host, &["/ip4/0.0.0.0/tcp/0"]);
        o.mdns = true;
        Daemon::start_opts(name, Daemon::temp_dir(name), &[], o)
    };
    let n1 = node("c3-n1", "n1");
    let n2 = node("c3-n2", "n2");
    let n3 = node("c3-n3", "n3");
    share(&n1, &[&n2, &n3], "c3-guide", 1 << 20, 73);
}

#[test]
fn behind_a_socks5_proxy_nothing_dials_directly() {
    const WHAT: &str = "censorship 4: SOCKS5 proxy only";
    let mut lab = lab!("c4", WHAT, &["nft", "microsocks", "ss"]);
    for h in ["cen", "proxy", "hub"] {
        lab.host(h).unwrap();
    }
    lab.link("cen", "10.4.0.2/24", "proxy", "10.4.0.1/24")
        .unwrap();
    lab.link("proxy", "10.5.0.1/24", "hub", "10.5.0.2/24")
        .unwrap();
    // Direct packets would leave towards the proxy's host, which does not
    // forward; the firewall also counts and drops them, so the count shows
    // whether weft ever tried.
    lab.route("cen", "default via 10.4.0.1").unwrap();
    lab.nft(
        "cen",
        r#"table inet guard {
            counter direct { }
            chain out {
                type filter hook output priority 0; policy accept;
                oifname "lo" accept
                ip daddr 10.4.0.1 tcp dport 1080 accept
                meta l4proto { tcp, udp } counter name direct drop
            }
        }"#,
    )
    .unwrap();
    lab.spawn("proxy", "microsocks", &["-i", "10.4.0.1", "-p", "1080"])
        .unwrap();
    wait_until("the proxy to listen", Duration::from_secs(10), || {
        lab.sh("proxy", "ss -Hltn 'sport = :1080'")
            .is_ok_and(|o| !o.trim().is_empty())
    });

    let hub = Daemon::start_opts(
        "c4-hub",
        Daemon::temp_dir("c4-hub"),
        &[],
        lab.options(
            "hub",
            &["/ip4/10.5.0.2/tcp/4141", "/ip4/10.5.0.2/udp/4141/quic-v1"],
        ),
    );
    let hub_id = hub.peer_id();
    let cen = Daemon::start_opts(
        "c4-cen",
        dir_with_config(
            "c4-cen",
            &format!(
                "peers = [\"/ip4/10.5.0.2/tcp/4141/p2p/{hub_id}\"]\n[net]\nsocks5 = \"10.4.0.1:1080\"\n"
            ),
        ),
        &[],
        lab.options("cen", &["/ip4/10.4.0.2/tcp/4141"]),
    );
    // QUIC cannot go through the proxy, so it is not dialled at all.
    let quic = cen.weft(&[
        "connect",
        &format!("/ip4/10.5.0.2/udp/4141/quic-v1/p2p/{hub_id}"),
    ]);
    assert!(!quic.status.success());

    share(&hub, &[&cen], "c4-guide", 2 << 20, 74);
    assert_eq!(
        transport_to(&cen, &hub_id).as_deref(),
        Some("tcp via socks5")
    );
    let d = doctor(&cen);
    assert_eq!(d["socks5"], "10.4.0.1:1080", "{d}");
    assert_eq!(d["mdns"], false, "mDNS stays off behind a proxy: {d}");
    // The doctor says in one sentence who sees this node's address, in
    // this mode and in the ordinary one.
    let says = |d: &Daemon| {
        d.weft_json(&["doctor"])["ip_visibility"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let behind = says(&cen);
    assert!(
        behind.contains("cannot see") && behind.contains("10.4.0.1:1080"),
        "{behind}"
    );
    assert!(says(&hub).starts_with("Every peer"), "{}", says(&hub));
    let shown = String::from_utf8(cen.weft(&["doctor"]).stdout).unwrap();
    assert!(
        shown.contains("Your IP:") && shown.contains("cannot see"),
        "{shown}"
    );
    assert_eq!(
        lab.counter("cen", "guard", "direct").unwrap(),
        0,
        "weftd sent packets around the proxy"
    );
}

#[test]
fn when_the_hub_dies_mid_transfer_the_fetch_finishes_from_another_provider() {
    const WHAT: &str = "censorship 5: hub seized mid-transfer";
    let mut lab = lab!("c5", WHAT, &[]);
    lab.switch(
        "net",
        &[
            ("hub", "10.6.0.1/24"),
            ("p2", "10.6.0.3/24"),
            ("node", "10.6.0.2/24"),
        ],
    )
    .unwrap();
    const SIZE: usize = 24 << 20;
    // Slow uploads, so the transfer is still going when the hub dies.
    let slow = "[net]\nupload_limit = \"3 MiB\"\n";
    let mut hub = Daemon::start_opts(
        "c5-hub",
        dir_with_config("c5-hub", slow),
        &[],
        lab.options("hub", &["/ip4/10.6.0.1/tcp/4141"]),
    );
    let hub_id = hub.peer_id();
    let bootstrap = format!("peers = [\"/ip4/10.6.0.1/tcp/4141/p2p/{hub_id}\"]\n");
    let p2 = Daemon::start_opts(
        "c5-p2",
        dir_with_config("c5-p2", &format!("{bootstrap}{slow}")),
        &[],
        lab.options("p2", &["/ip4/10.6.0.3/tcp/4141"]),
    );
    init(&hub);
    let id = publish(&hub, "c5-guide", SIZE, 75, &[]);
    wait_until(
        "the second provider to list it",
        Duration::from_secs(30),
        || p2.lists(&id),
    );
    let pinned = p2.weft(&["pin", &id]);
    assert!(pinned.status.success(), "{pinned:?}");

    let node = Daemon::start_opts(
        "c5-node",
        dir_with_config("c5-node", &bootstrap),
        &[],
        lab.options("node", &["/ip4/10.6.0.2/tcp/4141"]),
    );
    let p2_id = p2.peer_id();
    // The node never had p2's address: it learns it from the DHT.
    wait_until(
        "the DHT to name p2 as a provider",
        Duration::from_secs(30),
        || node.names_provider(&id, &p2_id),
    );
    let out = node.path().join("got");
    let mut get = node
        .weft_command(&["get", &id, "-o", out.to_str().unwrap()])
        .spawn()
        .unwrap();
    wait_until(
        "a quarter of the bundle to arrive",
        Duration::from_secs(60),
        || node.counters().bytes_fetched >= (SIZE / 4) as u64,
    );
    hub.kill();
    let at_kill = node.counters().bytes_fetched;
    assert!(
        at_kill < SIZE as u64,
        "the transfer ended before the hub died ({at_kill} bytes)"
    );
    let status = get.wait().unwrap();
    assert!(status.success(), "the fetch failed after the hub died");
    assert_eq!(
        std::fs::read(out.join("data.bin")).unwrap(),
        pseudo_random(SIZE, 75)
    );
    assert!(p2.counters().blobs_served > 0);
    eprintln!(
        "hub killed at {:.1} of {} MiB; p2 served {} blocks in all",
        at_kill as f64 / (1 << 20) as f64,
        SIZE >> 20,
        p2.counters().blobs_served
    );
}

/// The counters of [`watch`]: packets from and to the hidden node's
/// addresses.
const WATCH: &str = "watch";

/// Counts, in host `name`, every packet from or to `addrs`.
fn watch(lab: &Lab, name: &str, addrs: &[&str]) {
    let set = addrs.join(", ");
    lab.nft(
        name,
        &format!(
            r#"table inet {WATCH} {{
                counter from_hidden {{ }}
                counter to_hidden {{ }}
                chain in {{
                    type filter hook input priority -10; policy accept;
                    ip saddr {{ {set} }} counter name from_hidden
                }}
                chain out {{
                    type filter hook output priority -10; policy accept;
                    ip daddr {{ {set} }} counter name to_hidden
                }}
            }}"#
        ),
    )
    .unwrap();
}

/// A hidden node behind a NAT that would let anyone in (its port is
/// forwarded) publishes and fetches through the hub's relay, and no other
/// peer ever exchanges a packet with it or learns its address: not from
/// identify, not from the DHT (a peer that had it would have dialled it
/// while fetching), not from the invite it hands out.
#[test]
fn a_hidden_node_shares_through_its_hub_and_no_other_peer_learns_where_it_is() {
    const WHAT: &str = "censorship 6: hidden mode";
    let mut lab = lab!("c6", WHAT, &["nft"]);
    lab.switch(
        "inet",
        &[
            ("hub", "172.33.0.1/24"),
            ("nat1", "172.33.0.2/24"),
            ("nat2", "172.33.0.3/24"),
            ("q", "172.33.0.4/24"),
        ],
    )
    .unwrap();
    lab.host("h").unwrap();
    lab.host("p").unwrap();
    lab.link("h", "10.11.0.2/24", "nat1", "10.11.0.1/24")
        .unwrap();
    lab.link("p", "10.12.0.2/24", "nat2", "10.12.0.1/24")
        .unwrap();
    // The hidden node's router forwards its port to it (full cone): if it
    // listened or told anyone its address, peers could reach it.
    for (nat, home, inside, public, kind) in [
        ("nat1", "h", "10.11.0.2", "172.33.0.2", NatKind::FullCone),
        (
            "nat2",
            "p",
            "10.12.0.2",
            "172.33.0.3",
            NatKind::PortRestricted,
        ),
    ] {
        lab.router(nat).unwrap();
        let rules = kind.ruleset("v-inet", &format!("v-{home}"), inside, public, 4141);
        lab.nft(nat, &rules).unwrap();
    }
    lab.route("h", "default via 10.11.0.1").unwrap();
    lab.route("p", "default via 10.12.0.1").unwrap();
    for peer in ["p", "q"] {
        watch(&lab, peer, &["172.33.0.2", "10.11.0.2"]);
    }

    let listen = ["/ip4/0.0.0.0/tcp/4141", "/ip4/0.0.0.0/udp/4141/quic-v1"];
    let hub = Daemon::start_opts(
        "c6-hub",
        dir_with_config("c6-hub", "relay = true\n"),
        &[],
        lab.options("hub", &listen),
    );
    let hub_id = hub.peer_id();
    let to_hub = format!("peers = [\"/ip4/172.33.0.1/tcp/4141/p2p/{hub_id}\"]\n");
    let q = Daemon::start_opts(
        "c6-q",
        dir_with_config("c6-q", &to_hub),
        &[],
        lab.options("q", &listen),
    );
    let p = Daemon::start_opts(
        "c6-p",
        dir_with_config(
            "c6-p",
            &format!("{to_hub}[net]\nreachability = \"private\"\n"),
        ),
        &[],
        lab.options("p", &listen),
    );
    let h = Daemon::start_opts(
        "c6-h",
        dir_with_config("c6-h", &to_hub),
        &["--hidden"],
        lab.options("h", &listen),
    );
    for d in [&h, &p] {
        wait_until("a relay slot on the hub", Duration::from_secs(60), || {
            doctor(d)["reservations"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["accepted"] == true))
        });
    }
    let hidden_ips = |s: &str| s.contains("172.33.0.2") || s.contains("10.11.0.2");

    // It has no address of its own to give: only relayed ones.
    let r = doctor(&h);
    assert_eq!(r["hidden"], true, "{r}");
    for key in ["listen_addrs", "external_addrs"] {
        let list = r[key].as_array().unwrap();
        assert!(!list.is_empty(), "{key}: {r}");
        assert!(
            list.iter()
                .all(|a| a.as_str().unwrap().contains("/p2p-circuit")),
            "{key} holds an address of its own: {r}"
        );
    }
    let says = h.weft_json(&["doctor"])["ip_visibility"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        says.starts_with("Hidden mode") && says.contains(&hub_id),
        "{says}"
    );
    let invite = h.weft_json(&["invite"]);
    let addrs = invite["addrs"].as_array().unwrap();
    assert!(!addrs.is_empty(), "{invite}");
    assert!(
        addrs
            .iter()
            .all(|a| a.as_str().unwrap().contains("/p2p-circuit")
                && !hidden_ips(a.as_str().unwrap())),
        "{invite}"
    );

    // It publishes; a public peer and a peer behind NAT fetch from it.
    share_with(&h, &[&q, &p], "c6-hidden-guide", 1 << 20, 76, true);
    // It fetches from the peer behind NAT, through the relay too.
    share_with(&p, &[&h], "c6-guide", 1 << 20, 77, true);
    let h_id = h.peer_id();

    for (name, d) in [("p", &p), ("q", &q)] {
        let peers = d.weft_json(&["peers"]);
        if let Some(entry) = peers["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["peer_id"] == h_id.as_str())
        {
            assert_eq!(entry["relayed"], true, "{name}: {entry}");
            assert!(
                !hidden_ips(&entry.to_string()),
                "{name} knows where it is: {entry}"
            );
            let announced = entry["announced"].as_array().unwrap();
            assert!(
                announced
                    .iter()
                    .all(|a| a.as_str().unwrap().contains("/p2p-circuit")),
                "{name}: {entry}"
            );
        }
        for counter in ["from_hidden", "to_hidden"] {
            assert_eq!(
                lab.counter(name, WATCH, counter).unwrap(),
                0,
                "{name} exchanged packets with the hidden node ({counter})"
            );
        }
    }
    let relay = doctor(&hub)["relay_server"].clone();
    assert!(relay["circuits_total"].as_u64() >= Some(2), "{relay}");
}

/// A hub reachable three ways (TCP and QUIC on 4141, WebSocket with TLS on
/// 443, and relayed through a separate relay it holds a slot on), and a
/// censored node behind a firewall that lets out only what `allowed`
/// matches and silently drops everything else, as censors do. The
/// censored node knows nothing but the hub's invite; it trusts the hub's
/// self-signed certificate the way a real node trusts a hub's CA-signed
/// one. Returns the lab, the relay, the hub and the censored node.
fn ladder_lab(tag: &str, what: &str, allowed: &str) -> Option<(Lab, Daemon, Daemon, Daemon)> {
    let mut lab = match Lab::new(tag, &["nft"]) {
        Ok(l) => l,
        Err(why) => {
            skip(what, &format!("needs network namespaces of its own: {why}"));
            return None;
        }
    };
    lab.switch(
        "inet",
        &[
            ("hub", "10.72.0.1/24"),
            ("cen", "10.72.0.2/24"),
            ("relay", "10.72.0.3/24"),
        ],
    )
    .unwrap();
    lab.nft(
        "cen",
        &format!(
            r#"table inet censor {{
                chain out {{
                    type filter hook output priority 0; policy accept;
                    oifname "lo" accept
                    {allowed} accept
                    drop
                }}
                chain in {{
                    type filter hook input priority 0; policy accept;
                    iifname "lo" accept
                    ct state established,related accept
                    drop
                }}
            }}"#
        ),
    )
    .unwrap();
    let relay = Daemon::start_opts(
        &format!("{tag}-relay"),
        dir_with_config(&format!("{tag}-relay"), "relay = true\n"),
        &[],
        lab.options(
            "relay",
            &["/ip4/10.72.0.3/tcp/4141", "/ip4/10.72.0.3/udp/4141/quic-v1"],
        ),
    );
    let cert = rcgen::generate_simple_self_signed(vec!["10.72.0.1".to_string()]).unwrap();
    let hub_dir = dir_with_config(
        &format!("{tag}-hub"),
        &format!(
            "[net]\ntls_cert = \"hub-cert.pem\"\ntls_key = \"hub-key.pem\"\nrelays = [\"/ip4/10.72.0.3/tcp/4141/p2p/{}\"]\n",
            relay.peer_id()
        ),
    );
    std::fs::write(hub_dir.path().join("hub-cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(
        hub_dir.path().join("hub-key.pem"),
        cert.key_pair.serialize_pem(),
    )
    .unwrap();
    let hub = Daemon::start_opts(
        &format!("{tag}-hub"),
        hub_dir,
        &[],
        lab.options(
            "hub",
            &[
                "/ip4/10.72.0.1/tcp/4141",
                "/ip4/10.72.0.1/udp/4141/quic-v1",
                "/ip4/10.72.0.1/tcp/443/tls/ws",
            ],
        ),
    );
    let cen_dir = dir_with_config(&format!("{tag}-cen"), "[net]\ntls_trust = [\"hub.pem\"]\n");
    std::fs::write(cen_dir.path().join("hub.pem"), cert.cert.pem()).unwrap();
    let cen = Daemon::start_opts(
        &format!("{tag}-cen"),
        cen_dir,
        &[],
        lab.options("cen", &["/ip4/10.72.0.2/tcp/4141"]),
    );
    Some((lab, relay, hub, cen))
}

/// The hub's invite, once it carries a direct, a WebSocket and a relayed
/// address.
fn invite_with_every_way(hub: &Daemon) -> String {
    let mut invite = Value::Null;
    wait_until(
        "the hub's invite to carry every way to reach it",
        Duration::from_secs(60),
        || {
            invite = hub.weft_json(&["invite"]);
            let addrs: Vec<&str> = invite["addrs"]
                .as_array()
                .map(|a| a.iter().filter_map(|a| a.as_str()).collect())
                .unwrap_or_default();
            addrs.iter().any(|a| a.contains("/tcp/4141/p2p/"))
                && addrs.iter().any(|a| a.contains("/tls/ws"))
                && addrs
                    .iter()
                    .any(|a| a.contains("10.72.0.3") && a.contains("/p2p-circuit/"))
        },
    );
    invite["invite"].as_str().unwrap().to_string()
}

/// `cen` joins with `hub`'s invite (carrying every way), and says how long
/// it took. Returns the answer, the address that worked and the failed
/// addresses (as JSON text).
fn join_by_invite(cen: &Daemon, hub: &Daemon) -> (Value, String, String) {
    let invite = invite_with_every_way(hub);
    let started = std::time::Instant::now();
    let joined = cen.weft_json(&["join", &invite]);
    eprintln!(
        "joined in {:.1} s: {joined}",
        started.elapsed().as_secs_f64()
    );
    let way = joined["joined"][0]["addr"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let failed = joined["failed"].to_string();
    (joined, way, failed)
}

/// The ladder report of `d` for `peer`, from `weft doctor`.
fn ladder_to(d: &Daemon, peer: &str) -> Value {
    doctor(d)["ladder"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["peer_id"] == peer).cloned())
        .unwrap_or_default()
}

/// Scenario 1 again, with nothing set but an invite: the node finds the
/// WebSocket way on its own, says what it tried, and goes straight to it
/// after a restart.
#[test]
fn given_only_an_invite_a_node_behind_a_443_only_firewall_climbs_to_websocket() {
    const WHAT: &str = "censorship 7: invite only, 443 only";
    let Some((lab, _relay, hub, mut cen)) =
        ladder_lab("c7", WHAT, "ip daddr 10.72.0.1 tcp dport 443")
    else {
        return;
    };
    let (joined, way, failed) = join_by_invite(&cen, &hub);
    let hub_id = hub.peer_id();
    assert!(way.contains("/tcp/443/tls/ws"), "{joined}");
    assert!(
        failed.contains("/tcp/4141"),
        "the direct way was not tried first: {joined}"
    );

    share(&hub, &[&cen], "c7-guide", 1 << 20, 78);
    assert_eq!(
        transport_to(&cen, &hub_id).as_deref(),
        Some("websocket+tls")
    );
    let report = ladder_to(&cen, &hub_id);
    assert_eq!(report["way"], "websocket", "{report}");
    let shown = String::from_utf8(cen.weft(&["doctor"]).stdout).unwrap();
    assert!(
        shown.contains("over WebSocket (port 443) after these failed"),
        "{shown}"
    );

    // Remembered: after a restart the WebSocket way goes first.
    cen.kill_and_restart();
    wait_until(
        "the node to reach the hub again",
        Duration::from_secs(30),
        || ladder_to(&cen, &hub_id)["way"] == "websocket",
    );
    let report = ladder_to(&cen, &hub_id);
    assert_eq!(report["steps"][0]["way"], "websocket", "{report}");
    assert_eq!(report["steps"][0]["error"], Value::Null, "{report}");
    drop(lab);
}

/// The censor blocks the hub entirely, port 443 too, but not the relay:
/// the node reaches the hub through the relay, by the invite alone.
#[test]
fn given_only_an_invite_a_node_cut_off_from_the_hub_reaches_it_through_a_relay() {
    const WHAT: &str = "censorship 8: invite only, hub blocked, relay allowed";
    let Some((lab, _relay, hub, cen)) = ladder_lab("c8", WHAT, "ip daddr 10.72.0.3 tcp dport 4141")
    else {
        return;
    };
    let (joined, way, failed) = join_by_invite(&cen, &hub);
    let hub_id = hub.peer_id();
    assert!(way.contains("/p2p-circuit/"), "{joined}");
    assert!(
        failed.contains("/tcp/4141") && failed.contains("/tls/ws"),
        "the direct and WebSocket ways were not tried first: {joined}"
    );

    share(&hub, &[&cen], "c8-guide", 1 << 20, 79);
    assert_eq!(transport_to(&cen, &hub_id).as_deref(), Some("relayed"));
    assert_eq!(ladder_to(&cen, &hub_id)["way"], "relay");
    let shown = String::from_utf8(cen.weft(&["doctor"]).stdout).unwrap();
    assert!(
        shown.contains("through a relay after these failed"),
        "{shown}"
    );
    eprintln!("{shown}");
    drop(lab);
}
