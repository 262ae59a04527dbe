//! What the built-in `sql-table` action needs of its table, read from the
//! database when a node loads a revision (after the deploy's migrations
//! ran): the columns, so that a request names only real ones. The action's
//! script gets them as `config.columns`; nothing is stored, so every node
//! reads its own database and a table changed by a migration is read anew.

mod columns;
mod dialect;

pub use columns::{Column, ColumnsError, Kind};
pub use dialect::Dialect;

use crate::runtime::{Capabilities, Connection, ConnectorError, LoadedAction};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The name of the built-in this module serves.
pub const SQL_TABLE: &str = "sql-table";

/// An action whose table could not be read, and why.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct Unread {
    /// The action.
    pub action: String,
    /// Why (no such table, no primary key, the database unreachable).
    pub reason: String,
}

/// Reads the table of every `sql-table` action in `actions` that has not
/// been read yet, on a connection `wanted` accepts, and hands its columns
/// to the action; answers the actions whose table could not be read.
pub async fn read_tables(
    actions: &HashMap<String, Arc<LoadedAction>>,
    capabilities: &dyn Capabilities,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Unread> {
    let mut unread = Vec::new();
    let mut names: Vec<&String> = actions.keys().collect();
    names.sort();
    for name in names {
        let action = &actions[name];
        let spec = action.spec();
        if spec.builtin.as_deref() != Some(SQL_TABLE)
            || action.has_read_config()
            || !spec.config.get("connection").is_some_and(|c| wanted(c))
        {
            continue;
        }
        match table_of(spec, capabilities).await {
            Ok(read) => {
                action.add_read_config(read);
            }
            Err(reason) => unread.push(Unread {
                action: name.clone(),
                reason,
            }),
        }
    }
    unread
}

/// The config an `sql-table` action reads beside its own: its columns as
/// JSON, and its primary key (the one configured, else the table's own).
async fn table_of(
    spec: &crate::runtime::ActionSpec,
    capabilities: &dyn Capabilities,
) -> Result<BTreeMap<String, String>, String> {
    let setting = |key: &str| {
        spec.config
            .get(key)
            .cloned()
            .ok_or_else(|| format!("the built-in's config has no `{key}`"))
    };
    let (connection, table) = (setting("connection")?, setting("table")?);
    let dialect = match setting("dialect")?.as_str() {
        "postgres" => Dialect::Postgres,
        "mysql" => Dialect::Mysql,
        _ => Dialect::Sqlite,
    };
    let Some(Connection::Sql(sql)) = capabilities.connection(&connection) else {
        return Err(format!("`{connection}` is not a SQL connection"));
    };
    let session = sql.open().await.map_err(ConnectorError::into_reason)?;
    let mut columns = columns::read(&*session, dialect, &table)
        .await
        .map_err(|err| err.to_string())?;
    if let Some(served) = spec.config.get("served") {
        let served: Vec<String> = serde_json::from_str(served)
            .map_err(|_| "the built-in's `served` columns are not a list".to_owned())?;
        if let Some(missing) = served
            .iter()
            .find(|s| !columns.iter().any(|c| &c.name == *s))
        {
            return Err(format!(
                "config.columns: `{missing}` is not a column of `{table}` (there are: {})",
                columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        columns.retain(|c| served.contains(&c.name));
    }
    let key = match spec.config.get("primaryKey") {
        Some(key) if columns.iter().any(|c| &c.name == key) => key.clone(),
        Some(key) => {
            return Err(format!(
                "config.primaryKey: `{key}` is not a column of `{table}` it serves"
            ));
        }
        None => {
            let keys: Vec<&Column> = columns.iter().filter(|c| c.key).collect();
            match keys.as_slice() {
                [one] => one.name.clone(),
                [] => {
                    return Err(format!(
                        "`{table}` has no primary key among the columns it serves: say which column names a row (`primaryKey:`)"
                    ));
                }
                _ => {
                    return Err(format!(
                        "`{table}` has a primary key of several columns: say which column names a row (`primaryKey:`)"
                    ));
                }
            }
        }
    };
    Ok([
        (
            "columns".to_owned(),
            serde_json::to_string(&columns).unwrap_or_default(),
        ),
        ("primaryKey".to_owned(), key),
    ]
    .into())
}
