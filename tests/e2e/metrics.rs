//! `GET /metrics` as Prometheus scrapes it: parsed by a Prometheus
//! text-format parser, and every figure checked against what
//! `weft status` and `weft doctor` say in the same moment.

use std::collections::HashMap;
use std::time::Duration;

use weft_e2e::http::get;
use weft_e2e::{dir_with_config, get_and_check, init, publish, wait_until, Daemon, Options};

/// One scrape: each sample's value by its name and labels
/// (`name{label="value",...}`, labels sorted).
fn scrape(addr: &str, headers: &[(&str, &str)]) -> HashMap<String, f64> {
    let res = get(addr, "/metrics", headers);
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        res.headers
    );
    let text = res.text();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("a Prometheus text-format scrape");
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.sort();
            let key = if labels.is_empty() {
                s.metric.clone()
            } else {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("{}{{{}}}", s.metric, l.join(","))
            };
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                other => panic!("{key}: unexpected {other:?}"),
            };
            (key, value)
        })
        .collect()
}

/// Asserts the metric `key` lies between two readings of the same figure
/// (taken just before and just after the scrape).
fn agrees(m: &HashMap<String, f64>, key: &str, before: u64, after: u64) {
    let v = *m
        .get(key)
        .unwrap_or_else(|| panic!("{key} is missing: {m:?}"));
    let (lo, hi) = (before.min(after) as f64, before.max(after) as f64);
    assert!(
        (lo..=hi).contains(&v),
        "{key} = {v}, but the API said {before} then {after}"
    );
}

#[test]
fn metrics_are_scraped_on_their_own_listener_and_with_the_token_and_match_the_status() {
    let hub = Daemon::start_opts(
        "metrics-hub",
        dir_with_config(
            "metrics-hub",
            "relay = true\n[storage]\nmax = \"1 GiB\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
        ),
        &[],
        Options::default(),
    );
    let node = Daemon::start("metrics-node");
    node.connect(&hub);
    init(&hub);
    let id = publish(&hub, "metrics-guide", 3 << 20, 82, &[]);
    wait_until("the node to list it", Duration::from_secs(30), || {
        node.lists(&id)
    });
    get_and_check(&node, &id, "got", 3 << 20, 82);

    // The hub, on the listener of its own: no token needed there.
    let addr = std::fs::read_to_string(hub.path().join("metrics.addr")).unwrap();
    let addr = addr.trim();
    let before = hub.status();
    let before_doctor = hub.weft_json(&["doctor"]);
    let m = scrape(addr, &[]);
    let after = hub.status();
    for (key, b, a) in [
        ("weft_bundles", before.bundles, after.bundles),
        ("weft_pins", before.pins, after.pins),
        ("weft_catalog_entries", before.catalog, after.catalog),
        ("weft_peers", before.connected_peers, after.connected_peers),
        (
            "weft_storage_used_bytes",
            before.storage.used,
            after.storage.used,
        ),
        (
            "weft_served_bytes_total",
            before.counters.bytes_served,
            after.counters.bytes_served,
        ),
        (
            "weft_blocks_served_total",
            before.counters.blobs_served,
            after.counters.blobs_served,
        ),
        (
            "weft_gossip_accepted_total",
            before.counters.gossip_accepted,
            after.counters.gossip_accepted,
        ),
        (
            "weft_entries_dropped_total{reason=\"peer_rate\"}",
            before.counters.entries_dropped.peer_rate,
            after.counters.entries_dropped.peer_rate,
        ),
        (
            "weft_rejected_total{what=\"chunk\"}",
            before.counters.chunks_rejected,
            after.counters.chunks_rejected,
        ),
    ] {
        agrees(&m, key, b, a);
    }
    assert!(after.counters.bytes_served >= 3 << 20);
    let tcp = before_doctor["reachability"]["connections"]["tcp"]
        .as_u64()
        .unwrap_or(0);
    assert!(tcp >= 1, "{before_doctor}");
    agrees(&m, "weft_connections{transport=\"tcp\"}", tcp, tcp);
    assert_eq!(
        m.get(&format!(
            "weft_build_info{{version=\"{}\"}}",
            before.version
        )),
        Some(&1.0)
    );

    agrees(
        &m,
        "weft_storage_max_bytes",
        1 << 30,
        after.storage.max.unwrap_or(0),
    );

    // Every metric is documented in hub.md, and every metric the example
    // dashboard asks for exists.
    let names: std::collections::BTreeSet<String> = m
        .keys()
        .map(|k| k.split('{').next().unwrap().to_string())
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let hub_md = std::fs::read_to_string(root.join("docs/hub.md")).unwrap();
    for n in &names {
        // Counters are documented by their sample name (`…_total`).
        assert!(
            hub_md.contains(&format!("`{n}`")) || hub_md.contains(&format!("`{n}{{")),
            "{n} is not in docs/hub.md's table of metrics"
        );
    }
    let dashboard = std::fs::read_to_string(root.join("docs/grafana/weft-hub.json")).unwrap();
    let _: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut asked = std::collections::BTreeSet::new();
    for (i, _) in dashboard.match_indices("weft_") {
        let name: String = dashboard[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name != "weft_" {
            asked.insert(name);
        }
    }
    assert!(asked.len() > 20, "{asked:?}");
    for n in &asked {
        assert!(
            names.contains(n),
            "the dashboard asks for {n}, which the hub does not give"
        );
    }

    // The node, on its local API: the token is required.
    let (api, token) = node.api_addr_and_token();
    let refused = get(&api, "/metrics", &[("Host", &api)]);
    assert_eq!(refused.status, 401, "{}", refused.text());
    let auth = format!("Bearer {token}");
    let before = node.status();
    let m = scrape(&api, &[("Host", &api), ("Authorization", &auth)]);
    let after = node.status();
    agrees(
        &m,
        "weft_fetched_bytes_total",
        before.counters.bytes_fetched,
        after.counters.bytes_fetched,
    );
    assert!(after.counters.bytes_fetched >= 3 << 20);
    agrees(&m, "weft_bundles", before.bundles, after.bundles);
    agrees(
        &m,
        "weft_storage_disk_bytes",
        before.storage.disk,
        after.storage.disk,
    );
    assert!(
        !std::path::Path::new(&node.path().join("metrics.addr")).exists(),
        "no listener of its own unless metrics.listen is set"
    );
}
