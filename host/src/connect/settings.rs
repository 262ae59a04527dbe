//! The settings of each connection kind, checked at deploy so a typo in a
//! URL or an unknown setting is refused before anything runs; the host's
//! capabilities open connections from the same types.

use crate::confine::Confinement;
use crate::store::model::{ConnectionKind, ConnectionRecord};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A SQL database: `sqlite:`, `postgres:` or `mysql:` (MariaDB too).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    /// The database URL with its credentials; a relative `sqlite:` path
    /// is a file in the server's connections directory (see
    /// [`Confinement::sql_target`]).
    pub url: String,
    /// How many connections the node's pool keeps open at most (10).
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// The most rows one query may answer (100 000); more is an error.
    #[serde(default)]
    pub max_rows: Option<u64>,
    /// The most bytes of values one query may answer (16 MiB).
    #[serde(default)]
    pub max_result: Option<bytesize::ByteSize>,
}

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

/// A Redis server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://` or `rediss://`.
    pub url: String,
}

/// An AMQP broker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// `amqp://` or `amqps://`.
    pub url: String,
}

fn typed<T: serde::de::DeserializeOwned>(config: &serde_json::Value) -> Result<T, String> {
    serde_json::from_value(config.clone()).map_err(|e| format!("config: {e}"))
}

fn scheme_of(url: &str, allowed: &[&str]) -> Result<(), String> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    if allowed.contains(&scheme) {
        Ok(())
    } else {
        Err(format!(
            "config.url must start with {} (got `{}`)",
            allowed
                .iter()
                .map(|s| format!("{s}:"))
                .collect::<Vec<_>>()
                .join(", "),
            scheme
        ))
    }
}

/// The SQL settings of `record`, or why it has none.
pub fn sql(record: &ConnectionRecord) -> Result<SqlConfig, String> {
    if record.kind != ConnectionKind::Sql {
        return Err(format!("`{}` is not a SQL connection", record.name));
    }
    let config: SqlConfig = typed(&record.config)?;
    scheme_of(
        &config.url,
        &["sqlite", "postgres", "postgresql", "mysql", "mariadb"],
    )?;
    Ok(config)
}

/// Checks a connection's settings for its kind, and that it reaches only
/// what `confinement` lets a user connection reach.
pub fn check(record: &ConnectionRecord, confinement: &Confinement) -> Result<(), String> {
    match record.kind {
        ConnectionKind::Sql => confinement.sql_target(&sql(record)?.url).map(|_| ()),
        ConnectionKind::Http => {
            let config: HttpConfig = typed(&record.config)?;
            let url = reqwest::Url::parse(&config.url)
                .map_err(|e| format!("config.url is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err("config.url must be http: or https:".into());
            }
            for name in config.headers.keys() {
                http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("config.headers: `{name}` is not a header name"))?;
            }
            Ok(())
        }
        ConnectionKind::Redis => {
            let config: RedisConfig = typed(&record.config)?;
            scheme_of(&config.url, &["redis", "rediss"])
        }
        ConnectionKind::Amqp => {
            let config: AmqpConfig = typed(&record.config)?;
            scheme_of(&config.url, &["amqp", "amqps"])
        }
    }
}
