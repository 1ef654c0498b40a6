//! How publishers are named: petnames (`GET /v1/names`, `POST /v1/name`,
//! `POST /v1/unname`; `weft name`, `weft names`, `weft unname`) and
//! profiles (`POST /v1/profile`, `GET /v1/profile/{publisher}`; `weft
//! profile`). See `docs/protocol.md`, section 6.5.

use serde::{Deserialize, Serialize};

use crate::{BundleId, Profile, ProfileText, PublisherId};

/// How a publisher is shown wherever it appears: the petname this node's
/// user gave it, else its profile's display name, which is only its own
/// claim; and always its fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherName {
    /// Five words to compare on a call.
    pub fingerprint: String,
    /// The name this node's user gave it; left out if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petname: Option<String>,
    /// The display name its own profile claims (in the reader's language
    /// when it has one); left out if no profile is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// Another key's profile claims a name that reads the same; left out
    /// when false. (Search sends one of these per result: what is not
    /// there costs nothing.)
    #[serde(default, skip_serializing_if = "is_false")]
    pub same_name: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl PublisherName {
    /// One line for people: `Petname (fingerprint)`, else `~Name, its own
    /// claim (fingerprint)`, else the fingerprint; with a warning when
    /// another key claims the same name.
    pub fn display(&self) -> String {
        let mut s = match (&self.petname, &self.profile_name) {
            (Some(p), _) => format!("{p} ({})", self.fingerprint),
            (None, Some(n)) => format!("~{n}, its own claim ({})", self.fingerprint),
            (None, None) => self.fingerprint.clone(),
        };
        if self.same_name && self.petname.is_none() {
            s.push_str(" [another key claims this name]");
        }
        s
    }
}

/// `POST /v1/name`: give a publisher a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    /// The publisher: an id, or the name already given to it.
    pub publisher: String,
    /// The name: 1 to 64 bytes, one script (see protocol section 6.5);
    /// absent for `POST /v1/unname`.
    #[serde(default)]
    pub name: Option<String>,
}

/// One named publisher, in [`NamesResponse`] and as the answer of
/// `POST /v1/name` and `POST /v1/unname`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPublisher {
    /// How it is shown now.
    pub name: PublisherName,
    /// The publisher.
    pub publisher: PublisherId,
}

/// `GET /v1/names`: every petname. `weft names` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesResponse {
    /// Sorted by petname.
    pub names: Vec<NamedPublisher>,
}

/// `POST /v1/profile`: sign and spread this node's publisher's profile.
/// One language is set (or replaced) at a time; the other languages of
/// the current profile stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// The display name in `lang`.
    pub name: String,
    /// A short description in `lang`.
    #[serde(default)]
    pub about: String,
    /// Its language (BCP 47) [default: `und`].
    #[serde(default)]
    pub lang: Option<String>,
    /// Links, replacing the current ones when given.
    #[serde(default)]
    pub links: Option<Vec<String>>,
    /// A contact hint, replacing the current one when given.
    #[serde(default)]
    pub contact: Option<String>,
    /// The passphrase of a sealed key.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// `GET /v1/profile/{publisher}` and `POST /v1/profile`: a publisher's
/// profile as this node knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileResponse {
    /// The profile's catalog entry key; null when none is known.
    pub entry: Option<BundleId>,
    /// How the publisher is shown.
    pub name: PublisherName,
    /// Its latest profile; null when none is known.
    pub profile: Option<ProfileView>,
    /// The publisher.
    pub publisher: PublisherId,
    /// Other publishers whose profile claims a name that reads the same.
    pub same_name_as: Vec<PublisherId>,
}

/// A profile in the API, keys in byte order (`texts` are written `lang`,
/// `name`, `about`, as the protocol has them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    /// How to reach the publisher, for people; may be empty.
    pub contact: String,
    /// When it was signed (Unix seconds).
    pub created: u64,
    /// Links.
    pub links: Vec<String>,
    /// Its version.
    pub seq: u64,
    /// Display name and description per language.
    pub texts: Vec<ProfileText>,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        Self {
            contact: p.contact.clone(),
            created: p.created,
            links: p.links.clone(),
            seq: p.seq,
            texts: p.texts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{api_example, doc_example};

    #[test]
    fn the_documented_name_and_profile_examples_read() {
        let n: NamesResponse = doc_example(&api_example("### `GET /v1/names`", 0), &[]);
        assert_eq!(n.names[0].name.petname.as_deref(), Some("Water coalition"));
        let b: NameBody = serde_json::from_str(&api_example("### `POST /v1/name`", 0)).unwrap();
        assert!(b.name.is_some());
        let _: NamedPublisher = doc_example(&api_example("### `POST /v1/name`", 1), &[]);
        let body: ProfileBody =
            serde_json::from_str(&api_example("### `POST /v1/profile`", 0)).unwrap();
        assert_eq!(body.lang.as_deref(), Some("es"));
        let r: ProfileResponse = doc_example(&api_example("### `POST /v1/profile`", 1), &[]);
        assert_eq!(r.profile.unwrap().seq, 2);
    }

    #[test]
    fn a_name_is_shown_as_petname_then_claim_then_fingerprint() {
        let mut n = PublisherName {
            fingerprint: "a-b-c-d-e".into(),
            petname: None,
            profile_name: None,
            same_name: false,
        };
        assert_eq!(n.display(), "a-b-c-d-e");
        n.profile_name = Some("Coalition".into());
        n.same_name = true;
        assert_eq!(
            n.display(),
            "~Coalition, its own claim (a-b-c-d-e) [another key claims this name]"
        );
        n.petname = Some("Mine".into());
        assert_eq!(n.display(), "Mine (a-b-c-d-e)");
    }
}
