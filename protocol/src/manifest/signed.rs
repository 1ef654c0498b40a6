//! [`SignedManifest`]: a manifest with its signature, its exact bytes and
//! its bundle id.

use crate::id::{BundleId, PublisherId};
use crate::keys::{PublisherKey, MANIFEST_DOMAIN};
use crate::limits::MAX_MANIFEST_BYTES;

use super::bundle::Manifest;
use super::envelope::{Sealed, Signable};
use super::error::{DecodeError, ValidationError};

impl Signable for Manifest {
    const DOMAIN: &'static [u8] = MANIFEST_DOMAIN;
    const LIMIT: usize = MAX_MANIFEST_BYTES;
    const WHAT: &'static str = "manifest";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// A manifest with its signature and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    sealed: Sealed<Manifest>,
    id: BundleId,
}

impl SignedManifest {
    /// Validates and signs a manifest with the publisher's key or one of
    /// its device keys.
    pub fn sign(manifest: Manifest, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self::wrap(Sealed::sign(manifest, key)?))
    }

    fn wrap(sealed: Sealed<Manifest>) -> Self {
        Self {
            id: BundleId::of_signed_manifest(&sealed.bytes),
            sealed,
        }
    }

    /// Decodes, verifies and validates a signed manifest received from
    /// anywhere. Whether its signer may sign for its publisher is the key
    /// log's question ([`crate::identity`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::wrap(Sealed::decode(bytes, "manifest")?))
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The key that signed: the publisher, or a device signing for it.
    pub fn signed_by(&self) -> PublisherId {
        self.sealed.by
    }

    /// The bundle id: blake3 of [`Self::bytes`].
    pub fn id(&self) -> BundleId {
        self.id
    }

    /// The manifest inside.
    pub fn manifest(&self) -> &Manifest {
        &self.sealed.value
    }
}

impl SignedManifest {
    /// Decodes a manifest this node verified before storing it, without
    /// checking the signature again (the rest is checked). Never use it on
    /// bytes from a peer or a file.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::wrap(Sealed::decode_stored(bytes, "manifest")?))
    }
}
