//! The keys a node keeps in its data dir: the node key (its libp2p
//! identity), the API token, and the publisher key file (plain or sealed
//! with a passphrase, see [`weft_protocol::keyfile`]).

use std::path::Path;

use anyhow::Context;
use libp2p::identity;
use rand::RngCore;
use weft_protocol::keyfile::KeyFile;

use crate::config::{files, write_private};
use crate::error::NodeError;

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

/// Loads the API token, creating it on first start (64 hex digits, 0600).
pub fn load_or_create_token(dir: &Path) -> anyhow::Result<String> {
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

/// Reads a publisher key file, plain or sealed (see
/// [`weft_protocol::keyfile`]).
pub fn load_key_file(path: &std::path::Path) -> Result<KeyFile, NodeError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(NodeError::BadRequest(
                "this node has no publisher key yet; create one with `weft init`".into(),
            ))
        }
        Err(e) => {
            return Err(NodeError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    KeyFile::parse(&text).map_err(|e| NodeError::Internal(format!("{}: {e}", path.display())))
}
