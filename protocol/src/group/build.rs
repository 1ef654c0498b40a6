//! Making a group's entries: records, key boxes and private announcements,
//! with their sealed parts, for the admin's and the publisher's nodes.

use rand_core::{CryptoRng, RngCore};

use crate::cbor;
use crate::id::{BundleId, ContentHash, GroupId, PublisherId};
use crate::keys::PublisherKey;
use crate::manifest::VERSION;
use crate::manifest::{
    box_info, change_aad, GroupChange, GroupKind, GroupRecord, KeyBox, PrivateAnnouncement,
    SignedAnnouncement, SignedGroupRecord, SignedKeyBox, SignedPrivate, ValidationError,
    CHANGE_PAD, MAX_PRIVATE_INNER_BYTES, PRIVATE_META_PAD,
};

use super::{
    group_id, open_meta, seal_box, seal_meta, BoxContents, EpochSecret, GroupError, GroupState,
};

/// Why a group entry could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A rule of the entry.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Sealing.
    #[error(transparent)]
    Seal(#[from] GroupError),
}

/// Who signs a group entry: `key` signs for publisher `admin` (itself, or
/// the identity it is a device of).
pub struct Admin<'a> {
    /// The signing key.
    pub key: &'a PublisherKey,
    /// The publisher it signs for.
    pub admin: PublisherId,
}

fn sealed_change(
    secret: &EpochSecret,
    group: &GroupId,
    seq: u64,
    epoch: u64,
    change: &GroupChange,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, GroupError> {
    seal_meta(
        secret,
        &change_aad(group, seq, epoch),
        &cbor::encode(change),
        CHANGE_PAD,
        rng,
    )
}

/// A new group named `name`: its `create` record and epoch 0's secret.
pub fn create(
    by: &Admin,
    name: &str,
    created: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(SignedGroupRecord, EpochSecret), BuildError> {
    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let group = group_id(&by.admin, &nonce);
    let secret = EpochSecret::generate(rng);
    let change = GroupChange {
        name: name.to_string(),
        member: None,
        history: None,
        members: vec![by.admin],
    };
    let record = GroupRecord {
        v: VERSION,
        seq: 0,
        kind: GroupKind::Create,
        prev: None,
        admin: by.admin,
        epoch: 0,
        group,
        nonce: Some(ContentHash::from_bytes(nonce)),
        admins: vec![by.admin],
        change: sealed_change(&secret, &group, 0, 0, &change, rng)?,
        created,
        epoch_key: secret.epoch_key(),
    };
    record.validate()?;
    Ok((SignedGroupRecord::sign(record, by.key)?, secret))
}

/// What a change does and what the group is after it.
pub struct Change {
    /// Add, remove or rekey.
    pub kind: GroupKind,
    /// Who is added or removed; `None` for a rekey.
    pub member: Option<PublisherId>,
    /// `Add`: whether the member receives the earlier epochs' secrets.
    pub history: bool,
    /// The group's name.
    pub name: String,
    /// Every member after it.
    pub members: Vec<PublisherId>,
    /// The admins after it.
    pub admins: Vec<PublisherId>,
}

/// The next record on `state`'s chain: adds a member (under the current
/// epoch's `secret`), or removes one or rekeys the group (under `secret`,
/// the new epoch's).
pub fn change(
    by: &Admin,
    state: &GroupState,
    what: Change,
    secret: &EpochSecret,
    created: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SignedGroupRecord, BuildError> {
    let kind = what.kind;
    let seq = state.chain.len() as u64;
    let epoch = match kind {
        GroupKind::Remove | GroupKind::Rekey => state.epoch() + 1,
        GroupKind::Create | GroupKind::Add => state.epoch(),
    };
    let mut members = what.members;
    members.sort();
    members.dedup();
    let mut admins = what.admins;
    admins.sort();
    admins.dedup();
    let change = GroupChange {
        name: what.name,
        member: what.member,
        history: (kind == GroupKind::Add).then_some(u64::from(what.history)),
        members,
    };
    let record = GroupRecord {
        v: VERSION,
        seq,
        kind,
        prev: Some(state.head().hash),
        admin: by.admin,
        epoch,
        group: state.group,
        nonce: None,
        admins,
        change: sealed_change(secret, &state.group, seq, epoch, &change, rng)?,
        created,
        epoch_key: secret.epoch_key(),
    };
    record.validate()?;
    change.validate(&record)?;
    Ok(SignedGroupRecord::sign(record, by.key)?)
}

/// Opens a record's change with its epoch's secret.
pub fn open_change(record: &GroupRecord, secret: &EpochSecret) -> Result<GroupChange, GroupError> {
    let plain = open_meta(secret, &record.change_aad(), &record.change)?;
    let change: GroupChange = cbor::decode(&plain, CHANGE_PAD, "group change")
        .map_err(|e| GroupError::Shape(format!("a group change: {e}")))?;
    change
        .validate(record)
        .map_err(|e| GroupError::Shape(e.to_string()))?;
    Ok(change)
}

/// One key box per device in `devices`, for `record`, each holding
/// `contents`.
pub fn boxes(
    by: &Admin,
    group: &GroupId,
    record: &ContentHash,
    devices: &[PublisherId],
    contents: &BoxContents,
    created: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<SignedKeyBox>, BuildError> {
    let info = box_info(group, record);
    devices
        .iter()
        .map(|d| {
            let b = KeyBox {
                v: VERSION,
                sealed: seal_box(d, &info, contents, rng)?,
                admin: by.admin,
                group: *group,
                record: *record,
                created,
            };
            Ok(SignedKeyBox::sign(b, by.key)?)
        })
        .collect()
}

/// A private announcement of the outer bundle `id` (a sealed file of
/// `size` bytes), carrying `inner` (the real publisher's signed
/// announcement of the inner bundle), signed by the epoch key.
#[allow(clippy::too_many_arguments)]
pub fn announce(
    secret: &EpochSecret,
    group: &GroupId,
    epoch: u64,
    id: BundleId,
    size: u64,
    inner: &SignedAnnouncement,
    created: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SignedPrivate, BuildError> {
    if inner.bytes().len() > MAX_PRIVATE_INNER_BYTES {
        return Err(ValidationError::TooLarge {
            what: "private bundle's announcement",
            limit: MAX_PRIVATE_INNER_BYTES,
            found: inner.bytes().len(),
        }
        .into());
    }
    let aad = crate::manifest::private_meta_aad(group, epoch, &id);
    let p = PrivateAnnouncement {
        v: VERSION,
        id,
        key: secret.epoch_key(),
        meta: seal_meta(secret, &aad, inner.bytes(), PRIVATE_META_PAD, rng)?,
        size,
        epoch,
        group: *group,
        created,
    };
    Ok(SignedPrivate::sign(p, &secret.signing_key())?)
}

/// Opens a private announcement's inner announcement with its epoch's
/// secret, and verifies the inner signature.
pub fn open_announcement(
    p: &PrivateAnnouncement,
    secret: &EpochSecret,
) -> Result<SignedAnnouncement, GroupError> {
    let plain = open_meta(secret, &p.meta_aad(), &p.meta)?;
    SignedAnnouncement::decode(&plain)
        .map_err(|e| GroupError::Shape(format!("the announcement inside: {e}")))
}

/// The unpadded plaintext length of a sealed file holding an inner
/// manifest of `manifest` bytes and files of `files` bytes in all.
pub fn plain_len(manifest: usize, files: u64) -> u64 {
    4 + manifest as u64 + files
}

/// The name, path and title of every outer bundle.
pub const OUTER_NAME: &str = "sealed";

/// The outer manifest of a sealed file (hash `hash`, `size` bytes), signed
/// by the epoch key: the same for every private bundle but for these.
pub fn outer_manifest(
    secret: &EpochSecret,
    hash: ContentHash,
    size: u64,
    created: u64,
) -> Result<crate::manifest::SignedManifest, ValidationError> {
    let key = secret.signing_key();
    let m = crate::manifest::Manifest {
        v: VERSION,
        seq: 1,
        name: OUTER_NAME.into(),
        tags: Vec::new(),
        files: vec![crate::manifest::FileEntry {
            hash,
            path: OUTER_NAME.into(),
            size,
        }],
        texts: vec![crate::manifest::LangText {
            lang: "und".into(),
            title: OUTER_NAME.into(),
            description: String::new(),
        }],
        created,
        licence: String::new(),
        publisher: key.id(),
    };
    crate::manifest::SignedManifest::sign(m, &key)
}

/// Seals an inner manifest and its files in memory (tests, vectors,
/// small bundles): the whole sealed file.
pub fn seal_in_memory(
    secret: &EpochSecret,
    group: GroupId,
    epoch: u64,
    inner: &[u8],
    files: &[&[u8]],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, GroupError> {
    let total: u64 = files.iter().map(|f| f.len() as u64).sum();
    let padded = super::padme(plain_len(inner.len(), total));
    let (mut sealer, header) = super::Sealer::new(secret, group, epoch, padded, rng);
    let mut out = header.to_vec();
    sealer.write(&(inner.len() as u32).to_be_bytes(), &mut out)?;
    sealer.write(inner, &mut out)?;
    for f in files {
        sealer.write(f, &mut out)?;
    }
    sealer.finish(&mut out)?;
    Ok(out)
}
