//! Canonical CBOR: the one encoding weft signs, hashes and accepts.
//!
//! weft uses a strict subset of CBOR (RFC 8949), close to its "core
//! deterministic encoding":
//! - only unsigned integers, byte strings, text strings (valid UTF-8),
//!   arrays and maps; no negative integers, tags, floats or simple values;
//! - every length and integer in its shortest form; no indefinite lengths;
//! - map keys are text strings in strictly increasing order of their encoded
//!   bytes (so shorter keys first, then bytewise), hence no duplicates;
//! - exactly one top-level item, with no trailing bytes.
//!
//! [`check_canonical`] walks raw bytes and enforces all of that, plus a
//! nesting depth and an item-count budget, *before* anything is allocated:
//! every claimed length is compared with the bytes that are really left.
//! Only then does [`decode`] hand the bytes to serde_cbor, and afterwards it
//! re-encodes the value and requires the very same bytes back. serde_cbor's
//! error type never leaves this module.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Deepest nesting of arrays and maps weft's formats use, with room to spare.
pub const MAX_DEPTH: usize = 8;

/// Why bytes were not accepted as canonical CBOR of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// The input is longer than the limit for this kind of message.
    #[error("{what} is {found} bytes, over the limit of {limit}")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
        /// The size given.
        found: usize,
    },
    /// The bytes break one of the canonical-encoding rules.
    #[error("not canonical CBOR at byte {offset}: {reason}")]
    NotCanonical {
        /// Byte offset of the problem.
        offset: usize,
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The input ended inside an item, or a length points past the end.
    #[error("truncated CBOR at byte {offset}")]
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
    },
    /// Bytes follow the single top-level item.
    #[error("{count} unexpected bytes after the end of the message")]
    TrailingBytes {
        /// How many bytes follow.
        count: usize,
    },
    /// Canonical CBOR, but not the structure expected (missing or unknown
    /// field, wrong type).
    #[error("unexpected structure: {0}")]
    Shape(String),
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Items still allowed; bounds the work spent on one input.
    budget: usize,
}

impl<'a> Walker<'a> {
    fn not_canonical(&self, offset: usize, reason: &'static str) -> CborError {
        CborError::NotCanonical { offset, reason }
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(CborError::Truncated { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads an item head; returns (major type, argument).
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let start = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => info as u64,
            24..=27 => {
                let n = 1usize << (info - 24);
                if self.bytes.len() - self.pos < n {
                    return Err(CborError::Truncated { offset: self.pos });
                }
                let mut v = 0u64;
                for _ in 0..n {
                    v = (v << 8) | self.byte()? as u64;
                }
                let min = match info {
                    24 => 24,
                    25 => 0x100,
                    26 => 0x1_0000,
                    _ => 0x1_0000_0000,
                };
                if v < min {
                    return Err(self.not_canonical(start, "integer or length not in shortest form"));
                }
                v
            }
            31 => return Err(self.not_canonical(start, "indefinite lengths are not allowed")),
            _ => return Err(self.not_canonical(start, "reserved additional information")),
        };
        Ok((major, arg))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Checks one item and returns the byte range it occupies.
    fn item(&mut self, depth: usize) -> Result<(usize, usize), CborError> {
        let start = self.pos;
        if self.budget == 0 {
            return Err(self.not_canonical(start, "too many items"));
        }
        self.budget -= 1;
        let (major, arg) = self.head()?;
        match major {
            0 => {}
            2 | 3 => {
                if arg > self.remaining() as u64 {
                    return Err(CborError::Truncated { offset: self.pos });
                }
                let len = arg as usize;
                if major == 3 && std::str::from_utf8(&self.bytes[self.pos..self.pos + len]).is_err()
                {
                    return Err(self.not_canonical(start, "text string is not valid UTF-8"));
                }
                self.pos += len;
            }
            4 | 5 => {
                if depth >= MAX_DEPTH {
                    return Err(self.not_canonical(start, "nested too deeply"));
                }
                // Every item takes at least one byte, so a count larger than
                // what is left is a lie; reject it before looping.
                let per = if major == 5 { 2 } else { 1 };
                if arg > (self.remaining() / per) as u64 {
                    return Err(CborError::Truncated { offset: self.pos });
                }
                let mut prev_key: Option<(usize, usize)> = None;
                for _ in 0..arg {
                    if major == 5 {
                        let key_start = self.pos;
                        if self.bytes.get(key_start).map(|b| b >> 5) != Some(3) {
                            return Err(self.not_canonical(key_start, "map keys must be text"));
                        }
                        let key = self.item(depth + 1)?;
                        if let Some(prev) = prev_key {
                            if self.bytes[prev.0..prev.1] >= self.bytes[key.0..key.1] {
                                return Err(self.not_canonical(
                                    key_start,
                                    "map keys out of order or repeated",
                                ));
                            }
                        }
                        prev_key = Some(key);
                    }
                    self.item(depth + 1)?;
                }
            }
            1 => return Err(self.not_canonical(start, "negative integers are not used")),
            6 => return Err(self.not_canonical(start, "tags are not allowed")),
            _ => return Err(self.not_canonical(start, "floats and simple values are not allowed")),
        }
        Ok((start, self.pos))
    }
}

/// Checks that `bytes` is exactly one canonical CBOR item of at most `limit`
/// bytes. `what` names the message in errors.
pub fn check_canonical(bytes: &[u8], limit: usize, what: &'static str) -> Result<(), CborError> {
    if bytes.len() > limit {
        return Err(CborError::TooLarge {
            what,
            limit,
            found: bytes.len(),
        });
    }
    let mut w = Walker {
        bytes,
        pos: 0,
        budget: bytes.len(),
    };
    w.item(0)?;
    if w.pos != bytes.len() {
        return Err(CborError::TrailingBytes {
            count: bytes.len() - w.pos,
        });
    }
    Ok(())
}

/// Encodes a value. weft's types are declared so that serde_cbor writes them
/// canonically (fields in canonical key order, sorted vectors); the tests hold
/// every type to that with [`check_canonical`].
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing weft's own plain structs into a Vec cannot fail: there are
    // no maps with non-string keys and no fallible custom serializers.
    serde_cbor::to_vec(value).unwrap_or_default()
}

/// Decodes canonical CBOR of at most `limit` bytes into `T`, rejecting any
/// other encoding of the same value.
pub fn decode<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
    what: &'static str,
) -> Result<T, CborError> {
    check_canonical(bytes, limit, what)?;
    let value: T = serde_cbor::from_slice(bytes).map_err(|e| CborError::Shape(e.to_string()))?;
    if encode(&value) != bytes {
        return Err(CborError::NotCanonical {
            offset: 0,
            reason: "does not re-encode to the same bytes",
        });
    }
    Ok(value)
}

/// Reads only the `v` field of a map, to report an unknown version before the
/// rest of the structure is interpreted.
pub fn peek_version(bytes: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Probe {
        v: u64,
    }
    serde_cbor::from_slice::<Probe>(bytes).ok().map(|p| p.v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<(), CborError> {
        check_canonical(bytes, 1024, "test")
    }

    #[test]
    fn the_top_level_item_counts_toward_the_depth_limit() {
        // n one-element arrays around an integer: [[[...0...]]].
        let nested = |n: usize| {
            let mut b = vec![0x81; n];
            b.push(0x00);
            b
        };
        assert!(check(&nested(MAX_DEPTH)).is_ok());
        assert!(matches!(
            check(&nested(MAX_DEPTH + 1)),
            Err(CborError::NotCanonical { .. })
        ));
    }

    #[test]
    fn shortest_forms_are_accepted_and_longer_ones_rejected() {
        assert!(check(&[0x17]).is_ok());
        assert!(check(&[0x18, 0x18]).is_ok());
        assert!(matches!(
            check(&[0x18, 0x17]),
            Err(CborError::NotCanonical { .. })
        ));
        assert!(matches!(
            check(&[0x19, 0x00, 0xff]),
            Err(CborError::NotCanonical { .. })
        ));
    }

    #[test]
    fn indefinite_lengths_tags_floats_and_negatives_are_rejected() {
        for bytes in [
            &[0x5f, 0x41, 0x00, 0xff][..],
            &[0xc0, 0x00],
            &[0xf9, 0x00, 0x00],
            &[0x20],
            &[0xf5],
        ] {
            assert!(
                matches!(check(bytes), Err(CborError::NotCanonical { .. })),
                "{bytes:x?}"
            );
        }
    }

    #[test]
    fn a_huge_claimed_length_is_rejected_without_allocating() {
        // A byte string claiming 2^64-1 bytes, and an array claiming 2^32 items.
        let bstr = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(check(&bstr), Err(CborError::Truncated { .. })));
        let arr = [0x9b, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(matches!(check(&arr), Err(CborError::Truncated { .. })));
    }

    #[test]
    fn map_keys_must_be_sorted_shortest_first_and_unique() {
        // {"b": 0, "aa": 0} is canonical; {"aa": 0, "b": 0} is not.
        assert!(check(&[0xa2, 0x61, b'b', 0x00, 0x62, b'a', b'a', 0x00]).is_ok());
        assert!(check(&[0xa2, 0x62, b'a', b'a', 0x00, 0x61, b'b', 0x00]).is_err());
        assert!(check(&[0xa2, 0x61, b'b', 0x00, 0x61, b'b', 0x00]).is_err());
        assert!(check(&[0xa1, 0x00, 0x00]).is_err());
    }

    #[test]
    fn trailing_bytes_and_oversized_inputs_are_rejected() {
        assert_eq!(
            check(&[0x00, 0x00]),
            Err(CborError::TrailingBytes { count: 1 })
        );
        let big = vec![0u8; 2000];
        assert!(matches!(check(&big), Err(CborError::TooLarge { .. })));
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let deep = vec![0x81u8; 20];
        assert!(check(&deep).is_err());
    }

    #[test]
    fn invalid_utf8_text_is_rejected() {
        assert!(check(&[0x62, 0xff, 0xfe]).is_err());
    }
}
