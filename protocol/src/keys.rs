//! Publisher keys and signatures.
//!
//! A publisher key is an ed25519 key (RFC 8032) that belongs to an organizer
//! or group and can move between devices; it is unrelated to the node key a
//! daemon uses on the network. Every signature covers a domain-separation
//! prefix followed by the exact bytes of a CBOR body, so a signature made for
//! one kind of message can never be replayed as another. Verification uses
//! `verify_strict`, which rejects small-order keys and malleable signatures.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::id::PublisherId;

/// Prefix of the signed message for manifests.
pub const MANIFEST_DOMAIN: &[u8] = b"weft/v1/manifest\0";
/// Prefix of the signed message for announcements.
pub const ANNOUNCEMENT_DOMAIN: &[u8] = b"weft/v1/announcement\0";
/// Domain prefix of retraction signatures.
pub const RETRACTION_DOMAIN: &[u8] = b"weft/v1/retraction\0";
/// Domain prefix of key event signatures.
pub const KEY_EVENT_DOMAIN: &[u8] = b"weft/v1/key\0";
/// Domain prefix of profile signatures.
pub const PROFILE_DOMAIN: &[u8] = b"weft/v1/profile\0";
/// Domain prefix of vouch signatures.
pub const VOUCH_DOMAIN: &[u8] = b"weft/v1/vouch\0";
/// Domain prefix of group record signatures.
pub const GROUP_RECORD_DOMAIN: &[u8] = b"weft/v1/group record\0";
/// Domain prefix of key box signatures.
pub const KEY_BOX_DOMAIN: &[u8] = b"weft/v1/key box\0";
/// Domain prefix of private announcement signatures (by a group's epoch
/// key).
pub const PRIVATE_DOMAIN: &[u8] = b"weft/v1/private\0";

/// A signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify against publisher {publisher}")]
pub struct SignatureError {
    /// The key the signature claims.
    pub publisher: PublisherId,
}

/// An ed25519 publisher key (the secret half).
pub struct PublisherKey {
    signing: SigningKey,
}

impl PublisherKey {
    /// The key with this 32-byte secret seed. Randomness is the caller's job:
    /// this crate has no I/O.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The secret seed, for saving to a key file.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public half, which names the publisher.
    pub fn id(&self) -> PublisherId {
        PublisherId::from_bytes(self.signing.verifying_key().to_bytes())
    }

    /// The X25519 secret this key opens sealed group keys with: the
    /// clamping-ready scalar of the Ed25519 key (RFC 8032's expanded
    /// secret), whose public half is [`x25519_public`] of [`Self::id`].
    pub(crate) fn x25519_secret(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
    }

    /// Signs `domain || body`.
    pub fn sign(&self, domain: &[u8], body: &[u8]) -> [u8; 64] {
        let mut msg = Vec::with_capacity(domain.len() + body.len());
        msg.extend_from_slice(domain);
        msg.extend_from_slice(body);
        self.signing.sign(&msg).to_bytes()
    }
}

impl std::fmt::Debug for PublisherKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublisherKey({})", self.id().fmt_short())
    }
}

/// The X25519 public key of an Ed25519 public key (the birational map
/// from Edwards to Montgomery form), which group keys are sealed to. A key
/// that is not a point on the curve, or of small order, has none.
pub fn x25519_public(key: &PublisherId) -> Option<[u8; 32]> {
    let vk = VerifyingKey::from_bytes(key.as_bytes()).ok()?;
    if vk.is_weak() {
        return None;
    }
    Some(vk.to_montgomery().to_bytes())
}

/// Verifies `sig` over `domain || body` with `verify_strict`.
pub fn verify(
    publisher: &PublisherId,
    domain: &[u8],
    body: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    let err = || SignatureError {
        publisher: *publisher,
    };
    let key = VerifyingKey::from_bytes(publisher.as_bytes()).map_err(|_| err())?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| err())?;
    let mut msg = Vec::with_capacity(domain.len() + body.len());
    msg.extend_from_slice(domain);
    msg.extend_from_slice(body);
    key.verify_strict(&msg, &Signature::from_bytes(&sig))
        .map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_domain_and_body() {
        let key = PublisherKey::from_seed([1; 32]);
        let sig = key.sign(MANIFEST_DOMAIN, b"body");
        verify(&key.id(), MANIFEST_DOMAIN, b"body", &sig).unwrap();
        assert!(verify(&key.id(), ANNOUNCEMENT_DOMAIN, b"body", &sig).is_err());
        assert!(verify(&key.id(), MANIFEST_DOMAIN, b"bodY", &sig).is_err());
        let other = PublisherKey::from_seed([2; 32]);
        assert!(verify(&other.id(), MANIFEST_DOMAIN, b"body", &sig).is_err());
        assert!(verify(&key.id(), MANIFEST_DOMAIN, b"body", &sig[..63]).is_err());
    }
}
