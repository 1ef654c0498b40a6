//! Key events ([`KeyEvent`], [`SignedKeyEvent`]): the entries of an
//! identity's key log. What a log of them means, and which of several
//! forks counts, is [`crate::identity`]'s business; this module only
//! checks that each event is well formed on its own and signed by the root
//! key it names.
//!
//! Key events travel like announcements (gossip and catalog catch-up),
//! under their own entry key, the BLAKE3 hash of their bytes, which is
//! also the `prev` the next event of the log names.

use serde::{Deserialize, Serialize};

use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{PublisherKey, KEY_EVENT_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;

use super::envelope::{Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::VERSION;

/// Most ids one event's keep list holds (3 KiB, so that an event fits in
/// a catalog entry); `keep` events add more.
pub const MAX_KEEP_PER_EVENT: usize = 96;
/// Longest device name, in bytes.
pub const MAX_DEVICE_NAME_BYTES: usize = 64;
/// Domain of [`next_commitment`].
pub const NEXT_DOMAIN: &[u8] = b"weft/v1/next\0";
/// Domain of [`identity_id`].
pub const IDENTITY_DOMAIN: &[u8] = b"weft/v1/identity\0";

/// The id of an identity incepted with `root` committing to `next`:
/// BLAKE3(`weft/v1/identity\0` ‖ root ‖ next). Because the id commits to
/// the next root, whoever later steals the first root cannot start
/// another log under the same id that commits to a next root of its own.
pub fn identity_id(root: &PublisherId, next: &ContentHash) -> PublisherId {
    let mut h = blake3::Hasher::new();
    h.update(IDENTITY_DOMAIN);
    h.update(root.as_bytes());
    h.update(next.as_bytes());
    PublisherId::from_bytes(*h.finalize().as_bytes())
}

/// What an event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Starts the log: `root` is the identity's first root key, `next`
    /// commits to the next root, and `id` is derived from both.
    Incept,
    /// Replaces the root by the one the previous root committed to, and
    /// commits to the one after it. Content the former root signed stays
    /// valid only if `keep` names it.
    Rotate,
    /// Certifies a device key, which may then sign for the identity.
    Device,
    /// Revokes a device key for good. What it signed stays valid only if
    /// `keep` (here or in later `keep` events) names it.
    Revoke,
    /// Names more things a revoked device or a former root signed that
    /// stay valid.
    Keep,
}

/// One event of an identity's key log, signed by `root`. Fields in
/// canonical CBOR order; which optional fields an event has depends on its
/// kind (see [`KeyEvent::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEvent {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// The identity: [`identity_id`] of its `incept` event's root and
    /// next, or (a single-key publisher's key made a root) that root.
    pub id: PublisherId,
    /// Position in the log: 0 for `incept`, then one more than `prev`'s.
    pub seq: u64,
    /// Bundle ids and entry keys that stay valid though their signer is
    /// revoked (`revoke`, `keep`, `rotate`); sorted, no duplicates, at most
    /// [`MAX_KEEP_PER_EVENT`]; absent rather than empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<Vec<BundleId>>,
    /// What the event does.
    pub kind: KeyKind,
    /// The device's name, for people (`device` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// [`next_commitment`] of the next root (`incept`, `rotate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<ContentHash>,
    /// BLAKE3 of the previous event's bytes (all but `incept`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<ContentHash>,
    /// The root key that signs this event: the first root for `incept`,
    /// the newly revealed root for `rotate`, the root in force otherwise.
    pub root: PublisherId,
    /// The device key certified, revoked or kept from (`device`,
    /// `revoke`, `keep`); for `keep` it may also be a former root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<PublisherId>,
    /// When it was made, seconds since the Unix epoch. Informative only:
    /// the order of the log is `seq`.
    pub created: u64,
}

/// BLAKE3 of `weft/v1/next\0` and a root public key: what an `incept` or
/// `rotate` event commits to in `next`.
pub fn next_commitment(root: &PublisherId) -> ContentHash {
    let mut h = blake3::Hasher::new();
    h.update(NEXT_DOMAIN);
    h.update(root.as_bytes());
    ContentHash::from_bytes(*h.finalize().as_bytes())
}

impl KeyEvent {
    /// Checks the rules an event keeps on its own (section 6.4 of the
    /// protocol); whether it fits the log is [`crate::identity`]'s check.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        let need = |present: bool, name: &'static str, wanted: bool| {
            if present == wanted {
                Ok(())
            } else if wanted {
                Err(field(name, format!("a {:?} event must have it", self.kind)))
            } else {
                Err(field(
                    name,
                    format!("a {:?} event must not have it", self.kind),
                ))
            }
        };
        let k = self.kind;
        use KeyKind::*;
        need(self.seq > 0, "seq", k != Incept)?;
        need(self.prev.is_some(), "prev", k != Incept)?;
        need(self.next.is_some(), "next", matches!(k, Incept | Rotate))?;
        need(
            self.device.is_some(),
            "device",
            matches!(k, Device | Revoke | Keep),
        )?;
        need(self.name.is_some(), "name", k == Device)?;
        if matches!(k, Incept | Device) {
            need(self.keep.is_some(), "keep", false)?;
        }
        if k == Keep {
            need(self.keep.is_some(), "keep", true)?;
        }
        if k == Incept {
            let next = self.next.as_ref().expect("checked above");
            if self.id != identity_id(&self.root, next) && self.id != self.root {
                return Err(field(
                    "id",
                    "an incept event's id is derived from its root and next (or is its root)",
                ));
            }
        }
        if let Some(device) = &self.device {
            if k != Keep && (*device == self.id || *device == self.root) {
                return Err(field("device", "a device key cannot be a root key"));
            }
        }
        if let Some(name) = &self.name {
            check_device_name(name).map_err(|why| field("name", why))?;
        }
        if let Some(keep) = &self.keep {
            if keep.is_empty() {
                return Err(field("keep", "absent rather than empty"));
            }
            if keep.len() > MAX_KEEP_PER_EVENT {
                return Err(field("keep", format!("at most {MAX_KEEP_PER_EVENT} ids")));
            }
            if keep.windows(2).any(|w| w[0].as_bytes() >= w[1].as_bytes()) {
                return Err(field("keep", "must be sorted with no duplicates"));
            }
        }
        Ok(())
    }
}

/// Checks a device name: 1 to [`MAX_DEVICE_NAME_BYTES`] bytes, no control
/// or invisible formatting characters, no space at either end.
pub fn check_device_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_DEVICE_NAME_BYTES {
        return Err(format!("1 to {MAX_DEVICE_NAME_BYTES} bytes"));
    }
    if name.trim() != name {
        return Err("no spaces at either end".into());
    }
    if let Some(c) = name.chars().find(|c| crate::words::is_hidden_char(*c)) {
        return Err(format!(
            "no control or invisible characters (found U+{:04X})",
            c as u32
        ));
    }
    Ok(())
}

impl Signable for KeyEvent {
    const DOMAIN: &'static [u8] = KEY_EVENT_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "key event";
    fn signer(&self) -> PublisherId {
        self.root
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// A key event with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedKeyEvent {
    sealed: Sealed<KeyEvent>,
}

impl SignedKeyEvent {
    /// Signs an event; `key` must be its `root`.
    pub fn sign(event: KeyEvent, key: &PublisherKey) -> Result<Self, ValidationError> {
        if key.id() != event.root {
            return Err(field(
                "root",
                format!(
                    "the event names root {} but is signed by {}",
                    event.root,
                    key.id()
                ),
            ));
        }
        Ok(Self {
            sealed: Sealed::sign(event, key)?,
        })
    }

    /// Decodes and verifies an event from anywhere: well formed and signed
    /// by the root it names.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::checked(Sealed::decode(bytes, "key event")?)
    }

    /// Decodes an event this node verified before it stored it.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::checked(Sealed::decode_stored(bytes, "key event")?)
    }

    fn checked(sealed: Sealed<KeyEvent>) -> Result<Self, DecodeError> {
        if sealed.by != sealed.value.root {
            return Err(field(
                "root",
                "a key event is signed by the root it names, never a device",
            )
            .into());
        }
        Ok(Self { sealed })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The event inside.
    pub fn event(&self) -> &KeyEvent {
        &self.sealed.value
    }

    /// BLAKE3 of its bytes: what the next event names as `prev`.
    pub fn hash(&self) -> ContentHash {
        ContentHash::of(&self.sealed.bytes)
    }

    /// Its catalog entry key: the same hash.
    pub fn entry_id(&self) -> BundleId {
        BundleId::from_bytes(*self.hash().as_bytes())
    }
}
