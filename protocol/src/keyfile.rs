//! The publisher key file (`publisher.key` in the data dir), in one of two
//! forms.
//!
//! - Plain: the 32-byte secret seed as 64 hex characters.
//! - Sealed with a passphrase: the seed XORed with a 32-byte mask derived
//!   from the passphrase by Argon2id (RFC 9106) under a random 16-byte
//!   salt, next to the publisher id in clear:
//!
//!   ```text
//!   weft-publisher-key-v1 argon2id
//!   publisher <publisher id>
//!   kdf m=65536 t=3 p=1
//!   salt <32 hex>
//!   sealed <64 hex>
//!   ```
//!
//! The mask is used once: every sealing draws a new salt. Opening derives
//! the mask, unmasks the seed, and checks that the seed's public key is the
//! publisher id in the file. A wrong passphrase, or a file changed by
//! someone who does not know the passphrase, fails that check and is
//! refused; it never yields a different key.
//!
//! KDF parameters read from a file are bounded before anything is
//! allocated, so a tampered file cannot make a node allocate gigabytes.

use crate::id::{to_hex, PublisherId};
use crate::keys::PublisherKey;

/// First line of a sealed key file.
pub const SEALED_HEADER: &str = "weft-publisher-key-v1 argon2id";
/// Fewest characters a passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// Most bytes of a passphrase.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// Most memory an Argon2id parameter set in a file may ask for (KiB).
pub const MAX_KDF_MEMORY_KIB: u32 = 1 << 20;
/// Most passes an Argon2id parameter set in a file may ask for.
pub const MAX_KDF_PASSES: u32 = 64;
/// Most lanes an Argon2id parameter set in a file may ask for.
pub const MAX_KDF_LANES: u32 = 16;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// RFC 9106's second recommended set: 64 MiB, 3 passes (one lane, as a
/// laptop signs one thing at a time). About half a second on a laptop.
pub const DEFAULT_KDF: KdfParams = KdfParams {
    m_kib: 64 * 1024,
    t: 3,
    p: 1,
};

/// Why a key file could not be read or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The key is sealed and no passphrase was given.
    #[error("the publisher key {0} is protected by a passphrase; give the passphrase (`weft` asks for it on a terminal, or reads it with --passphrase-fd)")]
    PassphraseRequired(PublisherId),
    /// The passphrase does not open the key.
    #[error("the passphrase does not unlock publisher key {0}")]
    WrongPassphrase(PublisherId),
    /// The passphrase breaks a rule.
    #[error("{0}")]
    BadPassphrase(String),
    /// The file is not a key file weft can read.
    #[error("the publisher key file is damaged: {0}")]
    Damaged(String),
}

/// A parsed key file.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyFile {
    /// The seed in clear.
    Plain([u8; 32]),
    /// The seed sealed with a passphrase.
    Sealed {
        /// The public key, in clear.
        publisher: PublisherId,
        /// Argon2id costs.
        kdf: KdfParams,
        /// Argon2id salt.
        salt: [u8; 16],
        /// The seed XOR the mask.
        masked: [u8; 32],
    },
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyFile::Plain(_) => write!(f, "KeyFile::Plain(..)"),
            KeyFile::Sealed { publisher, .. } => write!(f, "KeyFile::Sealed({publisher})"),
        }
    }
}

fn hex_array<const N: usize>(s: &str, what: &str) -> Result<[u8; N], KeyFileError> {
    let bad = || KeyFileError::Damaged(format!("{what} is not {} hex characters", N * 2));
    if s.len() != N * 2 || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The passphrase in bytes read from a file descriptor or a pipe: its
/// first line, without the line ending. Read at most
/// [`MAX_PASSPHRASE_BYTES`] + 2 bytes.
pub fn passphrase_from_bytes(bytes: &[u8]) -> Result<String, KeyFileError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| KeyFileError::BadPassphrase("the passphrase is not UTF-8".into()))?;
    let line = text.split('\n').next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(KeyFileError::BadPassphrase(
            "the passphrase is empty".into(),
        ));
    }
    if line.len() > MAX_PASSPHRASE_BYTES {
        return Err(KeyFileError::BadPassphrase(format!(
            "a passphrase may have at most {MAX_PASSPHRASE_BYTES} bytes"
        )));
    }
    Ok(line.to_string())
}

/// Checks a passphrase chosen for a new key.
pub fn check_new_passphrase(passphrase: &str) -> Result<(), KeyFileError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(KeyFileError::BadPassphrase(format!(
            "a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters; several unrelated words are easy to remember and hard to guess"
        )));
    }
    if passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(KeyFileError::BadPassphrase(format!(
            "a passphrase may have at most {MAX_PASSPHRASE_BYTES} bytes"
        )));
    }
    Ok(())
}

fn mask(passphrase: &[u8], salt: &[u8; 16], kdf: KdfParams) -> Result<[u8; 32], KeyFileError> {
    if passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(KeyFileError::BadPassphrase(format!(
            "a passphrase may have at most {MAX_PASSPHRASE_BYTES} bytes"
        )));
    }
    let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| KeyFileError::Damaged(format!("Argon2id parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(passphrase, salt, &mut out)
        .map_err(|e| KeyFileError::Damaged(format!("Argon2id: {e}")))?;
    Ok(out)
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for i in 0..32 {
        out[i] = a[i] ^ b[i];
    }
    out
}

impl KeyFile {
    /// Seals `seed` with `passphrase`. `salt` must be fresh randomness
    /// (this crate has no I/O).
    pub fn seal(
        seed: [u8; 32],
        passphrase: &str,
        salt: [u8; 16],
        kdf: KdfParams,
    ) -> Result<Self, KeyFileError> {
        check_new_passphrase(passphrase)?;
        let m = mask(passphrase.as_bytes(), &salt, kdf)?;
        Ok(KeyFile::Sealed {
            publisher: PublisherKey::from_seed(seed).id(),
            kdf,
            salt,
            masked: xor(&seed, &m),
        })
    }

    /// Parses a key file's text.
    pub fn parse(text: &str) -> Result<Self, KeyFileError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines
            .next()
            .ok_or_else(|| KeyFileError::Damaged("the file is empty".into()))?;
        if first != SEALED_HEADER {
            if lines.next().is_some() {
                return Err(KeyFileError::Damaged(
                    "expected one line of 64 hex characters, or a sealed key".into(),
                ));
            }
            return Ok(KeyFile::Plain(hex_array(first, "the seed")?));
        }
        let mut field = |name: &str| -> Result<&str, KeyFileError> {
            let line = lines
                .next()
                .ok_or_else(|| KeyFileError::Damaged(format!("no `{name}` line")))?;
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| KeyFileError::Damaged(format!("expected a `{name}` line")))
        };
        let publisher: PublisherId = field("publisher")?
            .parse()
            .map_err(|e| KeyFileError::Damaged(format!("publisher: {e}")))?;
        let kdf = parse_kdf(field("kdf")?)?;
        let salt = hex_array(field("salt")?, "the salt")?;
        let masked = hex_array(field("sealed")?, "the sealed seed")?;
        if lines.next().is_some() {
            return Err(KeyFileError::Damaged(
                "unexpected lines after `sealed`".into(),
            ));
        }
        Ok(KeyFile::Sealed {
            publisher,
            kdf,
            salt,
            masked,
        })
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        match self {
            KeyFile::Plain(seed) => format!("{}\n", to_hex(seed)),
            KeyFile::Sealed {
                publisher,
                kdf,
                salt,
                masked,
            } => format!(
                "{SEALED_HEADER}\npublisher {publisher}\nkdf m={} t={} p={}\nsalt {}\nsealed {}\n",
                kdf.m_kib,
                kdf.t,
                kdf.p,
                to_hex(salt),
                to_hex(masked)
            ),
        }
    }

    /// Whether a passphrase is needed to sign.
    pub fn is_sealed(&self) -> bool {
        matches!(self, KeyFile::Sealed { .. })
    }

    /// The publisher this key signs for, without opening it.
    pub fn publisher(&self) -> PublisherId {
        match self {
            KeyFile::Plain(seed) => PublisherKey::from_seed(*seed).id(),
            KeyFile::Sealed { publisher, .. } => *publisher,
        }
    }

    /// The signing key. A sealed key needs its passphrase; a plain key
    /// ignores one.
    pub fn open(&self, passphrase: Option<&str>) -> Result<PublisherKey, KeyFileError> {
        match self {
            KeyFile::Plain(seed) => Ok(PublisherKey::from_seed(*seed)),
            KeyFile::Sealed {
                publisher,
                kdf,
                salt,
                masked,
            } => {
                let passphrase = passphrase.ok_or(KeyFileError::PassphraseRequired(*publisher))?;
                let m = mask(passphrase.as_bytes(), salt, *kdf)?;
                let key = PublisherKey::from_seed(xor(masked, &m));
                if key.id() != *publisher {
                    return Err(KeyFileError::WrongPassphrase(*publisher));
                }
                Ok(key)
            }
        }
    }
}

fn parse_kdf(s: &str) -> Result<KdfParams, KeyFileError> {
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for part in s.split(' ') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| KeyFileError::Damaged(format!("kdf: `{part}` is not name=value")))?;
        let v: u32 = v
            .parse()
            .map_err(|_| KeyFileError::Damaged(format!("kdf: `{part}` is not a number")))?;
        let slot = match k {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => {
                return Err(KeyFileError::Damaged(format!(
                    "kdf: unknown parameter `{k}`"
                )))
            }
        };
        if slot.replace(v).is_some() {
            return Err(KeyFileError::Damaged(format!("kdf: `{k}` given twice")));
        }
    }
    let (Some(m_kib), Some(t), Some(p)) = (m, t, p) else {
        return Err(KeyFileError::Damaged("kdf: needs m, t and p".into()));
    };
    if !(8..=MAX_KDF_MEMORY_KIB).contains(&m_kib)
        || !(1..=MAX_KDF_PASSES).contains(&t)
        || !(1..=MAX_KDF_LANES).contains(&p)
    {
        return Err(KeyFileError::Damaged(format!(
            "kdf: m={m_kib} t={t} p={p} is outside what weft accepts (m up to {MAX_KDF_MEMORY_KIB} KiB, t up to {MAX_KDF_PASSES}, p up to {MAX_KDF_LANES})"
        )));
    }
    Ok(KdfParams { m_kib, t, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cheap parameters keep the unit tests fast; the format is the same.
    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn a_sealed_key_opens_with_its_passphrase_only() {
        let seed = [7u8; 32];
        let file = KeyFile::seal(seed, "correct horse battery", [1; 16], FAST).unwrap();
        let text = file.to_text();
        assert!(!text.contains(&to_hex(&seed)), "the seed is not in clear");
        let parsed = KeyFile::parse(&text).unwrap();
        assert_eq!(parsed, file);
        assert!(parsed.is_sealed());
        assert_eq!(parsed.publisher(), PublisherKey::from_seed(seed).id());
        assert_eq!(
            parsed.open(Some("correct horse battery")).unwrap().seed(),
            seed
        );
        assert!(matches!(
            parsed.open(Some("wrong horse battery")),
            Err(KeyFileError::WrongPassphrase(_))
        ));
        assert!(matches!(
            parsed.open(None),
            Err(KeyFileError::PassphraseRequired(_))
        ));
    }

    #[test]
    fn the_same_seed_sealed_twice_differs() {
        let a = KeyFile::seal([7; 32], "correct horse battery", [1; 16], FAST).unwrap();
        let b = KeyFile::seal([7; 32], "correct horse battery", [2; 16], FAST).unwrap();
        assert_ne!(a.to_text(), b.to_text());
    }

    #[test]
    fn a_tampered_sealed_key_is_refused() {
        let file = KeyFile::seal([7; 32], "correct horse battery", [1; 16], FAST).unwrap();
        let text = file.to_text();
        let sealed_at = text.find("sealed ").unwrap() + 7;
        let mut bytes = text.into_bytes();
        bytes[sealed_at] = if bytes[sealed_at] == b'0' { b'1' } else { b'0' };
        let tampered = KeyFile::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert!(matches!(
            tampered.open(Some("correct horse battery")),
            Err(KeyFileError::WrongPassphrase(_))
        ));
    }

    #[test]
    fn plain_keys_still_read() {
        let text = format!("{}\n", to_hex(&[9u8; 32]));
        let file = KeyFile::parse(&text).unwrap();
        assert!(!file.is_sealed());
        assert_eq!(file.open(None).unwrap().seed(), [9; 32]);
        assert_eq!(file.to_text(), text);
    }

    #[test]
    fn bad_files_and_costly_parameters_are_refused() {
        let good = KeyFile::seal([7; 32], "correct horse battery", [1; 16], FAST)
            .unwrap()
            .to_text();
        for (from, to) in [
            ("kdf m=64 t=1 p=1", "kdf m=4294967295 t=1 p=1"),
            ("kdf m=64 t=1 p=1", "kdf m=64 t=100000 p=1"),
            ("kdf m=64 t=1 p=1", "kdf m=64 t=1"),
            ("kdf m=64 t=1 p=1", "kdf m=64 t=1 p=1 q=2"),
            ("kdf m=64 t=1 p=1", "kdf m=64 m=64 t=1 p=1"),
            ("salt ", "salt 0"),
        ] {
            let bad = good.replace(from, to);
            assert!(
                matches!(KeyFile::parse(&bad), Err(KeyFileError::Damaged(_))),
                "{to}"
            );
        }
        for bad in ["", "zz", "abcd\nef", &format!("{SEALED_HEADER}\n")] {
            assert!(KeyFile::parse(bad).is_err(), "{bad:?}");
        }
        assert!(KeyFile::seal([7; 32], "short", [1; 16], FAST).is_err());
    }
}
