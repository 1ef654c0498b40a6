//! The rules routes: follow and block rules.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::PublisherId;

/// One rule, as responses name it: an object with one key (the daemon's
/// `policy::Rule`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Follow a publisher: `{"publisher": "<id>"}`.
    Publisher(PublisherId),
    /// Follow a tag: `{"tag": "water"}`.
    Tag(String),
    /// Follow a language: `{"lang": "es"}`.
    Lang(String),
    /// Block a publisher: `{"block": "<id>"}`.
    Block(PublisherId),
    /// Follow every publisher this one vouches for: `{"vouched_by":
    /// "<id>"}`.
    #[serde(rename = "vouched_by")]
    VouchedBy(PublisherId),
    /// Mirror every private bundle of a group, sealed, without being a
    /// member (a blind hub): `{"group": "<id>"}`.
    Group(crate::GroupId),
}

/// `GET /v1/rules`: every rule. `weft rules` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesResponse {
    /// Publishers blocked through the API.
    pub block: BlockRules,
    /// The rules from `config.toml`, which only the file changes.
    pub config: ConfigRules,
    /// Follow rules added through the API.
    pub follow: FollowRules,
    /// How to show each publisher the rules name (petname, profile name,
    /// fingerprint), by publisher id.
    #[serde(default)]
    pub names: std::collections::BTreeMap<PublisherId, super::PublisherName>,
}

/// `config` of [`RulesResponse`]: `[follow]` and `[block]` of
/// `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRules {
    /// Publishers blocked.
    pub block: BlockRules,
    /// What is followed.
    pub follow: FollowRules,
}

/// Follow rules (the daemon's `policy::Follow`), each a sorted array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowRules {
    /// Private groups mirrored sealed; left out when there are none.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub groups: BTreeSet<crate::GroupId>,
    /// Languages followed (BCP 47; `es` matches `es-MX` too).
    pub langs: BTreeSet<String>,
    /// Publishers followed.
    pub publishers: BTreeSet<PublisherId>,
    /// Tags followed (lowercase).
    pub tags: BTreeSet<String>,
    /// Publishers whose vouchees are followed.
    #[serde(default)]
    pub vouched_by: BTreeSet<PublisherId>,
}

/// Block rules (the daemon's `policy::Block`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRules {
    /// Publishers blocked, sorted.
    pub publishers: BTreeSet<PublisherId>,
}

/// `POST /v1/follow`, `/v1/unfollow`, `/v1/block`, `/v1/unblock`: the rule
/// and every rule after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChangeResponse {
    /// Whether it changed anything (false when the rule was already there,
    /// or, removing, was not).
    pub changed: bool,
    /// The rule as stored (normalized).
    pub rule: Rule,
    /// Every rule, as `GET /v1/rules` gives them.
    pub rules: RulesResponse,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, check, cli_row_keys, doc_example, hex, keys_of, pid};
    use crate::api::RuleBody;

    fn rules() -> RulesResponse {
        RulesResponse {
            block: BlockRules {
                publishers: [pid(3)].into(),
            },
            config: ConfigRules {
                block: BlockRules::default(),
                follow: FollowRules {
                    groups: BTreeSet::new(),
                    langs: ["pt-BR".to_string()].into(),
                    publishers: BTreeSet::new(),
                    tags: BTreeSet::new(),
                    vouched_by: BTreeSet::new(),
                },
            },
            follow: FollowRules {
                groups: BTreeSet::new(),
                langs: ["es".to_string()].into(),
                publishers: [pid(2), pid(1)].into(),
                tags: ["water".to_string(), "health".to_string()].into(),
                vouched_by: [pid(4)].into(),
            },
            names: [(
                pid(3),
                crate::api::PublisherName {
                    fingerprint: "a-b-c-d-e".into(),
                    petname: None,
                    profile_name: Some("Spam".into()),
                    same_name: true,
                },
            )]
            .into(),
        }
    }

    /// policy.rs `describe`, for the same rules (`Follow` and `Block` in
    /// `json!` are written with their keys in byte order).
    fn daemon_rules() -> serde_json::Value {
        let follow = json!({"publishers": [hex(1), hex(2)], "tags": ["health", "water"], "langs": ["es"], "vouched_by": [hex(4)]});
        let block = json!({"publishers": [hex(3)]});
        let config_follow =
            json!({"publishers": [], "tags": [], "langs": ["pt-BR"], "vouched_by": []});
        let config_block = json!({"publishers": []});
        json!({
            "follow": follow, "block": block,
            "config": {"follow": config_follow, "block": config_block},
            "names": {hex(3): {"fingerprint": "a-b-c-d-e",
                "profile_name": "Spam", "same_name": true}},
        })
    }

    #[test]
    fn rules_match_describe() {
        check(&rules(), daemon_rules());
    }

    #[test]
    fn every_rule_is_an_object_with_one_key() {
        for (rule, expected) in [
            (Rule::Publisher(pid(1)), json!({ "publisher": hex(1) })),
            (Rule::Tag("water".into()), json!({"tag": "water"})),
            (Rule::Lang("es".into()), json!({"lang": "es"})),
            (Rule::Block(pid(1)), json!({ "block": hex(1) })),
            (Rule::VouchedBy(pid(1)), json!({ "vouched_by": hex(1) })),
        ] {
            check(&rule, expected);
        }
    }

    #[test]
    fn a_change_matches_the_daemon() {
        let c = RuleChangeResponse {
            changed: true,
            rule: Rule::Tag("water".into()),
            rules: rules(),
        };
        // api.rs `change_rule`.
        let expected =
            json!({ "rule": {"tag": "water"}, "changed": true, "rules": daemon_rules() });
        check(&c, expected);
    }

    #[test]
    fn the_documented_rules_read() {
        let r: RulesResponse = doc_example(&api_example("### `GET /v1/rules`", 0), &[]);
        assert_eq!(r.config.follow.langs.len(), 1);
        let follow = "### `POST /v1/follow`";
        let _: RuleBody = serde_json::from_str(&api_example(follow, 0)).unwrap();
        let c: RuleChangeResponse = doc_example(&api_example(follow, 1), &[]);
        assert_eq!(c.rule, Rule::Tag("water".into()));
        let block = "### `POST /v1/block`";
        let _: RuleBody = serde_json::from_str(&api_example(block, 0)).unwrap();
    }

    #[test]
    fn the_cli_table_names_the_same_keys() {
        assert_eq!(
            cli_row_keys("weft rules"),
            keys_of(&RulesResponse::default())
        );
        let c = RuleChangeResponse {
            changed: false,
            rule: Rule::Tag(String::new()),
            rules: RulesResponse::default(),
        };
        for command in [
            "weft follow PUBLISHER",
            "weft unfollow",
            "weft block PUBLISHER",
            "weft unblock",
        ] {
            assert_eq!(cli_row_keys(command), keys_of(&c), "{command}");
        }
    }
}
