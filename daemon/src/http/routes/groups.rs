//! Private groups: `GET /v1/groups`, `POST /v1/group`, `GET
//! /v1/groups/{group}`, `POST /v1/groups/{group}/add`, `POST
//! /v1/groups/{group}/remove`, `POST /v1/groups/{group}/rekey`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use weft_protocol::api::{GroupCreateBody, GroupMemberBody, GroupView, GroupsResponse};

use crate::http::error::ApiResult;
use crate::http::{parse_body, ApiState};
use crate::ops::group;

/// `GET /v1/groups`: every group this node knows of.
pub(crate) async fn groups(State(st): State<ApiState>) -> ApiResult<GroupsResponse> {
    st.node.catalog.ready().await;
    Ok(Json(group::list(&st.node).await))
}

/// `POST /v1/group`: found a group.
pub(crate) async fn create_group(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<GroupView> {
    let b: GroupCreateBody = parse_body(&headers, &body)?;
    Ok(Json(group::create(&st.node, b).await?))
}

/// `GET /v1/groups/{group}`: one group.
pub(crate) async fn show_group(
    State(st): State<ApiState>,
    Path(g): Path<String>,
) -> ApiResult<GroupView> {
    st.node.catalog.ready().await;
    Ok(Json(group::show(&st.node, &g).await?))
}

/// `POST /v1/groups/{group}/add`: add a member.
pub(crate) async fn add_member(
    State(st): State<ApiState>,
    Path(g): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<GroupView> {
    let b: GroupMemberBody = parse_body(&headers, &body)?;
    Ok(Json(group::add(&st.node, &g, b).await?))
}

/// `POST /v1/groups/{group}/rekey`: start a new epoch, same members.
pub(crate) async fn rekey_group(
    State(st): State<ApiState>,
    Path(g): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<GroupView> {
    let b: weft_protocol::api::GroupRekeyBody = parse_body(&headers, &body)?;
    Ok(Json(group::rekey(&st.node, &g, b).await?))
}

/// `POST /v1/groups/{group}/remove`: remove a member.
pub(crate) async fn remove_member(
    State(st): State<ApiState>,
    Path(g): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<GroupView> {
    let b: GroupMemberBody = parse_body(&headers, &body)?;
    if b.history || b.admin {
        return Err(crate::http::error::bad(
            "history and admin are for adding a member",
        ));
    }
    Ok(Json(group::remove(&st.node, &g, b).await?))
}
