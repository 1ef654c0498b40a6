//! [`SignedManifest`]: a manifest with its signature, its exact bytes and
//! its bundle id.

use crate::id::{BundleId, PublisherId};
use crate::keys::{PublisherKey, MANIFEST_DOMAIN};
use crate::limits::MAX_MANIFEST_BYTES;

use super::bundle::Manifest;
use super::envelope::{decode_body, open, open_envelope, seal, Signable};
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
    bytes: Vec<u8>,
    id: BundleId,
    manifest: Manifest,
}

impl SignedManifest {
    /// Validates and signs a manifest. The key must be the manifest's
    /// publisher.
    pub fn sign(manifest: Manifest, key: &PublisherKey) -> Result<Self, ValidationError> {
        let bytes = seal(&manifest, key)?;
        Ok(Self {
            id: BundleId::of_signed_manifest(&bytes),
            bytes,
            manifest,
        })
    }

    /// Decodes, verifies and validates a signed manifest received from
    /// anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            manifest: open(bytes, "manifest")?,
            id: BundleId::of_signed_manifest(bytes),
            bytes: bytes.to_vec(),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bundle id: blake3 of [`Self::bytes`].
    pub fn id(&self) -> BundleId {
        self.id
    }

    /// The manifest inside.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

impl SignedManifest {
    /// Decodes a manifest this node verified before storing it, without
    /// checking the signature again (the rest is checked). Never use it on
    /// bytes from a peer or a file.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        let env = open_envelope(bytes, MAX_MANIFEST_BYTES, "manifest")?;
        let manifest: Manifest = decode_body(&env.body, MAX_MANIFEST_BYTES, "manifest")?;
        manifest.validate()?;
        Ok(Self {
            manifest,
            id: BundleId::of_signed_manifest(bytes),
            bytes: bytes.to_vec(),
        })
    }
}
