//! Bundle manifests and announcements, signed.
//!
//! Both travel in the same envelope, `{"sig": bstr(64), "body": bstr}`: the
//! body is the canonical CBOR of a [`Manifest`] or an [`Announcement`] and the
//! signature covers a domain prefix plus the body bytes (see [`crate::keys`]).
//! The [`BundleId`] is the blake3 hash of the whole signed-manifest envelope.
//!
//! Struct fields are declared in canonical key order (shorter keys first,
//! then bytewise) so that serde_cbor writes canonical maps; lists are kept
//! sorted and free of duplicates, and [`Manifest::validate`] insists on it.

use serde::{Deserialize, Serialize};

use crate::cbor::{self, CborError};
use crate::chunk::ChunkError;
use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{
    self, PublisherKey, SignatureError, ANNOUNCEMENT_DOMAIN, MANIFEST_DOMAIN, RETRACTION_DOMAIN,
};
use crate::limits::*;
use crate::path::{validate_paths, PathError};

/// The protocol version this crate speaks.
pub const VERSION: u64 = 1;

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
    /// The key signing is not the publisher the manifest names.
    #[error("the signing key {key} is not the manifest's publisher {publisher}")]
    WrongKey {
        /// The signing key's id.
        key: PublisherId,
        /// The publisher in the manifest.
        publisher: PublisherId,
    },
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

fn field(field: &'static str, reason: impl Into<String>) -> ValidationError {
    ValidationError::Field {
        field,
        reason: reason.into(),
    }
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The file hash: blake3 of the bytes for files of at most one chunk,
    /// otherwise blake3 of the chunk index (see [`crate::chunk`]).
    pub hash: ContentHash,
    /// Relative path, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// Title and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangText {
    /// BCP 47 language tag, in its conventional case (`pt-BR`, `sr-Latn`).
    pub lang: String,
    /// Title in that language.
    pub title: String,
    /// Description in that language; may be empty.
    pub description: String,
}

/// What a publisher says about a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// Version of this (publisher, name); higher supersedes lower.
    pub seq: u64,
    /// Stable name chosen by the publisher.
    pub name: String,
    /// Lowercase tags, sorted, no duplicates.
    pub tags: Vec<String>,
    /// The files, sorted by path bytes.
    pub files: Vec<FileEntry>,
    /// Titles and descriptions, sorted by language tag; at least one.
    pub texts: Vec<LangText>,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
    /// Licence, ideally an SPDX expression; may be empty.
    pub licence: String,
    /// The key that signs the manifest.
    pub publisher: PublisherId,
}

/// Puts a BCP 47 tag in its conventional case, or `None` if it is not
/// well-formed: 2-3 letter (or 4-8 letter) language, then subtags of 1-8
/// letters or digits.
pub fn normalize_lang(tag: &str) -> Option<String> {
    if tag.is_empty() || tag.len() > MAX_LANG_BYTES {
        return None;
    }
    let mut out = Vec::new();
    for (i, sub) in tag.split(['-', '_']).enumerate() {
        if sub.is_empty() || sub.len() > 8 || !sub.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let s = if i == 0 {
            if !(2..=8).contains(&sub.len()) || !sub.chars().all(|c| c.is_ascii_alphabetic()) {
                return None;
            }
            sub.to_ascii_lowercase()
        } else if sub.len() == 2 && sub.chars().all(|c| c.is_ascii_alphabetic()) {
            sub.to_ascii_uppercase()
        } else if sub.len() == 4 && sub.chars().all(|c| c.is_ascii_alphabetic()) {
            let mut s = sub.to_ascii_lowercase();
            s[..1].make_ascii_uppercase();
            s
        } else {
            sub.to_ascii_lowercase()
        };
        out.push(s);
    }
    Some(out.join("-"))
}

/// Puts a tag in its canonical form (trimmed, lowercase), or `None` if it is
/// empty, too long, or holds whitespace or control characters.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let t = tag.trim().to_lowercase();
    if t.is_empty()
        || t.len() > MAX_TAG_BYTES
        || t.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return None;
    }
    Some(t)
}

/// Checks a bundle name: 1-128 bytes of `a-z`, `0-9`, `.`, `_`, `-`, not
/// starting with `.` or `-`.
pub fn validate_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(field(
            "name",
            format!("must be 1 to {MAX_NAME_BYTES} bytes"),
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        || name.starts_with(['.', '-'])
    {
        return Err(field(
            "name",
            format!("{name:?} may only use a-z, 0-9, '.', '_' and '-', and may not start with '.' or '-'"),
        ));
    }
    Ok(())
}

fn check_sorted<T, K: Ord>(
    items: &[T],
    key: impl Fn(&T) -> K,
    name: &'static str,
) -> Result<(), ValidationError> {
    if items.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        Ok(())
    } else {
        Err(field(name, "must be sorted with no duplicates"))
    }
}

fn check_text(
    name: &'static str,
    s: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), ValidationError> {
    if s.len() > max {
        return Err(field(
            name,
            format!("is {} bytes, over the limit of {max}", s.len()),
        ));
    }
    if !allow_empty && s.trim().is_empty() {
        return Err(field(name, "must not be empty"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(field(name, "must not contain control characters"));
    }
    Ok(())
}

fn validate_texts(texts: &[LangText]) -> Result<(), ValidationError> {
    if texts.is_empty() {
        return Err(field("texts", "at least one title is required"));
    }
    if texts.len() > MAX_LANGS {
        return Err(field("texts", format!("at most {MAX_LANGS} languages")));
    }
    for t in texts {
        if normalize_lang(&t.lang).as_deref() != Some(t.lang.as_str()) {
            return Err(field(
                "lang",
                format!("{:?} is not a BCP 47 tag in conventional case", t.lang),
            ));
        }
        check_text("title", &t.title, MAX_TITLE_BYTES, false)?;
        check_text("description", &t.description, MAX_DESCRIPTION_BYTES, true)?;
    }
    check_sorted(texts, |t| t.lang.as_bytes().to_vec(), "texts")
}

fn validate_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > MAX_TAGS {
        return Err(field("tags", format!("at most {MAX_TAGS} tags")));
    }
    for t in tags {
        if normalize_tag(t).as_deref() != Some(t.as_str()) {
            return Err(field(
                "tags",
                format!("{t:?} must be lowercase, without spaces, 1 to {MAX_TAG_BYTES} bytes"),
            ));
        }
    }
    check_sorted(tags, |t| t.as_bytes().to_vec(), "tags")
}

impl Manifest {
    /// Checks every rule of version 1 except the signature.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.seq == 0 {
            return Err(field("seq", "must be at least 1"));
        }
        validate_name(&self.name)?;
        validate_tags(&self.tags)?;
        validate_texts(&self.texts)?;
        check_text("licence", &self.licence, MAX_LICENCE_BYTES, true)?;
        if self.files.is_empty() {
            return Err(field("files", "a bundle lists at least one file"));
        }
        if self.files.len() > MAX_FILES {
            return Err(field("files", format!("at most {MAX_FILES} files")));
        }
        validate_paths(self.files.iter().map(|f| f.path.as_str()))?;
        check_sorted(&self.files, |f| f.path.as_bytes().to_vec(), "files")?;
        let mut total: u64 = 0;
        for f in &self.files {
            if f.size > MAX_FILE_SIZE {
                return Err(ChunkError::FileTooLarge(f.size).into());
            }
            if f.size == 0 && f.hash != ContentHash::of(b"") {
                return Err(field(
                    "files",
                    format!("{} is empty, so its hash must be blake3(\"\")", f.path),
                ));
            }
            total = total.saturating_add(f.size);
        }
        Ok(())
    }

    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Sorts the lists into canonical order. Call before signing a manifest
    /// assembled by hand.
    pub fn canonicalize(&mut self) {
        self.tags.sort();
        self.tags.dedup();
        self.texts
            .sort_by(|a, b| a.lang.as_bytes().cmp(b.lang.as_bytes()));
        self.files
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(with = "serde_bytes")]
    sig: Vec<u8>,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

fn open_envelope(bytes: &[u8], limit: usize, what: &'static str) -> Result<Envelope, DecodeError> {
    let env: Envelope = cbor::decode(bytes, limit, what)?;
    if env.sig.len() != 64 {
        return Err(CborError::Shape(format!(
            "{what} signature is {} bytes, not 64",
            env.sig.len()
        ))
        .into());
    }
    Ok(env)
}

fn decode_body<T: Serialize + serde::de::DeserializeOwned>(
    body: &[u8],
    limit: usize,
    what: &'static str,
) -> Result<T, DecodeError> {
    cbor::check_canonical(body, limit, what)?;
    match cbor::peek_version(body) {
        Some(VERSION) => {}
        Some(version) => return Err(DecodeError::UnknownVersion { what, version }),
        None => return Err(CborError::Shape(format!("{what} has no version field")).into()),
    }
    Ok(cbor::decode(body, limit, what)?)
}

/// What signing and opening an envelope needs to know about its body.
trait Signable: Serialize + serde::de::DeserializeOwned {
    /// Domain-separation prefix of the signed message.
    const DOMAIN: &'static [u8];
    /// Size limit of the whole envelope.
    const LIMIT: usize;
    /// Name in errors.
    const WHAT: &'static str;
    /// The key that must sign.
    fn signer(&self) -> PublisherId;
    /// The semantic rules.
    fn check(&self) -> Result<(), ValidationError>;
}

impl Signable for Manifest {
    const DOMAIN: &'static [u8] = MANIFEST_DOMAIN;
    const LIMIT: usize = MAX_MANIFEST_BYTES;
    const WHAT: &'static str = "manifest";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

impl Signable for Announcement {
    const DOMAIN: &'static [u8] = ANNOUNCEMENT_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "announcement (titles and tags together)";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// Validates `value`, signs it with `key` (which must be its signer) and
/// returns the envelope bytes.
fn seal<T: Signable>(value: &T, key: &PublisherKey) -> Result<Vec<u8>, ValidationError> {
    if key.id() != value.signer() {
        return Err(ValidationError::WrongKey {
            key: key.id(),
            publisher: value.signer(),
        });
    }
    value.check()?;
    let body = cbor::encode(value);
    let sig = key.sign(T::DOMAIN, &body).to_vec();
    let bytes = cbor::encode(&Envelope { sig, body });
    if bytes.len() > T::LIMIT {
        return Err(ValidationError::TooLarge {
            what: T::WHAT,
            limit: T::LIMIT,
            found: bytes.len(),
        });
    }
    Ok(bytes)
}

/// Decodes an envelope, its body, verifies the signature and the rules.
fn open<T: Signable>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    let env = open_envelope(bytes, T::LIMIT, what)?;
    let value: T = decode_body(&env.body, T::LIMIT, what)?;
    keys::verify(&value.signer(), T::DOMAIN, &env.body, &env.sig)?;
    value.check()?;
    Ok(value)
}

/// A manifest with its signature and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    bytes: Vec<u8>,
    id: BundleId,
    manifest: Manifest,
}

impl SignedManifest {
    /// Validates and signs a manifest. The key must be the manifest's
    /// publisher.
    pub fn sign(manifest: Manifest, key: &PublisherKey) -> Result<Self, ValidationError> {
        let bytes = seal(&manifest, key)?;
        Ok(Self {
            id: BundleId::of_signed_manifest(&bytes),
            bytes,
            manifest,
        })
    }

    /// Decodes, verifies and validates a signed manifest received from
    /// anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            manifest: open(bytes, "manifest")?,
            id: BundleId::of_signed_manifest(bytes),
            bytes: bytes.to_vec(),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bundle id: blake3 of [`Self::bytes`].
    pub fn id(&self) -> BundleId {
        self.id
    }

    /// The manifest inside.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// A title in one language, as carried by an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangTitle {
    /// BCP 47 tag.
    pub lang: String,
    /// Title in that language.
    pub title: String,
}

/// The small signed message that tells the network a bundle exists. It
/// carries enough to list and search the bundle without its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// The bundle announced.
    pub id: BundleId,
    /// The manifest's seq.
    pub seq: u64,
    /// The manifest's name.
    pub name: String,
    /// Total bytes of all files.
    pub size: u64,
    /// The manifest's tags.
    pub tags: Vec<String>,
    /// Number of files.
    pub files: u64,
    /// The manifest's titles, one per language.
    pub titles: Vec<LangTitle>,
    /// The manifest's creation time.
    pub created: u64,
    /// The manifest's publisher, who signs this announcement.
    pub publisher: PublisherId,
}

impl Announcement {
    /// The announcement describing a signed manifest.
    pub fn for_manifest(signed: &SignedManifest) -> Self {
        let m = signed.manifest();
        Self {
            v: VERSION,
            id: signed.id(),
            seq: m.seq,
            name: m.name.clone(),
            size: m.total_size(),
            tags: m.tags.clone(),
            files: m.files.len() as u64,
            titles: m
                .texts
                .iter()
                .map(|t| LangTitle {
                    lang: t.lang.clone(),
                    title: t.title.clone(),
                })
                .collect(),
            created: m.created,
            publisher: m.publisher,
        }
    }

    /// Checks the fields that the manifest rules also cover.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.seq == 0 {
            return Err(field("seq", "must be at least 1"));
        }
        validate_name(&self.name)?;
        validate_tags(&self.tags)?;
        if self.files == 0 || self.files > MAX_FILES as u64 {
            return Err(field("files", format!("must be 1 to {MAX_FILES}")));
        }
        if self.titles.is_empty() || self.titles.len() > MAX_LANGS {
            return Err(field(
                "titles",
                format!("must list 1 to {MAX_LANGS} languages"),
            ));
        }
        for t in &self.titles {
            if normalize_lang(&t.lang).as_deref() != Some(t.lang.as_str()) {
                return Err(field(
                    "lang",
                    format!("{:?} is not a BCP 47 tag in conventional case", t.lang),
                ));
            }
            check_text("title", &t.title, MAX_TITLE_BYTES, false)?;
        }
        check_sorted(&self.titles, |t| t.lang.as_bytes().to_vec(), "titles")
    }

    /// Whether a fetched manifest is the one this announcement describes.
    pub fn matches(&self, signed: &SignedManifest) -> bool {
        *self == Announcement::for_manifest(signed)
    }

    /// The title in `lang` if there is one, else the first title.
    pub fn title_for(&self, lang: Option<&str>) -> &str {
        lang.and_then(|l| self.titles.iter().find(|t| t.lang.eq_ignore_ascii_case(l)))
            .or(self.titles.first())
            .map(|t| t.title.as_str())
            .unwrap_or("")
    }
}

/// An announcement with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAnnouncement {
    bytes: Vec<u8>,
    announcement: Announcement,
}

impl SignedAnnouncement {
    /// Signs the announcement for a signed manifest.
    pub fn sign(signed: &SignedManifest, key: &PublisherKey) -> Result<Self, ValidationError> {
        Self::sign_announcement(Announcement::for_manifest(signed), key)
    }

    /// Signs any announcement; used by tests that need odd ones.
    pub fn sign_announcement(
        ann: Announcement,
        key: &PublisherKey,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            bytes: seal(&ann, key)?,
            announcement: ann,
        })
    }

    /// Decodes and verifies an announcement from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            announcement: open(bytes, "announcement")?,
            bytes: bytes.to_vec(),
        })
    }

    /// Decodes an announcement that this node verified with
    /// [`Self::decode`] before it stored it: every rule is checked again
    /// except the signature, which costs more than the rest together. Never
    /// use it on bytes from a peer.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        let env = open_envelope(bytes, MAX_ANNOUNCEMENT_BYTES, "announcement")?;
        let announcement: Announcement =
            decode_body(&env.body, MAX_ANNOUNCEMENT_BYTES, "announcement")?;
        announcement.validate()?;
        Ok(Self {
            announcement,
            bytes: bytes.to_vec(),
        })
    }

    /// Re-wraps an announcement body with an arbitrary signature, without
    /// checking anything. Exists so tests can build forgeries.
    pub fn forge(ann: &Announcement, sig: [u8; 64]) -> Vec<u8> {
        cbor::encode(&Envelope {
            sig: sig.to_vec(),
            body: cbor::encode(ann),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The announcement inside.
    pub fn announcement(&self) -> &Announcement {
        &self.announcement
    }
}

/// A publisher's signed statement that one of its bundles should no longer
/// be listed or served. It travels like an announcement (gossip and catalog
/// catch-up) and is kept in the catalog under its own entry key, the blake3
/// hash of its bytes, next to the announcement it retracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// When it was made, seconds since the Unix epoch.
    pub created: u64,
    /// The bundle retracted.
    pub retracts: BundleId,
    /// The publisher, who signs it. A retraction counts only for a bundle
    /// whose announcement or manifest names the same publisher.
    pub publisher: PublisherId,
}

impl Signable for Retraction {
    const DOMAIN: &'static [u8] = RETRACTION_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "retraction";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        Ok(())
    }
}

/// A retraction with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRetraction {
    bytes: Vec<u8>,
    retraction: Retraction,
}

impl SignedRetraction {
    /// Signs a retraction; `key` must be its publisher.
    pub fn sign(retraction: Retraction, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            bytes: seal(&retraction, key)?,
            retraction,
        })
    }

    /// Decodes and verifies a retraction from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            retraction: open(bytes, "retraction")?,
            bytes: bytes.to_vec(),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The retraction inside.
    pub fn retraction(&self) -> &Retraction {
        &self.retraction
    }

    /// Its catalog entry key: the blake3 hash of its bytes.
    pub fn entry_id(&self) -> BundleId {
        retraction_entry_id(&self.bytes)
    }
}

/// The catalog entry key of a retraction's bytes.
pub fn retraction_entry_id(bytes: &[u8]) -> BundleId {
    BundleId::from_bytes(*ContentHash::of(bytes).as_bytes())
}

/// One catalog entry: what gossip and catch-up carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogEntry {
    /// A bundle exists.
    Announcement(SignedAnnouncement),
    /// A bundle is retracted by its publisher.
    Retraction(SignedRetraction),
}

/// Whether an envelope's body is a retraction: its fields are disjoint
/// from an announcement's, so exactly one of the two can decode it.
fn is_retraction_body(bytes: &[u8]) -> bool {
    cbor::decode::<Envelope>(bytes, MAX_ANNOUNCEMENT_BYTES, "entry")
        .ok()
        .is_some_and(|env| {
            cbor::decode::<Retraction>(&env.body, MAX_ANNOUNCEMENT_BYTES, "retraction").is_ok()
        })
}

impl CatalogEntry {
    /// Decodes and verifies an announcement or a retraction from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if is_retraction_body(bytes) {
            SignedRetraction::decode(bytes).map(Self::Retraction)
        } else {
            SignedAnnouncement::decode(bytes).map(Self::Announcement)
        }
    }

    /// Decodes an entry this node verified before storing it (see
    /// [`SignedAnnouncement::decode_stored`]).
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        if is_retraction_body(bytes) {
            let env = open_envelope(bytes, MAX_ANNOUNCEMENT_BYTES, "retraction")?;
            let retraction: Retraction =
                decode_body(&env.body, MAX_ANNOUNCEMENT_BYTES, "retraction")?;
            retraction.check()?;
            Ok(Self::Retraction(SignedRetraction {
                retraction,
                bytes: bytes.to_vec(),
            }))
        } else {
            SignedAnnouncement::decode_stored(bytes).map(Self::Announcement)
        }
    }

    /// The key it is stored and reconciled under: the bundle id for an
    /// announcement, the hash of the bytes for a retraction.
    pub fn entry_id(&self) -> BundleId {
        match self {
            Self::Announcement(a) => a.announcement().id,
            Self::Retraction(r) => r.entry_id(),
        }
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Announcement(a) => a.bytes(),
            Self::Retraction(r) => r.bytes(),
        }
    }
}

impl SignedManifest {
    /// Decodes a manifest this node verified before storing it, without
    /// checking the signature again (the rest is checked). Never use it on
    /// bytes from a peer or a file.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        let env = open_envelope(bytes, MAX_MANIFEST_BYTES, "manifest")?;
        let manifest: Manifest = decode_body(&env.body, MAX_MANIFEST_BYTES, "manifest")?;
        manifest.validate()?;
        Ok(Self {
            manifest,
            id: BundleId::of_signed_manifest(bytes),
            bytes: bytes.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(key: &PublisherKey) -> Manifest {
        Manifest {
            v: VERSION,
            seq: 1,
            name: "guide".into(),
            tags: vec!["organizing".into(), "training".into()],
            files: vec![
                FileEntry {
                    hash: ContentHash::of(b"a"),
                    path: "a.txt".into(),
                    size: 1,
                },
                FileEntry {
                    hash: ContentHash::of(b""),
                    path: "docs/b.txt".into(),
                    size: 0,
                },
            ],
            texts: vec![
                LangText {
                    lang: "en".into(),
                    title: "Guide".into(),
                    description: "How to".into(),
                },
                LangText {
                    lang: "es".into(),
                    title: "Guía".into(),
                    description: String::new(),
                },
            ],
            created: 1_700_000_000,
            licence: "CC-BY-4.0".into(),
            publisher: key.id(),
        }
    }

    #[test]
    fn a_signed_manifest_round_trips_and_its_id_is_its_hash() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        cbor::check_canonical(signed.bytes(), MAX_MANIFEST_BYTES, "m").unwrap();
        let decoded = SignedManifest::decode(signed.bytes()).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.id(), BundleId::of_signed_manifest(signed.bytes()));
    }

    #[test]
    fn a_tampered_manifest_fails_its_signature() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        let mut bytes = signed.bytes().to_vec();
        // Flip a byte of the title "Guide" inside the body.
        let pos = bytes.windows(5).position(|w| w == b"Guide").unwrap();
        bytes[pos] = b'X';
        assert!(matches!(
            SignedManifest::decode(&bytes),
            Err(DecodeError::Signature(_))
        ));
    }

    #[test]
    fn every_truncation_of_a_manifest_is_rejected() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        for n in 0..signed.bytes().len() {
            assert!(
                SignedManifest::decode(&signed.bytes()[..n]).is_err(),
                "prefix {n}"
            );
        }
        let mut long = signed.bytes().to_vec();
        long.push(0);
        assert!(matches!(
            SignedManifest::decode(&long),
            Err(DecodeError::Cbor(CborError::TrailingBytes { .. }))
        ));
    }

    #[test]
    fn an_unknown_version_is_named() {
        let key = PublisherKey::from_seed([3; 32]);
        let mut m = sample(&key);
        m.v = 2;
        let body = cbor::encode(&m);
        let sig = key.sign(MANIFEST_DOMAIN, &body).to_vec();
        let bytes = cbor::encode(&Envelope { sig, body });
        assert_eq!(
            SignedManifest::decode(&bytes),
            Err(DecodeError::UnknownVersion {
                what: "manifest",
                version: 2
            })
        );
    }

    #[test]
    fn bad_paths_are_refused_at_signing_and_at_decoding() {
        let key = PublisherKey::from_seed([3; 32]);
        for bad in ["../escape", "/abs", "", "a.txt"] {
            let mut m = sample(&key);
            m.files[1].path = bad.into();
            m.canonicalize();
            assert!(SignedManifest::sign(m.clone(), &key).is_err(), "{bad:?}");
            // A peer that skips the checks and signs anyway is caught on decode.
            let body = cbor::encode(&m);
            let sig = key.sign(MANIFEST_DOMAIN, &body).to_vec();
            let bytes = cbor::encode(&Envelope { sig, body });
            assert!(
                matches!(SignedManifest::decode(&bytes), Err(DecodeError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unsorted_lists_are_not_canonical() {
        let key = PublisherKey::from_seed([3; 32]);
        let mut m = sample(&key);
        m.tags.reverse();
        assert!(SignedManifest::sign(m, &key).is_err());
    }

    #[test]
    fn a_non_canonical_encoding_of_a_valid_manifest_is_rejected() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        // Re-encode the envelope's "sig" length with a 2-byte length header.
        let mut bytes = signed.bytes().to_vec();
        let pos = bytes.windows(2).position(|w| w == [0x58, 64]).unwrap();
        bytes.splice(pos..pos + 2, [0x59, 0, 64]);
        assert!(matches!(
            SignedManifest::decode(&bytes),
            Err(DecodeError::Cbor(CborError::NotCanonical { .. }))
        ));
    }

    #[test]
    fn a_signed_announcement_round_trips_and_matches_its_manifest() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        let ann = SignedAnnouncement::sign(&signed, &key).unwrap();
        assert!(ann.bytes().len() < 1024);
        let decoded = SignedAnnouncement::decode(ann.bytes()).unwrap();
        assert!(decoded.announcement().matches(&signed));
        assert_eq!(decoded.announcement().title_for(Some("es")), "Guía");
        let forged = SignedAnnouncement::forge(ann.announcement(), [9; 64]);
        assert!(matches!(
            SignedAnnouncement::decode(&forged),
            Err(DecodeError::Signature(_))
        ));
    }

    #[test]
    fn only_the_publisher_can_sign() {
        let key = PublisherKey::from_seed([3; 32]);
        let other = PublisherKey::from_seed([4; 32]);
        assert!(matches!(
            SignedManifest::sign(sample(&key), &other),
            Err(ValidationError::WrongKey { .. })
        ));
    }

    #[test]
    fn language_tags_are_normalized() {
        assert_eq!(normalize_lang("pt-br").as_deref(), Some("pt-BR"));
        assert_eq!(normalize_lang("SR_latn").as_deref(), Some("sr-Latn"));
        assert_eq!(normalize_lang("es-419").as_deref(), Some("es-419"));
        assert_eq!(normalize_lang("e"), None);
        assert_eq!(normalize_lang("en--us"), None);
        assert_eq!(normalize_tag("  Rights "), Some("rights".into()));
        assert_eq!(normalize_tag("two words"), None);
    }

    #[test]
    fn a_retraction_round_trips_and_is_told_apart_from_an_announcement() {
        let key = PublisherKey::from_seed([3; 32]);
        let signed = SignedManifest::sign(sample(&key), &key).unwrap();
        let ann = SignedAnnouncement::sign(&signed, &key).unwrap();
        let r = SignedRetraction::sign(
            Retraction {
                v: VERSION,
                created: 5,
                retracts: signed.id(),
                publisher: key.id(),
            },
            &key,
        )
        .unwrap();
        assert!(r.bytes().len() < 200);
        match CatalogEntry::decode(r.bytes()).unwrap() {
            CatalogEntry::Retraction(d) => {
                assert_eq!(d.retraction().retracts, signed.id());
                assert_eq!(d.entry_id(), retraction_entry_id(r.bytes()));
            }
            other => panic!("{other:?}"),
        }
        let a = CatalogEntry::decode(ann.bytes()).unwrap();
        assert_eq!(a.entry_id(), signed.id());
        assert_eq!(
            CatalogEntry::decode_stored(r.bytes()).unwrap().entry_id(),
            r.entry_id()
        );
        // Another key cannot sign for this publisher, and a forged
        // signature fails.
        let other = PublisherKey::from_seed([4; 32]);
        assert!(SignedRetraction::sign(r.retraction().clone(), &other).is_err());
        let body = cbor::encode(r.retraction());
        let sig = other.sign(RETRACTION_DOMAIN, &body).to_vec();
        let forged = cbor::encode(&Envelope { sig, body });
        assert!(matches!(
            CatalogEntry::decode(&forged),
            Err(DecodeError::Signature(_))
        ));
        // An announcement's signature does not make a retraction.
        let body = cbor::encode(r.retraction());
        let sig = key.sign(ANNOUNCEMENT_DOMAIN, &body).to_vec();
        let cross = cbor::encode(&Envelope { sig, body });
        assert!(CatalogEntry::decode(&cross).is_err());
    }
}
