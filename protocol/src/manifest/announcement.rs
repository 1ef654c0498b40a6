//! Announcements: [`Announcement`], the small signed message that tells the
//! network a bundle exists, and [`SignedAnnouncement`].

use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::id::{BundleId, PublisherId};
use crate::keys::{PublisherKey, ANNOUNCEMENT_DOMAIN};
use crate::limits::{MAX_ANNOUNCEMENT_BYTES, MAX_FILES, MAX_FILE_SIZE, MAX_LANGS, MAX_TITLE_BYTES};

use super::envelope::{Envelope, Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::signed::SignedManifest;
use super::text::{check_sorted, check_text, normalize_lang, validate_name, validate_tags};
use super::VERSION;

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
        // At most what a manifest can list: MAX_FILES files of
        // MAX_FILE_SIZE bytes.
        if self.size > MAX_FILES as u64 * MAX_FILE_SIZE {
            return Err(field(
                "size",
                format!("at most {MAX_FILES} files of {MAX_FILE_SIZE} bytes"),
            ));
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

    /// Its entry key in catalogs: [`claim_key`] of its bundle and publisher.
    pub fn claim_key(&self) -> BundleId {
        claim_key(&self.id, &self.publisher)
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

/// The entry key of `publisher`'s announcement of bundle `id`: the
/// BLAKE3 hash of `weft/v1/claim\0`, the 32 id bytes and the 32 publisher
/// bytes. Catalogs store and reconcile announcements under it, so that
/// the claims of two publishers on one bundle id are two entries (one of
/// them false, until a fetched manifest settles which), and one publisher
/// has at most one announcement per bundle.
pub fn claim_key(id: &BundleId, publisher: &PublisherId) -> BundleId {
    let mut h = blake3::Hasher::new();
    h.update(CLAIM_DOMAIN);
    h.update(id.as_bytes());
    h.update(publisher.as_bytes());
    BundleId::from_bytes(*h.finalize().as_bytes())
}

/// Domain of [`claim_key`].
pub const CLAIM_DOMAIN: &[u8] = b"weft/v1/claim\0";

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

/// An announcement with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAnnouncement {
    sealed: Sealed<Announcement>,
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
            sealed: Sealed::sign(ann, key)?,
        })
    }

    /// Decodes and verifies an announcement from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode(bytes, "announcement")?,
        })
    }

    /// Decodes an announcement that this node verified with
    /// [`Self::decode`] before it stored it: every rule is checked again
    /// except the signature, which costs more than the rest together. Never
    /// use it on bytes from a peer.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode_stored(bytes, "announcement")?,
        })
    }

    /// Re-wraps an announcement body with an arbitrary signature, without
    /// checking anything. Exists so tests can build forgeries.
    pub fn forge(ann: &Announcement, sig: [u8; 64]) -> Vec<u8> {
        cbor::encode(&Envelope {
            by: None,
            sig: sig.to_vec(),
            body: cbor::encode(ann),
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The announcement inside.
    pub fn announcement(&self) -> &Announcement {
        &self.sealed.value
    }

    /// The key that signed: the publisher, or a device signing for it.
    pub fn signed_by(&self) -> PublisherId {
        self.sealed.by
    }
}
