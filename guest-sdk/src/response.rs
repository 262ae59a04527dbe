//! The response an action answers with.

use crate::Error;
use crate::bindings::fusio::action::types as raw;
use serde::Serialize;

/// A response: status, headers and body, built like Fusio's
/// `$response->build(status, headers, body)`.
///
/// ```no_run
/// # use fusio_sdk::Response;
/// let created = Response::new(201).header("Location", "/todo/42");
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// An empty response with `status`.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// let no_content = Response::new(204);
    /// ```
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `value` serialized as JSON with `Content-Type: application/json`.
    /// Serialization only fails for values JSON cannot hold (maps with
    /// non-string keys), which is the action's fault: a 500.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// let ok = Response::json(200, &serde_json::json!({ "success": true }));
    /// ```
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|err| Error::internal(format!("the response is not serializable: {err}")))?;
        Ok(Self::new(status)
            .header("content-type", "application/json")
            .body(body))
    }

    /// `text` with `Content-Type: text/plain; charset=utf-8`.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// let pong = Response::text(200, "pong");
    /// ```
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(text.into().into_bytes())
    }

    /// Adds a header; the host refuses names and values HTTP does not allow.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// let cached = Response::text(200, "hi").header("Cache-Control", "max-age=60");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// let png = Response::new(200).header("Content-Type", "image/png").body(vec![0x89, b'P', b'N', b'G']);
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Fusio's `$response->build(status, headers, body)`: the host checks
    /// the status and every header now, so a mistake is an error here (a
    /// 500 naming it in the log) instead of an answer the gateway refuses.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// # fn run() -> Result<Response, fusio_sdk::Error> {
    /// Response::build(201, &[("Location", "/todo/42")], b"{}")
    /// # }
    /// ```
    pub fn build(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<Self, Error> {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        crate::bindings::fusio::action::response::build(status, &headers, body)
            .map(Self::from_raw)
            .map_err(|reason| Error::internal(format!("the response cannot be built: {reason}")))
    }

    /// The status code.
    ///
    /// ```no_run
    /// # use fusio_sdk::Response;
    /// assert_eq!(Response::new(202).status(), 202);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    pub(crate) fn from_raw(raw: raw::Response) -> Self {
        Self {
            status: raw.status,
            headers: raw.headers,
            body: raw.body,
        }
    }

    /// The headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    pub(crate) fn into_raw(self) -> raw::Response {
        raw::Response {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}
