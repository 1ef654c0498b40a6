//! Sealed metadata: small plaintexts padded to a fixed size and sealed with
//! XChaCha20-Poly1305 under the epoch's metadata key.
//!
//! Layout: `nonce (24) || ciphertext (pad_to + 16)`, where the plaintext is
//! `length (u32, big-endian) || bytes || zeros` of exactly `pad_to` bytes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{CryptoRng, RngCore};

use super::{EpochSecret, GroupError};

const NONCE: usize = 24;
const TAG: usize = 16;

/// Seals `plain` padded to `pad_to` bytes (length prefix included), bound
/// to `aad`.
pub fn seal_meta(
    secret: &EpochSecret,
    aad: &[u8],
    plain: &[u8],
    pad_to: usize,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, GroupError> {
    if plain.len() + 4 > pad_to {
        return Err(GroupError::Shape(format!(
            "{} bytes do not fit in sealed metadata of {pad_to} bytes",
            plain.len()
        )));
    }
    let mut padded = Vec::with_capacity(pad_to);
    padded.extend_from_slice(&(plain.len() as u32).to_be_bytes());
    padded.extend_from_slice(plain);
    padded.resize(pad_to, 0);
    let mut nonce = [0u8; NONCE];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(&secret.meta_key().into());
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &padded, aad })
        .map_err(|_| GroupError::Shape("metadata could not be sealed".into()))?;
    let mut out = Vec::with_capacity(NONCE + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens what [`seal_meta`] sealed with the same secret and `aad`, and
/// checks its padding.
pub fn open_meta(secret: &EpochSecret, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, GroupError> {
    if sealed.len() < NONCE + TAG + 4 {
        return Err(GroupError::Shape(format!(
            "sealed metadata of {} bytes is too short",
            sealed.len()
        )));
    }
    let (nonce, ct) = sealed.split_at(NONCE);
    let cipher = XChaCha20Poly1305::new(&secret.meta_key().into());
    let padded = cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| GroupError::Open("sealed metadata"))?;
    let len = u32::from_be_bytes(padded[..4].try_into().expect("4 bytes")) as usize;
    let rest = &padded[4..];
    if len > rest.len() || rest[len..].iter().any(|&b| b != 0) {
        return Err(GroupError::Shape(
            "sealed metadata has a bad length or padding".into(),
        ));
    }
    Ok(rest[..len].to_vec())
}
