//! Retractions ([`Retraction`], [`SignedRetraction`]) and [`CatalogEntry`],
//! the announcement, retraction or vouch that gossip and catch-up carry.

use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{PublisherKey, RETRACTION_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;

use super::announcement::SignedAnnouncement;
use super::envelope::{Envelope, Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::group::{
    GroupRecord, KeyBox, PrivateAnnouncement, SignedGroupRecord, SignedKeyBox, SignedPrivate,
};
use super::keylog::{KeyEvent, SignedKeyEvent};
use super::profile::{Profile, SignedProfile};
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
    sealed: Sealed<Retraction>,
}

impl SignedRetraction {
    /// Signs a retraction; `key` must be its publisher.
    pub fn sign(retraction: Retraction, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            sealed: Sealed::sign(retraction, key)?,
        })
    }

    /// Decodes and verifies a retraction from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode(bytes, "retraction")?,
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The retraction inside.
    pub fn retraction(&self) -> &Retraction {
        &self.sealed.value
    }

    /// The key that signed: the publisher, or a device signing for it.
    pub fn signed_by(&self) -> PublisherId {
        self.sealed.by
    }

    /// Its catalog entry key: the blake3 hash of its bytes.
    pub fn entry_id(&self) -> BundleId {
        retraction_entry_id(&self.sealed.bytes)
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
    /// An event of an identity's key log (`crate::identity`).
    Key(SignedKeyEvent),
    /// A publisher's profile.
    Profile(SignedProfile),
    /// A change of a private group (section 6.6).
    Group(SignedGroupRecord),
    /// A group's epoch secret sealed to one member device.
    KeyBox(SignedKeyBox),
    /// A private bundle's announcement, signed by its group's epoch key.
    Private(SignedPrivate),
}

/// Which kind of entry an envelope holds. The bodies' field sets differ
/// and every body refuses unknown fields, so at most one kind decodes a
/// body; an announcement is what is left.
fn kind_of(bytes: &[u8]) -> &'static str {
    fn is<T: Serialize + serde::de::DeserializeOwned>(body: &[u8]) -> bool {
        cbor::decode::<T>(body, MAX_ANNOUNCEMENT_BYTES, "entry").is_ok()
    }
    match cbor::decode::<Envelope>(bytes, MAX_ANNOUNCEMENT_BYTES, "entry") {
        Ok(env) if is::<Retraction>(&env.body) => "retraction",
        Ok(env) if is::<Vouch>(&env.body) => "vouch",
        Ok(env) if is::<KeyEvent>(&env.body) => "key event",
        Ok(env) if is::<Profile>(&env.body) => "profile",
        Ok(env) if is::<GroupRecord>(&env.body) => "group record",
        Ok(env) if is::<KeyBox>(&env.body) => "key box",
        Ok(env) if is::<PrivateAnnouncement>(&env.body) => "private announcement",
        _ => "announcement",
    }
}

impl CatalogEntry {
    /// Decodes and verifies any catalog entry from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(match kind_of(bytes) {
            "retraction" => Self::Retraction(SignedRetraction {
                sealed: Sealed::decode(bytes, "retraction")?,
            }),
            "vouch" => Self::Vouch(SignedVouch::decode(bytes)?),
            "key event" => Self::Key(SignedKeyEvent::decode(bytes)?),
            "profile" => Self::Profile(SignedProfile::decode(bytes)?),
            "group record" => Self::Group(SignedGroupRecord::decode(bytes)?),
            "key box" => Self::KeyBox(SignedKeyBox::decode(bytes)?),
            "private announcement" => Self::Private(SignedPrivate::decode(bytes)?),
            _ => Self::Announcement(SignedAnnouncement::decode(bytes)?),
        })
    }

    /// Decodes an entry this node verified before storing it (see
    /// [`SignedAnnouncement::decode_stored`]).
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(match kind_of(bytes) {
            "retraction" => Self::Retraction(SignedRetraction {
                sealed: Sealed::decode_stored(bytes, "retraction")?,
            }),
            "vouch" => Self::Vouch(SignedVouch {
                sealed: Sealed::decode_stored(bytes, "vouch")?,
            }),
            "key event" => Self::Key(SignedKeyEvent::decode_stored(bytes)?),
            "profile" => Self::Profile(SignedProfile::decode_stored(bytes)?),
            "group record" => Self::Group(SignedGroupRecord::decode_stored(bytes)?),
            "key box" => Self::KeyBox(SignedKeyBox::decode_stored(bytes)?),
            "private announcement" => Self::Private(SignedPrivate::decode_stored(bytes)?),
            _ => Self::Announcement(SignedAnnouncement::decode_stored(bytes)?),
        })
    }

    /// The key it is stored and reconciled under: the claim key (bundle
    /// and publisher, [`super::claim_key`]) for an announcement, the hash of
    /// the bytes for the others.
    pub fn entry_id(&self) -> BundleId {
        match self {
            Self::Announcement(a) => a.announcement().claim_key(),
            Self::Retraction(r) => r.entry_id(),
            Self::Vouch(v) => v.entry_id(),
            Self::Key(k) => k.entry_id(),
            Self::Profile(p) => p.entry_id(),
            Self::Group(r) => r.entry_id(),
            Self::KeyBox(b) => b.entry_id(),
            Self::Private(p) => p.entry_id(),
        }
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Announcement(a) => a.bytes(),
            Self::Retraction(r) => r.bytes(),
            Self::Vouch(v) => v.bytes(),
            Self::Key(k) => k.bytes(),
            Self::Profile(p) => p.bytes(),
            Self::Group(r) => r.bytes(),
            Self::KeyBox(b) => b.bytes(),
            Self::Private(p) => p.bytes(),
        }
    }

    /// The publisher (identity) it speaks for: trust tiers and quotas
    /// judge this one.
    pub fn signer(&self) -> PublisherId {
        match self {
            Self::Announcement(a) => a.announcement().publisher,
            Self::Retraction(r) => r.retraction().publisher,
            Self::Vouch(v) => v.vouch().by,
            Self::Key(k) => k.event().id,
            Self::Profile(p) => p.profile().publisher,
            Self::Group(r) => r.record().admin,
            Self::KeyBox(b) => b.key_box().admin,
            Self::Private(p) => p.private().key,
        }
    }

    /// The key that actually signed: the publisher itself, one of its
    /// devices, or (for a key event) the root in force.
    pub fn signed_by(&self) -> PublisherId {
        match self {
            Self::Announcement(a) => a.signed_by(),
            Self::Retraction(r) => r.signed_by(),
            Self::Vouch(v) => v.signed_by(),
            Self::Key(k) => k.event().root,
            Self::Profile(p) => p.signed_by(),
            Self::Group(r) => r.signed_by(),
            Self::KeyBox(b) => b.signed_by(),
            Self::Private(p) => p.signed_by(),
        }
    }

    /// The id a keep list names it by: the BLAKE3 hash of its bytes (for
    /// an announcement too, whose entry key does not depend on its
    /// content; a manifest is kept by its bundle id, which is the hash of
    /// its bytes).
    pub fn keep_id(&self) -> BundleId {
        retraction_entry_id(self.bytes())
    }

    /// When its signer says it was made (Unix seconds).
    pub fn created(&self) -> u64 {
        match self {
            Self::Announcement(a) => a.announcement().created,
            Self::Retraction(r) => r.retraction().created,
            Self::Vouch(v) => v.vouch().created,
            Self::Key(k) => k.event().created,
            Self::Profile(p) => p.profile().created,
            Self::Group(r) => r.record().created,
            Self::KeyBox(b) => b.key_box().created,
            Self::Private(p) => p.private().created,
        }
    }
}
