//! Signing this node's publisher's profile (`weft profile set`), and how a
//! publisher's profile is shown (`GET /v1/profile/{publisher}`).

use weft_protocol::api::{ProfileBody, ProfileResponse, ProfileView};
use weft_protocol::manifest::normalize_lang;
use weft_protocol::{CatalogEntry, Profile, ProfileText, PublisherId, SignedProfile, VERSION};

use crate::catalog::Added;
use crate::clock::now_secs;
use crate::error::NodeError;
use crate::node::Node;

/// A publisher's profile as this node knows it.
pub fn show(node: &Node, publisher: PublisherId) -> ProfileResponse {
    let profile = node.catalog.profile(&publisher);
    ProfileResponse {
        entry: node.catalog.profile_key(&publisher),
        name: node.describe(&publisher, None),
        profile: profile.as_ref().map(ProfileView::from),
        publisher,
        same_name_as: node.catalog.same_name(&publisher, None),
    }
}

/// Signs and spreads a new version of this node's publisher's profile:
/// `body` sets one language's name and description (the others stay), and
/// the links and contact when it gives them.
pub async fn set(node: &Node, body: ProfileBody) -> Result<ProfileResponse, NodeError> {
    let lang = body.lang.as_deref().unwrap_or("und");
    let lang = normalize_lang(lang)
        .ok_or_else(|| NodeError::BadRequest(format!("{lang:?} is not a language tag (BCP 47)")))?;
    let signer = node.signing_key(body.passphrase).await?;
    let current = node.catalog.profile(&signer.identity);
    let mut texts: Vec<ProfileText> = current
        .as_ref()
        .map(|p| p.texts.clone())
        .unwrap_or_default();
    texts.retain(|t| t.lang != lang);
    texts.push(ProfileText {
        lang,
        name: body.name,
        about: body.about,
    });
    texts.sort_by(|a, b| a.lang.as_bytes().cmp(b.lang.as_bytes()));
    let profile = Profile {
        v: VERSION,
        seq: match &current {
            None => 1,
            Some(p) => p.seq.checked_add(1).ok_or_else(|| {
                NodeError::Conflict("the current profile's seq is at its maximum".into())
            })?,
        },
        links: body
            .links
            .or_else(|| current.as_ref().map(|p| p.links.clone()))
            .unwrap_or_default(),
        texts,
        contact: body
            .contact
            .or_else(|| current.as_ref().map(|p| p.contact.clone()))
            .unwrap_or_default(),
        created: now_secs(),
        publisher: signer.identity,
    };
    let signed = SignedProfile::sign(profile, &signer.key)
        .map_err(|e| NodeError::BadRequest(format!("the profile: {e}")))?;
    let entry = CatalogEntry::Profile(signed.clone());
    let catalog = node.catalog.clone();
    match node.blocking(move |s| catalog.add_entry(s, &entry)).await? {
        Added::New | Added::Known => {}
        other => {
            return Err(NodeError::Internal(format!(
                "this node's catalog did not keep its own profile: {other:?}"
            )))
        }
    }
    if let Err(e) = node.net.announce(signed.bytes().to_vec()).await {
        tracing::info!(error = %e, "profile not gossiped now; catch-up will carry it");
    }
    Ok(show(node, signer.identity))
}
