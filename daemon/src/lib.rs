//! `weft-daemon`: the pieces of `weftd`.
//!
//! The daemon is a set of actors. The swarm task ([`net`]) owns libp2p and
//! nothing else; [`serve`] answers peers and [`catalog::ingest`] verifies
//! what they send; the store ([`store`]) is RocksDB behind a trait, always
//! called off the async threads; [`holdings`] owns what the node holds;
//! operations ([`ops`]: publish, fetch, export, import, retract, the keeper)
//! run as jobs or background tasks; the local API ([`http`]) is the only way
//! in for the CLI. [`run`] wires them together and stops them on shutdown
//! ([`shutdown`]). `docs/architecture.md` has the map.

pub mod catalog;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod error;
pub mod gateway;
pub mod groups;
pub mod holdings;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod names;
pub mod net;
pub mod node;
pub mod ops;
pub mod peerbook;
pub mod rules;
pub mod serve;
pub mod shutdown;
pub mod store;
pub mod sync;
pub mod trust;
pub mod upload;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{files, write_private, Config};

use crate::jobs::Jobs;
use crate::keys::{load_or_create_node_key, load_or_create_token};
use crate::metrics::Metrics;
use crate::net::transport;
use crate::node::Node;
use crate::store::{RocksStore, Store};

/// Runs a node until `shutdown` completes.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let dir = config.data_dir.clone();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the data dir {}", dir.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    // A data dir just made survives a power cut only once its parent is
    // synced.
    if let Some(parent) = dir.parent() {
        config::sync_dir(parent).with_context(|| format!("syncing {}", parent.display()))?;
    }
    // A passphrase given at start unlocks the key once, or weftd refuses
    // to start: better now than at the first publish.
    let unlocked = match config.passphrase.take() {
        None => None,
        Some(pass) => {
            let path = dir.join(files::PUBLISHER_KEY);
            let key = tokio::task::spawn_blocking(move || {
                keys::load_key_file(&path)
                    .map_err(|e| e.to_string())?
                    .open(Some(&pass))
                    .map_err(|e| e.to_string())
            })
            .await?
            .map_err(anyhow::Error::msg)?;
            tracing::info!(publisher = %key.id(), "publisher key unlocked");
            Some(Arc::new(key))
        }
    };
    let store_dir = dir.join(files::STORE);
    let store: Arc<dyn Store> = Arc::new(
        tokio::task::spawn_blocking(move || RocksStore::open(&store_dir))
            .await
            .context("opening the store")??,
    );
    // The store's folder, if just made, is an entry of the data dir.
    config::sync_dir(&dir).with_context(|| format!("syncing {}", dir.display()))?;
    // Orphan blocks can only be left by a run that was cut short (a crash,
    // a power cut, SIGKILL, or a stop while a publish or import was
    // writing). Sweeping reads every block record, which takes a while on a large hub,
    // so it runs only when the marker says the last run did not end
    // cleanly.
    let marker = dir.join(files::RUNNING);
    let unclean = marker.exists();
    write_private(
        &marker,
        b"weftd is running; a clean stop removes this file\n",
    )?;
    let metrics = Arc::new(Metrics::default());
    let trust = Arc::new(trust::Trust::default());
    let depth = config.trust.vouch_depth;
    trust.update(|t| t.vouch_depth = depth);
    let catalog = Arc::new(catalog::Catalog::new(
        trust.clone(),
        config.trust.limits,
        metrics.clone(),
    ));
    catalog::spawn_load(catalog.clone(), store.clone());
    let (provide_tx, provide_rx) = tokio::sync::mpsc::channel(ops::provide::PROVIDE_QUEUE);
    let (holdings, rules, names, keyring) = {
        let (store, max, catalog) = (store.clone(), config.storage_max, catalog.clone());
        let (follow, block) = (config.follow.clone(), config.block.clone());
        let trust = trust.clone();
        tokio::task::spawn_blocking(move || -> Result<_, store::StoreError> {
            let held = holdings::Holdings::load(store.as_ref(), max, catalog, provide_tx)?;
            // Blocks written by work a crash or power cut interrupted (a
            // publish or import not yet committed) belong to nothing: delete
            // them before anything else runs.
            if unclean {
                let (orphans, bytes) = held.sweep(store.as_ref())?;
                let debris = store.reclaim_debris()?;
                tracing::info!(
                    blocks = orphans,
                    bytes,
                    debris,
                    "the last run did not stop cleanly; swept blocks left by interrupted work"
                );
            }
            let names = names::Names::load(store.as_ref())?;
            let named = names.all().into_iter().map(|(p, _)| p).collect();
            trust.update(|t| t.named = named);
            Ok((
                Arc::new(held),
                Arc::new(rules::Rules::load(store.as_ref(), follow, block, trust)?),
                Arc::new(names),
                Arc::new(groups::Keyring::load(store.as_ref())?),
            ))
        })
        .await
        .context("reading holdings and rules")??
    };
    let key = load_or_create_node_key(&dir)?;
    let opts = net::NetOptions {
        mdns: config.mdns,
        transport: transport::TransportOptions {
            psk: config.psk,
            socks5: config.socks5,
            tls: config.tls.clone(),
        },
        relay: config.relay.clone(),
        private_reach: config.private_reach,
        hidden: config.hidden,
        // Behind a proxy every dial goes through it already.
        gate: (config.hidden && config.socks5.is_none())
            .then(|| net::hidden::DirectGate::new(config.peers.iter().chain(&config.relays))),
        relays: config.relays.clone(),
    };
    if config.hidden {
        tracing::info!(
            "hidden mode: no listener and no address of our own announced; direct connections only to the given hubs and relays"
        );
    }
    let swarm =
        net::build_swarm(key, &opts, metrics.bytes_relayed.clone()).map_err(anyhow::Error::msg)?;
    // Block streams are accepted here and served beside the swarm task.
    let incoming_blocks = swarm
        .behaviour()
        .blocks
        .new_control()
        .accept(libp2p::StreamProtocol::new(
            weft_protocol::blocks::BLOCKS_PROTOCOL,
        ))
        .map_err(|e| anyhow::anyhow!("block protocol: {e}"))?;
    let book = {
        let store = store.clone();
        Arc::new(
            tokio::task::spawn_blocking(move || peerbook::PeerBook::load(store))
                .await
                .context("reading the peer book")??,
        )
    };
    // Two stages of shutdown: first everything that uses the network
    // (jobs, the keeper, the syncer, the server), then the network itself.
    let work = shutdown::Controller::default();
    let network = shutdown::Controller::default();
    let (outlets, inlets) = net::outlets();
    let (client, _net_task) = net::spawn(
        swarm,
        &config.listen,
        config.peers.clone(),
        net::Parts {
            metrics: metrics.clone(),
            book: book.clone(),
            outlets,
            opts,
            shutdown: network.handle(),
        },
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let net::Inlets {
        requests,
        sync_requests,
        gossip,
        peers,
        online,
    } = inlets;
    let server = serve::Server {
        net: client.clone(),
        store: store.clone(),
        catalog: catalog.clone(),
        holdings: holdings.clone(),
        metrics: metrics.clone(),
        upload: config
            .upload_limit
            .map(|r| Arc::new(upload::RateLimit::new(r))),
    };
    let blocks =
        serve::blocks::BlockServer::new(store.clone(), metrics.clone(), server.upload.clone());
    work.handle().spawn(blocks.run(
        futures::StreamExt::map(incoming_blocks, |(peer, s)| {
            (peer, Box::new(s) as net::blocks::BlockStream)
        }),
        work.handle(),
    ));
    work.handle()
        .spawn(server.run(requests, sync_requests, work.handle()));
    work.handle().spawn(catalog::ingest::verify_gossip(
        gossip,
        client.clone(),
        store.clone(),
        catalog.clone(),
        metrics.clone(),
        work.handle(),
    ));
    sync::spawn(
        client.clone(),
        store.clone(),
        catalog.clone(),
        metrics.clone(),
        peers,
        work.handle(),
    );
    work.handle().spawn(ops::provide::run(
        client.clone(),
        store.clone(),
        provide_rx,
        online,
        work.handle(),
    ));
    let token = load_or_create_token(&dir)?;
    let listener = tokio::net::TcpListener::bind(config.api)
        .await
        .with_context(|| format!("the API cannot listen on {}; is another weftd running? (pick a port with --api-port)", config.api))?;
    let addr = listener.local_addr()?;
    let gateway_listener = match &config.gateway {
        Some(g) => {
            let l = tokio::net::TcpListener::bind(g.listen)
                .await
                .with_context(|| {
                    format!(
                        "the gateway cannot listen on {}; is the port in use? (gateway.listen)",
                        g.listen
                    )
                })?;
            Some((l, g.title.clone()))
        }
        None => None,
    };
    let metrics_listener = match config.metrics {
        Some(m) => Some(tokio::net::TcpListener::bind(m).await.with_context(|| {
            format!(
                "the metrics listener cannot listen on {m}; is the port in use? (metrics.listen)"
            )
        })?),
        None => None,
    };
    http::uploads::clear_uploads(&dir);
    // A run that was killed leaves its listeners' addresses behind.
    let _ = std::fs::remove_file(dir.join(files::GATEWAY_ADDR));
    let _ = std::fs::remove_file(dir.join(files::METRICS_ADDR));
    let node = Node {
        store,
        catalog,
        net: client,
        metrics,
        data_dir: dir.clone(),
        jobs: Arc::new(Jobs::new(work.handle())),
        book,
        network: config.psk.map(|k| k.fingerprint().to_string()),
        mdns: config.mdns,
        holdings,
        rules,
        names,
        keyring,
        unlocked,
    };
    if let Ok(own) = node.publisher_id() {
        node.catalog.trust().update(|t| t.own = Some(own));
    }
    tokio::spawn(ops::identity::load_own_events(node.clone()));
    ops::keeper::spawn(node.clone(), work.handle());
    let holdings = node.holdings.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let gateway_task = match gateway_listener {
        Some((l, title)) => {
            let gaddr = l.local_addr()?;
            let app = gateway::router(gateway::GatewayState::new(node.clone(), &title));
            write_private(
                &dir.join(files::GATEWAY_ADDR),
                format!("{gaddr}\n").as_bytes(),
            )?;
            tracing::info!(gateway = %gaddr, "public gateway on");
            let stop = stopped();
            Some(tokio::spawn(gateway::serve(l, app, stop)))
        }
        None => None,
    };
    let state = http::ApiState {
        node,
        token,
        addr,
        sessions: Arc::new(http::auth::Sessions::default()),
    };
    let metrics_task = match metrics_listener {
        Some(l) => {
            let maddr = l.local_addr()?;
            write_private(
                &dir.join(files::METRICS_ADDR),
                format!("{maddr}\n").as_bytes(),
            )?;
            tracing::info!(metrics = %maddr, "metrics for Prometheus on");
            let app = http::metrics::open_router(state.clone());
            Some(tokio::spawn(gateway::serve(l, app, stopped())))
        }
        None => None,
    };
    let app = http::router(state);
    write_private(&dir.join(files::API_ADDR), format!("{addr}\n").as_bytes())?;
    tracing::info!(api = %addr, data_dir = %dir.display(), "weftd ready");
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stopped())
        .await;
    for task in [gateway_task, metrics_task].into_iter().flatten() {
        // It stops accepting; downloads still streaming end with the process.
        let _ = task.await;
    }
    let _ = std::fs::remove_file(dir.join(files::API_ADDR));
    let _ = std::fs::remove_file(dir.join(files::GATEWAY_ADDR));
    let _ = std::fs::remove_file(dir.join(files::METRICS_ADDR));
    if !work.stop(shutdown::GRACE).await {
        tracing::warn!(
            "some work did not finish within {:?}; it ends with the process",
            shutdown::GRACE
        );
    }
    network.stop(shutdown::GRACE).await;
    if holdings.idle() {
        let _ = std::fs::remove_file(&marker);
    } else {
        tracing::info!("stopped while writing; the next start sweeps what was left");
    }
    tracing::info!("weftd stopped");
    served.context("the API server failed")
}
