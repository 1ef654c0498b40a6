//! Bundle manifests and announcements, signed.
//!
//! Both travel in the same envelope, `{"sig": bstr(64), "body": bstr}`: the
//! body is the canonical CBOR of a [`Manifest`] or an [`Announcement`] and the
//! signature covers a domain prefix plus the body bytes (see [`crate::keys`]).
//! The [`BundleId`](crate::id::BundleId) is the blake3 hash of the whole
//! signed-manifest envelope.
//!
//! Struct fields are declared in canonical key order (shorter keys first,
//! then bytewise) so that serde_cbor writes canonical maps; lists are kept
//! sorted and free of duplicates, and [`Manifest::validate`] insists on it.

mod announcement;
mod bundle;
mod envelope;
mod error;
mod group;
mod keylog;
mod profile;
mod retraction;
mod signed;
#[cfg(test)]
mod tests;
mod text;
mod vouch;

pub use announcement::{claim_key, Announcement, LangTitle, SignedAnnouncement, CLAIM_DOMAIN};
pub use bundle::{FileEntry, Manifest};
pub use error::{DecodeError, ValidationError};
pub use group::{
    box_info, change_aad, group_id, private_meta_aad, GroupChange, GroupKind, GroupRecord, KeyBox,
    PrivateAnnouncement, SignedGroupRecord, SignedKeyBox, SignedPrivate, CHANGE_PAD,
    GROUP_ID_DOMAIN, MAX_ADMINS, MAX_BOX_BYTES, MAX_MEMBERS, MAX_PRIVATE_INNER_BYTES,
    PRIVATE_META_PAD,
};
pub use keylog::{
    check_device_name, identity_id, next_commitment, KeyEvent, KeyKind, SignedKeyEvent,
    IDENTITY_DOMAIN, MAX_DEVICE_NAME_BYTES, MAX_KEEP_PER_EVENT, NEXT_DOMAIN,
};
pub use profile::{
    Profile, ProfileText, SignedProfile, MAX_ABOUT_BYTES, MAX_LINKS, MAX_LINK_BYTES,
    MAX_PROFILE_LANGS,
};
pub use retraction::{retraction_entry_id, CatalogEntry, Retraction, SignedRetraction};
pub use signed::SignedManifest;
pub use text::{normalize_lang, normalize_tag, validate_name, LangText};
pub use vouch::{SignedVouch, Vouch, MAX_VOUCH_NOTE_BYTES, MAX_VOUCH_SECS};

/// The protocol version this crate speaks.
pub const VERSION: u64 = 1;
