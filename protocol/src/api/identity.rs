//! Identities, devices and their keys (`GET /v1/identity`,
//! `POST /v1/identity/device`, `/revoke`, `/rotate`; `weft identity`,
//! `weft device`). See `docs/protocol.md`, section 6.4.

use serde::{Deserialize, Serialize};

use crate::{BundleId, PublisherId};

/// Where this node's signing key stands in its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceStatus {
    /// No identity file: the key is a single-key publisher.
    SingleKey,
    /// A device the identity's log certifies.
    Certified,
    /// Not (yet) certified in the log this node knows.
    Uncertified,
    /// Revoked: it can no longer sign for the identity.
    Revoked,
}

/// `GET /v1/identity`: who this node signs as. `weft identity` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityInfo {
    /// The key this node signs with.
    pub device: PublisherId,
    /// Every device the log has certified, revoked ones included.
    pub devices: Vec<DeviceInfo>,
    /// The identity's fingerprint: five words to compare on a call.
    pub fingerprint: String,
    /// The identity (the publisher id followers, rules and search use).
    pub identity: PublisherId,
    /// The root in force; null for a single-key publisher or while the
    /// log has not reached this node.
    pub root: Option<PublisherId>,
    /// The root's secret is on this device (`root.key`).
    pub root_here: bool,
    /// How many times the root was replaced.
    pub rotations: u64,
    /// The seq of the log's last event; null when no log is known.
    pub seq: Option<u64>,
    /// Where this node's key stands.
    pub status: DeviceStatus,
}

/// One device, in [`IdentityInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// When its certificate says it was added (Unix seconds).
    pub added: u64,
    /// How many things it signed stay valid after its revocation.
    pub kept: u64,
    /// Its public key.
    pub key: PublisherId,
    /// Its name.
    pub name: String,
    /// It is revoked.
    pub revoked: bool,
    /// It is this node's key.
    pub this: bool,
}

/// `POST /v1/identity/device`: certify a device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    /// The device's public key (`weft device add` prints it).
    pub device: PublisherId,
    /// A name for people ("phone", "office laptop").
    pub name: String,
    /// The paper backup's 24 words, to sign with the root they make.
    #[serde(default)]
    pub paper: Option<String>,
    /// Else the root in `root.key`, opened with this passphrase if it is
    /// sealed.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/identity/revoke`: revoke a device for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// The device's public key.
    pub device: PublisherId,
    /// Bundle ids (and entry keys) it signed that stay valid.
    #[serde(default)]
    pub keep: Vec<BundleId>,
    /// Also keep everything it signed dated before this time (Unix
    /// seconds), as this node's catalog knows it.
    #[serde(default)]
    pub keep_before: Option<u64>,
    /// Do not keep its retractions even if dated before `keep_before`:
    /// the bundles come back.
    #[serde(default)]
    pub undo_retractions: bool,
    /// The paper backup's 24 words, to sign with the root they make.
    #[serde(default)]
    pub paper: Option<String>,
    /// Else the root in `root.key`, opened with this passphrase if it is
    /// sealed.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/identity/rotate`: replace the root by the next one the
/// paper backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// The paper backup, 24 words (the next root is only there).
    pub paper: String,
    /// Rotate on top of the log's event with this seq instead of the
    /// last: events after it (made with a stolen root) stop counting.
    #[serde(default)]
    pub from_seq: Option<u64>,
    /// Keep what the old root signed dated before this time (Unix
    /// seconds); without it nothing the old root signed stays valid.
    #[serde(default)]
    pub keep_before: Option<u64>,
}

/// `POST /v1/identity/upgrade`: make this node's single key the root of
/// an identity (see `docs/protocol.md`, section 6.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeBody {
    /// A name for this device [default: "first device"].
    #[serde(default)]
    pub device_name: Option<String>,
    /// The passphrase of the sealed key; the new keys are sealed with it.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// What `POST /v1/identity/upgrade` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeResult {
    /// This device's new key.
    pub device: PublisherId,
    /// Entry keys of the key events made.
    pub events: Vec<BundleId>,
    /// The identity's fingerprint (unchanged: the id is the old key).
    pub fingerprint: String,
    /// The identity: the old key's id, so followers see no change.
    pub identity: PublisherId,
    /// How many things the old key signed stay valid.
    pub kept: u64,
    /// The paper backup: 24 words, shown once.
    pub paper_backup: Vec<String>,
}

/// What `/v1/identity/device`, `/revoke` and `/rotate` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEventsMade {
    /// Entry keys of the events made, in order.
    pub events: Vec<BundleId>,
    /// How many ids the events keep valid.
    pub kept: u64,
    /// The root in force afterwards.
    pub root: PublisherId,
    /// The seq of the log's last event afterwards.
    pub seq: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, check, doc_example, hex, pid};

    #[test]
    fn the_documented_identity_examples_read() {
        let info: IdentityInfo = doc_example(&api_example("### `GET /v1/identity`", 0), &[]);
        assert_eq!(info.status, DeviceStatus::Certified);
        assert!(info.devices.iter().any(|d| d.revoked && d.kept == 14));
        let body: DeviceBody =
            serde_json::from_str(&api_example("### `POST /v1/identity/device`", 0)).unwrap();
        assert_eq!(body.name, "phone");
        let made: KeyEventsMade =
            doc_example(&api_example("### `POST /v1/identity/device`", 1), &[]);
        assert_eq!(made.seq, 2);
    }

    #[test]
    fn identity_info_matches_the_daemon() {
        let info = IdentityInfo {
            device: pid(3),
            devices: vec![DeviceInfo {
                added: 5,
                kept: 0,
                key: pid(3),
                name: "phone".into(),
                revoked: false,
                this: true,
            }],
            fingerprint: "a-b-c-d-e".into(),
            identity: pid(1),
            root: None,
            root_here: false,
            rotations: 0,
            seq: None,
            status: DeviceStatus::SingleKey,
        };
        // ops/identity.rs `info`.
        check(
            &info,
            json!({"device": hex(3), "fingerprint": "a-b-c-d-e", "identity": hex(1),
                "root": null, "root_here": false, "rotations": 0, "seq": null,
                "status": "single-key", "devices": [{"added": 5, "key": hex(3), "kept": 0,
                "name": "phone", "revoked": false, "this": true}]}),
        );
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        assert!(
            serde_json::from_value::<RevokeBody>(json!({"device": hex(3), "keep_befor": 5}))
                .is_err()
        );
        let r: RotateBody = serde_json::from_value(json!({"paper": "x"})).unwrap();
        assert_eq!(r.from_seq, None);
    }
}
