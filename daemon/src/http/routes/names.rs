//! Petnames (`GET /v1/names`, `POST /v1/name`, `POST /v1/unname`) and
//! profiles (`POST /v1/profile`, `GET /v1/profile/{publisher}`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use weft_protocol::api::{NameBody, NamedPublisher, NamesResponse, ProfileBody, ProfileResponse};

use crate::error::NodeError;
use crate::http::error::{bad, ApiResult};
use crate::http::{parse_body, ApiState};

/// `GET /v1/names`: every petname.
pub(crate) async fn names(State(st): State<ApiState>) -> ApiResult<NamesResponse> {
    let mut names: Vec<NamedPublisher> = st
        .node
        .names
        .all()
        .into_iter()
        .map(|(p, _)| NamedPublisher {
            name: st.node.describe(&p, None),
            publisher: p,
        })
        .collect();
    names.sort_by(|a, b| a.name.petname.cmp(&b.name.petname));
    Ok(Json(NamesResponse { names }))
}

/// Tells the trust tiers which publishers are named.
fn push_named(st: &ApiState) {
    let named = st.node.names.all().into_iter().map(|(p, _)| p).collect();
    st.node.catalog.trust().update(|t| t.named = named);
}

/// `POST /v1/name`: give a publisher a name.
pub(crate) async fn name(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<NamedPublisher> {
    let b: NameBody = parse_body(&headers, &body)?;
    let Some(name) = b.name else {
        return Err(bad("give the name"));
    };
    let publisher = st.node.resolve_publisher(&b.publisher)?;
    let names = st.node.names.clone();
    st.node
        .blocking_node(move |s| names.set(s, publisher, &name))
        .await?;
    push_named(&st);
    Ok(Json(NamedPublisher {
        name: st.node.describe(&publisher, None),
        publisher,
    }))
}

/// `POST /v1/unname`: forget a publisher's name.
pub(crate) async fn unname(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<NamedPublisher> {
    let b: NameBody = parse_body(&headers, &body)?;
    if b.name.is_some() {
        return Err(bad("give only the publisher"));
    }
    let publisher = st.node.resolve_publisher(&b.publisher)?;
    let names = st.node.names.clone();
    let had = st
        .node
        .blocking(move |s| names.remove(s, &publisher))
        .await?;
    if !had {
        return Err(NodeError::NotFound(format!("{publisher} has no name here")).into());
    }
    push_named(&st);
    Ok(Json(NamedPublisher {
        name: st.node.describe(&publisher, None),
        publisher,
    }))
}

/// `POST /v1/profile`: sign and spread this node's publisher's profile.
pub(crate) async fn set_profile(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ProfileResponse> {
    let b: ProfileBody = parse_body(&headers, &body)?;
    Ok(Json(crate::ops::profile::set(&st.node, b).await?))
}

/// `GET /v1/profile/{publisher}`: a publisher's profile.
pub(crate) async fn show_profile(
    State(st): State<ApiState>,
    Path(publisher): Path<String>,
) -> ApiResult<ProfileResponse> {
    let publisher = st.node.resolve_publisher(&publisher)?;
    st.node.catalog.ready().await;
    Ok(Json(crate::ops::profile::show(&st.node, publisher)))
}
