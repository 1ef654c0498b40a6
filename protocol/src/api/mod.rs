//! The daemon's local HTTP/JSON API (`docs/api.md` lists the routes): the
//! request bodies it accepts and the responses it sends, as types that
//! `weftd`, `weft`, the benchmark suite and the test harness share.
//!
//! - Requests are parsed with unknown fields refused, so a typo in a client
//!   is an error rather than a silently ignored option.
//! - Responses are written by the daemon and read by clients. They accept
//!   fields they do not know (`docs/api.md`, "Stability": clients must
//!   ignore them), and serialize to exactly the JSON the daemon sends:
//!   the same keys, the same `null` for a value that is not there (a key
//!   is left out only where the daemon leaves it out, which each such
//!   field says), and the same nesting.
//! - Key order. The daemon builds its answers as `serde_json::Value`, and
//!   serde_json is built without `preserve_order`, so every object the API
//!   sends, nested ones included, has its keys in byte order. The response
//!   structs declare their fields in that order, so that serializing one
//!   gives the same bytes. The one exception is [`LangText`] (the `texts`
//!   of [`BundleDetails`]), reused from the manifest, whose fields are
//!   `lang`, `title`, `description`; nothing reads the API by key order.
//!   ([`UiTexts`] is a file the daemon sends as it is, in the file's order.)
//! - Numbers: counts and sizes are `u64` (the daemon's `usize` counts are
//!   the same JSON numbers); a peer's gossip score is `f64`.
//!
//! Jobs ([`JobStatus`]) are generic over their result: a client polls the
//! job it started, so it knows the kind and reads `JobStatus<PublishResult>`
//! and so on; [`JobResult`] reads any kind's result.
//!
//! [`InitOutput`] and [`CliError`] are not API responses but what `weft
//! --json` prints of its own (`docs/cli.md`).
//!
//! These types live here, beside the peer formats, so that the fuzz targets
//! reach the request bodies without the daemon's storage. Everything here is
//! data: no I/O.
//!
//! [`LangText`]: crate::LangText

mod archive;
mod catalog;
mod cli;
mod errors;
mod groups;
mod identity;
mod jobs;
mod names;
mod net;
mod node;
mod publish;
mod requests;
mod rules;
mod storage;
#[cfg(test)]
mod test_util;
mod trust;
mod ui;

pub use archive::{ArchiveFile, ExportResult, ExportedBundle, ImportResult, ImportedBundle};
pub use catalog::{BundleDetails, FetchResult, RetractResponse, SearchResponse, SearchResult};
pub use cli::{CliError, InitOutput};
pub use errors::ErrorResponse;
pub use groups::{
    GroupCreateBody, GroupMember, GroupMemberBody, GroupRekeyBody, GroupView, GroupsResponse,
};
pub use identity::{
    DeviceBody, DeviceInfo, DeviceStatus, IdentityInfo, KeyEventsMade, RevokeBody, RotateBody,
    UpgradeBody, UpgradeResult,
};
pub use jobs::{JobKind, JobResult, JobStarted, JobState, JobStatus};
pub use names::{
    NameBody, NamedPublisher, NamesResponse, ProfileBody, ProfileResponse, ProfileView,
    PublisherName,
};
pub use net::{
    BootstrapInfo, ConnectResponse, ConnectionInfo, DoctorResponse, FailedAddr, Finding,
    FindingLevel, HolePunch, InviteResponse, JoinResponse, JoinedAddr, LadderReport, LadderStep,
    NatStatus, PeerInfo, PeersResponse, ProvidersResponse, Reachability, RelayServerInfo,
    ReservationInfo,
};
pub use node::{Counters, EntriesDropped, FetchingBundle, StatusResponse, StorageStatus};
pub use publish::{PublishResult, UploadStarted, UploadedFile};
pub use requests::{
    ConnectBody, ExportBody, FetchBody, IdBody, ImportBody, JobQuery, JoinBody, PublishRequest,
    RetractRequest, RuleBody, SearchQuery, VouchBody,
};
pub use rules::{BlockRules, ConfigRules, FollowRules, Rule, RuleChangeResponse, RulesResponse};
pub use storage::{CheckReport, GcReport, PinInfo, PinKind, PinsResponse, UnpinResponse};
pub use trust::{Tier, VouchResponse, WhyResponse};
pub use ui::{LoginLinkResponse, UiTexts};

#[cfg(test)]
mod tests {
    use super::test_util::{sections_with_json, API_MD};

    /// Every section of `docs/api.md` with a JSON example, and how many:
    /// each is read into its type by a test of this module's files (the
    /// `the_documented_…` tests). A new example needs a test too.
    #[test]
    fn every_documented_example_has_a_test() {
        let expected = [
            ("## Errors", 1),
            ("## Jobs", 1),
            ("### `GET /v1/jobs/{id}`", 3),
            ("### `GET /v1/status`", 1),
            ("### `GET /v1/doctor`", 1),
            ("### `GET /v1/peers`", 1),
            ("### `POST /v1/connect`", 2),
            ("### `GET /v1/invite`", 1),
            ("### `POST /v1/join`", 1),
            ("### `GET /v1/providers/{id}`", 1),
            ("### `GET /v1/search`", 1),
            ("### `GET /v1/bundles/{id}`", 1),
            ("### `GET /v1/why/{publisher}`", 1),
            ("### `GET /v1/identity`", 1),
            ("### `POST /v1/identity/device`", 2),
            ("### `GET /v1/names`", 1),
            ("### `POST /v1/name`", 2),
            ("### `POST /v1/profile`", 2),
            ("### `GET /v1/groups`", 1),
            ("### `POST /v1/group`", 2),
            ("### `POST /v1/groups/{group}/add`", 1),
            ("### `POST /v1/groups/{group}/rekey`", 1),
            ("### `POST /v1/vouch`", 2),
            ("### `POST /v1/fetch`", 2),
            ("### `POST /v1/retract`", 2),
            ("### `POST /v1/publish`", 2),
            ("### `POST /v1/uploads`", 1),
            ("### `POST /v1/uploads/{id}`", 1),
            ("### `GET /v1/pins`", 1),
            ("### `POST /v1/unpin`", 2),
            ("### `POST /v1/gc`", 1),
            ("### `POST /v1/check`", 1),
            ("### `GET /v1/rules`", 1),
            ("### `POST /v1/follow`", 2),
            ("### `POST /v1/block`", 1),
            ("### `POST /v1/export`", 2),
            ("### `POST /v1/import`", 2),
            ("### `POST /v1/ui/login`", 1),
        ];
        let found = sections_with_json(API_MD);
        let found: Vec<(&str, usize)> = found.iter().map(|(h, n)| (h.as_str(), *n)).collect();
        assert_eq!(found, expected);
    }
}
