//! Profiles ([`Profile`], [`SignedProfile`]): what a publisher says about
//! itself, a display name and a short description per language, links and
//! a contact hint (`docs/protocol.md`, section 6.5). A display name is the
//! publisher's own claim: anyone can claim any name, which is why nodes
//! show it marked as such, flag two keys claiming one name, and prefer the
//! reader's own petname.
//!
//! Profiles travel like announcements (gossip and catalog catch-up), under
//! their own entry key, the BLAKE3 hash of their bytes; for one publisher
//! the profile with the highest `seq` counts and replaces the others.

use serde::{Deserialize, Serialize};

use crate::id::{BundleId, ContentHash, PublisherId};
use crate::keys::{PublisherKey, PROFILE_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;
use crate::words::check_display_name;

use super::envelope::{Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::text::{check_sorted, check_text, normalize_lang};
use super::VERSION;

/// Most languages in a profile.
pub const MAX_PROFILE_LANGS: usize = 8;
/// Longest description in a profile, in bytes.
pub const MAX_ABOUT_BYTES: usize = 512;
/// Most links in a profile.
pub const MAX_LINKS: usize = 4;
/// Longest link, and longest contact hint, in bytes.
pub const MAX_LINK_BYTES: usize = 256;

/// A display name and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileText {
    /// BCP 47 language tag, in its conventional case.
    pub lang: String,
    /// The publisher's name for itself (see
    /// [`crate::words::check_display_name`]).
    pub name: String,
    /// A short description; may be empty.
    pub about: String,
}

/// A publisher's signed profile. Fields in canonical CBOR order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// Version of this profile; the highest counts.
    pub seq: u64,
    /// Web, fediverse or other addresses, at most [`MAX_LINKS`], each at
    /// most [`MAX_LINK_BYTES`] with no spaces.
    pub links: Vec<String>,
    /// Names and descriptions, sorted by language tag; at least one.
    pub texts: Vec<ProfileText>,
    /// How to reach the publisher, for people; may be empty.
    pub contact: String,
    /// When it was made, seconds since the Unix epoch.
    pub created: u64,
    /// The publisher it describes (an identity or a single key).
    pub publisher: PublisherId,
}

impl Profile {
    /// Checks the rules of section 6.5.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.seq == 0 {
            return Err(field("seq", "must be at least 1"));
        }
        if self.texts.is_empty() || self.texts.len() > MAX_PROFILE_LANGS {
            return Err(field(
                "texts",
                format!("1 to {MAX_PROFILE_LANGS} languages"),
            ));
        }
        for t in &self.texts {
            if normalize_lang(&t.lang).as_deref() != Some(t.lang.as_str()) {
                return Err(field(
                    "texts",
                    format!("{:?} is not a language tag in its usual case", t.lang),
                ));
            }
            check_display_name(&t.name).map_err(|why| field("name", why))?;
            check_text("about", &t.about, MAX_ABOUT_BYTES, true)?;
        }
        check_sorted(&self.texts, |t| t.lang.as_bytes().to_vec(), "texts")?;
        if self.links.len() > MAX_LINKS {
            return Err(field("links", format!("at most {MAX_LINKS}")));
        }
        for l in &self.links {
            if l.is_empty()
                || l.len() > MAX_LINK_BYTES
                || l.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(field(
                    "links",
                    format!("each 1 to {MAX_LINK_BYTES} bytes with no spaces"),
                ));
            }
        }
        check_text("contact", &self.contact, MAX_LINK_BYTES, true)?;
        Ok(())
    }

    /// The display name for a reader of `lang` (`es` matches `es-MX`),
    /// else the first.
    pub fn name_for(&self, lang: Option<&str>) -> &str {
        lang.and_then(|want| {
            self.texts.iter().find(|t| {
                t.lang.len() >= want.len()
                    && t.lang[..want.len()].eq_ignore_ascii_case(want)
                    && (t.lang.len() == want.len() || t.lang.as_bytes()[want.len()] == b'-')
            })
        })
        .unwrap_or(&self.texts[0])
        .name
        .as_str()
    }
}

impl Signable for Profile {
    const DOMAIN: &'static [u8] = PROFILE_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "profile";
    fn signer(&self) -> PublisherId {
        self.publisher
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// A profile with its signature and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedProfile {
    pub(super) sealed: Sealed<Profile>,
}

impl SignedProfile {
    /// Signs a profile with the publisher's key or one of its devices.
    pub fn sign(profile: Profile, key: &PublisherKey) -> Result<Self, ValidationError> {
        Ok(Self {
            sealed: Sealed::sign(profile, key)?,
        })
    }

    /// Decodes and verifies a profile from anywhere.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode(bytes, "profile")?,
        })
    }

    /// Decodes a profile this node verified before it stored it.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sealed: Sealed::decode_stored(bytes, "profile")?,
        })
    }

    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// The profile inside.
    pub fn profile(&self) -> &Profile {
        &self.sealed.value
    }

    /// The key that signed: the publisher, or a device signing for it.
    pub fn signed_by(&self) -> PublisherId {
        self.sealed.by
    }

    /// Its catalog entry key: the BLAKE3 hash of its bytes.
    pub fn entry_id(&self) -> BundleId {
        BundleId::from_bytes(*ContentHash::of(&self.sealed.bytes).as_bytes())
    }
}
