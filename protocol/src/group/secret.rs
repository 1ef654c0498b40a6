//! An epoch's secret and the keys derived from it.

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::id::PublisherId;
use crate::keys::PublisherKey;

/// The 32 random bytes every member holds for one epoch of a group. Every
/// key of the epoch is derived from it with BLAKE3's `derive_key`.
#[derive(Clone, PartialEq, Eq)]
pub struct EpochSecret([u8; 32]);

/// Context of the epoch's signing key.
const SIGNING_CONTEXT: &str = "weft/v1 group epoch signing key";
/// Context of the key that seals metadata (record changes, private
/// announcements).
const META_CONTEXT: &str = "weft/v1 group metadata key";
/// Context of the key that seals content.
const CONTENT_CONTEXT: &str = "weft/v1 group content key";

impl EpochSecret {
    /// A new secret from `rng`.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// Wraps stored or unsealed bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, to seal or store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The epoch's Ed25519 key, which signs the group's private
    /// announcements and their outer manifests.
    pub fn signing_key(&self) -> PublisherKey {
        PublisherKey::from_seed(blake3::derive_key(SIGNING_CONTEXT, &self.0))
    }

    /// The public half of [`Self::signing_key`]: the epoch key a group
    /// record names.
    pub fn epoch_key(&self) -> PublisherId {
        self.signing_key().id()
    }

    pub(super) fn meta_key(&self) -> [u8; 32] {
        blake3::derive_key(META_CONTEXT, &self.0)
    }

    pub(super) fn content_key(&self) -> [u8; 32] {
        blake3::derive_key(CONTENT_CONTEXT, &self.0)
    }
}

impl Drop for EpochSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EpochSecret({})", self.epoch_key().fmt_short())
    }
}
