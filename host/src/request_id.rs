//! The request id: set on every request by the outermost layer (and echoed
//! as `X-Request-Id`), carried by every problem and every log line about
//! the request. Ground floor: every layer above may read it.

/// The request id that the request-id layer put on the request.
pub fn request_id(headers: &http::HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}
