//! HTTP through the connections the action was granted: requests go to the
//! connection's base URL with its default headers (an API key, say) and
//! timeout; the action never sees the credentials.
//!
//! ```no_run
//! # fn run() -> Result<(), fusio_sdk::Error> {
//! let answer = fusio_sdk::http::get("Weather", "/forecast?city=Berlin")?;
//! let forecast: serde_json::Value = answer.json()?;
//! # Ok(()) }
//! ```

use crate::Error;
use crate::bindings::fusio::action::connector as raw;
pub use raw::{ConnectorError, HttpResponse as Answer};
use serde::de::DeserializeOwned;

/// Sends a request through the connection `connection`.
pub fn send(
    connection: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer, ConnectorError> {
    raw::http_send(
        connection,
        &raw::HttpRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        },
    )
}

/// `GET path` through the connection `connection`.
pub fn get(connection: &str, path: &str) -> Result<Answer, ConnectorError> {
    send(connection, "GET", path, &[], &[])
}

impl Answer {
    /// The body decoded as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::internal(format!(
                "the service's answer is not the JSON expected: {e}"
            ))
        })
    }

    /// A header's value (names are lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
