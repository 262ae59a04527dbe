//! What every kind of connection implements (`Kind`) and shares: its
//! settings are read into the kind's own type (unknown settings refused)
//! and checked at deploy, so a typo in a URL or a setting is refused before
//! anything runs; the kind opens its connections from the same type.

use super::Pools;
use crate::confine::Confinement;
use crate::runtime::{BoxFuture, Connection};
use crate::store::model::ConnectionRecord;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// What the server does with connections of one kind.
pub trait Kind: Sync {
    /// Why `record`'s settings cannot be served (a deploy refuses the
    /// project naming the connection), checked before anything runs.
    fn check(
        &self,
        record: &ConnectionRecord,
        confinement: &Confinement,
    ) -> Result<(), SettingsError>;

    /// The connection as a revision serves it: opened on first use from
    /// the node's `pools`. No statement or call may outlast
    /// `longest_call`, the longest timeout of the actions granted it.
    fn serve(
        &self,
        record: ConnectionRecord,
        pools: Arc<Pools>,
        longest_call: Duration,
    ) -> Connection;

    /// Whether it works, and what was done to find out (`Err`: why not).
    fn test<'a>(
        &self,
        record: &'a ConnectionRecord,
        confinement: &'a Confinement,
    ) -> BoxFuture<'a, Result<String, NotWorking>>;
}

/// Why a connection's settings cannot be served; the text names the
/// setting (`config.url`, `config.headers`, …) so a deploy can say it
/// with the connection's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The settings do not read as the kind's (a missing or unknown
    /// setting, a wrong type).
    #[error("config: {0}")]
    Unreadable(String),
    /// A setting has a value the kind cannot use.
    #[error("{0}")]
    Invalid(String),
    /// The connection would reach what user connections may not.
    #[error("{0}")]
    Confined(#[from] crate::confine::Unreachable),
}

/// `config` as the kind's settings type.
pub fn typed<T: DeserializeOwned>(config: &serde_json::Value) -> Result<T, SettingsError> {
    serde_json::from_value(config.clone()).map_err(|e| SettingsError::Unreadable(e.to_string()))
}

/// Refuses a URL whose scheme is not one of `allowed`.
pub fn scheme_of(url: &str, allowed: &[&str]) -> Result<(), SettingsError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    if allowed.contains(&scheme) {
        return Ok(());
    }
    let allowed = allowed
        .iter()
        .map(|s| format!("{s}:"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(SettingsError::Invalid(format!(
        "config.url must start with {allowed} (got `{scheme}`)"
    )))
}

/// Why a connection does not work, as its test found (a refused login, no
/// answer, a failed `SELECT 1`): said to the administrator as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotWorking(pub String);

impl From<String> for NotWorking {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

/// Settings that are a URL and nothing more (Redis, AMQP).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlOnly {
    /// Where the server is, with its credentials.
    pub url: String,
}

/// `record`'s settings as a URL with one of `schemes`.
pub fn url_only(record: &ConnectionRecord, schemes: &[&str]) -> Result<UrlOnly, SettingsError> {
    let config: UrlOnly = typed(&record.config)?;
    scheme_of(&config.url, schemes)?;
    Ok(config)
}
