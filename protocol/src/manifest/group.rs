//! The signed entries of private groups (`docs/protocol.md`, section 6.6):
//! [`GroupRecord`] (a membership change, signed by an admin),
//! [`KeyBox`] (an epoch's secret sealed to one member device, signed by an
//! admin) and [`PrivateAnnouncement`] (an encrypted bundle's announcement,
//! signed by the group's epoch key). All three travel like announcements
//! (gossip and catalog catch-up), under the BLAKE3 hash of their bytes.
//!
//! Every node checks what it can without the group's keys: signatures,
//! that an admin signed each change, the chain of records and the epoch
//! keys. Members also open the sealed parts (`crate::group`).

use serde::{Deserialize, Serialize};

use crate::id::{BundleId, ContentHash, GroupId, PublisherId};
use crate::keys::{PublisherKey, GROUP_RECORD_DOMAIN, KEY_BOX_DOMAIN, PRIVATE_DOMAIN};
use crate::limits::MAX_ANNOUNCEMENT_BYTES;

use super::envelope::{Sealed, Signable};
use super::error::{field, DecodeError, ValidationError};
use super::VERSION;

/// Domain of a group id.
pub const GROUP_ID_DOMAIN: &[u8] = b"weft/v1/group\0";

/// A group's id: `BLAKE3("weft/v1/group\0" || founder || nonce)`, where the
/// founder is the publisher that signs the group's first record and the
/// nonce is 32 random bytes of it.
pub fn group_id(founder: &PublisherId, nonce: &[u8; 32]) -> GroupId {
    let mut h = blake3::Hasher::new();
    h.update(GROUP_ID_DOMAIN);
    h.update(founder.as_bytes());
    h.update(nonce);
    GroupId::from_bytes(*h.finalize().as_bytes())
}

/// Most admins of a group.
pub const MAX_ADMINS: usize = 16;
/// Size of a record's sealed change, before the nonce and tag.
pub const CHANGE_PAD: usize = 2304;
/// Size of a private announcement's sealed metadata, before the nonce and
/// tag: the inner announcement and its 4-byte length.
pub const PRIVATE_META_PAD: usize = 3200;
/// Longest inner (signed, public-format) announcement of a private bundle.
pub const MAX_PRIVATE_INNER_BYTES: usize = PRIVATE_META_PAD - 4;
/// Nonce and tag around sealed metadata.
const META_OVERHEAD: usize = 24 + 16;
/// Longest key box (HPKE's 32-byte encapsulated key, the sealed contents
/// and their tag).
pub const MAX_BOX_BYTES: usize = 3200;

/// What a group record changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// Starts the group: its founder is its first admin and member.
    Create,
    /// Adds a member (and perhaps makes it an admin), in the same epoch.
    Add,
    /// Removes a member and starts a new epoch, whose secret the removed
    /// member never receives.
    Remove,
    /// Starts a new epoch with the same members and admins, whose secret
    /// only their devices in good standing receive: what an admin does
    /// when a member's device is revoked (a seized laptop keeps the old
    /// epoch's secret, never the new one).
    Rekey,
}

/// One change of a group, signed by an admin. Fields in canonical CBOR
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRecord {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// Position in the group's chain: 0 for `create`, then one more than
    /// `prev`'s.
    pub seq: u64,
    /// What it changes.
    pub kind: GroupKind,
    /// BLAKE3 of the previous record's bytes (all but `create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<ContentHash>,
    /// The admin who signs it (a publisher: a single key, or an identity
    /// whose device signs with `by`).
    pub admin: PublisherId,
    /// The epoch in force after it: 0 at `create`, one more at each
    /// `remove`.
    pub epoch: u64,
    /// The group.
    pub group: GroupId,
    /// `create` only: 32 random bytes, from which with the founder the
    /// group id is derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<ContentHash>,
    /// The admins after it: sorted, no duplicates, 1 to [`MAX_ADMINS`].
    pub admins: Vec<PublisherId>,
    /// The change itself (who, and the group's name at `create`), sealed
    /// under the metadata key of `epoch` ([`GroupChange`]).
    #[serde(with = "serde_bytes")]
    pub change: Vec<u8>,
    /// When it was made, Unix seconds.
    pub created: u64,
    /// The public key of `epoch`, which signs the group's private
    /// announcements of that epoch.
    pub epoch_key: PublisherId,
}

/// The sealed part of a group record: the group as it is after the
/// record, so that a member who cannot open earlier records (added without
/// history) still knows it. Fields in canonical CBOR order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupChange {
    /// The group's name, 1 to 64 bytes, not blank.
    pub name: String,
    /// `add` and `remove`: the member added or removed (a publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<PublisherId>,
    /// `add` only: 1 if the new member receives the earlier epochs'
    /// secrets too, else 0 (canonical CBOR has no booleans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<u64>,
    /// Every member after the record, admins included: sorted, no
    /// duplicates, 1 to [`MAX_MEMBERS`].
    pub members: Vec<PublisherId>,
}

/// Most members of a group.
pub const MAX_MEMBERS: usize = 64;

impl GroupChange {
    /// Checks it fits `record` (which a member opened it from).
    pub fn validate(&self, record: &GroupRecord) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() || self.name.len() > 64 {
            return Err(field(
                "change",
                "the group's name is 1 to 64 bytes, not blank",
            ));
        }
        if self.members.is_empty() || self.members.len() > MAX_MEMBERS {
            return Err(field(
                "change",
                format!("a group has 1 to {MAX_MEMBERS} members"),
            ));
        }
        check_sorted_ids("members", &self.members)?;
        if record.admins.iter().any(|a| !self.members.contains(a)) {
            return Err(field("change", "every admin is a member"));
        }
        let ok = match record.kind {
            GroupKind::Create => {
                self.member.is_none() && self.history.is_none() && self.members == [record.admin]
            }
            GroupKind::Add => {
                matches!(self.history, Some(0 | 1))
                    && self.member.is_some_and(|m| self.members.contains(&m))
            }
            GroupKind::Remove => {
                self.history.is_none() && self.member.is_some_and(|m| !self.members.contains(&m))
            }
            GroupKind::Rekey => self.member.is_none() && self.history.is_none(),
        };
        if ok {
            Ok(())
        } else {
            Err(field(
                "change",
                format!(
                    "does not fit a {:?} record (create lists its founder alone; add names a member now listed; remove names one no longer listed; rekey names none)",
                    record.kind
                ),
            ))
        }
    }
}

/// The associated data a record's change is sealed with:
/// `"weft/v1/group change\0" || group || seq || epoch` (8 bytes each,
/// big-endian).
pub fn change_aad(group: &GroupId, seq: u64, epoch: u64) -> Vec<u8> {
    let mut aad = b"weft/v1/group change\0".to_vec();
    aad.extend_from_slice(group.as_bytes());
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad
}

fn check_sorted_ids(name: &'static str, ids: &[PublisherId]) -> Result<(), ValidationError> {
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(field(name, "must be sorted, with no duplicates"));
    }
    Ok(())
}

impl GroupRecord {
    /// The rules a record keeps on its own; how it fits its group's chain
    /// is [`crate::group::GroupState`]'s check.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        let create = self.kind == GroupKind::Create;
        if create != (self.seq == 0) {
            return Err(field("seq", "is 0 exactly for the create record"));
        }
        if create != self.prev.is_none() || create != self.nonce.is_some() {
            return Err(field(
                "prev",
                "create has a nonce and no prev; every other record has a prev and no nonce",
            ));
        }
        if create {
            let nonce = self.nonce.expect("checked");
            if group_id(&self.admin, nonce.as_bytes()) != self.group {
                return Err(field("group", "is not the id of its founder and nonce"));
            }
            if self.epoch != 0 || self.admins != [self.admin] {
                return Err(field(
                    "admins",
                    "a new group is in epoch 0 with its founder as its one admin",
                ));
            }
        }
        if self.admins.is_empty() || self.admins.len() > MAX_ADMINS {
            return Err(field("admins", format!("1 to {MAX_ADMINS}")));
        }
        check_sorted_ids("admins", &self.admins)?;
        if self.change.len() != CHANGE_PAD + META_OVERHEAD {
            return Err(field(
                "change",
                format!(
                    "is {} bytes, not {}",
                    self.change.len(),
                    CHANGE_PAD + META_OVERHEAD
                ),
            ));
        }
        Ok(())
    }

    /// The associated data of its sealed change.
    pub fn change_aad(&self) -> Vec<u8> {
        change_aad(&self.group, self.seq, self.epoch)
    }
}

impl Signable for GroupRecord {
    const DOMAIN: &'static [u8] = GROUP_RECORD_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "group record";
    fn signer(&self) -> PublisherId {
        self.admin
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// An epoch's secret (and perhaps earlier ones) sealed to one device of a
/// member, for the record `record`, signed by an admin. Fields in
/// canonical CBOR order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBox {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// The sealed box (`crate::group::seal_box`), at most
    /// [`MAX_BOX_BYTES`]. Who it is for is not said: each device tries to
    /// open it.
    #[serde(rename = "box", with = "serde_bytes")]
    pub sealed: Vec<u8>,
    /// The admin who signs it.
    pub admin: PublisherId,
    /// The group.
    pub group: GroupId,
    /// BLAKE3 of the group record it serves: the box holds the secret of
    /// that record's epoch.
    pub record: ContentHash,
    /// When it was made, Unix seconds.
    pub created: u64,
}

/// The HPKE `info` a box for `record` of `group` is sealed with:
/// `"weft/v1/group key box\0" || group || record`.
pub fn box_info(group: &GroupId, record: &ContentHash) -> Vec<u8> {
    let mut info = b"weft/v1/group key box\0".to_vec();
    info.extend_from_slice(group.as_bytes());
    info.extend_from_slice(record.as_bytes());
    info
}

impl KeyBox {
    /// The rules a box keeps on its own.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.sealed.len() <= 48 || self.sealed.len() > MAX_BOX_BYTES {
            return Err(field("box", format!("49 to {MAX_BOX_BYTES} bytes")));
        }
        Ok(())
    }

    /// Its HPKE `info`.
    pub fn info(&self) -> Vec<u8> {
        box_info(&self.group, &self.record)
    }
}

impl Signable for KeyBox {
    const DOMAIN: &'static [u8] = KEY_BOX_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "key box";
    fn signer(&self) -> PublisherId {
        self.admin
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

/// A private bundle's announcement, signed by its group's epoch key: all
/// that outsiders see of it is the group, the epoch, the bundle id, the
/// padded size and the time. Fields in canonical CBOR order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateAnnouncement {
    /// Protocol version, always [`VERSION`].
    pub v: u64,
    /// The outer bundle: a public-format bundle of one sealed file, signed
    /// by the epoch key (section 6.6).
    pub id: BundleId,
    /// The epoch key, which signs this and the outer manifest.
    pub key: PublisherId,
    /// The inner, public-format announcement signed by the real publisher,
    /// sealed under the epoch's metadata key, padded to
    /// [`PRIVATE_META_PAD`].
    #[serde(with = "serde_bytes")]
    pub meta: Vec<u8>,
    /// The sealed file's size: what the bundle costs to fetch.
    pub size: u64,
    /// The epoch whose key signs it.
    pub epoch: u64,
    /// The group.
    pub group: GroupId,
    /// When it was made, Unix seconds.
    pub created: u64,
}

/// The associated data of a private announcement's metadata:
/// `"weft/v1/private meta\0" || group || epoch (8 bytes, big-endian) || id`.
pub fn private_meta_aad(group: &GroupId, epoch: u64, id: &BundleId) -> Vec<u8> {
    let mut aad = b"weft/v1/private meta\0".to_vec();
    aad.extend_from_slice(group.as_bytes());
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad.extend_from_slice(id.as_bytes());
    aad
}

impl PrivateAnnouncement {
    /// The rules it keeps on its own.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.v != VERSION {
            return Err(field("v", format!("must be {VERSION}")));
        }
        if self.meta.len() != PRIVATE_META_PAD + META_OVERHEAD {
            return Err(field(
                "meta",
                format!(
                    "is {} bytes, not {}",
                    self.meta.len(),
                    PRIVATE_META_PAD + META_OVERHEAD
                ),
            ));
        }
        if self.size == 0 || self.size > crate::limits::MAX_FILE_SIZE {
            return Err(field(
                "size",
                "a sealed file of 1 byte to the largest file size",
            ));
        }
        Ok(())
    }

    /// The associated data of its metadata.
    pub fn meta_aad(&self) -> Vec<u8> {
        private_meta_aad(&self.group, self.epoch, &self.id)
    }
}

impl Signable for PrivateAnnouncement {
    const DOMAIN: &'static [u8] = PRIVATE_DOMAIN;
    const LIMIT: usize = MAX_ANNOUNCEMENT_BYTES;
    const WHAT: &'static str = "private announcement";
    fn signer(&self) -> PublisherId {
        self.key
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
}

macro_rules! signed_entry {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $what:literal, $get:ident, direct: $direct:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            sealed: Sealed<$inner>,
        }

        impl $name {
            /// Validates and signs it (a device of the signer's identity
            /// signs with `by`).
            pub fn sign(value: $inner, key: &PublisherKey) -> Result<Self, ValidationError> {
                if $direct && key.id() != value.signer() {
                    return Err(field("key", concat!("a ", $what, " is signed by the key it names")));
                }
                Ok(Self {
                    sealed: Sealed::sign(value, key)?,
                })
            }

            /// Decodes and verifies it from anywhere.
            pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
                Self::checked(Sealed::decode(bytes, $what)?)
            }

            /// Decodes one this node verified before it stored it.
            pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
                Self::checked(Sealed::decode_stored(bytes, $what)?)
            }

            fn checked(sealed: Sealed<$inner>) -> Result<Self, DecodeError> {
                if $direct && sealed.by != sealed.value.signer() {
                    return Err(field(
                        "key",
                        concat!("a ", $what, " is signed by the key it names, never with `by`"),
                    )
                    .into());
                }
                Ok(Self { sealed })
            }

            /// The exact signed bytes.
            pub fn bytes(&self) -> &[u8] {
                &self.sealed.bytes
            }

            /// What it says.
            pub fn $get(&self) -> &$inner {
                &self.sealed.value
            }

            /// The key that signed it.
            pub fn signed_by(&self) -> PublisherId {
                self.sealed.by
            }

            /// BLAKE3 of its bytes: what names it (`prev`, `record`).
            pub fn hash(&self) -> ContentHash {
                ContentHash::of(&self.sealed.bytes)
            }

            /// Its catalog entry key: the same hash.
            pub fn entry_id(&self) -> BundleId {
                BundleId::from_bytes(*self.hash().as_bytes())
            }
        }
    };
}

signed_entry!(
    /// A group record with its signature and exact bytes.
    SignedGroupRecord,
    GroupRecord,
    "group record",
    record,
    direct: false
);
signed_entry!(
    /// A key box with its signature and exact bytes.
    SignedKeyBox,
    KeyBox,
    "key box",
    key_box,
    direct: false
);
signed_entry!(
    /// A private announcement with its signature and exact bytes. The
    /// epoch key signs it directly (never with `by`).
    SignedPrivate,
    PrivateAnnouncement,
    "private announcement",
    private,
    direct: true
);
