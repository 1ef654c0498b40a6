//! Vouching: this node's publisher signs that it trusts another publisher
//! (or no longer does); the statement goes into the catalog, where it
//! changes the trust tiers at once, and out by gossip.

use weft_protocol::api::VouchResponse;
use weft_protocol::{CatalogEntry, PublisherId, SignedVouch, Vouch, VERSION};

use crate::catalog::{Added, Dropped, MAX_VOUCHES_PER_PUBLISHER};
use crate::clock::now_secs;
use crate::error::NodeError;
use crate::node::Node;

/// How long a vouch lasts before it must be renewed (by vouching again).
pub const VOUCH_DAYS: u64 = 180;

/// Signs and spreads a vouch for `vouchee` (`active`), or its withdrawal.
pub async fn vouch(
    node: &Node,
    vouchee: PublisherId,
    note: String,
    active: bool,
    passphrase: Option<String>,
) -> Result<VouchResponse, NodeError> {
    let key = node.signing_key(passphrase).await?;
    if key.identity == vouchee {
        return Err(NodeError::BadRequest(
            "a publisher cannot vouch for itself".into(),
        ));
    }
    node.catalog.ready().await;
    // A newer statement must be dated after the one it replaces.
    let created = match node.catalog.vouch_made(&key.identity, &vouchee) {
        Some(last) => now_secs().max(last + 1),
        None => now_secs(),
    };
    let statement = Vouch {
        v: VERSION,
        by: key.identity,
        vouchee,
        note,
        active: u64::from(active),
        created,
        expires: created + VOUCH_DAYS * 24 * 3600,
    };
    let signed =
        SignedVouch::sign(statement, &key.key).map_err(|e| NodeError::BadRequest(e.to_string()))?;
    let entry = CatalogEntry::Vouch(signed.clone());
    let catalog = node.catalog.clone();
    match node.blocking(move |s| catalog.add_entry(s, &entry)).await? {
        Added::Dropped(Dropped::PublisherQuota) => {
            return Err(NodeError::Conflict(format!(
                "you already vouch for {MAX_VOUCHES_PER_PUBLISHER} publishers; `weft unvouch` some first"
            )))
        }
        Added::Dropped(d) => return Err(NodeError::Conflict(d.as_str().into())),
        Added::Refused(why) => return Err(NodeError::Conflict(why)),
        Added::New | Added::Known | Added::Contested => {}
    }
    node.net.announce(signed.bytes().to_vec()).await?;
    Ok(VouchResponse {
        active,
        entry: signed.entry_id(),
        expires: signed.vouch().expires,
        vouchee,
    })
}
