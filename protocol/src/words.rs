//! Words people read, compare and write down (`docs/protocol.md`,
//! section 6.4): a publisher's fingerprint, and the paper backup of an
//! identity's roots. Both use the BIP-39 English word list (2,048 words,
//! chosen so that the first four letters tell any two apart), taken from
//! the `bip39` crate, which also checks the backup's checksum.

use crate::id::PublisherId;
use crate::keys::PublisherKey;

/// Words in a fingerprint: 55 bits, read aloud in a few seconds.
pub const FINGERPRINT_WORDS: usize = 5;
/// Domain of the fingerprint hash.
pub const FINGERPRINT_DOMAIN: &[u8] = b"weft/v1/fingerprint\0";
/// Context of the BLAKE3 key derivation from a paper backup to a root.
pub const ROOT_KDF_CONTEXT: &str = "weft/v1 identity root key";
/// Words in a paper backup: 256 bits of entropy and an 8-bit checksum.
pub const BACKUP_WORDS: usize = 24;

fn word_list() -> &'static [&'static str; 2048] {
    bip39::Language::English.word_list()
}

/// A publisher's fingerprint: five words, from the first 55 bits of
/// BLAKE3(`weft/v1/fingerprint\0` ‖ key), 11 bits a word, joined by `-`.
/// Two people compare it on a call to know they mean the same key; making
/// another key with the same five words takes about 2^55 key generations.
pub fn fingerprint(id: &PublisherId) -> String {
    let mut h = blake3::Hasher::new();
    h.update(FINGERPRINT_DOMAIN);
    h.update(id.as_bytes());
    let d = h.finalize();
    let bits = u64::from_be_bytes(d.as_bytes()[..8].try_into().expect("8 bytes"));
    (0..FINGERPRINT_WORDS)
        .map(|i| word_list()[((bits >> (64 - 11 * (i + 1))) & 0x7ff) as usize])
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `c` is a control character or one that changes how text
/// around it shows without showing itself (bidirectional overrides,
/// zero-width characters): names refuse them, so that two names that look
/// the same are the same.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Longest display name or petname, in bytes.
pub const MAX_DISPLAY_NAME_BYTES: usize = 64;

/// Checks a name people read in place of a key (a profile's display name,
/// a petname): 1 to 64 bytes; no control or invisible characters; no space
/// at either end or two in a row; and its letters from one script, or
/// Latin with one other script that does not look like it (Unicode
/// TS #39 "moderately restrictive"), so that "Сoalition" with a Cyrillic
/// "С" is refused rather than shown as "Coalition".
pub fn check_display_name(name: &str) -> Result<(), String> {
    use unicode_security::{RestrictionLevel, RestrictionLevelDetection};
    if name.is_empty() || name.len() > MAX_DISPLAY_NAME_BYTES {
        return Err(format!("1 to {MAX_DISPLAY_NAME_BYTES} bytes"));
    }
    if let Some(c) = name.chars().find(|c| is_hidden_char(*c)) {
        return Err(format!(
            "no control or invisible characters (found U+{:04X})",
            c as u32
        ));
    }
    if name.trim() != name || name.contains("  ") {
        return Err("no spaces at either end or two in a row".into());
    }
    let letters: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
    if letters.detect_restriction_level() > RestrictionLevel::ModeratelyRestrictive {
        return Err(
            "its letters mix scripts that can look alike (for example Latin with Cyrillic or Greek); write it in one script"
                .into(),
        );
    }
    Ok(())
}

/// What two names that people would take for the same reduce to: the
/// Unicode TS #39 confusable skeleton of the lowercase name, without
/// spaces. Two display names with one skeleton are flagged.
pub fn name_skeleton(name: &str) -> String {
    let lower: String = name
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    unicode_security::skeleton(&lower)
        .collect::<String>()
        .to_lowercase()
}

/// The secret of a paper backup: 32 random bytes, written as 24 words.
/// Every root of the identity derives from it, so that the paper can
/// replace the root on a seized laptop, approve a new device, and reveal
/// the next root when the log must rotate.
#[derive(Clone, PartialEq, Eq)]
pub struct PaperBackup {
    entropy: [u8; 32],
}

/// The words do not make a backup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("these are not the 24 words of a weft paper backup: {0}")]
pub struct BackupError(String);

impl PaperBackup {
    /// The backup of these 32 random bytes (randomness is the caller's).
    pub fn from_entropy(entropy: [u8; 32]) -> Self {
        Self { entropy }
    }

    /// Reads the words back: 24 words of the list, any case, separated by
    /// white space, with a valid checksum.
    pub fn parse(words: &str) -> Result<Self, BackupError> {
        let words: Vec<String> = words.split_whitespace().map(str::to_lowercase).collect();
        if words.len() != BACKUP_WORDS {
            return Err(BackupError(format!(
                "there are {} words, not {BACKUP_WORDS}",
                words.len()
            )));
        }
        if let Some(w) = words
            .iter()
            .find(|w| bip39::Language::English.find_word(w).is_none())
        {
            return Err(BackupError(format!(
                "\"{w}\" is not a backup word; check its spelling"
            )));
        }
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &words.join(" "))
            .map_err(|_| {
                BackupError("a word is wrong or out of order (the checksum does not match)".into())
            })?;
        let (bytes, len) = m.to_entropy_array();
        if len != 32 {
            return Err(BackupError("it holds the wrong amount of entropy".into()));
        }
        let mut entropy = [0u8; 32];
        entropy.copy_from_slice(&bytes[..32]);
        Ok(Self { entropy })
    }

    /// The 24 words.
    pub fn words(&self) -> Vec<&'static str> {
        bip39::Mnemonic::from_entropy(&self.entropy)
            .expect("32 bytes is a valid entropy length")
            .words()
            .collect()
    }

    /// Root number `n` (0 for the first, n after n rotations):
    /// BLAKE3 `derive_key` with context [`ROOT_KDF_CONTEXT`] over the
    /// entropy and `n` as 8 big-endian bytes.
    pub fn root(&self, n: u64) -> PublisherKey {
        let mut material = [0u8; 40];
        material[..32].copy_from_slice(&self.entropy);
        material[32..].copy_from_slice(&n.to_be_bytes());
        PublisherKey::from_seed(blake3::derive_key(ROOT_KDF_CONTEXT, &material))
    }
}

impl std::fmt::Debug for PaperBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaperBackup(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_reads_back_and_refuses_a_wrong_word() {
        let b = PaperBackup::from_entropy([7; 32]);
        let words = b.words();
        assert_eq!(words.len(), 24);
        let text = words.join(" ");
        let back = PaperBackup::parse(&text.to_uppercase()).unwrap();
        assert_eq!(back.root(0).id(), b.root(0).id());
        assert_ne!(b.root(0).id(), b.root(1).id());
        let mut swapped = words.clone();
        swapped.swap(0, 1);
        if swapped != words {
            assert!(PaperBackup::parse(&swapped.join(" ")).is_err());
        }
        assert!(PaperBackup::parse(&words[..23].join(" ")).is_err());
        let mut typo = words.clone();
        typo[3] = "zzzz";
        let err = PaperBackup::parse(&typo.join(" ")).unwrap_err();
        assert!(err.to_string().contains("zzzz"));
    }

    #[test]
    fn fingerprints_are_five_list_words_and_differ_by_key() {
        let a = fingerprint(&PublisherKey::from_seed([1; 32]).id());
        let b = fingerprint(&PublisherKey::from_seed([2; 32]).id());
        assert_eq!(a.split('-').count(), 5);
        assert!(a.split('-').all(|w| word_list().contains(&w)));
        assert_ne!(a, b);
    }

    #[test]
    fn lookalike_names_are_refused_or_flagged() {
        for good in [
            "Climate 2025 Africa",
            "Coalición Agua",
            "تحالف المياه",
            "Réseau Eau 2",
        ] {
            check_display_name(good).unwrap();
        }
        for bad in [
            "",
            " Coalition",
            "Coal  ition",
            "C\u{043e}alition", // a Cyrillic o among Latin letters
            "Coali\u{200B}tion",
            "Water\u{202E}guide",
        ] {
            assert!(check_display_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_display_name(&"a".repeat(65)).is_err());
        assert_eq!(name_skeleton("Coalition"), name_skeleton("coal ition"));
        assert_eq!(name_skeleton("paypal"), name_skeleton("paypa1"));
        assert_ne!(name_skeleton("Coalition"), name_skeleton("Collation"));
    }

    #[test]
    fn hidden_characters_are_found() {
        for c in ['\u{202E}', '\u{200B}', '\n', '\u{FEFF}', '\u{2066}'] {
            assert!(is_hidden_char(c), "{c:?}");
        }
        for c in ['a', 'é', 'ع', '中', ' '] {
            assert!(!is_hidden_char(c), "{c:?}");
        }
    }
}
