//! The errors of manifests, announcements and retractions: a broken rule
//! ([`ValidationError`]) and refused bytes ([`DecodeError`]).

use crate::cbor::CborError;
use crate::chunk::ChunkError;
use crate::keys::SignatureError;
use crate::path::PathError;

use super::VERSION;

/// A field of a manifest or announcement breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A field is empty, too long, badly formed, or out of order.
    #[error("{field}: {reason}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
    /// A file path is unsafe or repeated.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A file size is over the limit.
    #[error(transparent)]
    File(#[from] ChunkError),
    /// The encoded message is over its size limit.
    #[error("the encoded {what} is {found} bytes, over the limit of {limit}")]
    TooLarge {
        /// Which message.
        what: &'static str,
        /// Its limit.
        limit: usize,
        /// Its encoded size.
        found: usize,
    },
}

/// Why received bytes were refused as a signed manifest or announcement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not canonical CBOR, over a limit, or the wrong structure.
    #[error(transparent)]
    Cbor(#[from] CborError),
    /// A version this implementation does not know.
    #[error("unknown {what} version {version}; this node speaks version {VERSION}")]
    UnknownVersion {
        /// Which message.
        what: &'static str,
        /// The version it claims.
        version: u64,
    },
    /// The signature does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Well-formed and signed, but a field breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

pub(super) fn field(field: &'static str, reason: impl Into<String>) -> ValidationError {
    ValidationError::Field {
        field,
        reason: reason.into(),
    }
}
