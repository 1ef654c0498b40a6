//! Private groups (`weft group`): founding one, adding and removing
//! members, and showing them (protocol section 6.6).
//!
//! Every change is a record this node's key signs as an admin, followed by
//! one key box per device in good standing of each member who is to
//! receive a secret; all of them travel like catalog entries. A removal
//! starts a new epoch whose secret the removed member's devices never
//! receive.

use rand::rngs::OsRng;
use weft_protocol::api::{GroupCreateBody, GroupMemberBody, GroupView, GroupsResponse};
use weft_protocol::group::{self, Admin, BoxContents, Change, EpochSecret};
use weft_protocol::manifest::{GroupKind, SignedGroupRecord, MAX_MEMBERS};
use weft_protocol::{CatalogEntry, GroupId, PublisherId};

use crate::catalog::Added;
use crate::clock::now_secs;
use crate::error::NodeError;
use crate::groups::{learn, read_head, view};
use crate::node::{Node, Signer};

/// Devices that receive a member's secrets: its identity's devices in good
/// standing, or the member's own key when it is a single key this node has
/// heard from. An identity whose key log has not arrived has no devices
/// this node could seal to.
fn devices_of(node: &Node, member: &PublisherId) -> Result<Vec<PublisherId>, NodeError> {
    match node.catalog.key_state(member) {
        Some(state) => Ok(state
            .devices
            .iter()
            .filter(|(_, d)| !d.revoked)
            .map(|(k, _)| *k)
            .collect()),
        None if node.catalog.entries_of(member) > 0 || node.publisher_id().ok() == Some(*member) => {
            Ok(vec![*member])
        }
        None => Err(NodeError::Conflict(format!(
            "this node has not heard from {member} yet (neither its identity's key log nor anything it signed), so it cannot seal the group's key to its devices; connect to a node that has, and try again"
        ))),
    }
}

/// Keeps and spreads one of this node's own group entries.
async fn add_own(node: &Node, entry: CatalogEntry) -> Result<(), NodeError> {
    let bytes = entry.bytes().to_vec();
    let catalog = node.catalog.clone();
    match node.blocking(move |s| catalog.add_entry(s, &entry)).await? {
        Added::New | Added::Known => {}
        other => {
            return Err(NodeError::Internal(format!(
                "this node's catalog did not keep its own group entry: {other:?}"
            )))
        }
    }
    if let Err(e) = node.net.announce(bytes).await {
        tracing::info!(error = %e, "group entry not gossiped now; catch-up will carry it");
    }
    Ok(())
}

/// Every device of `members`; an error, before anything is signed, if
/// one member's devices are not known.
fn devices_for(node: &Node, members: &[PublisherId]) -> Result<Vec<PublisherId>, NodeError> {
    let mut devices = Vec::new();
    for m in members {
        devices.extend(devices_of(node, m)?);
    }
    Ok(devices)
}

/// Makes, keeps and spreads the boxes of `record` for `devices`.
async fn box_for(
    node: &Node,
    signer: &Signer,
    record: &SignedGroupRecord,
    devices: &[PublisherId],
    contents: &BoxContents,
) -> Result<(), NodeError> {
    let admin = admin_of(signer);
    let r = record.record();
    let boxes = group::boxes(
        &admin,
        &r.group,
        &record.hash(),
        devices,
        contents,
        now_secs(),
        &mut OsRng,
    )
    .map_err(|e| NodeError::Internal(format!("sealing the group's key: {e}")))?;
    for b in boxes {
        add_own(node, CatalogEntry::KeyBox(b)).await?;
    }
    Ok(())
}

/// This node's publisher, if it has one.
fn me(node: &Node) -> Option<PublisherId> {
    node.publisher_id().ok()
}

/// Opens the key boxes of every group this node knows of that its key can
/// open (a node that imported a group's entries from an archive learns its
/// keys here).
pub async fn learn_all(node: &Node) {
    learn_groups(node, node.catalog.group_ids()).await;
}

/// Opens the boxes of `groups` this node's key can open, when the key is
/// at hand without a passphrase; the key is read once for all of them.
async fn learn_groups(node: &Node, groups: Vec<GroupId>) {
    if groups.is_empty() {
        return;
    }
    let Ok(signer) = node.signing_key(None).await else {
        return;
    };
    let (keyring, catalog) = (node.keyring.clone(), node.catalog.clone());
    let learnt = node
        .blocking(move |s| {
            let mut learnt = Vec::new();
            for g in groups {
                let n = learn(&keyring, s, &catalog, &g, &signer.key)?;
                if n > 0 {
                    learnt.push((g, n));
                }
            }
            Ok(learnt)
        })
        .await;
    for (g, n) in learnt.unwrap_or_default() {
        tracing::info!(group = %g.fmt_short(), secrets = n, "group: opened key boxes for this node");
    }
}

/// The admin `signer` signs as.
fn admin_of(signer: &Signer) -> Admin<'_> {
    Admin {
        key: &signer.key,
        admin: signer.identity,
    }
}

fn view_of(node: &Node, group: &GroupId) -> Result<GroupView, NodeError> {
    view(&node.keyring, &node.catalog, group, me(node), &|p| {
        node.describe(p, None)
    })
    .ok_or_else(|| NodeError::NotFound(format!("group {group} is not known here")))
}

/// A group the user named: its id, or the name of a group this node can
/// read.
pub fn resolve(node: &Node, text: &str) -> Result<GroupId, NodeError> {
    if let Ok(id) = text.parse::<GroupId>() {
        return Ok(id);
    }
    let found: Vec<GroupId> = node
        .catalog
        .group_ids()
        .into_iter()
        .filter(|g| view_of(node, g).is_ok_and(|v| v.name.as_deref() == Some(text)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(NodeError::NotFound(format!(
            "no group this node can read is named {text:?} (`weft group list` shows them; a group id is 64 hex characters)"
        ))),
        many => Err(NodeError::BadRequest(format!(
            "{} groups are named {text:?}; give one of their ids: {}",
            many.len(),
            many.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Every group this node knows of, the ones it can read first.
pub async fn list(node: &Node) -> GroupsResponse {
    let ids = node.catalog.group_ids();
    learn_groups(node, ids.clone()).await;
    let mut groups: Vec<GroupView> = ids.iter().filter_map(|g| view_of(node, g).ok()).collect();
    groups.sort_by(|a, b| (!a.readable, &a.name, a.id).cmp(&(!b.readable, &b.name, b.id)));
    GroupsResponse { groups }
}

/// One group.
pub async fn show(node: &Node, text: &str) -> Result<GroupView, NodeError> {
    match text.parse::<GroupId>() {
        Ok(id) => learn_groups(node, vec![id]).await,
        Err(_) => learn_all(node).await,
    }
    let id = resolve(node, text)?;
    view_of(node, &id)
}

/// Founds a group with this node's publisher as its founder and admin.
pub async fn create(node: &Node, body: GroupCreateBody) -> Result<GroupView, NodeError> {
    let signer = node.signing_key(body.passphrase).await?;
    let admin = admin_of(&signer);
    let (record, secret) = group::create(&admin, body.name.trim(), now_secs(), &mut OsRng)
        .map_err(|e| NodeError::BadRequest(format!("the group: {e}")))?;
    let gid = record.record().group;
    let devices = devices_for(node, &[signer.identity])?;
    keep_secret(node, gid, 0, &secret).await?;
    add_own(node, CatalogEntry::Group(record.clone())).await?;
    // The founder's other devices receive the key like any member's.
    box_for(
        node,
        &signer,
        &record,
        &devices,
        &BoxContents::new(vec![(0, &secret)]),
    )
    .await?;
    view_of(node, &gid)
}

async fn keep_secret(
    node: &Node,
    g: GroupId,
    epoch: u64,
    s: &EpochSecret,
) -> Result<(), NodeError> {
    let (keyring, s) = (node.keyring.clone(), s.clone());
    node.blocking(move |st| keyring.put(st, &g, epoch, &s))
        .await?;
    Ok(())
}

/// What an admin needs to change a group: its state, the group as it is
/// now, and the current epoch's secret.
struct Current {
    state: weft_protocol::group::GroupState,
    name: String,
    members: Vec<PublisherId>,
    secret: EpochSecret,
}

async fn current(node: &Node, text: &str, signer: &Signer) -> Result<Current, NodeError> {
    let gid = resolve(node, text)?;
    learn_groups(node, vec![gid]).await;
    let state = node
        .catalog
        .group_state(&gid)
        .ok_or_else(|| NodeError::NotFound(format!("group {gid} is not known here")))?;
    if !state.admins().contains(&signer.identity) {
        return Err(NodeError::Forbidden(format!(
            "only an admin of group {gid} can change its members; this node's publisher is not one"
        )));
    }
    let secret = node.keyring.get(&gid, state.epoch()).ok_or_else(|| {
        NodeError::Forbidden(format!(
            "this node does not hold the current key of group {gid}, so it cannot change it"
        ))
    })?;
    let head = read_head(&node.keyring, &state, &node.catalog.group_records(&gid))
        .ok_or_else(|| NodeError::Internal(format!("group {gid}'s latest record does not open")))?;
    Ok(Current {
        state,
        name: head.name,
        members: head.members,
        secret,
    })
}

/// Adds a member (or makes a current one an admin, or gives a member's
/// devices certified since the last change the current key).
pub async fn add(node: &Node, text: &str, body: GroupMemberBody) -> Result<GroupView, NodeError> {
    let signer = node.signing_key(body.passphrase.clone()).await?;
    let member = node.resolve_publisher(&body.member)?;
    let devices = devices_for(node, &[member])?;
    let cur = current(node, text, &signer).await?;
    let gid = cur.state.group;
    let mut members = cur.members.clone();
    if !members.contains(&member) {
        members.push(member);
    }
    if members.len() > MAX_MEMBERS {
        return Err(NodeError::Conflict(format!(
            "group {gid} has {MAX_MEMBERS} members, the most a group can have"
        )));
    }
    let mut admins = cur.state.admins().to_vec();
    if body.admin && !admins.contains(&member) {
        admins.push(member);
    }
    let admin = admin_of(&signer);
    let what = Change {
        kind: GroupKind::Add,
        member: Some(member),
        history: body.history,
        name: cur.name.clone(),
        members,
        admins,
    };
    let record = group::change(
        &admin,
        &cur.state,
        what,
        &cur.secret,
        now_secs(),
        &mut OsRng,
    )
    .map_err(|e| NodeError::BadRequest(format!("the change: {e}")))?;
    add_own(node, CatalogEntry::Group(record.clone())).await?;
    let epoch = cur.state.epoch();
    let mut secrets = vec![(epoch, cur.secret.clone())];
    if body.history {
        for e in node.keyring.epochs(&gid).into_iter().filter(|e| *e < epoch) {
            if let Some(s) = node.keyring.get(&gid, e) {
                secrets.push((e, s));
            }
        }
        // The newest epochs when there are more than a box holds.
        secrets.sort_by_key(|(e, _)| std::cmp::Reverse(*e));
        secrets.truncate(group::MAX_BOX_EPOCHS);
    }
    let contents = BoxContents::new(secrets.iter().map(|(e, s)| (*e, s)).collect());
    box_for(node, &signer, &record, &devices, &contents).await?;
    view_of(node, &gid)
}

/// Removes a member: a new epoch, whose secret every other member's
/// devices receive and the removed member's never do.
pub async fn remove(
    node: &Node,
    text: &str,
    body: GroupMemberBody,
) -> Result<GroupView, NodeError> {
    let signer = node.signing_key(body.passphrase.clone()).await?;
    let member = node.resolve_publisher(&body.member)?;
    let cur = current(node, text, &signer).await?;
    let gid = cur.state.group;
    if member == cur.state.founder {
        return Err(NodeError::Conflict(format!(
            "{member} founded group {gid} and cannot be removed from it"
        )));
    }
    if !cur.members.contains(&member) {
        return Err(NodeError::NotFound(format!(
            "{member} is not a member of group {gid}"
        )));
    }
    let members: Vec<PublisherId> = cur
        .members
        .iter()
        .copied()
        .filter(|m| *m != member)
        .collect();
    let admins: Vec<PublisherId> = cur
        .state
        .admins()
        .iter()
        .copied()
        .filter(|m| *m != member)
        .collect();
    new_epoch(
        node,
        &signer,
        cur,
        Some(member),
        members,
        admins,
        now_secs(),
    )
    .await
}

/// Starts a new epoch with the same members and admins (`rekey`), whose
/// secret only their devices in good standing receive.
pub async fn rekey(
    node: &Node,
    text: &str,
    body: weft_protocol::api::GroupRekeyBody,
) -> Result<GroupView, NodeError> {
    let signer = node.signing_key(body.passphrase).await?;
    let cur = current(node, text, &signer).await?;
    let (members, admins) = (cur.members.clone(), cur.state.admins().to_vec());
    new_epoch(node, &signer, cur, None, members, admins, now_secs()).await
}

/// Starts a new epoch: a `remove` of `member`, or a `rekey` without one.
/// Its secret is sealed to every device in good standing of `members`.
async fn new_epoch(
    node: &Node,
    signer: &Signer,
    cur: Current,
    member: Option<PublisherId>,
    members: Vec<PublisherId>,
    admins: Vec<PublisherId>,
    created: u64,
) -> Result<GroupView, NodeError> {
    let gid = cur.state.group;
    let devices = devices_for(node, &members)?;
    let secret = EpochSecret::generate(&mut OsRng);
    let epoch = cur.state.epoch() + 1;
    let what = Change {
        kind: if member.is_some() {
            GroupKind::Remove
        } else {
            GroupKind::Rekey
        },
        member,
        history: false,
        name: cur.name.clone(),
        members,
        admins,
    };
    let record = group::change(
        &admin_of(signer),
        &cur.state,
        what,
        &secret,
        created,
        &mut OsRng,
    )
    .map_err(|e| NodeError::BadRequest(format!("the change: {e}")))?;
    keep_secret(node, gid, epoch, &secret).await?;
    add_own(node, CatalogEntry::Group(record.clone())).await?;
    box_for(
        node,
        signer,
        &record,
        &devices,
        &BoxContents::new(vec![(epoch, &secret)]),
    )
    .await?;
    view_of(node, &gid)
}

/// Starts a new epoch of every group this node's publisher is an admin of
/// whose epoch in force began before a member's device was revoked (see
/// [`crate::groups::revoked_since`]), dated after that revocation. Run by
/// the keeper. Answers the groups it could not rekey because the key needs
/// a passphrase (`weft group rekey` does it then).
pub async fn rekey_revoked(node: &Node) -> Vec<GroupId> {
    let Ok(me) = node.publisher_id() else {
        return Vec::new();
    };
    let now = now_secs();
    let due: Vec<(GroupId, u64)> = node
        .catalog
        .group_ids()
        .into_iter()
        .filter_map(|g| {
            let state = node.catalog.group_state(&g)?;
            if !state.admins().contains(&me) || node.keyring.get(&g, state.epoch()).is_none() {
                return None;
            }
            let head = read_head(&node.keyring, &state, &node.catalog.group_records(&g))?;
            crate::groups::revoked_since(&node.catalog, &state, &head.members, now).map(|t| (g, t))
        })
        .collect();
    if due.is_empty() {
        return Vec::new();
    }
    let Ok(signer) = node.signing_key(None).await else {
        return due.into_iter().map(|(g, _)| g).collect();
    };
    for (g, revoked) in due {
        let started = async {
            let cur = current(node, &g.to_string(), &signer).await?;
            let (members, admins) = (cur.members.clone(), cur.state.admins().to_vec());
            new_epoch(
                node,
                &signer,
                cur,
                None,
                members,
                admins,
                now.max(revoked + 1),
            )
            .await
        };
        match started.await {
            Ok(v) => {
                tracing::info!(group = %g.fmt_short(), epoch = v.epoch, "group: started a new epoch, because a member's device was revoked")
            }
            Err(e) => {
                tracing::warn!(group = %g.fmt_short(), error = %e, "group: a member's device was revoked, and a new epoch could not be started")
            }
        }
    }
    Vec::new()
}

/// A private bundle this node can read: its group, its outer id (what is
/// stored and fetched) and the real announcement sealed inside.
pub struct ReadablePrivate {
    /// The group it was shared with.
    pub group: GroupId,
    /// The outer bundle's id.
    pub id: weft_protocol::BundleId,
    /// The real publisher's announcement.
    pub inner: weft_protocol::Announcement,
}

/// Every private bundle of the groups this node can read (of `only`, when
/// given). One whose inner announcement does not verify, or whose publisher
/// is not a member of its group as this node reads it, is left out.
pub async fn readable_privates(node: &Node, only: Option<GroupId>) -> Vec<ReadablePrivate> {
    // A member whose node has not opened the group's boxes yet (they
    // arrived by gossip or catch-up since) learns its keys here.
    let known: Vec<GroupId> = node
        .catalog
        .group_ids()
        .into_iter()
        .filter(|g| only.is_none_or(|o| o == *g))
        .collect();
    learn_groups(node, known).await;
    let mut out = Vec::new();
    for g in node.keyring.groups() {
        if only.is_some_and(|o| o != g) {
            continue;
        }
        let Some(state) = node.catalog.group_state(&g) else {
            continue;
        };
        let members = read_head(&node.keyring, &state, &node.catalog.group_records(&g))
            .map(|c| c.members)
            .unwrap_or_default();
        for p in node.catalog.group_privates(&g) {
            let p = p.private();
            let Some(secret) = node.keyring.get(&g, p.epoch) else {
                continue;
            };
            let Ok(inner) = group::open_announcement(p, &secret) else {
                continue;
            };
            let inner = inner.announcement().clone();
            if members.contains(&inner.publisher) {
                out.push(ReadablePrivate {
                    group: g,
                    id: p.id,
                    inner,
                });
            }
        }
    }
    out
}

/// A private bundle as search lists it: by the titles sealed in its
/// announcement, under its outer id.
pub fn private_result(
    node: &Node,
    p: &ReadablePrivate,
    lang: Option<&str>,
) -> weft_protocol::api::SearchResult {
    let a = &p.inner;
    let local = node.store.has_manifest(&p.id).unwrap_or(false);
    weft_protocol::api::SearchResult {
        contested: false,
        created: a.created,
        files: a.files,
        group: Some(p.group),
        id: p.id,
        local,
        name: a.name.clone(),
        pinned: local && node.store.is_pinned(&p.id).unwrap_or(false),
        publisher: a.publisher,
        publisher_name: node.describe(&a.publisher, lang),
        retracted: false,
        seq: a.seq,
        size: a.size,
        superseded_by: None,
        tags: a.tags.clone(),
        tier: node.catalog.trust().tier(&a.publisher),
        titles: a.titles.clone(),
    }
}

/// The private bundles of the groups this node can read (of `only`, when
/// given) that match `query`, as search results, newest first.
pub async fn search_private(
    node: &Node,
    query: &crate::catalog::Query,
    only: Option<GroupId>,
) -> Vec<weft_protocol::api::SearchResult> {
    let mut out: Vec<_> = readable_privates(node, only)
        .await
        .iter()
        .filter(|p| matches(query, &p.inner))
        .map(|p| private_result(node, p, query.lang.as_deref()))
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.created));
    out
}

/// Whether an announcement matches a search as the catalog's search does:
/// every word in its name, a title or a tag (any case), its language, tag
/// and publisher.
fn matches(q: &crate::catalog::Query, a: &weft_protocol::Announcement) -> bool {
    let mut text = a.name.to_lowercase();
    for t in &a.titles {
        text.push('\n');
        text.push_str(&t.title.to_lowercase());
    }
    for t in &a.tags {
        text.push('\n');
        text.push_str(t);
    }
    q.words.iter().all(|w| text.contains(w.as_str()))
        && q.lang.as_ref().is_none_or(|l| {
            a.titles
                .iter()
                .any(|t| t.lang == *l || t.lang.starts_with(&format!("{l}-")))
        })
        && q.tag.as_ref().is_none_or(|t| a.tags.contains(t))
        && q.publisher.is_none_or(|p| p == a.publisher)
}
