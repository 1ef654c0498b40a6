//! The request bodies of the daemon's local HTTP API (`docs/api.md`
//! lists the routes). JSON, parsed with unknown fields refused, so a typo in
//! a client is an error rather than a silently ignored option. They live
//! here, beside the peer formats, so that the fuzz targets reach them
//! without the daemon's storage.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::manifest::LangText;

/// `POST /v1/connect`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    /// A multiaddr ending in `/p2p/<peer id>`.
    pub addr: String,
}

/// `POST /v1/join`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    /// An invite, as `weft invite` prints it.
    pub invite: String,
    /// A name for the inviter's publisher, in place of the one the invite
    /// suggests.
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /v1/search` (query string).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words that must all appear.
    pub q: Option<String>,
    /// Language tag.
    pub lang: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Publisher id.
    pub publisher: Option<String>,
    /// Most results.
    pub limit: Option<usize>,
    /// List superseded versions too.
    pub all_versions: Option<bool>,
    /// Only trusted and vouched publishers.
    pub trusted_only: Option<bool>,
    /// Only the private bundles of this group (its id, or the name of a
    /// group this node can read).
    pub group: Option<String>,
}

/// `POST /v1/fetch`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchBody {
    /// A bundle id or `PUBLISHER/NAME`.
    pub id: String,
    /// Absolute folder to write the files to.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Keep the bundle.
    #[serde(default)]
    pub pin: bool,
}

/// `GET /v1/jobs/{id}` (query string).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// Wait up to this many milliseconds for a running job to end.
    pub wait_ms: Option<u64>,
}

/// `POST /v1/retract`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetractRequest {
    /// A bundle id or `PUBLISHER/NAME`.
    pub id: String,
    /// The publisher key's passphrase, when the key is sealed and the node
    /// was not unlocked at start. Used for this request only.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/vouch` and `POST /v1/unvouch`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VouchBody {
    /// The publisher vouched for (or no longer).
    pub publisher: String,
    /// Why, for people (vouch only; at most 256 bytes).
    #[serde(default)]
    pub note: Option<String>,
    /// The publisher key's passphrase, as for [`RetractRequest`].
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `POST /v1/unpin` (and the other requests naming one bundle).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdBody {
    /// A bundle id or `PUBLISHER/NAME`.
    pub id: String,
}

/// `POST /v1/follow`, `/v1/unfollow`, `/v1/block`, `/v1/unblock`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// A publisher id.
    pub publisher: Option<String>,
    /// A tag (follow only).
    pub tag: Option<String>,
    /// A language (follow only).
    pub lang: Option<String>,
    /// Every publisher this one vouches for (follow only).
    #[serde(default)]
    pub vouched_by: Option<String>,
    /// A private group's id: mirror its sealed bundles (follow only).
    #[serde(default)]
    pub group: Option<crate::GroupId>,
}

/// `POST /v1/export`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// Bundle ids or `PUBLISHER/NAME`s.
    pub bundles: Vec<String>,
    /// Absolute path of the archive (or folder, with `dir`).
    pub out: PathBuf,
    /// One archive per bundle, in the folder `out`.
    #[serde(default)]
    pub dir: bool,
}

/// `POST /v1/import`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Absolute path of an archive or a folder of archives.
    pub path: PathBuf,
}

/// `POST /v1/publish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Absolute path of the folder (or single file) to publish.
    pub path: PathBuf,
    /// Bundle name; defaults to the folder name, made safe.
    #[serde(default)]
    pub name: Option<String>,
    /// Titles and descriptions per language.
    #[serde(default)]
    pub texts: Vec<LangText>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Licence.
    #[serde(default)]
    pub licence: String,
    /// Explicit seq; defaults to one more than the highest known.
    #[serde(default)]
    pub seq: Option<u64>,
    /// The publisher key's passphrase, when the key is sealed and the node
    /// was not unlocked at start. Used for this request only.
    #[serde(default)]
    pub passphrase: Option<String>,
    /// Publish privately to this group (its id, or the name of a group
    /// this node can read): sealed so that only its members can read it.
    #[serde(default)]
    pub group: Option<String>,
}
