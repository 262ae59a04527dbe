//! Built-in actions: endpoints that need no code, configured in fusio.yml
//! (`builtin: static` with its `config:`). Each is a script Fusio ships,
//! run on its JavaScript engine like any script action — so a built-in
//! gets exactly the sandbox, limits, grants and logging of an action, and
//! no request reaches host code written for it. Here each one's
//! configuration is checked at deploy (unknown keys and wrong types
//! refused, naming the key) and turned into the config its script reads.

mod proxy;
mod sql_query;
mod sql_table;
mod static_answer;

use crate::store::model::ConnectionKind;
use crate::tables::Dialect;
use serde_json::Value;
use std::collections::BTreeMap;

/// A built-in's script and the config its script reads.
#[derive(Debug)]
pub struct Expanded {
    /// The JavaScript the action runs.
    pub script: &'static str,
    /// Its configuration, each value as the script reads it.
    pub config: BTreeMap<String, String>,
    /// The connection it uses, which the action is granted with it.
    pub connection: Option<String>,
}

/// What the project says of its connection `name`: its kind and URL, or
/// `None` when it has no such connection.
pub type Connections<'a> = &'a dyn Fn(&str) -> Option<(ConnectionKind, String)>;

/// The built-ins there are, for messages.
pub const BUILTINS: &[&str] = &["static", "sql-query", "sql-table", "proxy"];

/// The built-in `name` configured with `config`, or why not.
pub fn expand(
    name: &str,
    config: &BTreeMap<String, Value>,
    connections: Connections<'_>,
) -> Result<Expanded, String> {
    match name {
        "static" => static_answer::expand(config),
        "sql-query" => sql_query::expand(config, connections),
        "sql-table" => sql_table::expand(config, connections),
        "proxy" => proxy::expand(config, connections),
        other => Err(format!(
            "`{other}` is not a built-in action (there are: {})",
            BUILTINS.join(", ")
        )),
    }
}

/// Refuses a key `builtin` does not take, naming it and those it takes.
fn refuse_unknown(
    config: &BTreeMap<String, Value>,
    known: &[&str],
    builtin: &str,
) -> Result<(), String> {
    match config.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "config.{key}: `{builtin}` takes {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// The non-empty text under `key`.
fn text(config: &BTreeMap<String, Value>, key: &str) -> Result<String, String> {
    match config.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(format!("config.{key}: text is needed")),
    }
}

/// The text under `key`, when it is given.
fn optional_text(config: &BTreeMap<String, Value>, key: &str) -> Result<Option<String>, String> {
    match config.get(key) {
        None => Ok(None),
        Some(_) => text(config, key).map(Some),
    }
}

/// The connection under `config.connection`, which must be of `kind`;
/// answers its name and URL.
fn connection_of(
    config: &BTreeMap<String, Value>,
    connections: Connections<'_>,
    kind: ConnectionKind,
) -> Result<(String, String), String> {
    let name = text(config, "connection")?;
    match connections(&name) {
        Some((found, url)) if found == kind => Ok((name, url)),
        Some(_) => Err(format!(
            "config.connection: `{name}` is not {} connection",
            match kind {
                ConnectionKind::Sql => "a SQL",
                ConnectionKind::Http => "an HTTP",
                ConnectionKind::Redis => "a Redis",
                ConnectionKind::Amqp => "an AMQP",
            }
        )),
        None => Err(format!("config.connection: no connection `{name}`")),
    }
}

/// The dialect of the SQL connection under `config.connection`.
fn sql_connection(
    config: &BTreeMap<String, Value>,
    connections: Connections<'_>,
) -> Result<(String, Dialect), String> {
    connection_of(config, connections, ConnectionKind::Sql)
        .map(|(name, url)| (name, Dialect::of_url(&url)))
}

/// A SQL identifier a built-in puts into its statements (quoted there):
/// letters, digits and `_`, not starting with a digit.
fn identifier(config: &BTreeMap<String, Value>, key: &str) -> Result<Option<String>, String> {
    config
        .get(key)
        .map(|value| sql_name(value, &format!("config.{key}")))
        .transpose()
}

/// [`identifier`] for one value, its place in the config being `at`.
fn sql_name(value: &Value, at: &str) -> Result<String, String> {
    let name = match value {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        _ => return Err(format!("{at}: text is needed")),
    };
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if well_formed {
        Ok(name)
    } else {
        Err(format!(
            "{at}: `{name}` is not a name of letters, digits and `_`"
        ))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A config from JSON.
    pub fn config(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    /// A project with `App` at `url` (kind SQL) and `Api` (HTTP).
    pub fn project(url: &'static str) -> impl Fn(&str) -> Option<(ConnectionKind, String)> {
        move |name: &str| match name {
            "App" => Some((ConnectionKind::Sql, url.to_owned())),
            "Api" => Some((ConnectionKind::Http, "http://127.0.0.1:1".to_owned())),
            _ => None,
        }
    }

    #[test]
    fn an_unknown_builtin_is_refused_listing_those_there_are() {
        let err = expand("nope", &config(serde_json::json!({})), &project("sqlite:x")).unwrap_err();
        assert!(
            err.contains("not a built-in") && err.contains("sql-table"),
            "{err}"
        );
    }
}
