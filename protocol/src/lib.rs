//! `weft-protocol`: the formats weft nodes agree on, version 1.
//!
//! This crate is pure. It has no I/O, no async runtime, no networking and no
//! storage: it turns values into canonical bytes and back, hashes, signs and
//! verifies. Time and randomness come from the caller. Its dependencies
//! (argon2, bip39, blake3, ed25519-dalek, serde, serde_cbor, thiserror) prove it, and none
//! of their error types appear in its public API.
//!
//! `docs/protocol.md` specifies everything here, with test vectors that
//! [`vectors`] reproduces.

pub mod api;
pub mod archive;
pub mod blocks;
pub mod cbor;
pub mod chunk;
pub mod group;
pub mod id;
pub mod identity;
pub mod invite;
pub mod keyfile;
pub mod keys;
pub mod layout;
pub mod limits;
pub mod manifest;
pub mod path;
pub mod sync;
pub mod units;
pub mod vectors;
pub mod wire;
pub mod words;

pub use cbor::CborError;
pub use chunk::{ChunkError, FileIndexer};
pub use id::{BundleId, ContentHash, GroupId, IdError, PublisherId};
pub use keys::{PublisherKey, SignatureError};
pub use manifest::{
    claim_key, retraction_entry_id, Announcement, CatalogEntry, DecodeError, FileEntry, KeyEvent,
    KeyKind, LangText, LangTitle, Manifest, Profile, ProfileText, Retraction, SignedAnnouncement,
    SignedKeyEvent, SignedManifest, SignedProfile, SignedRetraction, SignedVouch, ValidationError,
    Vouch, VERSION,
};
pub use path::PathError;
pub use wire::{Request, Response};
