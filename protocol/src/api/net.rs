//! The network routes: peers, doctor, connect, invite, join, providers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::BundleId;

/// `GET /v1/peers`: the peers connected now. `weft peers` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeersResponse {
    /// One per connected peer.
    pub peers: Vec<PeerInfo>,
}

/// One connected peer, in `GET /v1/peers` (the daemon's `net::PeerInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The address of the connection this node uses for it: the best one
    /// (direct TCP, then WebSocket, then QUIC, then relayed).
    pub address: String,
    /// Its agent version, once identify has run; null before.
    pub agent: Option<String>,
    /// The addresses it announces (identify's listen addresses), once
    /// identify has run: what this node, its peer book and its DHT
    /// answers know of where it is.
    #[serde(default)]
    pub announced: Vec<String>,
    /// Every open connection to it.
    #[serde(default)]
    pub connections: Vec<ConnectionInfo>,
    /// Whether this node dialled it.
    pub outbound: bool,
    /// The peer's libp2p id.
    pub peer_id: String,
    /// Every connection to it is relayed: its bytes go through a relay.
    #[serde(default)]
    pub relayed: bool,
    /// Its gossipsub score as this node sees it; null when unknown.
    pub score: Option<f64>,
    /// `tcp`, `quic`, `websocket`, `websocket+tls` or `relayed`, with
    /// ` via socks5` appended through a proxy: the best connection's.
    pub transport: String,
}

/// One connection to a peer, in [`PeerInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// The far end's address.
    pub address: String,
    /// Whether this node dialled it.
    pub outbound: bool,
    /// Whether it goes through a relay (`false`: direct).
    pub relayed: bool,
    /// As [`PeerInfo::transport`].
    pub transport: String,
}

/// `GET /v1/doctor`: what the node can reach and how, with findings.
/// `weft doctor` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorResponse {
    /// What the facts mean, each with a suggestion.
    pub findings: Vec<Finding>,
    /// One sentence: who can see this node's IP address, in the mode it
    /// runs in.
    #[serde(default)]
    pub ip_visibility: String,
    /// The facts.
    pub reachability: Reachability,
}

/// `reachability` of `GET /v1/doctor` (the daemon's `net::Reachability`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// Bootstrap peers (config, `--peer`, `weft join`), sorted by address.
    pub bootstrap: Vec<BootstrapInfo>,
    /// Open connections per transport label (`tcp`, `quic`, `websocket`,
    /// `websocket+tls`, `relayed`, each maybe with ` via socks5`).
    pub connections: BTreeMap<String, u64>,
    /// Addresses other nodes are told to use: confirmed or relayed.
    pub external_addrs: Vec<String>,
    /// Hidden mode (`net.privacy = "hidden"`): no listener, no own
    /// addresses announced, direct connections only to the given hubs
    /// and relays.
    #[serde(default)]
    pub hidden: bool,
    /// Hole punching since start.
    pub hole_punch: HolePunch,
    /// The fallback ladder per bootstrap peer: the ways tried, in order,
    /// and the way that worked.
    #[serde(default)]
    pub ladder: Vec<LadderReport>,
    /// Addresses the node listens on, relayed ones included.
    pub listen_addrs: Vec<String>,
    /// Whether mDNS runs.
    pub mdns: bool,
    /// What peers dialling back found.
    pub nat: NatStatus,
    /// The address a peer reached this node on, when `public`; else null.
    pub nat_address: Option<String>,
    /// This node's peer id.
    pub peer_id: String,
    /// Connected peers.
    pub peers: u64,
    /// This node's own relay, when `relay = true`; else null.
    pub relay_server: Option<RelayServerInfo>,
    /// Reservations on relays, when behind NAT.
    pub reservations: Vec<ReservationInfo>,
    /// The SOCKS5 proxy every dial goes through; null when none.
    pub socks5: Option<String>,
}

/// `nat` of [`Reachability`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NatStatus {
    /// No peer has dialled back yet.
    #[default]
    Unknown,
    /// Peers reach this node directly.
    Public,
    /// Peers cannot dial this node.
    Private,
}

/// One relay reservation, in [`Reachability`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationInfo {
    /// Whether the relay accepted.
    pub accepted: bool,
    /// This node's address through the relay.
    pub address: String,
    /// The relay's peer id.
    pub relay: String,
}

/// `relay_server` of [`Reachability`]: this node's relay's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayServerInfo {
    /// Relayed connections open now.
    pub circuits: u64,
    /// Relayed connections since start.
    pub circuits_total: u64,
    /// The configured limit of bytes per circuit.
    pub max_circuit_bytes: u64,
    /// The configured limit of circuits.
    pub max_circuits: u64,
    /// The configured limit of reservations.
    pub max_reservations: u64,
    /// Peers holding a reservation.
    pub reservations: u64,
}

/// One bootstrap peer, in [`Reachability`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    /// Its address, or its peer id for one from `weft join`.
    pub address: String,
    /// Connected at least once since start.
    pub answered: bool,
    /// Connected now.
    pub connected: bool,
    /// The last dial error, if it has not answered; else null.
    pub error: Option<String>,
}

/// How this node last reached (or failed to reach) one bootstrap peer, in
/// [`Reachability`]: ways are tried directly first, then WebSocket
/// (port 443), then through a relay; each next way starts when the last
/// failed or after a few seconds, and the way that worked goes first
/// next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderReport {
    /// Still trying.
    pub climbing: bool,
    /// The peer.
    pub peer_id: String,
    /// Each dial that ended, in the order they ended.
    pub steps: Vec<LadderStep>,
    /// `direct`, `websocket` or `relay`: the way that worked; null when
    /// none has (yet).
    pub way: Option<String>,
}

/// One dial of a [`LadderReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderStep {
    /// The address dialled.
    pub address: String,
    /// Why it failed; null when it connected.
    pub error: Option<String>,
    /// `direct`, `websocket` or `relay`.
    pub way: String,
}

/// `hole_punch` of [`Reachability`]: results since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolePunch {
    /// Attempts that failed.
    pub failed: u64,
    /// Why the last attempt failed; null when none did.
    pub last_error: Option<String>,
    /// Relayed connections upgraded to direct ones.
    pub upgraded: u64,
}

/// One finding of `GET /v1/doctor` (the daemon's `doctor::Finding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found, for a person.
    pub finding: String,
    /// How much it matters.
    pub level: FindingLevel,
    /// What to do, in plain words; empty when nothing needs doing.
    pub suggestion: String,
}

/// `level` of a [`Finding`] (the daemon's `doctor::Level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingLevel {
    /// Working as it should.
    Ok,
    /// Worth knowing; nothing is broken.
    Info,
    /// Something limits what the node can do.
    Warning,
    /// The node cannot share until this is fixed.
    Problem,
}

/// `POST /v1/connect`: the peer that answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectResponse {
    /// Its libp2p peer id.
    pub peer_id: String,
}

/// `GET /v1/invite`: an invite another node can join with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteResponse {
    /// The addresses it carries (at most 8), each ending in `/p2p/<peer>`.
    pub addrs: Vec<String>,
    /// The invite: `WEFT1` and base32.
    pub invite: String,
    /// The private network's key fingerprint when the node is in one;
    /// null on the open network.
    pub network: Option<String>,
    /// This node's publisher, which the invite carries so that joining
    /// names it; null when it has none.
    #[serde(default)]
    pub publisher: Option<crate::PublisherId>,
}

/// `POST /v1/join`: the invite's addresses that answered and those that
/// did not (the route fails when none answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    /// Addresses that could not be reached, with why.
    pub failed: Vec<FailedAddr>,
    /// Addresses joined.
    pub joined: Vec<JoinedAddr>,
    /// The inviter's publisher, named as the invite (or the request)
    /// says; null when the invite carries no publisher.
    #[serde(default)]
    pub named: Option<super::NamedPublisher>,
}

/// One address of an invite that answered, in [`JoinResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedAddr {
    /// The multiaddr dialled.
    pub addr: String,
    /// The peer that answered.
    pub peer_id: String,
}

/// One address of an invite that did not answer, in [`JoinResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedAddr {
    /// The multiaddr; null when the invite held bytes that are not one.
    pub addr: Option<String>,
    /// Why it failed.
    pub error: String,
}

/// `GET /v1/providers/{id}`: the nodes the DHT says hold a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidersResponse {
    /// The bundle asked about.
    pub id: BundleId,
    /// Their peer ids; empty when the DHT knows none.
    pub providers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{
        api_example, bid, check, cli_row_keys, doc_example, hex, keys_of, pid,
    };
    use crate::api::{ConnectBody, JoinBody};

    #[test]
    fn peers_match_the_daemon() {
        let p = PeersResponse {
            peers: vec![
                PeerInfo {
                    address: "/ip4/198.51.100.7/tcp/4141".into(),
                    agent: Some("weft/0.1.0".into()),
                    announced: vec!["/ip4/198.51.100.7/tcp/4141".into()],
                    outbound: true,
                    peer_id: "12D3KooWRelay".into(),
                    score: Some(-1.5),
                    transport: "tcp".into(),
                    relayed: false,
                    connections: vec![ConnectionInfo {
                        address: "/ip4/198.51.100.7/tcp/4141".into(),
                        outbound: true,
                        relayed: false,
                        transport: "tcp".into(),
                    }],
                },
                PeerInfo {
                    address: "/p2p/12D3KooWX".into(),
                    agent: None,
                    announced: vec![],
                    outbound: false,
                    peer_id: "12D3KooWX".into(),
                    score: None,
                    transport: "relayed".into(),
                    relayed: true,
                    connections: vec![],
                },
            ],
        };
        // api.rs `peers`: `json!({ "peers": list })` of `net::PeerInfo`.
        let expected = json!({"peers": [
            {"peer_id": "12D3KooWRelay", "address": "/ip4/198.51.100.7/tcp/4141",
             "transport": "tcp", "outbound": true, "agent": "weft/0.1.0", "score": -1.5,
             "announced": ["/ip4/198.51.100.7/tcp/4141"],
             "relayed": false, "connections": [{"address": "/ip4/198.51.100.7/tcp/4141",
             "outbound": true, "relayed": false, "transport": "tcp"}]},
            {"peer_id": "12D3KooWX", "address": "/p2p/12D3KooWX", "transport": "relayed",
             "outbound": false, "agent": null, "score": null, "relayed": true, "announced": [],
             "connections": []},
        ]});
        check(&p, expected);
    }

    fn doctor() -> DoctorResponse {
        DoctorResponse {
            findings: vec![Finding {
                finding: "Connected to 3 peer(s).".into(),
                level: FindingLevel::Ok,
                suggestion: String::new(),
            }],
            ip_visibility: "Every peer sees it.".into(),
            reachability: Reachability {
                bootstrap: vec![BootstrapInfo {
                    address: "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay".into(),
                    answered: false,
                    connected: false,
                    error: Some("connection refused".into()),
                }],
                connections: [("relayed".to_string(), 1), ("tcp".to_string(), 2)].into(),
                external_addrs: vec!["/ip4/203.0.113.9/tcp/4141".into()],
                hidden: false,
                hole_punch: HolePunch {
                    failed: 2,
                    last_error: Some("timeout".into()),
                    upgraded: 1,
                },
                ladder: vec![LadderReport {
                    climbing: false,
                    peer_id: "12D3KooWRelay".into(),
                    steps: vec![
                        LadderStep {
                            address: "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay".into(),
                            error: Some("connection refused".into()),
                            way: "direct".into(),
                        },
                        LadderStep {
                            address: "/ip4/198.51.100.7/tcp/443/tls/ws/p2p/12D3KooWRelay".into(),
                            error: None,
                            way: "websocket".into(),
                        },
                    ],
                    way: Some("websocket".into()),
                }],
                listen_addrs: vec!["/ip4/192.168.1.20/tcp/4141".into()],
                mdns: true,
                nat: NatStatus::Public,
                nat_address: Some("/ip4/203.0.113.9/tcp/4141".into()),
                peer_id: "12D3KooWGzh8".into(),
                peers: 3,
                relay_server: Some(RelayServerInfo {
                    circuits: 1,
                    circuits_total: 2,
                    max_circuit_bytes: 3,
                    max_circuits: 4,
                    max_reservations: 5,
                    reservations: 6,
                }),
                reservations: vec![ReservationInfo {
                    accepted: true,
                    address: "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay/p2p-circuit".into(),
                    relay: "12D3KooWRelay".into(),
                }],
                socks5: None,
            },
        }
    }

    #[test]
    fn doctor_matches_the_daemon() {
        // api.rs `doctor`: `json!({ "reachability": reach, "findings": findings })`
        // of `net::Reachability` and `doctor::Finding`.
        let expected = json!({
            "reachability": {
                "peer_id": "12D3KooWGzh8",
                "listen_addrs": ["/ip4/192.168.1.20/tcp/4141"],
                "external_addrs": ["/ip4/203.0.113.9/tcp/4141"],
                "nat": "public",
                "nat_address": "/ip4/203.0.113.9/tcp/4141",
                "reservations": [{"relay": "12D3KooWRelay",
                    "address": "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay/p2p-circuit",
                    "accepted": true}],
                "relay_server": {"reservations": 6, "circuits": 1, "circuits_total": 2,
                    "max_reservations": 5, "max_circuits": 4, "max_circuit_bytes": 3},
                "connections": {"tcp": 2, "relayed": 1},
                "peers": 3,
                "bootstrap": [{"address": "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay",
                    "answered": false, "connected": false, "error": "connection refused"}],
                "socks5": null,
                "hole_punch": {"upgraded": 1, "failed": 2, "last_error": "timeout"},
                "mdns": true,
                "hidden": false,
                "ladder": [{"peer_id": "12D3KooWRelay", "climbing": false, "way": "websocket",
                    "steps": [
                        {"address": "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay",
                         "error": "connection refused", "way": "direct"},
                        {"address": "/ip4/198.51.100.7/tcp/443/tls/ws/p2p/12D3KooWRelay",
                         "error": null, "way": "websocket"}]}],
            },
            "findings": [{"level": "ok", "finding": "Connected to 3 peer(s).", "suggestion": ""}],
            "ip_visibility": "Every peer sees it.",
        });
        check(&doctor(), expected);
    }

    #[test]
    fn every_level_and_nat_status_is_lowercase() {
        for (l, s) in [
            (FindingLevel::Ok, "ok"),
            (FindingLevel::Info, "info"),
            (FindingLevel::Warning, "warning"),
            (FindingLevel::Problem, "problem"),
        ] {
            check(&l, json!(s));
        }
        for (n, s) in [
            (NatStatus::Unknown, "unknown"),
            (NatStatus::Public, "public"),
            (NatStatus::Private, "private"),
        ] {
            check(&n, json!(s));
        }
        let mut d = doctor();
        d.reachability.relay_server = None;
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["reachability"]["relay_server"], json!(null));
    }

    #[test]
    fn connect_invite_join_and_providers_match_the_daemon() {
        check(
            &ConnectResponse {
                peer_id: "12D3KooWRelay".into(),
            },
            json!({ "peer_id": "12D3KooWRelay" }),
        );
        let invite = InviteResponse {
            addrs: vec!["/ip4/192.168.1.20/tcp/4141/p2p/12D3KooWGzh8".into()],
            invite: "WEFT1ABC".into(),
            network: None,
            publisher: Some(pid(2)),
        };
        check(
            &invite,
            json!({
                "invite": "WEFT1ABC",
                "addrs": ["/ip4/192.168.1.20/tcp/4141/p2p/12D3KooWGzh8"],
                "network": None::<String>,
                "publisher": hex(2),
            }),
        );
        let join = JoinResponse {
            failed: vec![
                FailedAddr {
                    addr: None,
                    error: "not a multiaddr: bad".into(),
                },
                FailedAddr {
                    addr: Some("/ip4/192.0.2.1/tcp/1".into()),
                    error: "no answer within 20 seconds".into(),
                },
            ],
            joined: vec![JoinedAddr {
                addr: "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay".into(),
                peer_id: "12D3KooWRelay".into(),
            }],
            named: None,
        };
        // api.rs `join`, the three shapes it pushes.
        let joined = vec![json!({
            "addr": "/ip4/198.51.100.7/tcp/4141/p2p/12D3KooWRelay",
            "peer_id": "12D3KooWRelay",
        })];
        let failed = vec![
            json!({"addr": null, "error": "not a multiaddr: bad"}),
            json!({"addr": "/ip4/192.0.2.1/tcp/1", "error": "no answer within 20 seconds"}),
        ];
        check(
            &join,
            json!({ "joined": joined, "failed": failed, "named": null }),
        );
        let providers = ProvidersResponse {
            id: bid(1),
            providers: vec!["12D3KooWRelay".into()],
        };
        check(
            &providers,
            json!({"id": hex(1), "providers": ["12D3KooWRelay"]}),
        );
    }

    #[test]
    fn the_documented_network_examples_read() {
        let peers: PeersResponse = doc_example(&api_example("### `GET /v1/peers`", 0), &[]);
        assert_eq!(peers.peers[0].score, Some(0.0));
        let doctor: DoctorResponse = doc_example(&api_example("### `GET /v1/doctor`", 0), &[]);
        assert_eq!(doctor.reachability.nat, NatStatus::Private);
        let connect = "### `POST /v1/connect`";
        let body: ConnectBody = serde_json::from_str(&api_example(connect, 0)).unwrap();
        assert!(body.addr.starts_with("/ip4/"));
        let _: ConnectResponse = doc_example(&api_example(connect, 1), &[]);
        let _: InviteResponse = doc_example(&api_example("### `GET /v1/invite`", 0), &[]);
        let join: JoinResponse = doc_example(&api_example("### `POST /v1/join`", 0), &[]);
        assert_eq!(join.failed.len(), 1);
        let _: ProvidersResponse =
            doc_example(&api_example("### `GET /v1/providers/{id}`", 0), &[]);
        // The body of `POST /v1/join` has no example; its one field is
        // refused when misspelt.
        assert!(serde_json::from_str::<JoinBody>(r#"{"invitation": "WEFT1"}"#).is_err());
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        let connect = ConnectResponse {
            peer_id: String::new(),
        };
        assert_eq!(cli_row_keys("weft connect"), keys_of(&connect));
        let providers = ProvidersResponse {
            id: bid(1),
            providers: vec![],
        };
        assert_eq!(cli_row_keys("weft providers"), keys_of(&providers));
        let invite = InviteResponse {
            addrs: vec![],
            invite: String::new(),
            network: None,
            publisher: None,
        };
        assert_eq!(cli_row_keys("weft invite"), keys_of(&invite));
        let join = JoinResponse {
            failed: vec![],
            joined: vec![],
            named: None,
        };
        assert_eq!(cli_row_keys("weft join"), keys_of(&join));
        let peers = PeersResponse { peers: vec![] };
        assert_eq!(cli_row_keys("weft peers"), keys_of(&peers));
        let doctor = doctor();
        assert_eq!(cli_row_keys("weft doctor"), keys_of(&doctor));
    }
}
