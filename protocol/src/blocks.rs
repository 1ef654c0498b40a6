//! Messages of the block protocol, `/weft/xfer/2`: many blocks on one
//! stream.
//!
//! The requester opens a stream, writes one request naming up to
//! [`MAX_BLOCKS_PER_REQUEST`] blobs (chunks or chunk indexes) by hash, and
//! closes its side. The responder answers with one frame per hash, in the
//! order asked, and closes. Each frame is a five-byte header (a status byte
//! and the data's length as a big-endian `u32`) followed by the data, so a
//! reader knows and bounds each block's size before it allocates, and
//! reads the bytes straight into their buffer.
//!
//! - Request: canonical CBOR `{"h": [+ bstr(32)]}`, 1 to 64 distinct hashes,
//!   at most [`MAX_BLOCK_REQUEST_BYTES`].
//! - Frame status 0: found, followed by the blob (at most
//!   [`MAX_BLOB_BYTES`]). Status 1: not found here (length 0). Status 2:
//!   refused for now (length 0); the responder ends the stream after it,
//!   and every hash not answered yet counts as refused.
//!
//! Flow control is the stream's own (Yamux windows): a responder writes a
//! block only as fast as the requester reads.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::cbor::{self, CborError};
use crate::id::ContentHash;
use crate::limits::{MAX_BLOB_BYTES, MAX_BLOCKS_PER_REQUEST, MAX_BLOCK_REQUEST_BYTES};

/// The libp2p protocol name of the block protocol.
pub const BLOCKS_PROTOCOL: &str = "/weft/xfer/2";

/// Bytes of a frame header: the status, then the length (big-endian u32).
pub const FRAME_HEADER_BYTES: usize = 5;

/// Blobs asked for on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRequest {
    /// The hashes, in the order the frames answer them.
    pub hashes: Vec<ContentHash>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlockRequest {
    h: Vec<ByteBuf>,
}

impl BlockRequest {
    /// Canonical bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode(&RawBlockRequest {
            h: self
                .hashes
                .iter()
                .map(|h| ByteBuf::from(h.as_bytes().to_vec()))
                .collect(),
        })
    }

    /// Decodes a request of at most [`MAX_BLOCK_REQUEST_BYTES`]: 1 to
    /// [`MAX_BLOCKS_PER_REQUEST`] distinct 32-byte hashes.
    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let raw: RawBlockRequest = cbor::decode(bytes, MAX_BLOCK_REQUEST_BYTES, "block request")?;
        if raw.h.is_empty() || raw.h.len() > MAX_BLOCKS_PER_REQUEST {
            return Err(CborError::Shape(format!(
                "a block request names {} hashes; 1 to {MAX_BLOCKS_PER_REQUEST} are allowed",
                raw.h.len()
            )));
        }
        let mut hashes = Vec::with_capacity(raw.h.len());
        for h in &raw.h {
            let h = ContentHash::from_slice(h).map_err(|_| {
                CborError::Shape(format!("a block request hash is {} bytes, not 32", h.len()))
            })?;
            if hashes.contains(&h) {
                return Err(CborError::Shape(format!("a block request names {h} twice")));
            }
            hashes.push(h);
        }
        Ok(BlockRequest { hashes })
    }
}

/// What one frame says about the hash it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameStatus {
    /// The blob follows.
    Found,
    /// The responder does not have it.
    NotFound,
    /// The responder will not serve it (or anything after it) now.
    Refused,
}

/// A frame header: the status and the length of the data that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// What the frame says.
    pub status: FrameStatus,
    /// Bytes of data after the header (0 unless found).
    pub len: u32,
}

/// Why a frame header is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A status byte that is not 0, 1 or 2.
    #[error("unknown block frame status {0}")]
    Status(u8),
    /// Data after "not found" or "refused".
    #[error("a block frame that is not \"found\" carries {0} bytes")]
    DataWithoutBlock(u32),
    /// More data than any blob can have.
    #[error("a block frame announces {0} bytes; no blob is larger than {MAX_BLOB_BYTES}")]
    TooLarge(u32),
}

impl FrameHeader {
    /// A "found" header for a blob of `len` bytes.
    pub fn found(len: usize) -> Self {
        debug_assert!(len <= MAX_BLOB_BYTES);
        FrameHeader {
            status: FrameStatus::Found,
            len: len as u32,
        }
    }

    /// A header with no data.
    pub fn empty(status: FrameStatus) -> Self {
        FrameHeader { status, len: 0 }
    }

    /// The five header bytes.
    pub fn encode(&self) -> [u8; FRAME_HEADER_BYTES] {
        let s = match self.status {
            FrameStatus::Found => 0,
            FrameStatus::NotFound => 1,
            FrameStatus::Refused => 2,
        };
        let l = self.len.to_be_bytes();
        [s, l[0], l[1], l[2], l[3]]
    }

    /// Reads a header, refusing an unknown status, data after a status
    /// that has none, and a length over [`MAX_BLOB_BYTES`].
    pub fn decode(b: [u8; FRAME_HEADER_BYTES]) -> Result<Self, FrameError> {
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
        let status = match b[0] {
            0 => FrameStatus::Found,
            1 => FrameStatus::NotFound,
            2 => FrameStatus::Refused,
            s => return Err(FrameError::Status(s)),
        };
        if status != FrameStatus::Found && len != 0 {
            return Err(FrameError::DataWithoutBlock(len));
        }
        if len as usize > MAX_BLOB_BYTES {
            return Err(FrameError::TooLarge(len));
        }
        Ok(FrameHeader { status, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(n: usize) -> Vec<ContentHash> {
        (0..n).map(|i| ContentHash::of(&[i as u8, 1])).collect()
    }

    #[test]
    fn requests_round_trip_within_their_limit() {
        for n in [1, 2, MAX_BLOCKS_PER_REQUEST] {
            let r = BlockRequest { hashes: hashes(n) };
            let bytes = r.encode();
            assert!(
                bytes.len() <= MAX_BLOCK_REQUEST_BYTES,
                "{} bytes",
                bytes.len()
            );
            assert_eq!(BlockRequest::decode(&bytes).unwrap(), r);
        }
    }

    #[test]
    fn empty_oversized_duplicate_and_short_requests_are_refused() {
        let enc = |h: Vec<Vec<u8>>| {
            cbor::encode(&RawBlockRequest {
                h: h.into_iter().map(ByteBuf::from).collect(),
            })
        };
        assert!(BlockRequest::decode(&enc(vec![])).is_err());
        let many: Vec<Vec<u8>> = hashes(MAX_BLOCKS_PER_REQUEST + 1)
            .iter()
            .map(|h| h.as_bytes().to_vec())
            .collect();
        assert!(BlockRequest::decode(&enc(many)).is_err());
        let h = hashes(1)[0].as_bytes().to_vec();
        let twice = BlockRequest::decode(&enc(vec![h.clone(), h])).unwrap_err();
        assert!(twice.to_string().contains("twice"), "{twice}");
        assert!(BlockRequest::decode(&enc(vec![vec![0; 31]])).is_err());
    }

    #[test]
    fn frame_headers_round_trip_and_bad_ones_are_named() {
        for h in [
            FrameHeader::found(0),
            FrameHeader::found(MAX_BLOB_BYTES),
            FrameHeader::empty(FrameStatus::NotFound),
            FrameHeader::empty(FrameStatus::Refused),
        ] {
            assert_eq!(FrameHeader::decode(h.encode()), Ok(h));
        }
        assert_eq!(
            FrameHeader::decode([3, 0, 0, 0, 0]),
            Err(FrameError::Status(3))
        );
        assert_eq!(
            FrameHeader::decode([1, 0, 0, 0, 9]),
            Err(FrameError::DataWithoutBlock(9))
        );
        let over = (MAX_BLOB_BYTES as u32 + 1).to_be_bytes();
        assert_eq!(
            FrameHeader::decode([0, over[0], over[1], over[2], over[3]]),
            Err(FrameError::TooLarge(MAX_BLOB_BYTES as u32 + 1))
        );
    }
}
