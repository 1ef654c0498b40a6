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
    init(from);
    let id = publish(from, name, size, seed, &[]);
    for (i, d) in to.iter().enumerate() {
        wait_until(
            &format!("{name}: a receiver to list the bundle"),
            Duration::from_secs(30),
            || d.lists(&id),
        );
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
