//! The deployed project as the store keeps it: plain records that validation
//! produces, the store writes in one transaction, and the snapshot loads.
//! The same records, as JSON, are what `fusio deploy` sends and what every
//! revision keeps for a rollback.

use crate::runtime::ActionSpec;

/// A whole deployable project: every action and every route.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Actions, each with its component's sha256.
    pub actions: Vec<ActionSpec>,
    /// Routes in declaration order.
    pub routes: Vec<RouteRecord>,
    /// JSON Schemas that methods name for their request and responses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<SchemaRecord>,
    /// Connections to external services that actions may be granted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionRecord>,
    /// SQL migrations per connection, in the order they run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<MigrationRecord>,
    /// Request rates and whom they apply to. `None` in a project sent for
    /// deploy (a file without `rate:`) keeps the served revision's rates;
    /// a stored revision always says (the first gets the default rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Vec<RateRecord>>,
}

/// A rate, as PHP Fusio has it: at most `rate_limit` requests per
/// `timespan` for each caller it applies to. The highest-priority rate with
/// an allocation matching a request applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRecord {
    /// Unique name; the `RateLimit` headers carry it.
    pub name: String,
    /// Higher wins when several rates match a request.
    #[serde(default)]
    pub priority: i64,
    /// Requests per timespan, from 1.
    #[serde(rename = "rateLimit")]
    pub rate_limit: u32,
    /// The window as an ISO 8601 duration: `PT1H`, `PT1M`, `P1D`.
    pub timespan: String,
    /// Whom it applies to; a rate without allocations applies to no one.
    #[serde(default, rename = "allocation")]
    pub allocations: Vec<AllocationRecord>,
}

/// Whom a rate applies to: every field that is set must match the request
/// (an allocation with none set matches every request).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRecord {
    /// A route path of the project, as written under `routes:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// An upper-case HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The name of the app the caller's token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The name of the user the caller's token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `true`: callers with a token only; `false`: anonymous callers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<bool>,
}

/// What a connection reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    /// SQLite, PostgreSQL or MySQL/MariaDB through sqlx.
    Sql,
    /// An HTTP API under a base URL.
    Http,
    /// A Redis server.
    Redis,
    /// An AMQP broker (RabbitMQ).
    Amqp,
}

/// A named connection. Its config holds credentials: the store keeps it
/// sealed (see `secrets`), and the system API never shows it in clear.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRecord {
    /// Unique name, as actions and migrations refer to it.
    pub name: String,
    /// What it reaches.
    #[serde(rename = "type")]
    pub kind: ConnectionKind,
    /// Its settings (URL, headers, …), by kind.
    pub config: serde_json::Value,
}

/// One SQL migration file of a connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationRecord {
    /// The connection it changes.
    pub connection: String,
    /// Its name (the path as written in fusio.yml); it runs once per name.
    pub file: String,
    /// The SQL.
    pub sql: String,
}

/// A named JSON Schema document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRecord {
    /// Unique name, as methods refer to it.
    pub name: String,
    /// The schema (draft 2020-12 unless it says otherwise with `$schema`).
    pub document: serde_json::Value,
}

/// One route: a path and its versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRecord {
    /// The path in Fusio's syntax, e.g. `/todo/:id`.
    pub path: String,
    /// Its versions, ascending.
    pub versions: Vec<VersionRecord>,
    /// The browser origins that may call it, instead of the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<RouteCors>,
}

/// A route's own CORS settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCors {
    /// The origins that may call it (`*` alone: any).
    pub origins: Vec<String>,
}

/// The lifecycle of a route version, as in PHP Fusio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    /// Being built: served when asked for by number, never by default
    /// while a production version exists.
    Development,
    /// Live: the highest production version answers requests that name no
    /// version.
    #[default]
    Production,
    /// Still served, with a `Deprecation` header; clients should move on.
    Deprecated,
    /// No longer served: 410 Gone.
    Closed,
}

/// The version a request that names none gets, of `versions` in ascending
/// order: the highest in production, else the highest deprecated, else the
/// highest in development; `None` when there is none of those. The gateway
/// and the documentation both follow this one rule.
pub fn default_version<T: Copy>(
    versions: impl DoubleEndedIterator<Item = T> + Clone,
    status: impl Fn(T) -> VersionStatus,
) -> Option<T> {
    [
        VersionStatus::Production,
        VersionStatus::Deprecated,
        VersionStatus::Development,
    ]
    .into_iter()
    .find_map(|wanted| versions.clone().rev().find(|v| status(*v) == wanted))
}

/// One version of a route.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRecord {
    /// The version number, from 1.
    pub version: u32,
    /// Its lifecycle.
    #[serde(default)]
    pub status: VersionStatus,
    /// When it stops answering (a date, `2027-06-30`, or an RFC 3339
    /// time): said in every answer's `Sunset` header and in the docs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
    /// The methods it answers.
    pub methods: Vec<MethodRecord>,
}

/// One method of a route.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodRecord {
    /// Upper-case HTTP method.
    pub method: String,
    /// The name of the action that answers it.
    pub action: String,
    /// Whether anonymous callers may use it.
    #[serde(default)]
    pub public: bool,
    /// The scopes granted on it: a token must hold one of them.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The schema a request body must match, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The schema of the response body per status code, by name (for
    /// documentation and export).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub responses: std::collections::BTreeMap<u16, String>,
    /// The query parameters it declares, checked before the action runs.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, crate::query::Parameter>,
    /// The media types a request body may have (`text/*` for a family);
    /// empty: any.
    #[serde(
        default,
        rename = "contentTypes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub content_types: Vec<String>,
}

/// A project as stored, with the revision that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProject {
    /// The deploy revision; 0 when nothing was ever deployed.
    pub revision: i64,
    /// What is deployed.
    pub project: Project,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_version_is_the_highest_production_then_deprecated_then_development() {
        use VersionStatus::{Closed, Deprecated, Development, Production};
        let default = |statuses: &[VersionStatus]| {
            let numbered: Vec<(u32, VersionStatus)> = (1..).zip(statuses.iter().copied()).collect();
            default_version(numbered.iter().copied(), |(_, status)| status).map(|(n, _)| n)
        };
        assert_eq!(
            default(&[Development, Production, Production, Deprecated]),
            Some(3)
        );
        assert_eq!(default(&[Deprecated, Deprecated, Development]), Some(2));
        assert_eq!(default(&[Development, Development, Closed]), Some(2));
        assert_eq!(default(&[Closed]), None);
    }
}
