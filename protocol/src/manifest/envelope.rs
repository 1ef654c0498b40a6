//! The signed envelope `{"sig", "body"}` that manifests, announcements and
//! retractions share: [`seal`] validates, encodes and signs; [`open`]
//! decodes, checks the version, verifies and validates.

use serde::{Deserialize, Serialize};

use crate::cbor::{self, CborError};
use crate::id::PublisherId;
use crate::keys::{self, PublisherKey};

use super::error::{DecodeError, ValidationError};
use super::VERSION;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Envelope {
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

/// Validates `value`, signs it with `key` (which must be its signer) and
/// returns the envelope bytes.
pub(super) fn seal<T: Signable>(value: &T, key: &PublisherKey) -> Result<Vec<u8>, ValidationError> {
    if key.id() != value.signer() {
        return Err(ValidationError::WrongKey {
            key: key.id(),
            publisher: value.signer(),
        });
    }
    value.check()?;
    let body = cbor::encode(value);
    let sig = key.sign(T::DOMAIN, &body).to_vec();
    let bytes = cbor::encode(&Envelope { sig, body });
    if bytes.len() > T::LIMIT {
        return Err(ValidationError::TooLarge {
            what: T::WHAT,
            limit: T::LIMIT,
            found: bytes.len(),
        });
    }
    Ok(bytes)
}

/// Decodes an envelope, its body, verifies the signature and the rules.
pub(super) fn open<T: Signable>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    let env = open_envelope(bytes, T::LIMIT, what)?;
    let value: T = decode_body(&env.body, T::LIMIT, what)?;
    keys::verify(&value.signer(), T::DOMAIN, &env.body, &env.sig)?;
    value.check()?;
    Ok(value)
}
