//! Retractions ([`Retraction`], [`SignedRetraction`]) and [`CatalogEntry`],
//! the announcement, retraction or vouch that gossip and catch-up carry.

use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{PublisherKey, RETRACTION_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;

use super::announcement::SignedAnnouncement;
use super::envelope::{decode_body, open, open_envelope, seal, Envelope, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::vouch::{SignedVouch, Vouch};
use super::VERSION;

/// A publisher's signed statement that one of its bundles should no longer
/// be listed or served. It travels like an announcement (gossip and catalog
/// catch-up) and is kept in the catalog under its own entry key, the blake3
/// hash of its bytes, next to the announcement it retracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// When it was made, seconds since the Unix epoch.
    pub created: u64,
    /// The bundle retracted.
    pub retracts: BundleId,
    /// The publisher, who signs it. A retraction counts only for a bundle
    /// whose announcement or manifest names the same publisher.
    pub publisher: PublisherId,
}

impl Signable for Retraction {
    const DOMAIN: &'static [u8] = RETRACTION_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "retraction";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        Ok(())
    }
}

/// A retraction with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRetraction {
    bytes: Vec<u8>,
    retraction: Retraction,
}

impl SignedRetraction {
    /// Signs a retraction; `key` must be its publisher.
    pub fn sign(retraction: Retraction, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            bytes: seal(&retraction, key)?,
            retraction,
        })
    }

    /// Decodes and verifies a retraction from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            retraction: open(bytes, "retraction")?,
            bytes: bytes.to_vec(),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The retraction inside.
    pub fn retraction(&self) -> &Retraction {
        &self.retraction
    }

    /// Its catalog entry key: the blake3 hash of its bytes.
    pub fn entry_id(&self) -> BundleId {
        retraction_entry_id(&self.bytes)
    }
}

/// The catalog entry key of a retraction's bytes.
pub fn retraction_entry_id(bytes: &[u8]) -> BundleId {
    BundleId::from_bytes(*ContentHash::of(bytes).as_bytes())
}

/// One catalog entry: what gossip and catch-up carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogEntry {
    /// A bundle exists.
    Announcement(SignedAnnouncement),
    /// A bundle is retracted by its publisher.
    Retraction(SignedRetraction),
    /// A publisher vouches for another (or withdraws it).
    Vouch(SignedVouch),
}

/// Whether an envelope's body is a retraction: its fields are disjoint
/// from an announcement's, so exactly one of the two can decode it.
fn is_retraction_body(bytes: &[u8]) -> bool {
    cbor::decode::<Envelope>(bytes, MAX_ANNOUNCEMENT_BYTES, "entry")
        .ok()
        .is_some_and(|env| {
            cbor::decode::<Retraction>(&env.body, MAX_ANNOUNCEMENT_BYTES, "retraction").is_ok()
        })
}

/// Whether an envelope's body is a vouch (its `by` and `for` fields are in
/// no other entry).
fn is_vouch_body(bytes: &[u8]) -> bool {
    cbor::decode::<Envelope>(bytes, MAX_ANNOUNCEMENT_BYTES, "entry")
        .ok()
        .is_some_and(|env| {
            cbor::decode::<Vouch>(&env.body, MAX_ANNOUNCEMENT_BYTES, "vouch").is_ok()
        })
}

impl CatalogEntry {
    /// Decodes and verifies an announcement, a retraction or a vouch from
    /// anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if is_retraction_body(bytes) {
            SignedRetraction::decode(bytes).map(Self::Retraction)
        } else if is_vouch_body(bytes) {
            SignedVouch::decode(bytes).map(Self::Vouch)
        } else {
            SignedAnnouncement::decode(bytes).map(Self::Announcement)
        }
    }

    /// Decodes an entry this node verified before storing it (see
    /// [`SignedAnnouncement::decode_stored`]).
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        if is_retraction_body(bytes) {
            let env = open_envelope(bytes, MAX_ANNOUNCEMENT_BYTES, "retraction")?;
            let retraction: Retraction =
                decode_body(&env.body, MAX_ANNOUNCEMENT_BYTES, "retraction")?;
            retraction.check()?;
            Ok(Self::Retraction(SignedRetraction {
                retraction,
                bytes: bytes.to_vec(),
            }))
        } else if is_vouch_body(bytes) {
            let env = open_envelope(bytes, MAX_ANNOUNCEMENT_BYTES, "vouch")?;
            let vouch: Vouch = decode_body(&env.body, MAX_ANNOUNCEMENT_BYTES, "vouch")?;
            vouch.validate()?;
            Ok(Self::Vouch(SignedVouch {
                vouch,
                bytes: bytes.to_vec(),
            }))
        } else {
            SignedAnnouncement::decode_stored(bytes).map(Self::Announcement)
        }
    }

    /// The key it is stored and reconciled under: the claim key (bundle
    /// and publisher, [`super::claim_key`]) for an announcement, the hash of
    /// the bytes for a retraction or a vouch.
    pub fn entry_id(&self) -> BundleId {
        match self {
            Self::Announcement(a) => a.announcement().claim_key(),
            Self::Retraction(r) => r.entry_id(),
            Self::Vouch(v) => v.entry_id(),
        }
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Announcement(a) => a.bytes(),
            Self::Retraction(r) => r.bytes(),
            Self::Vouch(v) => v.bytes(),
        }
    }

    /// The publisher whose key signed it.
    pub fn signer(&self) -> PublisherId {
        match self {
            Self::Announcement(a) => a.announcement().publisher,
            Self::Retraction(r) => r.retraction().publisher,
            Self::Vouch(v) => v.vouch().by,
        }
    }

    /// When its signer says it was made (Unix seconds).
    pub fn created(&self) -> u64 {
        match self {
            Self::Announcement(a) => a.announcement().created,
            Self::Retraction(r) => r.retraction().created,
            Self::Vouch(v) => v.vouch().created,
        }
    }
}
