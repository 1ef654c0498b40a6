//! Private groups, the cryptography (`docs/protocol.md`, section 6.6): the
//! group id, each epoch's secret and the keys derived from it, key boxes
//! sealed to members' devices, sealed metadata and sealed content.
//!
//! Nothing here is a primitive of its own. BLAKE3's `derive_key` derives
//! keys, HPKE (RFC 9180, the `hpke` crate: DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305) seals an epoch's secret to a device,
//! XChaCha20-Poly1305 (RustCrypto) seals small metadata, and RustCrypto's
//! STREAM construction over XChaCha20-Poly1305 seals content in segments.
//! The signed records that carry them are in `crate::manifest::group`.

mod boxes;
mod build;
mod meta;
mod sealed;
mod secret;
mod state;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_chain;

pub use crate::manifest::{group_id, GROUP_ID_DOMAIN};
pub use boxes::{open_box, seal_box, BoxContents, EpochEntry, MAX_BOX_EPOCHS};
pub use build::{
    announce, boxes, change, create, open_announcement, open_change, outer_manifest, plain_len,
    seal_in_memory, Admin, BuildError, Change, OUTER_NAME,
};
pub use meta::{open_meta, seal_meta};
pub use sealed::{padme, sealed_len, Opener, SealedHeader, Sealer, HEADER_BYTES, SEGMENT_BYTES};
pub use secret::EpochSecret;
pub use state::{resolve, ChainLink, EpochInfo, GroupState};

use crate::id::PublisherId;

/// Why sealed group data could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// The bytes do not open with this key: tampered with, cut short, made
    /// for another group, epoch or record, or sealed to someone else.
    #[error("{0}: it does not open with this key (tampered with, or not for this node)")]
    Open(&'static str),
    /// The bytes are not shaped as the format says.
    #[error("{0}")]
    Shape(String),
    /// The key cannot receive sealed keys (not a valid Ed25519 point).
    #[error("key {0} cannot receive sealed group keys (not a usable Ed25519 public key)")]
    BadRecipient(PublisherId),
}
