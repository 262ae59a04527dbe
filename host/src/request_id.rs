//! The request id: set on every request by the outermost layer (as the
//! `X-Request-Id` header and as a request extension, and echoed on the
//! response), carried by every problem and every log line about the
//! request. Ground floor: every layer above may read it.

use axum::extract::FromRequestParts;
use std::convert::Infallible;
use tower_http::request_id::RequestId as Stamped;

/// The request id that the request-id layer put on the request's headers.
pub fn request_id(headers: &http::HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// The request id that the request-id layer put among the request's
/// extensions: what middleware reads once the headers are out of reach.
pub fn of_extensions(extensions: &http::Extensions) -> Option<&str> {
    extensions
        .get::<Stamped>()
        .and_then(|id| id.header_value().to_str().ok())
}

/// The request id as an extractor, for the few handlers that log about the
/// request or hand its id on (to an action) while still answering it; an
/// error answer gets the id without it.
#[derive(Debug, Clone, Default)]
pub struct RequestId(Option<String>);

impl RequestId {
    /// The id, if the request-id layer ran.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(of_extensions(&parts.extensions).map(str::to_owned)))
    }
}
