//! The signed envelope `{"by"?, "sig", "body"}` that every signed message
//! shares: [`seal`] validates, encodes and signs; [`open`] decodes, checks
//! the version, verifies and validates.
//!
//! `by` is absent when the key that signed is the publisher named in the
//! body (a single-key publisher, or an identity's root). When a device key
//! signs for an identity, `by` is that device key; whether the identity
//! authorises it is the key log's business (`crate::identity`), which the
//! caller checks against what it knows of the identity.

use serde::{Deserialize, Serialize};

use crate::cbor::{self, CborError};
use crate::id::PublisherId;
use crate::keys::{self, PublisherKey};

use super::error::{DecodeError, ValidationError};
use super::VERSION;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Envelope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) by: Option<PublisherId>,
    #[serde(with = "serde_bytes")]
    pub(super) sig: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub(super) body: Vec<u8>,
}

pub(super) fn open_envelope(
    bytes: &[u8],
    limit: usize,
    what: &'static str,
) -> Result<Envelope, DecodeError> {
    let env: Envelope = cbor::decode(bytes, limit, what)?;
    if env.sig.len() != 64 {
        return Err(CborError::Shape(format!(
            "{what} signature is {} bytes, not 64",
            env.sig.len()
        ))
        .into());
    }
    Ok(env)
}

pub(super) fn decode_body<T: Serialize + serde::de::DeserializeOwned>(
    body: &[u8],
    limit: usize,
    what: &'static str,
) -> Result<T, DecodeError> {
    cbor::check_canonical(body, limit, what)?;
    match cbor::peek_version(body) {
        Some(VERSION) => {}
        Some(version) => return Err(DecodeError::UnknownVersion { what, version }),
        None => return Err(CborError::Shape(format!("{what} has no version field")).into()),
    }
    Ok(cbor::decode(body, limit, what)?)
}

/// What signing and opening an envelope needs to know about its body.
pub(super) trait Signable: Serialize + serde::de::DeserializeOwned {
    /// Domain-separation prefix of the signed message.
    const DOMAIN: &'static [u8];
    /// Size limit of the whole envelope.
    const LIMIT: usize;
    /// Name in errors.
    const WHAT: &'static str;
    /// The key that must sign.
    fn signer(&self) -> PublisherId;
    /// The semantic rules.
    fn check(&self) -> Result<(), ValidationError>;
}

/// The key that signed an envelope: `by`, else the publisher in the body.
pub(super) fn signed_by<T: Signable>(env: &Envelope, value: &T) -> PublisherId {
    env.by.unwrap_or_else(|| value.signer())
}

/// Validates `value`, signs it with `key` and returns the envelope bytes.
/// When `key` is not the publisher named in `value`, it signs as a device
/// of that identity and the envelope names it in `by`.
pub(super) fn seal<T: Signable>(value: &T, key: &PublisherKey) -> Result<Vec<u8>, ValidationError> {
    value.check()?;
    let body = cbor::encode(value);
    let sig = key.sign(T::DOMAIN, &body).to_vec();
    let by = (key.id() != value.signer()).then(|| key.id());
    let bytes = cbor::encode(&Envelope { by, sig, body });
    if bytes.len() > T::LIMIT {
        return Err(ValidationError::TooLarge {
            what: T::WHAT,
            limit: T::LIMIT,
            found: bytes.len(),
        });
    }
    Ok(bytes)
}

/// Decodes an envelope, its body, verifies the signature and the rules;
/// returns the value and the key that signed it.
pub(super) fn open<T: Signable>(
    bytes: &[u8],
    what: &'static str,
) -> Result<(T, PublisherId), DecodeError> {
    let (env, value) = open_unverified::<T>(bytes, what)?;
    let by = signed_by(&env, &value);
    keys::verify(&by, T::DOMAIN, &env.body, &env.sig)?;
    Ok((value, by))
}

/// Decodes an envelope and its body and checks every rule but the
/// signature: for bytes this node verified before it stored them.
pub(super) fn open_unverified<T: Signable>(
    bytes: &[u8],
    what: &'static str,
) -> Result<(Envelope, T), DecodeError> {
    let env = open_envelope(bytes, T::LIMIT, what)?;
    let value: T = decode_body(&env.body, T::LIMIT, what)?;
    if env.by == Some(value.signer()) {
        return Err(CborError::Shape(format!(
            "{what}: `by` names the publisher itself; it must then be absent"
        ))
        .into());
    }
    value.check()?;
    Ok((env, value))
}

/// A signed value with its exact bytes and the key that signed it: the
/// common core of the `Signed*` types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sealed<T> {
    pub(super) bytes: Vec<u8>,
    pub(super) value: T,
    pub(super) by: PublisherId,
}

impl<T: Signable> Sealed<T> {
    /// Validates and signs `value` with `key` (its publisher, or a device
    /// signing for it).
    pub(super) fn sign(value: T, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            bytes: seal(&value, key)?,
            by: key.id(),
            value,
        })
    }

    /// Decodes and verifies bytes from anywhere.
    pub(super) fn decode(bytes: &[u8], what: &'static str) -> Result<Self, DecodeError> {
        let (value, by) = open(bytes, what)?;
        Ok(Self {
            bytes: bytes.to_vec(),
            value,
            by,
        })
    }

    /// Decodes bytes this node verified before it stored them: every rule
    /// but the signature. Never use it on bytes from a peer or a file.
    pub(super) fn decode_stored(bytes: &[u8], what: &'static str) -> Result<Self, DecodeError> {
        let (env, value) = open_unverified::<T>(bytes, what)?;
        Ok(Self {
            by: signed_by(&env, &value),
            bytes: bytes.to_vec(),
            value,
        })
    }
}
