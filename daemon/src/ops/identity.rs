//! The identity this node signs for, and the key events only its root may
//! make: certifying a device, revoking one, rotating the root
//! (`docs/protocol.md`, section 6.4).
//!
//! The root signs here, in the daemon, with the paper backup's words or
//! `root.key` given by the local API's caller; neither is kept in memory
//! after the request, and neither leaves this machine. The events go into
//! the catalog (checked like any key event from a peer) and out by gossip;
//! catch-up brings them to nodes that were offline.

use std::collections::BTreeSet;

use weft_protocol::api::{
    DeviceBody, DeviceInfo, DeviceStatus, IdentityInfo, KeyEventsMade, RevokeBody, RotateBody,
    UpgradeBody, UpgradeResult,
};
use weft_protocol::identity::file::IdentityFile;
use weft_protocol::identity::{Authority, KeyState};
use weft_protocol::keyfile::KeyFile;
use weft_protocol::manifest::{next_commitment, MAX_KEEP_PER_EVENT};
use weft_protocol::words::{fingerprint, PaperBackup};
use weft_protocol::{
    BundleId, CatalogEntry, KeyEvent, KeyKind, PublisherId, PublisherKey, SignedKeyEvent, VERSION,
};

use crate::catalog::Added;
use crate::clock::now_secs;
use crate::config::files;
use crate::error::NodeError;
use crate::node::Node;

/// The events of this node's identity file into the catalog (see
/// [`Node::add_own_events`]).
pub async fn add_own_events(node: &Node) -> Result<(), NodeError> {
    node.add_own_events().await
}

/// [`add_own_events`] at start, with a warning if it fails.
pub async fn load_own_events(node: Node) {
    if let Err(e) = add_own_events(&node).await {
        tracing::warn!(error = %e, "cannot add this node's key events to the catalog");
    }
}

/// `GET /v1/identity`.
pub async fn info(node: &Node) -> Result<IdentityInfo, NodeError> {
    add_own_events(node).await?;
    let device = node.key_file()?.publisher();
    let has_file = node.identity_file()?.is_some();
    let identity = node.publisher_id()?;
    let state = node.catalog.key_state(&identity);
    let status = if !has_file {
        DeviceStatus::SingleKey
    } else {
        match node
            .catalog
            .authority(&identity, &device, &BundleId::from_bytes([0; 32]))
        {
            Authority::Valid => DeviceStatus::Certified,
            Authority::Kept | Authority::Revoked => DeviceStatus::Revoked,
            Authority::Unknown => DeviceStatus::Uncertified,
        }
    };
    let devices = state
        .as_ref()
        .map(|s| {
            s.devices
                .iter()
                .map(|(key, d)| DeviceInfo {
                    added: d.added,
                    key: *key,
                    kept: d.kept.len() as u64,
                    name: d.name.clone(),
                    revoked: d.revoked,
                    this: *key == device,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(IdentityInfo {
        device,
        devices,
        fingerprint: fingerprint(&identity),
        identity,
        root: state.as_ref().map(|s| s.root),
        root_here: node.data_dir.join(files::ROOT_KEY).exists(),
        rotations: state.as_ref().map_or(0, |s| s.rotations),
        seq: state.as_ref().map(|s| s.seq),
        status,
    })
}

/// The identity and its key state; an error if this node has none.
fn identity_state(node: &Node) -> Result<(PublisherId, KeyState), NodeError> {
    let id = node.publisher_id()?;
    let state = node.catalog.key_state(&id).ok_or_else(|| {
        NodeError::Conflict(format!(
            "publisher {id} has no key log here: it is a single-key publisher (see `weft identity upgrade`), or its log has not reached this node yet"
        ))
    })?;
    Ok((id, state))
}

/// The root in force, from the paper backup or `root.key`.
async fn root_key(
    node: &Node,
    state: &KeyState,
    paper: Option<String>,
    passphrase: Option<String>,
) -> Result<PublisherKey, NodeError> {
    if let Some(words) = paper {
        let backup =
            PaperBackup::parse(&words).map_err(|e| NodeError::BadRequest(e.to_string()))?;
        let root = backup.root(state.rotations);
        if root.id() != state.root {
            return Err(NodeError::Forbidden(format!(
                "these words are not the paper backup of identity {}: they make root {}, and the identity's root is {}",
                state.id,
                root.id(),
                state.root
            )));
        }
        return Ok(root);
    }
    let path = node.data_dir.join(files::ROOT_KEY);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            return Err(NodeError::Forbidden(
                "the root key is not on this device; give the paper backup's words (--paper)"
                    .into(),
            ))
        }
    };
    let file = KeyFile::parse(&text)
        .map_err(|e| NodeError::Internal(format!("{} is damaged: {e}", path.display())))?;
    if file.publisher() != state.root {
        return Err(NodeError::Forbidden(format!(
            "{} holds {}, which is no longer identity {}'s root (it was replaced); give the paper backup's words (--paper)",
            path.display(),
            file.publisher(),
            state.id
        )));
    }
    tokio::task::spawn_blocking(move || file.open(passphrase.as_deref()))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(|e| NodeError::BadRequest(e.to_string()))
}

/// One event to make, before it is chained and signed.
struct Draft {
    kind: KeyKind,
    device: Option<PublisherId>,
    name: Option<String>,
    keep: Vec<BundleId>,
}

/// Chains `drafts` on top of `base` (the state after the event they
/// follow), signs them with `root` (`next_root`, for a rotation: the key
/// the rotation reveals and the one it commits to), stores them and
/// gossips them.
async fn append(
    node: &Node,
    base: KeyState,
    drafts: Vec<Draft>,
    root: &PublisherKey,
    next: Option<PublisherId>,
) -> Result<(KeyEventsMade, KeyState), NodeError> {
    let mut state = base;
    let mut made = Vec::new();
    let mut kept = 0;
    for d in drafts {
        let next = next.filter(|_| d.kind == KeyKind::Rotate);
        let signed = sign_draft(state.id, state.seq + 1, Some(state.tip), d, root, next)
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        kept += signed.event().keep.as_ref().map_or(0, |k| k.len() as u64);
        state = state
            .apply(&signed)
            .map_err(|e| NodeError::Conflict(format!("the identity's log refuses it: {e}")))?;
        made.push(signed);
    }
    let mut events = Vec::new();
    for e in made {
        let (catalog, entry) = (node.catalog.clone(), CatalogEntry::Key(e.clone()));
        match node.blocking(move |s| catalog.add_entry(s, &entry)).await? {
            Added::New | Added::Known => {}
            other => {
                return Err(NodeError::Internal(format!(
                    "this node's catalog did not keep its own key event: {other:?}"
                )))
            }
        }
        if let Err(err) = node.net.announce(e.bytes().to_vec()).await {
            tracing::info!(error = %err, "key event not gossiped now; catch-up will carry it");
        }
        events.push(e.entry_id());
    }
    Ok((
        KeyEventsMade {
            events,
            kept,
            root: state.root,
            seq: state.seq,
        },
        state,
    ))
}

/// The ids of what `signer` signed for `id` dated before `before`, as
/// this node knows it; retractions only if `retractions`.
async fn keep_before(
    node: &Node,
    id: PublisherId,
    signer: PublisherId,
    before: u64,
    retractions: bool,
) -> Result<Vec<BundleId>, NodeError> {
    let catalog = node.catalog.clone();
    let items = node
        .blocking(move |s| catalog.signed_by_key(s, &id, &signer))
        .await?;
    Ok(items
        .into_iter()
        .filter(|(_, created, retraction)| *created < before && (retractions || !retraction))
        .map(|(k, _, _)| k)
        .collect())
}

/// `keep` events naming `target` (a device, or the root in force) for all
/// but the last share of `keep`, which goes in `last` (a `revoke` or
/// `rotate`): the chain then brings every keep list before the event
/// that needs it.
fn with_keeps(last: Draft, target: PublisherId, keep: Vec<BundleId>) -> (Vec<Draft>, Draft) {
    let mut chunks: Vec<Vec<BundleId>> =
        keep.chunks(MAX_KEEP_PER_EVENT).map(<[_]>::to_vec).collect();
    let mut last = last;
    last.keep = chunks.pop().unwrap_or_default();
    let keeps = chunks
        .into_iter()
        .map(|c| Draft {
            kind: KeyKind::Keep,
            device: Some(target),
            name: None,
            keep: c,
        })
        .collect();
    (keeps, last)
}

/// `POST /v1/identity/device`: the root certifies a device key.
pub async fn certify(node: &Node, body: DeviceBody) -> Result<KeyEventsMade, NodeError> {
    add_own_events(node).await?;
    weft_protocol::manifest::check_device_name(&body.name)
        .map_err(|why| NodeError::BadRequest(format!("device name: {why}")))?;
    let (_, state) = identity_state(node)?;
    if let Some(d) = state.devices.get(&body.device) {
        return Err(NodeError::Conflict(if d.revoked {
            format!("device {} was revoked; a revoked key never comes back. Make a new device key with `weft device add`", body.device)
        } else {
            format!(
                "device {} is already certified (as \"{}\")",
                body.device, d.name
            )
        }));
    }
    let root = root_key(node, &state, body.paper, body.passphrase).await?;
    let draft = Draft {
        kind: KeyKind::Device,
        device: Some(body.device),
        name: Some(body.name),
        keep: Vec::new(),
    };
    Ok(append(node, state, vec![draft], &root, None).await?.0)
}

/// `POST /v1/identity/revoke`: the root revokes a device for good,
/// keeping what the request names.
pub async fn revoke(node: &Node, body: RevokeBody) -> Result<KeyEventsMade, NodeError> {
    add_own_events(node).await?;
    let (id, state) = identity_state(node)?;
    match state.devices.get(&body.device) {
        None => {
            return Err(NodeError::NotFound(format!(
                "{} is not a device of identity {id}; `weft identity` lists them",
                body.device
            )))
        }
        Some(d) if d.revoked => {
            return Err(NodeError::Conflict(format!(
                "device {} is already revoked",
                body.device
            )))
        }
        Some(_) => {}
    }
    let mut keep: BTreeSet<BundleId> = body.keep.iter().copied().collect();
    if let Some(before) = body.keep_before {
        keep.extend(keep_before(node, id, body.device, before, !body.undo_retractions).await?);
    }
    let root = root_key(node, &state, body.paper, body.passphrase).await?;
    let first = Draft {
        kind: KeyKind::Revoke,
        device: Some(body.device),
        name: None,
        keep: Vec::new(),
    };
    let (mut drafts, last) = with_keeps(first, body.device, keep.into_iter().collect());
    drafts.push(last);
    Ok(append(node, state, drafts, &root, None).await?.0)
}

/// `POST /v1/identity/rotate`: reveals the next root from the paper
/// backup, on top of the last event or of an earlier one.
pub async fn rotate(node: &Node, body: RotateBody) -> Result<KeyEventsMade, NodeError> {
    add_own_events(node).await?;
    let (id, state) = identity_state(node)?;
    let backup =
        PaperBackup::parse(&body.paper).map_err(|e| NodeError::BadRequest(e.to_string()))?;
    let base = match body.from_seq {
        None => state,
        Some(seq) if seq > state.seq => {
            return Err(NodeError::BadRequest(format!(
                "the log's last event is seq {}; there is no seq {seq}",
                state.seq
            )))
        }
        Some(seq) => {
            let chain = node.catalog.key_chain(&id);
            let changed = || NodeError::Conflict("the key log changed meanwhile; try again".into());
            let mut s = KeyState::incept(chain.first().ok_or_else(changed)?)
                .map_err(|e| NodeError::Internal(e.to_string()))?;
            for e in chain.get(1..=seq as usize).ok_or_else(changed)? {
                s = s.apply(e).map_err(|e| NodeError::Internal(e.to_string()))?;
            }
            if s.rotations != state.rotations {
                return Err(NodeError::Conflict(format!(
                    "the root was rotated after seq {seq}; rotate from a later event"
                )));
            }
            s
        }
    };
    let new_root = backup.root(base.rotations + 1);
    if next_commitment(&new_root.id()) != base.next {
        return Err(NodeError::Forbidden(format!(
            "these words are not the paper backup of identity {id}: the next root they make is not the one the identity committed to"
        )));
    }
    let old = base.root;
    let keep = match body.keep_before {
        Some(before) => keep_before(node, id, old, before, true).await?,
        None => Vec::new(),
    };
    let first = Draft {
        kind: KeyKind::Rotate,
        device: None,
        name: None,
        keep: Vec::new(),
    };
    let (keeps, last) = with_keeps(first, old, keep);
    let next = backup.root(base.rotations + 2).id();
    // The keep lists go first, signed by the old root (from the paper), so
    // that the rotation finds them all in the chain.
    let (before, base) = if keeps.is_empty() {
        (None, base)
    } else {
        let old_key = backup.root(base.rotations);
        if old_key.id() != old {
            return Err(NodeError::Conflict(format!(
                "the old root is not on this paper backup, so it can keep at most {MAX_KEEP_PER_EVENT} items; give an earlier --keep-before"
            )));
        }
        let (made, state) = append(node, base, keeps, &old_key, None).await?;
        (Some(made), state)
    };
    let (mut made, _) = append(node, base, vec![last], &new_root, Some(next)).await?;
    if let Some(b) = before {
        made.kept += b.kept;
        made.events.splice(0..0, b.events);
    }
    // The old root's file is useless now and would only mislead.
    let _ = std::fs::remove_file(node.data_dir.join(files::ROOT_KEY));
    Ok(made)
}

/// Signs `draft` as event `seq` after the event hashed `prev`, with
/// `root` (`next`: the root a rotation or incept commits to). The keep
/// list is sorted and deduplicated first.
fn sign_draft(
    id: PublisherId,
    seq: u64,
    prev: Option<weft_protocol::ContentHash>,
    draft: Draft,
    root: &PublisherKey,
    next: Option<PublisherId>,
) -> Result<SignedKeyEvent, weft_protocol::ValidationError> {
    let mut keep = draft.keep;
    keep.sort();
    keep.dedup();
    let event = KeyEvent {
        v: VERSION,
        id,
        seq,
        keep: (!keep.is_empty()).then_some(keep),
        kind: draft.kind,
        name: draft.name,
        next: next.map(|n| next_commitment(&n)),
        prev,
        root: root.id(),
        device: draft.device,
        created: now_secs(),
    };
    SignedKeyEvent::sign(event, root)
}

/// [`sign_draft`] chained on `prev` (none for an incept).
fn chained(
    id: PublisherId,
    prev: Option<&SignedKeyEvent>,
    draft: Draft,
    root: &PublisherKey,
    next: Option<PublisherId>,
) -> Result<SignedKeyEvent, NodeError> {
    let seq = prev.map_or(0, |p| p.event().seq + 1);
    sign_draft(id, seq, prev.map(SignedKeyEvent::hash), draft, root, next)
        .map_err(|e| NodeError::Internal(e.to_string()))
}

/// `POST /v1/identity/upgrade`: this node's single key becomes root 0 of
/// an identity whose id is that key (so followers, rules and names see no
/// change), and is replaced at once by root 1 of a new paper backup,
/// keeping everything the old key signed. The node then signs with a new
/// device key; the old key is deleted from the device.
pub async fn upgrade(node: &Node, body: UpgradeBody) -> Result<UpgradeResult, NodeError> {
    use rand::RngCore;
    node.catalog.ready().await;
    if node.identity_file()?.is_some() {
        return Err(NodeError::Conflict(
            "this node already signs for an identity (`weft identity` shows it)".into(),
        ));
    }
    let name = body.device_name.unwrap_or_else(|| "first device".into());
    weft_protocol::manifest::check_device_name(&name)
        .map_err(|why| NodeError::BadRequest(format!("device name: {why}")))?;
    let file = node.key_file()?;
    let sealed = file.is_sealed();
    let pass = body.passphrase.clone();
    let old = tokio::task::spawn_blocking(move || file.open(pass.as_deref()))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(|e| NodeError::BadRequest(e.to_string()))?;
    let id = old.id();
    let mut entropy = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut entropy);
    let paper = PaperBackup::from_entropy(entropy);
    let (root1, root2) = (paper.root(1), paper.root(2));
    let mut device_seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut device_seed);
    let device = PublisherKey::from_seed(device_seed);
    // Everything the old key signed stays valid.
    let catalog = node.catalog.clone();
    let keep: Vec<BundleId> = node
        .blocking(move |s| catalog.signed_by_key(s, &id, &id))
        .await?
        .into_iter()
        .map(|(k, _, _)| k)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut events = vec![chained(
        id,
        None,
        Draft {
            kind: KeyKind::Incept,
            device: None,
            name: None,
            keep: Vec::new(),
        },
        &old,
        Some(root1.id()),
    )?];
    let first = Draft {
        kind: KeyKind::Rotate,
        device: None,
        name: None,
        keep: Vec::new(),
    };
    let (keeps, last) = with_keeps(first, id, keep.clone());
    for draft in keeps {
        let e = chained(id, events.last(), draft, &old, None)?;
        events.push(e);
    }
    let e = chained(id, events.last(), last, &root1, Some(root2.id()))?;
    events.push(e);
    let cert = Draft {
        kind: KeyKind::Device,
        device: Some(device.id()),
        name: Some(name),
        keep: Vec::new(),
    };
    let e = chained(id, events.last(), cert, &root1, None)?;
    events.push(e);
    // Check the whole log before anything is written.
    weft_protocol::identity::resolve(&id, &events)
        .filter(|(_, chain)| chain.len() == events.len())
        .ok_or_else(|| NodeError::Internal("the upgrade's key log does not resolve".into()))?;
    // The files: the identity and the root first, the device key last
    // (a rename), so an upgrade cut short leaves the old key in place.
    let key_text = |seed: [u8; 32]| -> Result<String, NodeError> {
        Ok(match (&body.passphrase, sealed) {
            (Some(p), true) => {
                let mut salt = [0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut salt);
                weft_protocol::keyfile::KeyFile::seal(
                    seed,
                    p,
                    salt,
                    weft_protocol::keyfile::DEFAULT_KDF,
                )
                .map_err(|e| NodeError::Internal(e.to_string()))?
                .to_text()
            }
            _ => KeyFile::Plain(seed).to_text(),
        })
    };
    let (root_text, device_text) = (key_text(root1.seed())?, key_text(device_seed)?);
    let dir = node.data_dir.clone();
    let identity = IdentityFile {
        id,
        events: events.clone(),
    };
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use crate::config::write_private;
        write_private(&dir.join(files::ROOT_KEY), root_text.as_bytes())?;
        write_private(&dir.join(files::IDENTITY), identity.to_text().as_bytes())?;
        write_private(&dir.join(files::PUBLISHER_KEY), device_text.as_bytes())
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?
    .map_err(|e| NodeError::Internal(format!("writing the new key files: {e}")))?;
    add_own_events(node).await?;
    for e in &events {
        if let Err(err) = node.net.announce(e.bytes().to_vec()).await {
            tracing::debug!(error = %err, "key event not gossiped now; catch-up will carry it");
        }
    }
    Ok(UpgradeResult {
        device: device.id(),
        events: events.iter().map(SignedKeyEvent::entry_id).collect(),
        fingerprint: fingerprint(&id),
        identity: id,
        kept: keep.len() as u64,
        paper_backup: paper.words().into_iter().map(String::from).collect(),
    })
}
