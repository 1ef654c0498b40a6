//! Sealed content: a private bundle's one file.
//!
//! ```text
//! header  = "weft/v1/sealed\0\0" (16) || group (32) || epoch (8, big-endian) || nonce (19)
//! segment = XChaCha20-Poly1305 of up to 65,536 plaintext bytes, + 16-byte tag
//! ```
//!
//! The segments are RustCrypto's STREAM construction (big-endian 32-bit
//! counter and last-segment flag, `aead::stream::EncryptorBE32`) under the
//! epoch's content key, each bound to the header as associated data. Every
//! segment but the last holds exactly [`SEGMENT_BYTES`] of plaintext; the
//! last holds the rest (0 to [`SEGMENT_BYTES`]), so reordering, dropping or
//! cutting segments off fails to open. The plaintext is padded with zeros
//! to a length chosen with [`padme`], so the file's size says little more
//! than its order of magnitude.

use aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use rand_core::{CryptoRng, RngCore};

use crate::id::GroupId;

use super::{EpochSecret, GroupError};

/// The first 16 bytes of a sealed file.
pub const SEALED_MAGIC: &[u8; 16] = b"weft/v1/sealed\0\0";
/// Plaintext bytes per segment.
pub const SEGMENT_BYTES: usize = 65_536;
const TAG: usize = 16;
const NONCE: usize = 19;
/// Length of the header.
pub const HEADER_BYTES: usize = 16 + 32 + 8 + NONCE;

/// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
/// and Communication with PURBs", 2019): rounds `len` up so that only the
/// top `floor(log2(floor(log2 len))) + 1` bits of it remain; at most 12%
/// more, and a length leaks O(log log len) bits.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let mask = (1u64 << (e - s)) - 1;
    (len + mask) & !mask
}

/// Segments of `plain` plaintext bytes: at least one.
fn segments(plain: u64) -> u64 {
    plain.div_ceil(SEGMENT_BYTES as u64).max(1)
}

/// The size of the sealed file of `plain` (padded) plaintext bytes.
pub fn sealed_len(plain: u64) -> u64 {
    HEADER_BYTES as u64 + plain + TAG as u64 * segments(plain)
}

/// The plaintext length of a sealed file of `sealed` bytes, if a sealed
/// file can have that size.
fn plain_len_of(sealed: u64) -> Option<u64> {
    let c = sealed.checked_sub(HEADER_BYTES as u64)?;
    let n = c.div_ceil((SEGMENT_BYTES + TAG) as u64).max(1);
    let p = c.checked_sub(TAG as u64 * n)?;
    (sealed_len(p) == sealed).then_some(p)
}

/// A sealed file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    /// The group whose key sealed it.
    pub group: GroupId,
    /// The epoch whose key sealed it.
    pub epoch: u64,
    nonce: [u8; NONCE],
}

impl SealedHeader {
    /// Reads the header from the first [`HEADER_BYTES`] of a sealed file.
    pub fn parse(bytes: &[u8]) -> Result<Self, GroupError> {
        if bytes.len() < HEADER_BYTES || &bytes[..16] != SEALED_MAGIC {
            return Err(GroupError::Shape(
                "not a sealed file (its first bytes are not weft's sealed header)".into(),
            ));
        }
        Ok(Self {
            group: GroupId::from_slice(&bytes[16..48]).expect("32 bytes"),
            epoch: u64::from_be_bytes(bytes[48..56].try_into().expect("8 bytes")),
            nonce: bytes[56..HEADER_BYTES].try_into().expect("19 bytes"),
        })
    }

    /// The header's bytes.
    pub fn bytes(&self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[..16].copy_from_slice(SEALED_MAGIC);
        b[16..48].copy_from_slice(self.group.as_bytes());
        b[48..56].copy_from_slice(&self.epoch.to_be_bytes());
        b[56..].copy_from_slice(&self.nonce);
        b
    }
}

fn cipher(secret: &EpochSecret) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&secret.content_key().into())
}

/// Seals a plaintext of a length known in advance, a piece at a time.
pub struct Sealer {
    enc: Option<EncryptorBE32<XChaCha20Poly1305>>,
    aad: [u8; HEADER_BYTES],
    pending: Vec<u8>,
    /// Padded plaintext length.
    plain: u64,
    /// Plaintext bytes taken so far.
    taken: u64,
    /// Segments sealed so far, and in all.
    sealed: u64,
    total: u64,
}

impl Sealer {
    /// A sealer for `plain` padded plaintext bytes ([`padme`] of the real
    /// length); also returns the header, the sealed file's first bytes.
    pub fn new(
        secret: &EpochSecret,
        group: GroupId,
        epoch: u64,
        plain: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> (Self, [u8; HEADER_BYTES]) {
        let mut nonce = [0u8; NONCE];
        rng.fill_bytes(&mut nonce);
        let header = SealedHeader {
            group,
            epoch,
            nonce,
        }
        .bytes();
        let enc = EncryptorBE32::from_aead(cipher(secret), nonce.as_ref().into());
        let sealer = Self {
            enc: Some(enc),
            aad: header,
            pending: Vec::with_capacity(SEGMENT_BYTES),
            plain,
            taken: 0,
            sealed: 0,
            total: segments(plain),
        };
        (sealer, header)
    }

    fn seal_next(&mut self, segment: &[u8], out: &mut Vec<u8>) -> Result<(), GroupError> {
        let enc = self.enc.as_mut().expect("not finished");
        let ct = enc
            .encrypt_next(aead::Payload {
                msg: segment,
                aad: &self.aad,
            })
            .map_err(|_| GroupError::Shape("a segment could not be sealed".into()))?;
        out.extend_from_slice(&ct);
        self.sealed += 1;
        Ok(())
    }

    /// Takes more plaintext and appends the sealed segments it completes
    /// to `out` (the last segment waits for [`Self::finish`]).
    pub fn write(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), GroupError> {
        if self.taken + data.len() as u64 > self.plain {
            return Err(GroupError::Shape(format!(
                "more plaintext than the {} bytes announced",
                self.plain
            )));
        }
        self.taken += data.len() as u64;
        while !data.is_empty() {
            let last = self.sealed + 1 >= self.total;
            if self.pending.is_empty() && data.len() > SEGMENT_BYTES && !last {
                let (seg, rest) = data.split_at(SEGMENT_BYTES);
                self.seal_next(seg, out)?;
                data = rest;
                continue;
            }
            let room = SEGMENT_BYTES - self.pending.len();
            let n = room.min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() == SEGMENT_BYTES && !data.is_empty() && !last {
                let seg = std::mem::take(&mut self.pending);
                self.seal_next(&seg, out)?;
                self.pending = seg;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// Pads the plaintext with zeros to its announced length and appends
    /// the remaining segments, the last one marked as last.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), GroupError> {
        let zeros = vec![0u8; SEGMENT_BYTES];
        while self.taken < self.plain {
            let n = (self.plain - self.taken).min(SEGMENT_BYTES as u64) as usize;
            self.write(&zeros[..n], out)?;
        }
        if self.sealed + 1 != self.total {
            return Err(GroupError::Shape("the segments do not add up".into()));
        }
        let enc = self.enc.take().expect("not finished");
        let ct = enc
            .encrypt_last(aead::Payload {
                msg: &self.pending,
                aad: &self.aad,
            })
            .map_err(|_| GroupError::Shape("the last segment could not be sealed".into()))?;
        out.extend_from_slice(&ct);
        Ok(())
    }
}

/// Opens a sealed file a piece at a time, checking every segment.
pub struct Opener {
    dec: Option<DecryptorBE32<XChaCha20Poly1305>>,
    aad: [u8; HEADER_BYTES],
    pending: Vec<u8>,
    plain: u64,
    opened: u64,
    total: u64,
}

impl Opener {
    /// An opener for a sealed file of `sealed` bytes in all, whose header
    /// is `header`, with the secret of the header's epoch.
    pub fn new(
        secret: &EpochSecret,
        header: &SealedHeader,
        sealed: u64,
    ) -> Result<Self, GroupError> {
        let plain = plain_len_of(sealed)
            .ok_or_else(|| GroupError::Shape(format!("no sealed file is {sealed} bytes long")))?;
        Ok(Self {
            dec: Some(DecryptorBE32::from_aead(
                cipher(secret),
                header.nonce.as_ref().into(),
            )),
            aad: header.bytes(),
            pending: Vec::with_capacity(SEGMENT_BYTES + TAG),
            plain,
            opened: 0,
            total: segments(plain),
        })
    }

    /// The padded plaintext length.
    pub fn plain_len(&self) -> u64 {
        self.plain
    }

    fn open_next(&mut self, segment: &[u8], out: &mut Vec<u8>) -> Result<(), GroupError> {
        let dec = self.dec.as_mut().expect("not finished");
        let pt = dec
            .decrypt_next(aead::Payload {
                msg: segment,
                aad: &self.aad,
            })
            .map_err(|_| GroupError::Open("sealed content"))?;
        out.extend_from_slice(&pt);
        self.opened += 1;
        Ok(())
    }

    /// Takes more of the file after its header and appends the plaintext
    /// of the segments it completes to `out` (the last waits for
    /// [`Self::finish`]).
    pub fn write(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), GroupError> {
        const FULL: usize = SEGMENT_BYTES + TAG;
        while !data.is_empty() {
            if self.opened + 1 >= self.total {
                let last = (self.plain - (self.total - 1) * SEGMENT_BYTES as u64) as usize + TAG;
                if self.pending.len() + data.len() > last {
                    return Err(GroupError::Shape(
                        "more bytes than the sealed file holds".into(),
                    ));
                }
                self.pending.extend_from_slice(data);
                return Ok(());
            }
            if self.pending.is_empty() && data.len() >= FULL {
                let (seg, rest) = data.split_at(FULL);
                self.open_next(seg, out)?;
                data = rest;
                continue;
            }
            let n = (FULL - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() == FULL {
                let seg = std::mem::take(&mut self.pending);
                self.open_next(&seg, out)?;
                self.pending = seg;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// Opens the last segment; fails if the file was cut short.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), GroupError> {
        if self.opened + 1 != self.total {
            return Err(GroupError::Shape("the sealed file is cut short".into()));
        }
        let dec = self.dec.take().expect("not finished");
        let pt = dec
            .decrypt_last(aead::Payload {
                msg: &self.pending,
                aad: &self.aad,
            })
            .map_err(|_| GroupError::Open("sealed content"))?;
        out.extend_from_slice(&pt);
        Ok(())
    }
}
