//! `GET /metrics`: the node's figures for Prometheus, in the OpenMetrics
//! text format (Prometheus's own text format, version 1.0.0), encoded by
//! the Prometheus project's Rust client.
//!
//! It is served on the local API (with the token, like every route), and,
//! when `metrics.listen` is set, on a listener of its own without a token,
//! for a scraper on another machine (see `docs/hub.md`, which lists every
//! metric). The figures are the ones `GET /v1/status` and `GET /v1/doctor`
//! give, read at each scrape: nothing is counted twice.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use weft_protocol::api::{Reachability, StatusResponse};

use crate::error::NodeError;
use crate::http::error::ApiError;
use crate::http::ApiState;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

fn gauge(v: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    g
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

/// The exposition of `s` and `r`.
pub fn exposition(s: &StatusResponse, r: &Reachability) -> String {
    let mut reg = Registry::with_prefix("weft");
    let c = &s.counters;

    // An info metric: `weft_build_info{version="…"} 1`.
    reg.register(
        "build",
        "The daemon's version, as a label",
        prometheus_client::metrics::info::Info::new(vec![(
            "version".to_string(),
            s.version.clone(),
        )]),
    );

    // Peers and connections.
    reg.register("peers", "Peers connected now", gauge(s.connected_peers));
    let by_transport = Family::<Labels, Gauge>::default();
    for (transport, n) in &r.connections {
        by_transport
            .get_or_create(&vec![("transport".into(), transport.clone())])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    reg.register(
        "connections",
        "Open connections by transport (tcp, quic, websocket, websocket+tls, relayed; with \" via socks5\" through a proxy)",
        by_transport,
    );
    reg.register(
        "peer_book_peers",
        "Peers remembered in the peer book",
        gauge(s.peer_book),
    );
    let punches = Family::<Labels, Counter>::default();
    punches
        .get_or_create(&vec![("result".into(), "upgraded".into())])
        .inc_by(r.hole_punch.upgraded);
    punches
        .get_or_create(&vec![("result".into(), "failed".into())])
        .inc_by(r.hole_punch.failed);
    reg.register(
        "hole_punches",
        "Hole-punching attempts since start, by result",
        punches,
    );
    if let Some(relay) = &r.relay_server {
        reg.register(
            "relay_reservations",
            "Peers holding a slot on this node's relay",
            gauge(relay.reservations),
        );
        reg.register(
            "relay_circuits",
            "Relayed connections open through this node's relay",
            gauge(relay.circuits),
        );
        reg.register(
            "relay_circuits_opened",
            "Relayed connections opened through this node's relay since start",
            counter(relay.circuits_total),
        );
    }

    // Bytes in and out.
    for (name, help, v) in [
        (
            "fetched",
            "Verified bytes fetched from peers",
            c.bytes_fetched,
        ),
        ("served", "Bytes served to peers", c.bytes_served),
        (
            "relayed",
            "Bytes of this node's own traffic through relays, both ways",
            c.bytes_relayed,
        ),
        (
            "sync_received",
            "Catalog reconciliation bytes received",
            c.sync_bytes_received,
        ),
        (
            "sync_sent",
            "Catalog reconciliation bytes sent",
            c.sync_bytes_sent,
        ),
    ] {
        reg.register_with_unit(name, help, Unit::Bytes, counter(v));
    }

    // Fetches and blocks.
    reg.register(
        "fetches_active",
        "Bundles being fetched now",
        gauge(s.fetching.len() as u64),
    );
    reg.register(
        "fetches_unfinished",
        "Fetches recorded as unfinished, those under way included",
        gauge(s.interrupted_fetches.len() as u64),
    );
    for (name, help, v) in [
        (
            "blocks_fetched",
            "Blocks fetched from peers and verified",
            c.blobs_fetched,
        ),
        ("blocks_served", "Blocks served to peers", c.blobs_served),
        (
            "blocks_damaged",
            "Stored blocks found damaged on read",
            c.blocks_damaged,
        ),
        (
            "providers_published",
            "Provider records published to the DHT",
            c.providers_published,
        ),
    ] {
        reg.register(name, help, counter(v));
    }

    // The catalog, gossip and sync.
    reg.register("catalog_entries", "Catalog entries known", gauge(s.catalog));
    reg.register(
        "catalog_unknown_entries",
        "Catalog entries of publishers in the seen tier",
        gauge(s.catalog_unknown),
    );
    reg.register(
        "catalog_unknown_limit_entries",
        "The most such entries the catalog keeps (trust.unknown_entries)",
        gauge(s.catalog_unknown_max),
    );
    for (name, help, v) in [
        (
            "gossip_accepted",
            "Gossip announcements accepted",
            c.gossip_accepted,
        ),
        (
            "sync_sessions",
            "Reconciliation sessions this node started",
            c.sync_sessions,
        ),
        (
            "sync_entries_added",
            "Catalog entries learnt by reconciliation",
            c.sync_entries_added,
        ),
        (
            "entries_evicted",
            "Entries of unknown publishers evicted for newer ones",
            c.entries_evicted,
        ),
    ] {
        reg.register(name, help, counter(v));
    }

    // What was refused, and why.
    let dropped = Family::<Labels, Counter>::default();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(c.entries_dropped) {
        for (reason, n) in map {
            dropped
                .get_or_create(&vec![("reason".into(), reason)])
                .inc_by(n.as_u64().unwrap_or(0));
        }
    }
    reg.register(
        "entries_dropped",
        "Valid catalog entries not kept, by reason",
        dropped,
    );
    let rejected = Family::<Labels, Counter>::default();
    for (what, n) in [
        ("gossip", c.gossip_rejected),
        ("sync_entry", c.sync_entries_rejected),
        ("manifest", c.manifests_rejected),
        ("chunk", c.chunks_rejected),
    ] {
        rejected
            .get_or_create(&vec![("what".into(), what.into())])
            .inc_by(n);
    }
    reg.register(
        "rejected",
        "Data from peers refused as invalid (bad signature, encoding, hash or limit), by kind",
        rejected,
    );
    reg.register(
        "requests_refused",
        "Inbound requests refused over a limit",
        counter(c.requests_refused),
    );
    reg.register(
        "peers_punished",
        "Peers disconnected and banned for sending bad data",
        counter(c.peers_punished),
    );

    // Storage.
    reg.register("bundles", "Complete bundles held", gauge(s.bundles));
    reg.register("pins", "Pins", gauge(s.pins));
    let st = &s.storage;
    for (name, help, v) in [
        (
            "storage_used",
            "Content bytes of every bundle held",
            Some(st.used),
        ),
        ("storage_pinned", "Of those, bytes pinned", Some(st.pinned)),
        (
            "storage_cached",
            "Of those, bytes cached (evictable)",
            Some(st.cached),
        ),
        (
            "storage_disk",
            "Bytes the store takes on disk",
            Some(st.disk),
        ),
        ("storage_max", "The storage quota (storage.max)", st.max),
    ] {
        if let Some(v) = v {
            reg.register_with_unit(name, help, Unit::Bytes, gauge(v));
        }
    }

    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &reg);
    out
}

/// The exposition, as a response.
async fn render(st: &ApiState) -> Result<Response, ApiError> {
    let status = crate::http::routes::node::status_of(st).await?;
    let reach = st.node.net.reachability().await.map_err(NodeError::from)?;
    Ok((
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        exposition(&status, &reach),
    )
        .into_response())
}

/// `GET /metrics` on the local API.
pub(crate) async fn metrics(State(st): State<ApiState>) -> Result<Response, ApiError> {
    render(&st).await
}

/// The router of the separate metrics listener (`metrics.listen`): only
/// `GET /metrics`, without a token.
pub fn open_router(state: ApiState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_named_by_the_conventions() {
        let mut s = StatusResponse {
            api: "127.0.0.1:4142".into(),
            bundles: 3,
            catalog: 10,
            catalog_loading: false,
            catalog_unknown: 4,
            catalog_unknown_max: 10_000,
            connected_peers: 2,
            counters: Default::default(),
            data_dir: "/tmp/weft".into(),
            fetching: vec![],
            fetching_bundles: vec![],
            gateway: None,
            interrupted_fetches: vec![],
            listen_addrs: vec![],
            mdns: false,
            network: None,
            peer_book: 5,
            peer_id: "12D3KooW".into(),
            pins: 1,
            publisher: None,
            publisher_locked: false,
            storage: weft_protocol::api::StorageStatus {
                cached: 1,
                disk: 2,
                max: None,
                pinned: 3,
                used: 4,
            },
            version: "0.1.0".into(),
            warnings: vec![],
        };
        s.counters.bytes_served = 1234;
        s.counters.entries_dropped.peer_rate = 7;
        let mut r = Reachability::default();
        r.connections.insert("quic".into(), 2);
        let text = exposition(&s, &r);
        for line in [
            "weft_served_bytes_total 1234",
            "weft_entries_dropped_total{reason=\"peer_rate\"} 7",
            "weft_connections{transport=\"quic\"} 2",
            "# TYPE weft_served_bytes counter",
            "# UNIT weft_served_bytes bytes",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
        }
        assert!(!text.contains("weft_storage_max"), "no quota, no figure");
        assert!(text.ends_with("# EOF\n"));
    }
}
