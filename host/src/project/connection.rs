//! The settings of each connection kind, checked at deploy so a typo in a
//! URL or an unknown setting is refused before anything runs. Issue 5's
//! host capabilities open connections from the same types.

use crate::store::model::{ConnectionKind, ConnectionRecord};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A SQL database: `sqlite:`, `postgres:` or `mysql:` (MariaDB too).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    /// The database URL with its credentials; a relative `sqlite:` path
    /// is a file in the server's data directory (see [`Self::url_in`]).
    pub url: String,
    /// How many connections the node's pool keeps open at most (10).
    #[serde(default)]
    pub max_connections: Option<u32>,
}

impl SqlConfig {
    /// The URL to connect to on a server whose data directory is
    /// `data_dir`: a relative `sqlite:` path (`sqlite:todo.db`) names a
    /// file there, created on first use, so an embedded database works on
    /// any server without knowing its directories (as PocketBase keeps its
    /// data in `pb_data`). Absolute paths, `:memory:` and other databases
    /// are taken as written.
    pub fn url_in(&self, data_dir: &std::path::Path) -> String {
        let Some(rest) = self.url.strip_prefix("sqlite:") else {
            return self.url.clone();
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path.starts_with('/') || path.starts_with(':') {
            return self.url.clone();
        }
        let options = if options.split('&').any(|o| o.starts_with("mode=")) {
            options.to_owned()
        } else if options.is_empty() {
            "mode=rwc".to_owned()
        } else {
            format!("{options}&mode=rwc")
        };
        format!("sqlite://{}?{options}", data_dir.join(path).display())
    }
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

/// Checks a connection's settings for its kind.
pub fn check(record: &ConnectionRecord) -> Result<(), String> {
    match record.kind {
        ConnectionKind::Sql => sql(record).map(|_| ()),
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

#[cfg(test)]
mod tests {
    use super::SqlConfig;
    use std::path::Path;

    fn url(url: &str) -> String {
        SqlConfig {
            url: url.into(),
            max_connections: None,
        }
        .url_in(Path::new("/srv/fusio"))
    }

    #[test]
    fn a_relative_sqlite_path_lives_in_the_data_directory() {
        assert_eq!(
            url("sqlite:todo.db"),
            "sqlite:///srv/fusio/todo.db?mode=rwc"
        );
        assert_eq!(
            url("sqlite://app/todo.db"),
            "sqlite:///srv/fusio/app/todo.db?mode=rwc"
        );
        assert_eq!(
            url("sqlite:todo.db?mode=ro"),
            "sqlite:///srv/fusio/todo.db?mode=ro"
        );
        assert_eq!(
            url("sqlite:todo.db?cache=shared"),
            "sqlite:///srv/fusio/todo.db?cache=shared&mode=rwc"
        );
    }

    #[test]
    fn absolute_paths_memory_and_other_databases_stay_as_written() {
        for kept in [
            "sqlite:///var/lib/todo.db",
            "sqlite:/var/lib/todo.db",
            "sqlite::memory:",
            "postgres://app@db/app",
            "mysql://root@db/app",
        ] {
            assert_eq!(url(kept), kept);
        }
    }
}
