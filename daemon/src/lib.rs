//! `weft-daemon`: the pieces of `weftd`.
//!
//! The daemon is a set of actors. The swarm task ([`net`]) owns libp2p; the
//! store ([`store`]) is RocksDB behind a trait, always called off the async
//! threads; publishing ([`publish`]), fetching ([`fetch`]) and exporting
//! ([`export`]) run as jobs; the local API ([`api`]) is the only way in for
//! the CLI. [`run`] wires them together and stops them on shutdown.

pub mod api;
pub mod archive;
pub mod catalog;
pub mod codec;
pub mod config;
pub mod doctor;
pub mod export;
pub mod fetch;
pub mod gateway;
pub mod i18n;
pub mod metrics;
pub mod net;
pub mod node;
pub mod peerbook;
pub mod policy;
pub mod publish;
pub mod socks;
pub mod storage;
pub mod store;
pub mod sync;
pub mod transport;
pub mod ui;
pub mod upload;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use libp2p::identity;
use rand::RngCore;

use crate::config::{files, write_private, Config};
use crate::metrics::Metrics;
use crate::node::{Jobs, Node};
use crate::store::{RocksStore, Store};

/// Loads the node key, creating it on first start.
pub fn load_or_create_node_key(dir: &Path) -> anyhow::Result<identity::Keypair> {
    let path = dir.join(files::NODE_KEY);
    match std::fs::read(&path) {
        Ok(bytes) => identity::Keypair::from_protobuf_encoding(&bytes).with_context(|| {
            format!(
                "{} is damaged; move it away to make a new node identity",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = identity::Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .context("encoding the node key")?;
            write_private(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn load_or_create_token(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join(files::API_TOKEN);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(t);
        }
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = weft_protocol::id::to_hex(&raw);
    write_private(&path, format!("{token}\n").as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(token)
}

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
    // A passphrase given at start unlocks the key once, or weftd refuses
    // to start: better now than at the first publish.
    let unlocked = match config.passphrase.take() {
        None => None,
        Some(pass) => {
            let path = dir.join(files::PUBLISHER_KEY);
            let key = tokio::task::spawn_blocking(move || {
                node::load_key_file(&path)
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
    // Orphan blocks can only be left by a run that was cut short (a crash,
    // a power cut, SIGKILL, or a stop while a publish or import was
    // writing). Sweeping reads every chunk, which is slow on a large hub,
    // so it runs only when the marker says the last run did not end
    // cleanly.
    let marker = dir.join(files::RUNNING);
    let unclean = marker.exists();
    write_private(
        &marker,
        b"weftd is running; a clean stop removes this file\n",
    )?;
    let catalog = Arc::new(catalog::Catalog::default());
    catalog::spawn_load(catalog.clone(), store.clone());
    let (storage, policy) = {
        let (store, max) = (store.clone(), config.storage_max);
        let (follow, block) = (config.follow.clone(), config.block.clone());
        tokio::task::spawn_blocking(move || -> Result<_, store::StoreError> {
            let storage = storage::Storage::load(store.as_ref(), max)?;
            // Blocks written by work a crash or power cut interrupted (a
            // publish or import not yet committed) belong to nothing: delete
            // them before anything else runs.
            if unclean {
                let (orphans, bytes) = storage.sweep(store.as_ref())?;
                tracing::info!(
                    blocks = orphans,
                    bytes,
                    "the last run did not stop cleanly; swept blocks left by interrupted work"
                );
            }
            Ok((
                Arc::new(storage),
                Arc::new(policy::Policy::load(store.as_ref(), follow, block)?),
            ))
        })
        .await
        .context("reading holdings and rules")??
    };
    catalog.set_blocked(policy.blocked());
    for (id, held) in storage.snapshot() {
        if held.pin.is_some_and(|p| p.kind == store::PinKind::Explicit) {
            catalog.set_exempt(id, true);
        }
    }
    let key = load_or_create_node_key(&dir)?;
    let metrics = Arc::new(Metrics::default());
    let opts = net::NetOptions {
        mdns: config.mdns,
        transport: transport::TransportOptions {
            psk: config.psk,
            socks5: config.socks5,
            tls: config.tls.clone(),
        },
        relay: config.relay.clone(),
    };
    let swarm = net::build_swarm(key, &opts).map_err(anyhow::Error::msg)?;
    let book = {
        let store = store.clone();
        Arc::new(
            tokio::task::spawn_blocking(move || peerbook::PeerBook::load(store))
                .await
                .context("reading the peer book")??,
        )
    };
    let (sync_tx, sync_rx) = tokio::sync::mpsc::channel(sync::SYNC_EVENTS);
    let (client, net_task) = net::spawn(
        swarm,
        &config.listen,
        config.peers.clone(),
        net::Parts {
            store: store.clone(),
            catalog: catalog.clone(),
            metrics: metrics.clone(),
            book: book.clone(),
            sync_events: sync_tx,
            storage: storage.clone(),
            upload: config
                .upload_limit
                .map(|r| Arc::new(upload::RateLimit::new(r))),
            opts,
        },
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let sync_task = sync::spawn(
        client.clone(),
        store.clone(),
        catalog.clone(),
        metrics.clone(),
        sync_rx,
    );
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
    ui::clear_uploads(&dir);
    // A run that was killed leaves its gateway's address behind.
    let _ = std::fs::remove_file(dir.join(files::GATEWAY_ADDR));
    let node = Node {
        store,
        catalog,
        net: client,
        metrics,
        data_dir: dir.clone(),
        jobs: Arc::new(Jobs::default()),
        book,
        network: config.psk.map(|k| k.fingerprint().to_string()),
        mdns: config.mdns,
        storage,
        policy,
        unlocked,
    };
    let keeper = policy::spawn(node.clone());
    let held = node.storage.clone();
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
    let app = api::router(api::ApiState {
        node,
        token,
        addr,
        sessions: Arc::new(ui::Sessions::default()),
    });
    write_private(&dir.join(files::API_ADDR), format!("{addr}\n").as_bytes())?;
    tracing::info!(api = %addr, data_dir = %dir.display(), "weftd ready");
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stopped())
        .await;
    if let Some(g) = gateway_task {
        // It stops accepting; downloads still streaming end with the process.
        let _ = g.await;
    }
    let _ = std::fs::remove_file(dir.join(files::API_ADDR));
    let _ = std::fs::remove_file(dir.join(files::GATEWAY_ADDR));
    net_task.abort();
    sync_task.abort();
    keeper.abort();
    if held.idle() {
        let _ = std::fs::remove_file(&marker);
    } else {
        tracing::info!("stopped while writing; the next start sweeps what was left");
    }
    tracing::info!("weftd stopped");
    served.context("the API server failed")
}
