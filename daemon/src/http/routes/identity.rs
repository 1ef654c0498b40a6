//! `GET /v1/identity` and the root's key events: `POST /v1/identity/device`,
//! `/v1/identity/revoke`, `/v1/identity/rotate` (`crate::ops::identity`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use weft_protocol::api::{
    DeviceBody, IdentityInfo, KeyEventsMade, RevokeBody, RotateBody, UpgradeBody, UpgradeResult,
};

use crate::http::error::ApiResult;
use crate::http::{parse_body, ApiState};
use crate::ops::identity;

/// `GET /v1/identity`: who this node signs as.
pub(crate) async fn show_identity(State(st): State<ApiState>) -> ApiResult<IdentityInfo> {
    Ok(Json(identity::info(&st.node).await?))
}

/// `POST /v1/identity/device`: certify a device.
pub(crate) async fn certify_device(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<KeyEventsMade> {
    let b: DeviceBody = parse_body(&headers, &body)?;
    Ok(Json(identity::certify(&st.node, b).await?))
}

/// `POST /v1/identity/revoke`: revoke a device.
pub(crate) async fn revoke_device(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<KeyEventsMade> {
    let b: RevokeBody = parse_body(&headers, &body)?;
    Ok(Json(identity::revoke(&st.node, b).await?))
}

/// `POST /v1/identity/rotate`: replace the root.
pub(crate) async fn rotate_root(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<KeyEventsMade> {
    let b: RotateBody = parse_body(&headers, &body)?;
    Ok(Json(identity::rotate(&st.node, b).await?))
}

/// `POST /v1/identity/upgrade`: a single key becomes an identity's root.
pub(crate) async fn upgrade_identity(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<UpgradeResult> {
    let b: UpgradeBody = parse_body(&headers, &body)?;
    Ok(Json(identity::upgrade(&st.node, b).await?))
}
