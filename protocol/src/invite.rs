//! Invites: a compact, copyable string that tells a new node where to find
//! an existing one.
//!
//! An invite is `WEFT1` followed by the RFC 4648 base32 encoding (upper
//! case, no padding) of the canonical CBOR map
//! `{"a": [bstr...], ? "m": tstr, "n": bstr, ? "p": bstr}`: `a` holds 1 to
//! [`MAX_INVITE_ADDRS`] binary multiaddrs (each ending in `/p2p/<peer
//! id>`, at most [`MAX_INVITE_ADDR_BYTES`] bytes), `n` is empty or the
//! 16-byte fingerprint of the private network's key, `p` the inviter's
//! publisher id and `m` the name the inviter goes by (a display name, see
//! [`crate::words::check_display_name`]), so that joining can name the
//! inviter. The network key itself is never in an invite. Upper-case base32 fits a QR code's alphanumeric mode, and decoding
//! accepts either case.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::cbor;
use crate::id::PublisherId;

/// What every invite starts with.
pub const INVITE_PREFIX: &str = "WEFT1";
/// Most addresses in an invite.
pub const MAX_INVITE_ADDRS: usize = 8;
/// Longest address in an invite, in bytes.
pub const MAX_INVITE_ADDR_BYTES: usize = 128;
/// Longest invite accepted, in characters.
pub const MAX_INVITE_CHARS: usize = 2048;
/// Bytes in a private network fingerprint.
pub const NETWORK_FINGERPRINT_BYTES: usize = 16;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a string is not an invite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// Wrong start, bad characters or too long.
    #[error("not a weft invite: {0}")]
    Malformed(String),
    /// The content does not decode or breaks a limit.
    #[error("a damaged weft invite: {0}")]
    Damaged(String),
}

/// A decoded invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// Binary multiaddrs, each ending in `/p2p/<peer id>`.
    pub addrs: Vec<Vec<u8>>,
    /// The private network's key fingerprint, if the inviter is in one.
    pub network: Option<[u8; NETWORK_FINGERPRINT_BYTES]>,
    /// The inviter's publisher, if it has one.
    pub publisher: Option<PublisherId>,
    /// The name the inviter goes by, if it has one.
    pub name: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    a: Vec<ByteBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<String>,
    n: ByteBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<PublisherId>,
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(s: &str) -> Result<Vec<u8>, InviteError> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())
            .ok_or_else(|| {
                InviteError::Malformed(format!("{:?} is not a base32 character", c as char))
            })?;
        acc = (acc << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || acc & ((1 << bits) - 1) != 0 {
        return Err(InviteError::Malformed(
            "it ends with stray bits; was it cut short or changed?".into(),
        ));
    }
    Ok(out)
}

impl Invite {
    /// The invite string.
    pub fn encode(&self) -> String {
        let raw = Raw {
            a: self.addrs.iter().cloned().map(ByteBuf::from).collect(),
            m: self.name.clone(),
            n: ByteBuf::from(self.network.map(|n| n.to_vec()).unwrap_or_default()),
            p: self.publisher,
        };
        format!("{INVITE_PREFIX}{}", base32(&cbor::encode(&raw)))
    }

    /// Parses and checks an invite string (surrounding spaces are ignored).
    pub fn decode(s: &str) -> Result<Self, InviteError> {
        let s = s.trim();
        if s.len() > MAX_INVITE_CHARS {
            return Err(InviteError::Malformed(format!(
                "{} characters, over the limit of {MAX_INVITE_CHARS}",
                s.len()
            )));
        }
        let body = s
            .get(..INVITE_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(INVITE_PREFIX))
            .map(|_| &s[INVITE_PREFIX.len()..])
            .ok_or_else(|| {
                InviteError::Malformed(format!("it does not start with {INVITE_PREFIX}"))
            })?;
        let bytes = unbase32(body)?;
        let raw: Raw = cbor::decode(&bytes, MAX_INVITE_CHARS, "invite")
            .map_err(|e| InviteError::Damaged(e.to_string()))?;
        if raw.a.is_empty() || raw.a.len() > MAX_INVITE_ADDRS {
            return Err(InviteError::Damaged(format!(
                "it holds {} addresses; an invite holds 1 to {MAX_INVITE_ADDRS}",
                raw.a.len()
            )));
        }
        if raw
            .a
            .iter()
            .any(|a| a.is_empty() || a.len() > MAX_INVITE_ADDR_BYTES)
        {
            return Err(InviteError::Damaged(format!(
                "an address is empty or longer than {MAX_INVITE_ADDR_BYTES} bytes"
            )));
        }
        let network = match raw.n.len() {
            0 => None,
            NETWORK_FINGERPRINT_BYTES => Some(raw.n[..].try_into().expect("16 bytes")),
            n => {
                return Err(InviteError::Damaged(format!(
                    "a network fingerprint of {n} bytes, not {NETWORK_FINGERPRINT_BYTES}"
                )))
            }
        };
        if let Some(m) = &raw.m {
            crate::words::check_display_name(m)
                .map_err(|why| InviteError::Damaged(format!("the inviter's name: {why}")))?;
        }
        Ok(Invite {
            addrs: raw.a.into_iter().map(ByteBuf::into_vec).collect(),
            network,
            publisher: raw.p,
            name: raw.m,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_either_case_and_rejects_damage() {
        let inv = Invite {
            addrs: vec![vec![4, 127, 0, 0, 1, 6, 16, 45], vec![1; 40]],
            network: Some([7; 16]),
            publisher: Some(PublisherId::from_bytes([3; 32])),
            name: Some("Coalición Agua".into()),
        };
        let s = inv.encode();
        assert!(s.starts_with(INVITE_PREFIX));
        assert!(s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(Invite::decode(&s).unwrap(), inv);
        assert_eq!(
            Invite::decode(&format!("  {}\n", s.to_lowercase())).unwrap(),
            inv
        );
        let open = Invite {
            network: None,
            publisher: None,
            name: None,
            ..inv.clone()
        };
        assert_eq!(Invite::decode(&open.encode()).unwrap(), open);
        let lookalike = Invite {
            name: Some("C\u{043e}alition".into()),
            ..inv.clone()
        };
        assert!(Invite::decode(&lookalike.encode()).is_err());
        assert!(Invite::decode(&s[..s.len() - 3]).is_err(), "truncated");
        assert!(Invite::decode("WEFT2AAAA").is_err());
        assert!(Invite::decode(&format!("{s}!")).is_err());
        assert!(Invite::decode(&"WEFT1".repeat(500)).is_err());
        let empty = Invite {
            addrs: vec![],
            network: None,
            publisher: None,
            name: None,
        };
        assert!(matches!(
            Invite::decode(&empty.encode()),
            Err(InviteError::Damaged(_))
        ));
    }
}
