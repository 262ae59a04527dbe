//! RFC 9457 problem details: the one shape of every error response (the
//! OAuth2 endpoints excepted). 5xx details never carry internal text.

use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem response under construction.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// What few problems have, boxed so the common problem stays small.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    extra: Option<Box<Extra>>,
}

/// Extension members and response headers of a problem.
#[derive(Debug, Clone, Default, Serialize)]
struct Extra {
    /// RFC 9457 extension members, e.g. `problems` listing refused entries.
    #[serde(flatten)]
    extensions: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    /// A problem with `status`, titled with its canonical reason.
    pub fn new(status: StatusCode) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            request_id: None,
            extra: None,
        }
    }

    /// Replaces the title (for statuses with their own meaning).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Says what went wrong this time.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Ties the problem to the request's log entries.
    pub fn request_id(mut self, request_id: Option<&str>) -> Self {
        self.request_id = request_id.map(str::to_owned);
        self
    }

    /// Adds an extension member (RFC 9457 3.2) with machine-readable
    /// details, e.g. the list of refused entries of a deploy.
    pub fn extension(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_default()
            .extensions
            .insert(name.to_owned(), value);
        self
    }

    /// Adds a response header (e.g. `Retry-After`, `Allow`).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra
            .get_or_insert_default()
            .headers
            .push((name, value));
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl Problem {
    /// The problem+json document.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a problem always serializes")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.extra.map(|extra| extra.headers).unwrap_or_default() {
            headers.append(name, value);
        }
        response
    }
}
