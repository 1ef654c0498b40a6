//! Private groups (protocol section 6.6): `GET /v1/groups`, `POST
//! /v1/group`, `GET /v1/groups/{group}`, `POST /v1/groups/{group}/add`,
//! `POST /v1/groups/{group}/remove`; `weft group`.

use serde::{Deserialize, Serialize};

use super::PublisherName;
use crate::{GroupId, PublisherId};

/// `POST /v1/group`: found a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCreateBody {
    /// The group's name, 1 to 64 bytes; only members ever see it.
    pub name: String,
    /// Opens a passphrase-sealed key, for this request only.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/groups/{group}/add` and `.../remove`: change the members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMemberBody {
    /// The member: a publisher id, or the name this node gave it.
    pub member: String,
    /// Add only: give the new member the group's earlier epochs too, so it
    /// can read what was shared before it joined.
    #[serde(default)]
    pub history: bool,
    /// Add only: make the member an admin too.
    #[serde(default)]
    pub admin: bool,
    /// Opens a passphrase-sealed key, for this request only.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/groups/{group}/rekey`: start a new epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRekeyBody {
    /// Opens a passphrase-sealed key, for this request only.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// A member of a group, as this node shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    /// Whether it is an admin.
    pub admin: bool,
    /// How it is shown.
    pub name: PublisherName,
    /// The publisher.
    pub publisher: PublisherId,
}

/// A group as this node knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    /// Whether this node's publisher is one of its admins.
    pub admin: bool,
    /// Its admins (public: every node checks their signatures).
    pub admins: Vec<PublisherId>,
    /// Private bundles of the group this node holds announcements of.
    pub bundles: u64,
    /// The epoch in force.
    pub epoch: u64,
    /// The epochs whose secrets this node holds.
    pub epochs_held: Vec<u64>,
    /// The group id.
    pub id: GroupId,
    /// Whether this node's publisher is a member as far as this node can
    /// read.
    pub member: bool,
    /// Its members, when this node can read the group; else empty.
    pub members: Vec<GroupMember>,
    /// Its name, when this node can read the group; else null.
    pub name: Option<String>,
    /// Whether this node holds the current epoch's secret.
    pub readable: bool,
    /// Records on the chain that counts.
    pub records: u64,
    /// A device of a member was revoked after the epoch in force began, so
    /// the epoch's secret may be on a seized device: an admin should start
    /// a new epoch (`weft group rekey`). An admin's node whose key needs no
    /// passphrase does so on its own. Always false when this node cannot
    /// read the group.
    #[serde(default)]
    pub rekey_due: bool,
}

/// `GET /v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsResponse {
    /// Every group this node knows of, the ones it can read first.
    pub groups: Vec<GroupView>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{api_example, cli_row_keys, doc_example};

    #[test]
    fn the_documented_group_examples_read() {
        let list: GroupsResponse = doc_example(&api_example("### `GET /v1/groups`", 0), &[]);
        assert_eq!(list.groups[0].members.len(), 2);
        let body: GroupCreateBody =
            serde_json::from_str(&api_example("### `POST /v1/group`", 0)).unwrap();
        assert_eq!(body.name, "legal team");
        let one: GroupView = doc_example(&api_example("### `POST /v1/group`", 1), &[]);
        assert_eq!(one.epochs_held, vec![0]);
        let add: GroupMemberBody =
            serde_json::from_str(&api_example("### `POST /v1/groups/{group}/add`", 0)).unwrap();
        assert!(add.history && !add.admin);
        let rekey: GroupRekeyBody =
            serde_json::from_str(&api_example("### `POST /v1/groups/{group}/rekey`", 0)).unwrap();
        assert_eq!(rekey, GroupRekeyBody::default());
        let keys: Vec<String> = serde_json::to_value(&one)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            cli_row_keys("weft group create")
                .into_iter()
                .collect::<Vec<_>>(),
            keys
        );
    }
}
