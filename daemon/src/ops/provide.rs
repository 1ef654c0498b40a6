//! Keeps the DHT told what this node holds: one provider record per held
//! bundle (never per block), published again every
//! [`REPROVIDE_INTERVAL`] and whenever the node has a peer again after
//! having none. Bundles committed while online are provided at commit
//! ([`crate::holdings::Holdings::committed`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use weft_protocol::BundleId;

use crate::net::Client;
use crate::shutdown::Shutdown;
use crate::store::Store;

/// How often every held bundle is provided again. Records live for
/// [`crate::net::PROVIDER_RECORD_TTL`], so one missed round loses nothing.
pub const REPROVIDE_INTERVAL: Duration = Duration::from_secs(12 * 3600);
/// Bundles committed and waiting to be provided. Beyond this, a commit's
/// record waits for the next reprovide round.
pub const PROVIDE_QUEUE: usize = 1024;

/// Runs until shutdown is requested.
pub async fn run(
    net: Client,
    store: Arc<dyn Store>,
    mut committed: mpsc::Receiver<BundleId>,
    online: Arc<Notify>,
    shutdown: Shutdown,
) {
    let mut reprovide = tokio::time::interval(REPROVIDE_INTERVAL);
    reprovide.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    reprovide.reset();
    loop {
        tokio::select! {
            Some(id) = committed.recv() => {
                let mut ids = vec![id];
                while let Ok(id) = committed.try_recv() {
                    ids.push(id);
                }
                net.provide(ids).await;
                continue;
            }
            _ = online.notified() => {}
            _ = reprovide.tick() => {}
            _ = shutdown.requested() => break,
        }
        let store = store.clone();
        if let Ok(Ok(ids)) = tokio::task::spawn_blocking(move || store.bundle_ids()).await {
            net.provide(ids).await;
        }
    }
}
