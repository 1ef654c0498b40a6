//! Key boxes: an epoch's secret (and, for a new member, earlier epochs'
//! secrets) sealed to one device with HPKE (RFC 9180), base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
//!
//! The recipient's X25519 key is its Ed25519 device key mapped to
//! Montgomery form (`crate::keys::x25519_public`), so a device needs no
//! second key pair and every node can seal to any certified device.
//! Layout: `enc (32) || ciphertext`.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::id::PublisherId;
use crate::keys::{x25519_public, PublisherKey};

use super::{EpochSecret, GroupError};

type Kem = X25519HkdfSha256;
type PublicKey = <Kem as hpke::Kem>::PublicKey;
type PrivateKey = <Kem as hpke::Kem>::PrivateKey;
type EncappedKey = <Kem as hpke::Kem>::EncappedKey;

/// Most epochs one box carries.
pub const MAX_BOX_EPOCHS: usize = 48;
/// Length of HPKE's encapsulated key for X25519.
const ENC: usize = 32;
/// Largest box plaintext: [`MAX_BOX_EPOCHS`] entries and their framing.
const MAX_BOX_PLAIN: usize = 64 + MAX_BOX_EPOCHS * 64;

/// One epoch's secret in a box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochEntry {
    /// The epoch's number.
    pub epoch: u64,
    /// Its 32-byte secret.
    #[serde(with = "serde_bytes")]
    pub secret: Vec<u8>,
}

/// What a box holds: `{"keys": [* {"epoch": uint, "secret": bstr(32)}]}`,
/// sorted by epoch, no duplicates, 1 to [`MAX_BOX_EPOCHS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxContents {
    /// The epochs' secrets.
    pub keys: Vec<EpochEntry>,
}

impl BoxContents {
    /// A box of these `(epoch, secret)` pairs.
    pub fn new(mut keys: Vec<(u64, &EpochSecret)>) -> Self {
        keys.sort_by_key(|(e, _)| *e);
        keys.dedup_by_key(|(e, _)| *e);
        Self {
            keys: keys
                .into_iter()
                .map(|(epoch, s)| EpochEntry {
                    epoch,
                    secret: s.as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    /// The `(epoch, secret)` pairs.
    pub fn secrets(&self) -> Vec<(u64, EpochSecret)> {
        self.keys
            .iter()
            .map(|k| {
                let b: [u8; 32] = k.secret.as_slice().try_into().expect("checked");
                (k.epoch, EpochSecret::from_bytes(b))
            })
            .collect()
    }

    fn check(&self) -> Result<(), GroupError> {
        if self.keys.is_empty() || self.keys.len() > MAX_BOX_EPOCHS {
            return Err(GroupError::Shape(format!(
                "a key box holds 1 to {MAX_BOX_EPOCHS} epochs, not {}",
                self.keys.len()
            )));
        }
        if self.keys.iter().any(|k| k.secret.len() != 32) {
            return Err(GroupError::Shape("an epoch secret is not 32 bytes".into()));
        }
        if self.keys.windows(2).any(|w| w[0].epoch >= w[1].epoch) {
            return Err(GroupError::Shape(
                "a key box's epochs are not sorted and distinct".into(),
            ));
        }
        Ok(())
    }
}

/// This crate's randomness (rand_core 0.6, as ed25519-dalek takes it)
/// handed to `hpke`, which takes rand_core 0.9's traits.
struct Rng09<'a, R>(&'a mut R);

impl<R: RngCore> hpke::rand_core::RngCore for Rng09<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
}

impl<R: RngCore + CryptoRng> hpke::rand_core::CryptoRng for Rng09<'_, R> {}

/// Seals `contents` to the device `recipient`, bound to `info`.
pub fn seal_box(
    recipient: &PublisherId,
    info: &[u8],
    contents: &BoxContents,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, GroupError> {
    contents.check()?;
    let x = x25519_public(recipient).ok_or(GroupError::BadRecipient(*recipient))?;
    let pk = PublicKey::from_bytes(&x).map_err(|_| GroupError::BadRecipient(*recipient))?;
    let plain = cbor::encode(contents);
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        info,
        &plain,
        b"",
        &mut Rng09(rng),
    )
    .map_err(|e| GroupError::Shape(format!("a key box could not be sealed: {e}")))?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a box with this device's key; [`GroupError::Open`] when it was
/// sealed to another device (or for another `info`, or tampered with).
pub fn open_box(key: &PublisherKey, info: &[u8], sealed: &[u8]) -> Result<BoxContents, GroupError> {
    if sealed.len() <= ENC + 16 || sealed.len() > ENC + 16 + MAX_BOX_PLAIN {
        return Err(GroupError::Shape(format!(
            "a key box of {} bytes is outside its bounds",
            sealed.len()
        )));
    }
    let (enc, ct) = sealed.split_at(ENC);
    let enc = EncappedKey::from_bytes(enc).map_err(|_| GroupError::Open("key box"))?;
    let sk =
        PrivateKey::from_bytes(&key.x25519_secret()).map_err(|_| GroupError::Open("key box"))?;
    let plain = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        info,
        ct,
        b"",
    )
    .map_err(|_| GroupError::Open("key box"))?;
    let contents: BoxContents = cbor::decode(&plain, MAX_BOX_PLAIN, "key box")
        .map_err(|e| GroupError::Shape(format!("a key box's contents: {e}")))?;
    contents.check()?;
    Ok(contents)
}
