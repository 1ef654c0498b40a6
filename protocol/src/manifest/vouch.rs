//! Vouches ([`Vouch`], [`SignedVouch`]): a publisher's signed statement
//! that it trusts another publisher. A node that trusts the voucher treats
//! the vouchee as vouched for (`docs/protocol.md`, section 6.3). Vouches
//! travel like announcements (gossip and catalog catch-up), under their own
//! entry key, the BLAKE3 hash of their bytes.
//!
//! For one (voucher, vouchee) pair the statement with the latest `created`
//! counts; `active: false` withdraws an earlier vouch. A vouch lapses at
//! `expires`, at most a year after it was made, unless renewed.

use serde::{Deserialize, Serialize};

use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{PublisherKey, VOUCH_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;

use super::envelope::{Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::text::check_text;
use super::VERSION;

/// Longest a vouch may last before it must be renewed: 365 days.
pub const MAX_VOUCH_SECS: u64 = 365 * 24 * 3600;
/// Longest note on a vouch, in bytes.
pub const MAX_VOUCH_NOTE_BYTES: usize = 256;

/// A signed "I vouch for this publisher" (or, with `active` false, "I no
/// longer do"). Fields in canonical CBOR order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vouch {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// The voucher, who signs it.
    pub by: PublisherId,
    /// The publisher vouched for; never the voucher itself.
    #[serde(rename = "for")]
    pub vouchee: PublisherId,
    /// Why, for people (at most 256 bytes, may be empty).
    pub note: String,
    /// 1 to vouch, 0 to withdraw a vouch (an integer: the canonical CBOR
    /// of section 2 has no booleans).
    pub active: u64,
    /// When it was made, seconds since the Unix epoch.
    pub created: u64,
    /// When it lapses: after `created`, at most [`MAX_VOUCH_SECS`] later.
    pub expires: u64,
}

impl Vouch {
    /// Checks the rules of section 6.3.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.by == self.vouchee {
            return Err(field("for", "a publisher cannot vouch for itself"));
        }
        check_text("note", &self.note, MAX_VOUCH_NOTE_BYTES, true)?;
        if self.active > 1 {
            return Err(field("active", "must be 1 (vouch) or 0 (withdraw)"));
        }
        if self.expires <= self.created || self.expires - self.created > MAX_VOUCH_SECS {
            return Err(field(
                "expires",
                format!("must be after created and at most {MAX_VOUCH_SECS} seconds later"),
            ));
        }
        Ok(())
    }

    /// Whether it vouches (active and not lapsed) at time `now`.
    pub fn in_force(&self, now: u64) -> bool {
        self.active == 1 && now < self.expires
    }
}

impl Signable for Vouch {
    const DOMAIN: &'static [u8] = VOUCH_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "vouch";
    fn signer(&self) -> PublisherId {
        self.by
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// A vouch with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedVouch {
    pub(super) sealed: Sealed<Vouch>,
}

impl SignedVouch {
    /// Signs a vouch; `key` must be its voucher.
    pub fn sign(vouch: Vouch, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            sealed: Sealed::sign(vouch, key)?,
        })
    }

    /// Decodes and verifies a vouch from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode(bytes, "vouch")?,
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The vouch inside.
    pub fn vouch(&self) -> &Vouch {
        &self.sealed.value
    }

    /// The key that signed: the voucher, or a device signing for it.
    pub fn signed_by(&self) -> PublisherId {
        self.sealed.by
    }

    /// Its catalog entry key: the BLAKE3 hash of its bytes.
    pub fn entry_id(&self) -> BundleId {
        BundleId::from_bytes(*ContentHash::of(&self.sealed.bytes).as_bytes())
    }
}
