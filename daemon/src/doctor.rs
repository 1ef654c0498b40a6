//! `weft doctor`: what the node can reach and how, each finding with a
//! suggestion in plain words.
//!
//! The facts come from the swarm task ([`Reachability`]); this module only
//! reads them, so it is the same for the CLI and any other front end.

use crate::net::{NatStatus, Reachability};

/// How much a finding matters, and one finding with what to do about it.
pub use weft_protocol::api::{Finding, FindingLevel as Level};

fn f(level: Level, finding: impl Into<String>, suggestion: impl Into<String>) -> Finding {
    Finding {
        level,
        finding: finding.into(),
        suggestion: suggestion.into(),
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("/ip4/127.") || addr.starts_with("/ip6/::1/")
}

/// One sentence for people: who can see this node's IP address, in the
/// mode it runs in now.
pub fn ip_visibility(r: &Reachability) -> String {
    if let Some(proxy) = &r.socks5 {
        return format!(
            "Your peers cannot see this node's IP address: every connection goes out through the SOCKS5 proxy at {proxy}, so only the proxy's own path (with Tor, your Tor entry guard) sees it, and peers see the proxy's exit or your relay instead."
        );
    }
    if r.hidden {
        let mut through: Vec<&str> = r.reservations.iter().map(|s| s.relay.as_str()).collect();
        through.sort();
        through.dedup();
        let via = if through.is_empty() {
            "no relay holds a slot for it yet".to_string()
        } else {
            format!("its relays: {}", through.join(", "))
        };
        return format!(
            "Hidden mode: only the hubs and relays this node was given can see its IP address ({via}); every other peer reaches it through them and sees theirs. Those hubs still see it, and anyone watching your network can see that you talk to them."
        );
    }
    "Every peer this node connects to can see its IP address (through a relay too, once hole punching makes the connection direct), and any node can learn it from the addresses it announces (identify and the DHT); to hide it, go through a SOCKS5 proxy such as Tor (see docs/censorship.md).".into()
}

/// Reads the facts and says what they mean.
pub fn findings(r: &Reachability) -> Vec<Finding> {
    let mut out = Vec::new();
    let direct: Vec<&String> = r
        .listen_addrs
        .iter()
        .filter(|a| !a.contains("/p2p-circuit"))
        .collect();
    if r.hidden {
        let held = r.reservations.iter().filter(|s| s.accepted).count();
        if held > 0 {
            out.push(f(
                Level::Ok,
                format!("Hidden: this node listens on no address of its own and tells peers none; {held} relay(s) carry every connection to it."),
                "",
            ));
        } else {
            out.push(f(
                Level::Warning,
                "Hidden, but no relay holds a slot for this node: no peer can reach it, so what it publishes cannot be fetched from it.",
                "Join a hub that runs a relay (relay = true in its config); this node then reserves a slot on it by itself.",
            ));
        }
    } else if direct.is_empty() {
        out.push(f(
            Level::Warning,
            "This node is not listening on any address, so no one can connect to it.",
            "Set listen addresses in config.toml or with --listen, for example /ip4/0.0.0.0/tcp/4141.",
        ));
    } else if direct.iter().all(|a| is_loopback(a)) {
        out.push(f(
            Level::Warning,
            "This node listens only on this computer (127.0.0.1): other computers cannot connect to it.",
            "To share with others, listen on /ip4/0.0.0.0/tcp/4141 (all networks).",
        ));
    }
    if direct.iter().any(|a| a.contains("/ws")) {
        out.push(f(
            Level::Ok,
            "Listening for WebSocket connections: to a firewall, this looks like web traffic.",
            "",
        ));
    }

    match r.nat {
        NatStatus::Public => out.push(f(
            Level::Ok,
            format!(
                "Other nodes can connect to this node directly (a peer reached it at {}).",
                r.nat_address.as_deref().unwrap_or("its address")
            ),
            "",
        )),
        NatStatus::Private => {
            let held: Vec<_> = r.reservations.iter().filter(|s| s.accepted).collect();
            if held.is_empty() {
                out.push(f(
                    Level::Warning,
                    "This node is behind a NAT or firewall: other nodes cannot connect to it, and it holds no relay slot.",
                    "It can still fetch. To be reachable, connect to a hub that runs a relay (relay = true in its config); this node then reserves a slot on it by itself.",
                ));
            } else {
                out.push(f(
                    Level::Ok,
                    format!(
                        "This node is behind a NAT, but reachable through {} relay(s): {}.",
                        held.len(),
                        held.iter().map(|s| s.address.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    "",
                ));
            }
        }
        NatStatus::Unknown => out.push(f(
            Level::Info,
            "Whether other nodes can connect to this one is not known yet: a connected peer has to try.",
            if r.peers == 0 {
                "Connect to a peer first; the check then runs within a minute."
            } else {
                "Wait a minute and run `weft doctor` again."
            },
        )),
    }
    for s in r.reservations.iter().filter(|s| !s.accepted) {
        out.push(f(
            Level::Info,
            format!("Waiting for relay {} to accept a reservation.", s.relay),
            "",
        ));
    }

    if r.peers == 0 {
        out.push(f(
            Level::Problem,
            "Not connected to any peer, so nothing can be fetched or shared.",
            if r.socks5.is_some() {
                "Check that the proxy is running (for Tor: is Tor started?), and add a hub with `weft join` or `weft connect`."
            } else {
                "Add a hub with `weft join INVITE` or `weft connect ADDRESS`. If your network blocks weft, ask the hub for its WebSocket address on port 443, or use a proxy (see docs/censorship.md)."
            },
        ));
    } else {
        let list = r
            .connections
            .iter()
            .map(|(t, n)| format!("{n} over {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(f(
            Level::Ok,
            format!("Connected to {} peer(s): {list}.", r.peers),
            "",
        ));
    }

    for b in &r.bootstrap {
        if b.answered {
            continue;
        }
        let why = b
            .error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        out.push(f(
            Level::Warning,
            format!("Bootstrap peer {} has not answered{why}.", b.address),
            "Check the address with whoever runs it. If your network may be blocking it, ask for the hub's WebSocket address on port 443 (…/tcp/443/tls/ws), or route weft through a proxy with net.socks5.",
        ));
    }
    let answered = r.bootstrap.iter().filter(|b| b.answered).count();
    if answered > 0 {
        out.push(f(
            Level::Ok,
            format!(
                "{answered} of {} bootstrap peer(s) answered.",
                r.bootstrap.len()
            ),
            "",
        ));
    }

    if let Some(proxy) = &r.socks5 {
        out.push(f(
            Level::Ok,
            format!("Every connection goes through the SOCKS5 proxy at {proxy}; nothing is dialled directly, and QUIC and hole punching are off."),
            "The proxy hides your address from peers, not the fact that you use a proxy (see docs/censorship.md).",
        ));
    }
    if r.mdns && r.socks5.is_some() {
        out.push(f(
            Level::Warning,
            "mDNS is on while a proxy is set: this node announces itself on the local network.",
            "Set mdns = false in config.toml unless you want LAN peers to find you.",
        ));
    }
    if let Some(s) = &r.relay_server {
        out.push(f(
            Level::Ok,
            format!(
                "Relaying for peers behind NAT: {} reservation(s) of {}, {} open relayed connection(s) of {}.",
                s.reservations, s.max_reservations, s.circuits, s.max_circuits
            ),
            "",
        ));
    }
    ladder(r, &mut out);
    let p = &r.hole_punch;
    if p.upgraded > 0 {
        out.push(f(
            Level::Ok,
            format!(
                "{} relayed connection(s) became direct (hole punching).",
                p.upgraded
            ),
            "",
        ));
    } else if p.failed > 0 {
        out.push(f(
            Level::Info,
            format!(
                "Relayed connections could not be made direct ({} attempt(s)); transfers go through the relay, which is slower.",
                p.failed
            ),
            "Nothing to do; a node reachable from the internet, or a hub nearer to you, makes transfers faster.",
        ));
    }
    out
}

/// A way of the fallback ladder, for people.
fn way_words(way: &str) -> &str {
    match way {
        "direct" => "directly",
        "websocket" => "over WebSocket (port 443)",
        "relay" => "through a relay",
        other => other,
    }
}

/// What the fallback ladder tried for each bootstrap peer, what worked,
/// and what to do when nothing did.
fn ladder(r: &Reachability, out: &mut Vec<Finding>) {
    for l in &r.ladder {
        // One entry per address, with its last word on why it failed;
        // the peer id is said once, not after every address.
        let mut failed_at: Vec<(&str, &str, &str)> = Vec::new();
        for st in &l.steps {
            let Some(e) = st.error.as_deref() else {
                continue;
            };
            let addr = st
                .address
                .strip_suffix(&format!("/p2p/{}", l.peer_id))
                .unwrap_or(&st.address);
            match failed_at.iter_mut().find(|(_, a, _)| *a == addr) {
                Some(entry) => entry.2 = e,
                None => failed_at.push((&st.way, addr, e)),
            }
        }
        let failed: Vec<String> = failed_at
            .iter()
            .map(|(w, a, e)| format!("{} at {a} ({e})", way_words(w)))
            .collect();
        let tried = |w: &str| l.steps.iter().any(|s| s.way == w);
        match &l.way {
            _ if l.climbing => out.push(f(
                Level::Info,
                format!(
                    "Still trying to reach {}{}.",
                    l.peer_id,
                    if failed.is_empty() {
                        String::new()
                    } else {
                        format!("; failed so far: {}", failed.join("; "))
                    }
                ),
                "",
            )),
            Some(way) if !failed.is_empty() => out.push(f(
                Level::Ok,
                format!(
                    "Reached {} {} after these failed: {}. That way is tried first next time.",
                    l.peer_id,
                    way_words(way),
                    failed.join("; ")
                ),
                "",
            )),
            Some(_) => {}
            None => out.push(f(
                Level::Problem,
                format!(
                    "Could not reach {} any way: {}.",
                    l.peer_id,
                    if failed.is_empty() {
                        "it has no address this node can dial".to_string()
                    } else {
                        failed.join("; ")
                    }
                ),
                if !tried("websocket") {
                    "Ask whoever runs it for an invite with its WebSocket address on port 443 (…/tcp/443/tls/ws), or route weft through Tor with net.socks5 = \"127.0.0.1:9050\"."
                } else if !tried("relay") {
                    "Ask whoever runs it for an invite with a relayed address (its operator lists relays in net.relays), or route weft through Tor with net.socks5 = \"127.0.0.1:9050\"."
                } else {
                    "Every way in the invite failed: the hub may be down, or this network blocks it and its relays. Ask for a fresh invite, or route weft through Tor with net.socks5 = \"127.0.0.1:9050\"."
                },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{BootstrapInfo, ReservationInfo};

    fn base() -> Reachability {
        Reachability {
            listen_addrs: vec!["/ip4/10.0.0.2/tcp/4141".into()],
            peers: 1,
            nat: NatStatus::Unknown,
            ..Reachability::default()
        }
    }

    fn has(list: &[Finding], level: Level, text: &str) -> bool {
        list.iter()
            .any(|f| f.level == level && f.finding.contains(text))
    }

    #[test]
    fn alone_and_unreachable_says_what_to_do() {
        let mut r = base();
        r.peers = 0;
        r.nat = NatStatus::Private;
        r.bootstrap = vec![BootstrapInfo {
            address: "/ip4/192.0.2.1/tcp/4141".into(),
            answered: false,
            connected: false,
            error: Some("connection refused".into()),
        }];
        let list = findings(&r);
        assert!(has(&list, Level::Problem, "Not connected"));
        assert!(has(&list, Level::Warning, "behind a NAT"));
        assert!(has(&list, Level::Warning, "connection refused"));
        assert!(list
            .iter()
            .filter(|f| f.level != Level::Ok)
            .all(|f| !f.suggestion.is_empty() || f.level == Level::Info));
    }

    #[test]
    fn the_ladder_says_what_failed_what_worked_and_what_next() {
        use crate::net::ladder::{LadderReport, LadderStep};
        let step = |way: &str, error: Option<&str>| LadderStep {
            address: format!("/ip4/192.0.2.1/{way}"),
            error: error.map(String::from),
            way: way.into(),
        };
        let mut r = base();
        r.ladder = vec![
            LadderReport {
                climbing: false,
                peer_id: "hub-a".into(),
                steps: vec![
                    step("direct", Some("timed out")),
                    step("websocket", Some("refused")),
                    step("relay", None),
                ],
                way: Some("relay".into()),
            },
            LadderReport {
                climbing: false,
                peer_id: "hub-b".into(),
                steps: vec![step("direct", Some("timed out"))],
                way: None,
            },
        ];
        let list = findings(&r);
        assert!(has(&list, Level::Ok, "Reached hub-a through a relay after these failed: directly at /ip4/192.0.2.1/direct (timed out); over WebSocket (port 443)"));
        let b = list.iter().find(|f| f.finding.contains("hub-b")).unwrap();
        assert_eq!(b.level, Level::Problem);
        assert!(
            b.suggestion.contains("WebSocket address on port 443"),
            "{b:?}"
        );
    }

    #[test]
    fn a_hidden_node_says_who_sees_its_address() {
        let mut r = base();
        r.hidden = true;
        r.listen_addrs.clear();
        assert!(ip_visibility(&r).contains("no relay holds a slot"));
        let list = findings(&r);
        assert!(has(&list, Level::Warning, "Hidden, but no relay"));
        assert!(!has(&list, Level::Warning, "not listening on any address"));
        r.reservations = vec![ReservationInfo {
            relay: "12D3KooWHub".into(),
            address: "/ip4/192.0.2.1/tcp/4141/p2p/12D3KooWHub/p2p-circuit".into(),
            accepted: true,
        }];
        let says = ip_visibility(&r);
        assert!(
            says.starts_with("Hidden mode") && says.contains("12D3KooWHub"),
            "{says}"
        );
        assert!(has(
            &findings(&r),
            Level::Ok,
            "1 relay(s) carry every connection"
        ));
    }

    #[test]
    fn relayed_and_proxied_nodes_are_told_so() {
        let mut r = base();
        r.nat = NatStatus::Private;
        r.reservations = vec![ReservationInfo {
            relay: "12D3KooW".into(),
            address: "/ip4/192.0.2.1/tcp/4141/p2p/12D3KooW/p2p-circuit".into(),
            accepted: true,
        }];
        r.socks5 = Some("127.0.0.1:9050".into());
        r.mdns = true;
        r.connections.insert("tcp via socks5".into(), 1);
        let list = findings(&r);
        assert!(has(&list, Level::Ok, "reachable through 1 relay"));
        assert!(has(&list, Level::Ok, "SOCKS5 proxy at 127.0.0.1:9050"));
        assert!(has(&list, Level::Warning, "mDNS is on"));
        assert!(has(&list, Level::Ok, "1 over tcp via socks5"));
    }
}
