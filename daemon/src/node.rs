//! The node: the store, the network client and the jobs, shared by the API
//! and the background tasks. Holds no lock across `.await`.

use std::path::PathBuf;
use std::sync::Arc;

use weft_protocol::api::JobKind;
use weft_protocol::identity::file::IdentityFile;
use weft_protocol::keyfile::{KeyFile, KeyFileError};
use weft_protocol::{BundleId, PublisherId, PublisherKey, SignedManifest};

use crate::catalog::Catalog;
use crate::config::files;
use crate::error::NodeError;

use crate::catalog::Added;
use crate::jobs::{JobOutput, Jobs, Progress};
use crate::keys::load_key_file;
use crate::metrics::Metrics;
use crate::net::Client;
use crate::peerbook::PeerBook;
use crate::store::{Store, StoreError};
use weft_protocol::identity::Authority;
use weft_protocol::CatalogEntry;

/// A key this node signs with and the publisher (identity) it signs for.
pub struct Signer {
    /// The device key (or a single-key publisher's key).
    pub key: PublisherKey,
    /// The publisher named in what it signs.
    pub identity: PublisherId,
}

/// Everything the API and the tasks share. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The catalog index (writes to the catalog go through it).
    pub catalog: Arc<Catalog>,
    /// The network actor.
    pub net: Client,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The data dir.
    pub data_dir: PathBuf,
    /// Running and recent jobs.
    pub jobs: Arc<Jobs>,
    /// Peers seen before.
    pub book: Arc<PeerBook>,
    /// The private network's key fingerprint (hex), if this node is in one.
    pub network: Option<String>,
    /// Whether mDNS looks for peers on the LAN.
    pub mdns: bool,
    /// Holdings and quota.
    pub holdings: Arc<crate::holdings::Holdings>,
    /// Follow and block rules.
    pub rules: Arc<crate::rules::Rules>,
    /// Petnames.
    pub names: Arc<crate::names::Names>,
    /// The epoch secrets of private groups this node holds.
    pub keyring: Arc<crate::groups::Keyring>,
    /// The publisher key, when `weftd --passphrase-fd` unlocked it at start.
    pub unlocked: Option<Arc<PublisherKey>>,
}

impl Node {
    /// Runs a store operation on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| NodeError::Internal(e.to_string()))?
            .map_err(NodeError::from)
    }

    /// Runs work that may refuse with a [`NodeError`] on the blocking
    /// pool, with the store.
    pub async fn blocking_node<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| NodeError::Internal(e.to_string()))?
    }

    /// Starts a job and returns its id at once.
    pub fn start_job<F, Fut>(&self, kind: JobKind, f: F) -> Result<u64, NodeError>
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: std::future::Future<Output = Result<JobOutput, NodeError>> + Send + 'static,
    {
        self.jobs.start(kind, f)
    }

    /// The publisher key file in the data dir.
    pub fn key_file(&self) -> Result<KeyFile, NodeError> {
        load_key_file(&self.data_dir.join(files::PUBLISHER_KEY))
    }

    /// The identity file in the data dir, if this node's key is a device
    /// of an identity.
    pub fn identity_file(&self) -> Result<Option<IdentityFile>, NodeError> {
        let path = self.data_dir.join(files::IDENTITY);
        match std::fs::read_to_string(&path) {
            Ok(text) => IdentityFile::parse(&text)
                .map(Some)
                .map_err(|e| NodeError::Internal(format!("{} is damaged: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NodeError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// The publisher this node signs for (its identity, else its single
    /// key); needs no passphrase.
    pub fn publisher_id(&self) -> Result<PublisherId, NodeError> {
        match self.identity_file()? {
            Some(f) => Ok(f.id),
            None => Ok(self.key_file()?.publisher()),
        }
    }

    /// Whether signing needs a passphrase this node does not hold.
    pub fn publisher_locked(&self) -> bool {
        self.key_file()
            .is_ok_and(|f| f.is_sealed() && !self.unlocked_for(&f))
    }

    fn unlocked_for(&self, file: &KeyFile) -> bool {
        self.unlocked
            .as_ref()
            .is_some_and(|k| k.id() == file.publisher())
    }

    /// The signing key and the identity it signs for: unlocked at start,
    /// kept in clear, or opened with `passphrase` (Argon2id, about half a
    /// second, off the async threads). The passphrase is used for this one
    /// key and not kept. A device key must be certified, and not revoked,
    /// by its identity's key log as this node knows it.
    pub async fn signing_key(&self, passphrase: Option<String>) -> Result<Signer, NodeError> {
        let file = self.key_file()?;
        let identity = self.publisher_id()?;
        // The identity this node signs for is trusted (`crate::trust`).
        self.catalog.trust().update(|t| t.own = Some(identity));
        let key = if self.unlocked_for(&file) {
            let key = self.unlocked.as_ref().expect("checked");
            PublisherKey::from_seed(key.seed())
        } else {
            tokio::task::spawn_blocking(move || file.open(passphrase.as_deref()))
                .await
                .map_err(|e| NodeError::Internal(e.to_string()))?
                .map_err(|e| match e {
                    KeyFileError::Damaged(_) => NodeError::Internal(e.to_string()),
                    _ => NodeError::BadRequest(e.to_string()),
                })?
        };
        self.add_own_events().await?;
        check_device(&self.catalog, &identity, &key.id())?;
        Ok(Signer { key, identity })
    }

    /// Adds the events of this node's identity file to the catalog (once
    /// it has loaded): they let the node sign before any peer passed its
    /// log on. Those already there cost a lookup each.
    pub async fn add_own_events(&self) -> Result<(), NodeError> {
        own_events_into_catalog(self).await
    }

    /// A complete local bundle, decoded.
    pub async fn local_manifest(&self, id: BundleId) -> Result<Option<SignedManifest>, NodeError> {
        let bytes = self.blocking(move |s| s.get_manifest(&id)).await?;
        match bytes {
            None => Ok(None),
            Some(b) => SignedManifest::decode(&b).map(Some).map_err(|e| {
                NodeError::Internal(format!("stored manifest of {id} does not verify: {e}"))
            }),
        }
    }

    /// A publisher the user typed: an id (64 hex characters), else one of
    /// the user's petnames.
    pub fn resolve_publisher(&self, text: &str) -> Result<PublisherId, NodeError> {
        if let Ok(p) = text.parse::<PublisherId>() {
            return Ok(p);
        }
        self.names.resolve(text).ok_or_else(|| {
            NodeError::BadRequest(format!(
                "{text:?} is neither a publisher id (64 hex characters) nor a name you gave a publisher (`weft names` lists them)"
            ))
        })
    }

    /// How to show a publisher to this node's user.
    pub fn describe(
        &self,
        p: &PublisherId,
        lang: Option<&str>,
    ) -> weft_protocol::api::PublisherName {
        crate::names::describe(&self.names, &self.catalog, p, lang)
    }

    /// The highest seq this node knows for (publisher, name).
    pub async fn latest_seq(&self, publisher: PublisherId, name: &str) -> u64 {
        self.catalog.ready().await;
        self.catalog.latest_seq(&publisher, name)
    }
}

/// Refuses to sign with `key` for `identity` unless the identity's key
/// log, as this node knows it, lets it.
pub fn check_device(
    catalog: &crate::catalog::Catalog,
    identity: &PublisherId,
    key: &PublisherId,
) -> Result<(), NodeError> {
    match catalog.authority(identity, key, &BundleId::from_bytes([0; 32])) {
        Authority::Valid => Ok(()),
        Authority::Kept | Authority::Revoked => Err(NodeError::Forbidden(format!(
            "this device's key {key} was revoked by identity {identity} (or replaced, if it was a root); it can no longer sign. Set this machine up again with `weft device add`"
        ))),
        Authority::Unknown if catalog.key_state(identity).is_none() => {
            Err(NodeError::Forbidden(format!(
                "the key log of identity {identity} has not reached this node yet, so this device ({key}) cannot sign for it; connect to a peer that knows it and try again"
            )))
        }
        Authority::Unknown => Err(NodeError::Forbidden(format!(
            "this device's key {key} is not certified by identity {identity}: approve it with `weft device approve {key}` on a device that holds the root, or with `weft device add --paper` here"
        ))),
    }
}

/// Adds the events of this node's identity file to the catalog (once it
/// has loaded): they let the node sign before any peer passed its log on.
/// Those already there cost a lookup each.
async fn own_events_into_catalog(node: &Node) -> Result<(), NodeError> {
    node.catalog.ready().await;
    let Some(file) = node.identity_file()? else {
        return Ok(());
    };
    let catalog = node.catalog.clone();
    let added = node
        .blocking(move |s| {
            let mut added = Vec::new();
            for e in file.events {
                if !catalog.contains(&e.entry_id())
                    && catalog.add_entry(s, &CatalogEntry::Key(e.clone()))? == Added::New
                {
                    added.push(e);
                }
            }
            Ok(added)
        })
        .await?;
    // Peers met before the events were here have not had them.
    for e in added {
        if let Err(err) = node.net.announce(e.bytes().to_vec()).await {
            tracing::debug!(error = %err, "key event not gossiped now; catch-up will carry it");
        }
    }
    Ok(())
}
