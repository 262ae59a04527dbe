//! The settings of an HTTP connection, read by its kind at deploy and by
//! its client when it opens.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// An HTTP API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The base URL requests are relative to.
    pub url: String,
    /// Headers sent with every request (e.g. an API key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How long one request may take.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Whether private and loopback addresses may be called.
    #[serde(default)]
    pub allow_private: bool,
    /// The largest answer body read (16 MiB): the host buffers it before
    /// the guest sees it, so an endless or huge answer must stop somewhere.
    #[serde(default)]
    pub max_response: Option<bytesize::ByteSize>,
}
