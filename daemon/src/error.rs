//! The domain error every operation returns. It says what went wrong in
//! words a person can act on and which kind of failure it is; it knows
//! nothing of HTTP. The HTTP layer ([`crate::http::error`]) maps each kind
//! to a status.

use crate::net::NetError;
use crate::store::StoreError;

/// An operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The caller asked for something malformed or impossible.
    #[error("{0}")]
    BadRequest(String),
    /// The caller may not do this (it is not theirs to do).
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist here or on any reachable peer.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// Cannot be done now (no peers, too busy).
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network task failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The kind of a [`NodeError`], kept by a failed job so that its error can
/// be reported later the way the operation's own error would have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// See [`NodeError::BadRequest`].
    BadRequest,
    /// See [`NodeError::Forbidden`].
    Forbidden,
    /// See [`NodeError::NotFound`].
    NotFound,
    /// See [`NodeError::Conflict`].
    Conflict,
    /// See [`NodeError::Unavailable`] and [`NodeError::Net`].
    Unavailable,
    /// See [`NodeError::Store`] and [`NodeError::Internal`].
    Internal,
}

impl NodeError {
    /// Which kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            NodeError::BadRequest(_) => ErrorKind::BadRequest,
            NodeError::Forbidden(_) => ErrorKind::Forbidden,
            NodeError::NotFound(_) => ErrorKind::NotFound,
            NodeError::Conflict(_) => ErrorKind::Conflict,
            NodeError::Unavailable(_) | NodeError::Net(_) => ErrorKind::Unavailable,
            NodeError::Store(_) | NodeError::Internal(_) => ErrorKind::Internal,
        }
    }
}
