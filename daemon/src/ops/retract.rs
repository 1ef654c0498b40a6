//! Retracting a bundle: only its publisher's key may, checked against
//! what this node holds (the stored manifest first, else the catalog's
//! announcement); the signed retraction goes into the catalog and out by
//! gossip.

use weft_protocol::{BundleId, CatalogEntry, Retraction, SignedRetraction, VERSION};

use crate::catalog::Added;
use crate::clock::now_secs;
use crate::error::NodeError;
use crate::node::Node;

/// Signs and spreads a retraction of `id`; returns the retraction's own
/// catalog id.
pub async fn retract(
    node: &Node,
    id: BundleId,
    passphrase: Option<String>,
) -> Result<BundleId, NodeError> {
    let key = node.signing_key(passphrase).await?;
    let publisher = match (node.catalog.get(&id), node.local_manifest(id).await?) {
        (_, Some(m)) => m.manifest().publisher,
        (Some(a), None) => a.publisher,
        (None, None) => {
            return Err(NodeError::NotFound(format!(
                "bundle {id} is not in this node's catalog"
            )))
        }
    };
    if publisher != key.identity {
        return Err(NodeError::Forbidden(format!(
            "bundle {id} was published by {publisher}; only that publisher can retract it, and this node signs for {}",
            key.identity
        )));
    }
    let r = SignedRetraction::sign(
        Retraction {
            v: VERSION,
            created: now_secs(),
            retracts: id,
            publisher,
        },
        &key.key,
    )
    .map_err(|e| NodeError::Internal(e.to_string()))?;
    let entry = CatalogEntry::Retraction(r.clone());
    let catalog = node.catalog.clone();
    let added = node.blocking(move |s| catalog.add_entry(s, &entry)).await?;
    if let Added::Refused(why) = added {
        return Err(NodeError::Conflict(why));
    }
    node.net.announce(r.bytes().to_vec()).await?;
    Ok(r.entry_id())
}
