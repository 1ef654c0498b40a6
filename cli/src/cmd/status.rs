//! `weft status`: the node on one screen.

use weft_protocol::api::StatusResponse;
use weft_protocol::units::human;

use crate::context::{Answer, Ctx, Res};
use crate::output::simple;

pub(crate) fn status(ctx: &Ctx) -> Res {
    let v: Answer<StatusResponse> = ctx.get("/v1/status")?;
    simple(ctx, v, |v| {
        println!("peer id:    {}", v.peer_id);
        for a in &v.listen_addrs {
            println!("listening:  {a}");
        }
        println!("api:        http://{}", v.api);
        println!("data dir:   {}", v.data_dir.display());
        println!(
            "publisher:  {}",
            v.publisher.map_or_else(
                || "none (create one with `weft init`)".to_string(),
                |p| p.to_string()
            )
        );
        println!("peers:      {}", v.connected_peers);
        if v.catalog_loading {
            println!("catalog:    about {} bundles (still loading)", v.catalog);
        } else {
            println!(
                "catalog:    {} entries, {} of them from publishers you do not trust (at most {})",
                v.catalog, v.catalog_unknown, v.catalog_unknown_max
            );
        }
        println!("stored:     {} bundles, {} pinned", v.bundles, v.pins);
        let st = &v.storage;
        let max = st.max.map_or("no quota".to_string(), |m| {
            format!("of {} (storage.max)", human(m))
        });
        println!(
            "storage:    {} {max}: {} pinned, {} cache; {} on disk",
            human(st.used),
            human(st.pinned),
            human(st.cached),
            human(st.disk)
        );
        let fetching = v.fetching.len();
        let waiting = v.interrupted_fetches.len();
        if fetching + waiting > 0 {
            println!(
                "fetching:   {} now (asked for or mirrored), {} unfinished (resumed automatically)",
                fetching, waiting
            );
            for b in v.fetching_bundles.iter().take(5) {
                println!(
                    "            {} {} ({})",
                    b.name.as_deref().unwrap_or("?"),
                    b.id,
                    b.size.map(human).unwrap_or_default()
                );
            }
        } else {
            println!("fetching:   nothing now");
        }
        if let Some(g) = &v.gateway {
            println!("gateway:    http://{g} (public, read-only)");
        }
        for w in &v.warnings {
            println!("WARNING:    {w}");
        }
        println!("peer book:  {} peers remembered", v.peer_book);
        if let Some(n) = &v.network {
            println!("network:    private ({n})");
        }
        let c = &v.counters;
        println!(
            "relayed:    {} through relays (this node's own traffic, both ways)",
            weft_protocol::units::human(c.bytes_relayed)
        );
        println!(
            "refused:    {} announcements, {} blocks, {} manifests; {} peers banned",
            c.gossip_rejected, c.chunks_rejected, c.manifests_rejected, c.peers_punished
        );
        let d = &c.entries_dropped;
        if d.total() > 0 || c.entries_evicted > 0 {
            let reasons: Vec<String> = d
                .by_reason()
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(why, n)| format!("{n} {why}"))
                .collect();
            println!(
                "not kept:   {} catalog entries ({}); {} evicted to make room",
                d.total(),
                if reasons.is_empty() {
                    "none".into()
                } else {
                    reasons.join(", ")
                },
                c.entries_evicted
            );
        }
    })
}
