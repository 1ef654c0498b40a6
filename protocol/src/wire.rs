//! Messages of the manifest protocol, `/weft/xfer/1`. Blocks move on
//! `/weft/xfer/2` ([`crate::blocks`]).
//!
//! One request and one response per libp2p stream (request-response). Both
//! are canonical CBOR maps and each side reads at most its documented limit
//! before decoding, so a peer cannot make the other allocate more than that.
//!
//! - Request `{"h": bstr(32), "k": uint}`: `k = 0` asks for the signed
//!   manifest of bundle `h`; no other `k` exists (`k = 1`, one blob per
//!   stream, was replaced by `/weft/xfer/2` before any deployment).
//! - Response `{"d": bstr, "s": uint}`: `s = 0` found, with the bytes in `d`;
//!   `s = 1` not found here; `s = 2` refused for now (busy or rate-limited).
//!   `d` is empty unless `s = 0`.

use serde::{Deserialize, Serialize};

use crate::cbor::{self, CborError};
use crate::id::BundleId;
use crate::limits::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};

/// The libp2p protocol name of the transfer protocol.
pub const XFER_PROTOCOL: &str = "/weft/xfer/1";
/// The gossipsub topic announcements travel on.
pub const ANNOUNCE_TOPIC: &str = "weft/announce/1";

/// What a peer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The signed manifest of a bundle.
    Manifest(BundleId),
}

/// What a peer answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The bytes asked for. The asker verifies them; the answerer is not
    /// trusted.
    Found(Vec<u8>),
    /// The answerer does not have it.
    NotFound,
    /// The answerer will not serve it now.
    Refused,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(with = "serde_bytes")]
    h: Vec<u8>,
    k: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    #[serde(with = "serde_bytes")]
    d: Vec<u8>,
    s: u64,
}

impl Request {
    /// Canonical bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        let (h, k) = match self {
            Request::Manifest(id) => (id.as_bytes().to_vec(), 0),
        };
        cbor::encode(&RawRequest { h, k })
    }

    /// Decodes a request of at most [`MAX_REQUEST_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let raw: RawRequest = cbor::decode(bytes, MAX_REQUEST_BYTES, "request")?;
        let bad_len = || CborError::Shape(format!("request hash is {} bytes, not 32", raw.h.len()));
        match raw.k {
            0 => Ok(Request::Manifest(
                BundleId::from_slice(&raw.h).map_err(|_| bad_len())?,
            )),
            k => Err(CborError::Shape(format!("unknown request kind {k}"))),
        }
    }
}

impl Response {
    /// Canonical bytes of the response. Borrows the payload rather than
    /// copying it, so a 1 MiB chunk is held once, not twice, while sent.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct RawRef<'a> {
            #[serde(with = "serde_bytes")]
            d: &'a [u8],
            s: u64,
        }
        let (d, s): (&[u8], u64) = match self {
            Response::Found(d) => (d, 0),
            Response::NotFound => (&[], 1),
            Response::Refused => (&[], 2),
        };
        cbor::encode(&RawRef { d, s })
    }

    /// Decodes a response of at most [`MAX_RESPONSE_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let raw: RawResponse = cbor::decode(bytes, MAX_RESPONSE_BYTES, "response")?;
        match (raw.s, raw.d.is_empty()) {
            (0, _) => Ok(Response::Found(raw.d)),
            (1, true) => Ok(Response::NotFound),
            (2, true) => Ok(Response::Refused),
            (1 | 2, false) => Err(CborError::Shape(
                "data in a response that is not found".into(),
            )),
            (s, _) => Err(CborError::Shape(format!("unknown response status {s}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip() {
        let r = Request::Manifest(BundleId::from_bytes([1; 32]));
        let bytes = r.encode();
        assert!(bytes.len() <= MAX_REQUEST_BYTES);
        assert_eq!(Request::decode(&bytes).unwrap(), r);
        for r in [
            Response::Found(vec![1, 2, 3]),
            Response::NotFound,
            Response::Refused,
        ] {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn unknown_kinds_and_bad_lengths_are_rejected() {
        let raw = cbor::encode(&RawRequest {
            h: vec![0; 32],
            k: 7,
        });
        assert!(Request::decode(&raw).is_err());
        let raw = cbor::encode(&RawRequest {
            h: vec![0; 32],
            k: 1,
        });
        assert!(
            Request::decode(&raw).is_err(),
            "blobs moved to /weft/xfer/2"
        );
        let raw = cbor::encode(&RawRequest {
            h: vec![0; 31],
            k: 0,
        });
        assert!(Request::decode(&raw).is_err());
        let raw = cbor::encode(&RawResponse { d: vec![1], s: 1 });
        assert!(Response::decode(&raw).is_err());
    }
}
