//! Trust tiers: how far this node trusts a publisher, and why
//! (`GET /v1/why/{publisher}`, `weft why`).

use serde::{Deserialize, Serialize};

use crate::PublisherId;

/// How far a node trusts a publisher. Computed by each node for itself
/// from its own rules, pins and the vouches it holds; nothing a peer sends
/// sets it directly. Ordered from most to least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// This node's own key, a followed publisher, or one the user pinned a
    /// bundle of: always stored, forwarded and listed first.
    Trusted,
    /// Vouched for by a trusted publisher (within the configured depth):
    /// treated as trusted, listed after it.
    Vouched,
    /// Everyone else: admitted under quotas, evicted first.
    Seen,
    /// Blocked by the user: never stored, forwarded or listed.
    Blocked,
}

impl Tier {
    /// The tier's name as the API and the CLI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Trusted => "trusted",
            Tier::Vouched => "vouched",
            Tier::Seen => "seen",
            Tier::Blocked => "blocked",
        }
    }

    /// Trusted or vouched: stored without the unknown tier's quotas.
    pub fn is_known(self) -> bool {
        matches!(self, Tier::Trusted | Tier::Vouched)
    }
}

/// `GET /v1/why/{publisher}`: a publisher's tier and what put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhyResponse {
    /// Catalog entries of this publisher that the node keeps.
    pub entries: u64,
    /// How the publisher is shown.
    #[serde(default)]
    pub name: super::PublisherName,
    /// The publisher asked about.
    pub publisher: PublisherId,
    /// Each reason in a sentence, strongest first; empty for the seen tier.
    pub reasons: Vec<String>,
    /// Its tier.
    pub tier: Tier,
}

/// `POST /v1/vouch` and `POST /v1/unvouch`: the statement signed and
/// spread. `weft vouch` and `weft unvouch` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VouchResponse {
    /// True for a vouch, false for its withdrawal.
    pub active: bool,
    /// The statement's catalog entry key.
    pub entry: crate::BundleId,
    /// When it lapses (Unix seconds) unless renewed by vouching again.
    pub expires: u64,
    /// The publisher vouched for.
    pub vouchee: PublisherId,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::test_util::{api_example, doc_example, pid};

    #[test]
    fn tiers_are_lowercase_words_and_ordered_most_trusted_first() {
        assert_eq!(
            serde_json::to_value(Tier::Vouched).unwrap(),
            json!("vouched")
        );
        assert!(Tier::Trusted < Tier::Vouched && Tier::Vouched < Tier::Seen);
        let w = WhyResponse {
            entries: 2,
            name: Default::default(),
            publisher: pid(1),
            reasons: vec!["you follow this publisher".into()],
            tier: Tier::Trusted,
        };
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v["tier"], json!("trusted"));
        assert_eq!(serde_json::from_value::<WhyResponse>(v).unwrap(), w);
    }

    #[test]
    fn the_documented_vouch_reads() {
        let body: crate::api::VouchBody =
            serde_json::from_str(&api_example("### `POST /v1/vouch`", 0)).unwrap();
        assert!(body.note.is_some());
        let r: VouchResponse = doc_example(&api_example("### `POST /v1/vouch`", 1), &[]);
        assert!(r.active);
    }

    #[test]
    fn the_documented_why_reads() {
        let w: WhyResponse = doc_example(&api_example("### `GET /v1/why/{publisher}`", 0), &[]);
        assert_eq!(w.tier, Tier::Trusted);
        assert_eq!(w.reasons.len(), 2);
    }
}
