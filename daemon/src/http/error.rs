//! API errors: an HTTP status and one sentence for a person. The one
//! place where a domain error ([`NodeError`]) becomes a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use weft_protocol::api::ErrorResponse;

use crate::error::{ErrorKind, NodeError};

/// The status an error of this kind answers with.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An API error: an HTTP status and one sentence for a person.
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// An error with this status and sentence.
    pub fn new(status: StatusCode, msg: String) -> Self {
        Self(status, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorResponse { error: self.1 })).into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        ApiError(status_of(e.kind()), e.to_string())
    }
}

/// A 400 with this sentence.
pub fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

/// What a JSON handler returns: one of the typed responses of
/// [`weft_protocol::api`].
pub type ApiResult<T> = Result<Json<T>, ApiError>;
