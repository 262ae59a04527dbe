//! The system API answers every error as problem+json (RFC 9457), also the
//! ones axum's extractors and routers produce before a handler runs (a body
//! over the limit, a malformed query string, a method the path does not
//! have), which come as plain text or with no body at all. This middleware
//! rewrites those; bodies that already have a type (problem+json, the OAuth2
//! endpoints' JSON, the authorization page's HTML) pass untouched.

use crate::problem::Problem;
use crate::request_id::request_id;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header;

/// How much of a plain-text rejection is kept as the problem's detail.
const DETAIL_LIMIT: usize = 1024;

/// Turns plain-text and empty error answers into problem documents with
/// the request id, keeping their status and headers (e.g. `Allow`).
pub async fn as_problems(request: Request, next: Next) -> Response {
    let request_id = request_id(request.headers()).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, DETAIL_LIMIT)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&text);
    let mut problem = Problem::new(status).request_id(request_id.as_deref());
    // A 5xx text may be internal; the status says enough.
    if !detail.trim().is_empty() && status.is_client_error() {
        problem = problem.detail(detail.trim());
    }
    let mut answer = problem.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    answer.headers_mut().extend(parts.headers);
    answer
}
