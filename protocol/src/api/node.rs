//! `GET /v1/status`: the node at a glance.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{BundleId, PublisherId};

/// `GET /v1/status`: identity, addresses, counts, storage, fetches under
/// way, warnings and counters. `weft status` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// The API's address, as in `api.addr` (`127.0.0.1:4142`).
    pub api: String,
    /// Complete bundles held.
    pub bundles: u64,
    /// Catalog entries known; an estimate while `catalog_loading`.
    pub catalog: u64,
    /// The catalog index is still loading after a start.
    pub catalog_loading: bool,
    /// Catalog entries of publishers in the seen tier (neither trusted,
    /// vouched nor blocked).
    pub catalog_unknown: u64,
    /// The most such entries the catalog keeps (`trust.unknown_entries`).
    pub catalog_unknown_max: u64,
    /// Peers connected now.
    pub connected_peers: u64,
    /// Counters since the daemon started.
    pub counters: Counters,
    /// The data dir.
    pub data_dir: PathBuf,
    /// Bundles being fetched now (by a request or by mirroring).
    pub fetching: Vec<BundleId>,
    /// The same bundles, with what the catalog knows of them.
    pub fetching_bundles: Vec<FetchingBundle>,
    /// The public gateway's address, from `gateway.addr` in the data dir;
    /// null when the gateway is off.
    pub gateway: Option<String>,
    /// Fetches recorded as unfinished in the store, including those under
    /// way now.
    pub interrupted_fetches: Vec<BundleId>,
    /// Multiaddrs the node listens on.
    pub listen_addrs: Vec<String>,
    /// Whether mDNS looks for peers on the LAN.
    pub mdns: bool,
    /// The private network's key fingerprint (hex); null on the open
    /// network.
    pub network: Option<String>,
    /// Peers remembered from earlier connections.
    pub peer_book: u64,
    /// This node's libp2p peer id.
    pub peer_id: String,
    /// Pins.
    pub pins: u64,
    /// This node's publisher id; null when it has no publisher key.
    pub publisher: Option<PublisherId>,
    /// The publisher key is sealed and the daemon was not unlocked at
    /// start: requests that sign must carry `passphrase`.
    pub publisher_locked: bool,
    /// Storage figures.
    pub storage: StorageStatus,
    /// The daemon's version.
    pub version: String,
    /// What needs attention (mirroring paused, pins over the quota); empty
    /// when all is well.
    pub warnings: Vec<String>,
}

/// `storage` of `GET /v1/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStatus {
    /// Of `used`, the bytes cached (evictable).
    pub cached: u64,
    /// Bytes the store takes on disk.
    pub disk: u64,
    /// The quota (`storage.max`); null when there is none.
    pub max: Option<u64>,
    /// Of `used`, the bytes pinned.
    pub pinned: u64,
    /// Content bytes of every bundle held.
    pub used: u64,
}

/// One of `fetching_bundles` in `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchingBundle {
    /// The bundle being fetched.
    pub id: BundleId,
    /// Its name; null when the catalog does not know the bundle.
    pub name: Option<String>,
    /// Its total bytes; null likewise.
    pub size: Option<u64>,
}

/// `entries_dropped` of [`Counters`]: valid catalog entries (announcements
/// and retractions, by gossip or catch-up) that were not kept, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntriesDropped {
    /// Signed by a blocked publisher.
    pub blocked: u64,
    /// The unknown publishers' share of the catalog was full of entries
    /// that could not be evicted.
    pub catalog_full: u64,
    /// Evicted earlier to make room, or refused earlier for a quota, and
    /// not taken back.
    pub evicted_before: u64,
    /// Dated further ahead than the allowed clock skew.
    pub future: u64,
    /// The sending peer was over its rate for unknown publishers.
    pub peer_rate: u64,
    /// The publisher, unknown to this node, was over its own quota.
    pub publisher_quota: u64,
    /// Gossip arrived faster than it could be checked.
    pub queue_full: u64,
    /// Signed by a revoked device or former root, and not kept.
    pub revoked: u64,
    /// Signed by a key the identity has not certified (as far as this
    /// node knows yet).
    pub unknown_signer: u64,
}

impl EntriesDropped {
    /// Every count, with its name.
    pub fn by_reason(&self) -> [(&'static str, u64); 9] {
        [
            ("blocked", self.blocked),
            ("catalog full", self.catalog_full),
            ("evicted before", self.evicted_before),
            ("dated in the future", self.future),
            ("peer over its rate", self.peer_rate),
            ("publisher over its quota", self.publisher_quota),
            ("validation queue full", self.queue_full),
            ("signed by a revoked key", self.revoked),
            ("signer not certified", self.unknown_signer),
        ]
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.by_reason().iter().map(|(_, n)| n).sum()
    }
}

/// `counters` of `GET /v1/status`: counts since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Blocks fetched from peers and verified.
    pub blobs_fetched: u64,
    /// Blobs served to peers.
    pub blobs_served: u64,
    /// Stored blocks found damaged on read.
    pub blocks_damaged: u64,
    /// Verified bytes fetched from peers.
    pub bytes_fetched: u64,
    /// Bytes this node sent and received over relayed connections (its
    /// own traffic through relays, both ways, encrypted, framing
    /// included).
    #[serde(default)]
    pub bytes_relayed: u64,
    /// Bytes served to peers.
    pub bytes_served: u64,
    /// Chunks or indexes from peers that did not match their hash.
    pub chunks_rejected: u64,
    /// Valid catalog entries not kept, by reason.
    pub entries_dropped: EntriesDropped,
    /// Entries of unknown publishers evicted to make room for newer ones.
    pub entries_evicted: u64,
    /// Gossip announcements accepted.
    pub gossip_accepted: u64,
    /// Gossip messages refused.
    pub gossip_rejected: u64,
    /// Manifests from peers that did not decode, verify or match their id.
    pub manifests_rejected: u64,
    /// Peers disconnected and banned for sending bad data.
    pub peers_punished: u64,
    /// Provider records (one per held bundle) published to the DHT.
    pub providers_published: u64,
    /// Inbound requests refused over a limit.
    pub requests_refused: u64,
    /// Catalog reconciliation bytes received.
    pub sync_bytes_received: u64,
    /// Catalog reconciliation bytes sent.
    pub sync_bytes_sent: u64,
    /// Catalog entries learnt by reconciliation.
    pub sync_entries_added: u64,
    /// Catalog entries from reconciliation that failed verification.
    pub sync_entries_rejected: u64,
    /// Reconciliation sessions this node started.
    pub sync_sessions: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, bid, check, cli_row_keys, doc_example, hex, pid};

    fn counters() -> Counters {
        Counters {
            blobs_fetched: 1,
            blobs_served: 2,
            blocks_damaged: 3,
            bytes_fetched: 4,
            bytes_relayed: 21,
            bytes_served: 5,
            chunks_rejected: 6,
            entries_dropped: EntriesDropped {
                blocked: 1,
                catalog_full: 2,
                evicted_before: 3,
                future: 4,
                peer_rate: 5,
                publisher_quota: 6,
                queue_full: 7,
                revoked: 18,
                unknown_signer: 19,
            },
            entries_evicted: 17,
            gossip_accepted: 7,
            gossip_rejected: 8,
            manifests_rejected: 9,
            peers_punished: 10,
            providers_published: 20,
            requests_refused: 11,
            sync_bytes_received: 12,
            sync_bytes_sent: 13,
            sync_entries_added: 14,
            sync_entries_rejected: 15,
            sync_sessions: 16,
        }
    }

    /// metrics.rs `snapshot`, for the same counts.
    fn daemon_counters() -> serde_json::Value {
        json!({
            "entries_dropped": {
                "blocked": 1,
                "catalog_full": 2,
                "evicted_before": 3,
                "future": 4,
                "peer_rate": 5,
                "publisher_quota": 6,
                "queue_full": 7,
                "revoked": 18,
                "unknown_signer": 19,
            },
            "entries_evicted": 17,
            "gossip_accepted": 7,
            "gossip_rejected": 8,
            "chunks_rejected": 6,
            "manifests_rejected": 9,
            "peers_punished": 10,
            "providers_published": 20,
            "blobs_served": 2,
            "bytes_served": 5,
            "bytes_fetched": 4,
            "bytes_relayed": 21,
            "blobs_fetched": 1,
            "requests_refused": 11,
            "blocks_damaged": 3,
            "sync_sessions": 16,
            "sync_entries_added": 14,
            "sync_entries_rejected": 15,
            "sync_bytes_sent": 13,
            "sync_bytes_received": 12,
        })
    }

    fn status() -> StatusResponse {
        StatusResponse {
            api: "127.0.0.1:4142".into(),
            bundles: 12,
            catalog: 4210,
            catalog_loading: false,
            catalog_unknown: 310,
            catalog_unknown_max: 10_000,
            connected_peers: 3,
            counters: counters(),
            data_dir: "/home/ana/.local/share/weft".into(),
            fetching: vec![bid(1)],
            fetching_bundles: vec![
                FetchingBundle {
                    id: bid(1),
                    name: Some("water-guide".into()),
                    size: Some(52_428_800),
                },
                FetchingBundle {
                    id: bid(4),
                    name: None,
                    size: None,
                },
            ],
            gateway: None,
            interrupted_fetches: vec![bid(1), bid(4)],
            listen_addrs: vec!["/ip4/127.0.0.1/tcp/4141".into()],
            mdns: true,
            network: Some("00112233445566778899aabbccddeeff".into()),
            peer_book: 27,
            peer_id: "12D3KooWGzh8".into(),
            pins: 9,
            publisher: Some(pid(2)),
            publisher_locked: true,
            storage: StorageStatus {
                cached: 1,
                disk: 2,
                max: None,
                pinned: 3,
                used: 4,
            },
            version: "0.1.0".into(),
            warnings: vec!["mirroring is paused".into()],
        }
    }

    #[test]
    fn counters_match_the_snapshot() {
        check(&counters(), daemon_counters());
    }

    #[test]
    fn status_matches_the_daemon() {
        // api.rs `status`, for the same data.
        let fetching_bundles = vec![
            json!({"id": hex(1), "name": Some("water-guide"), "size": Some(52_428_800u64)}),
            json!({"id": hex(4), "name": None::<String>, "size": None::<u64>}),
        ];
        let expected = json!({
            "fetching_bundles": fetching_bundles,
            "gateway": None::<String>,
            "storage": {
                "used": 4, "pinned": 3, "cached": 1,
                "max": None::<u64>, "disk": 2,
            },
            "fetching": [hex(1)],
            "interrupted_fetches": [hex(1), hex(4)],
            "warnings": ["mirroring is paused"],
            "version": "0.1.0",
            "peer_id": "12D3KooWGzh8",
            "listen_addrs": ["/ip4/127.0.0.1/tcp/4141"],
            "connected_peers": 3,
            "api": "127.0.0.1:4142",
            "data_dir": "/home/ana/.local/share/weft",
            "publisher": Some(hex(2)),
            "publisher_locked": true,
            "bundles": 12,
            "catalog": 4210,
            "catalog_loading": false,
            "catalog_unknown": 310,
            "catalog_unknown_max": 10_000,
            "pins": 9,
            "peer_book": 27,
            "network": Some("00112233445566778899aabbccddeeff"),
            "mdns": true,
            "counters": daemon_counters(),
        });
        check(&status(), expected);
    }

    #[test]
    fn a_quota_and_a_gateway_are_numbers_and_strings() {
        let mut s = status();
        s.storage.max = Some(214_748_364_800);
        s.gateway = Some("0.0.0.0:8080".into());
        s.publisher = None;
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["storage"]["max"], json!(214_748_364_800u64));
        assert_eq!(v["gateway"], json!("0.0.0.0:8080"));
        assert_eq!(v["publisher"], json!(null));
    }

    #[test]
    fn the_documented_status_reads() {
        let s: StatusResponse = doc_example(&api_example("### `GET /v1/status`", 0), &[]);
        assert_eq!(s.counters.sync_sessions, 14);
        // `weft status` prints the response as is: the row names no key.
        assert!(cli_row_keys("weft status").is_empty());
    }
}
