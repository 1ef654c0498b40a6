//! Fixed-size identifiers: [`BundleId`], [`ContentHash`], [`PublisherId`]
//! and [`GroupId`].
//!
//! Each id is 32 bytes. In text (the CLI, the JSON API, logs) it is 64
//! lowercase hex characters, so a person can copy it from anywhere; in CBOR
//! it is a byte string of length 32. Parsing reports a typed [`IdError`].

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not exactly 64 characters long.
    #[error("a {kind} is 64 hex characters, but this one has {found}")]
    WrongLength {
        /// Which id was being parsed.
        kind: &'static str,
        /// How many characters were given.
        found: usize,
    },
    /// A character outside `0-9a-f` (upper case is also accepted).
    #[error("a {kind} may only contain 0-9 and a-f, but character {position} is {character:?}")]
    BadCharacter {
        /// Which id was being parsed.
        kind: &'static str,
        /// 1-based position of the first bad character.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A byte string that is not 32 bytes long.
    #[error("a {kind} is 32 bytes, but {found} bytes were given")]
    WrongByteLength {
        /// Which id was being decoded.
        kind: &'static str,
        /// How many bytes were given.
        found: usize,
    },
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// The bytes of lowercase or uppercase hex; an error names the first
/// character that is not a hex digit, or an odd length.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("{} hex digits, an odd number", s.len()));
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| {
                (b as char)
                    .to_digit(16)
                    .ok_or_else(|| format!("'{}' is not a hex digit", b as char))
            };
            Ok((digit(pair[0])? << 4 | digit(pair[1])?) as u8)
        })
        .collect()
}

fn parse_hex32(kind: &'static str, s: &str) -> Result<[u8; 32], IdError> {
    let chars: Vec<char> = s.chars().take(65).collect();
    if let Some((i, c)) = chars
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_hexdigit())
    {
        return Err(IdError::BadCharacter {
            kind,
            position: i + 1,
            character: *c,
        });
    }
    if s.len() != 64 {
        return Err(IdError::WrongLength {
            kind,
            found: s.chars().count(),
        });
    }
    let mut out = [0u8; 32];
    let bytes = s.as_bytes();
    for (i, o) in out.iter_mut().enumerate() {
        let hi = (bytes[2 * i] as char).to_digit(16).unwrap_or(0) as u8;
        let lo = (bytes[2 * i + 1] as char).to_digit(16).unwrap_or(0) as u8;
        *o = (hi << 4) | lo;
    }
    Ok(out)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl $name {
            /// What this id is called in error messages.
            pub const KIND: &'static str = $kind;

            /// Wraps 32 raw bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Wraps a slice, which must be exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
                let arr: [u8; 32] = bytes.try_into().map_err(|_| IdError::WrongByteLength {
                    kind: $kind,
                    found: bytes.len(),
                })?;
                Ok(Self(arr))
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The first 12 hex characters, for logs and tables.
            pub fn fmt_short(&self) -> String {
                to_hex(&self.0[..6])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.fmt_short())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_hex32($kind, s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&to_hex(&self.0))
                } else {
                    s.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} (32 bytes, or 64 hex characters)", $kind)
                    }
                    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<$name, E> {
                        $name::from_slice(v).map_err(E::custom)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                if d.is_human_readable() {
                    d.deserialize_str(V)
                } else {
                    d.deserialize_bytes(V)
                }
            }
        }
    };
}

id_type!(
    /// The id of a bundle: blake3 of the exact signed-manifest bytes.
    BundleId,
    "bundle id"
);
id_type!(
    /// The blake3 hash of a chunk, of a small file, or of a chunk index.
    ContentHash,
    "content hash"
);
id_type!(
    /// A publisher: the 32-byte ed25519 public key that signs bundles.
    PublisherId,
    "publisher id"
);
id_type!(
    /// A private group: a hash of its founder and a random nonce
    /// (`crate::group::group_id`). It names the group and says nothing else.
    GroupId,
    "group id"
);

impl ContentHash {
    /// Hashes `bytes` with blake3.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

impl BundleId {
    /// The id of a signed manifest: blake3 over its exact bytes.
    pub fn of_signed_manifest(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = BundleId::from_bytes([0xab; 32]);
        let text = id.to_string();
        assert_eq!(text, "ab".repeat(32));
        assert_eq!(text.parse::<BundleId>().unwrap(), id);
        assert_eq!(id.fmt_short(), "abababababab");
        assert_eq!("AB".repeat(32).parse::<BundleId>().unwrap(), id);
    }

    #[test]
    fn a_short_id_reports_its_length() {
        let err = "abc".parse::<PublisherId>().unwrap_err();
        assert_eq!(
            err,
            IdError::WrongLength {
                kind: "publisher id",
                found: 3
            }
        );
        assert!(err.to_string().contains("64 hex characters"));
    }

    #[test]
    fn a_bad_character_is_named_with_its_position() {
        let mut s = "0".repeat(64);
        s.replace_range(9..10, "z");
        let err = s.parse::<ContentHash>().unwrap_err();
        assert_eq!(
            err,
            IdError::BadCharacter {
                kind: "content hash",
                position: 10,
                character: 'z'
            }
        );
    }

    #[test]
    fn ids_are_hex_in_json_and_bytes_in_cbor() {
        let id = ContentHash::of(b"weft");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<ContentHash>(&json).unwrap(), id);
        let cbor = serde_cbor::to_vec(&id).unwrap();
        assert_eq!(cbor.len(), 34);
        assert_eq!(&cbor[..2], &[0x58, 32]);
        assert_eq!(serde_cbor::from_slice::<ContentHash>(&cbor).unwrap(), id);
    }
}
