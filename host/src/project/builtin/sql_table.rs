//! `sql-table`: a REST resource over one table. Its columns are not in the
//! config: each node reads them from the database when it loads the
//! revision, after the deploy's migrations (`crate::tables`).

use super::{Expanded, identifier, refuse_unknown, sql_connection, sql_name};
use serde_json::Value;
use std::collections::BTreeMap;

/// `sql-table`: `connection` (a SQL connection of the project), `table`,
/// `primaryKey` (the table's own when not said), `fragment` (the uri
/// fragment naming a row, `id` when not said), `columns` (the columns it
/// serves; every one when not said).
pub(super) fn expand(
    config: &BTreeMap<String, Value>,
    connections: super::Connections<'_>,
) -> Result<Expanded, String> {
    refuse_unknown(
        config,
        &["connection", "table", "primaryKey", "fragment", "columns"],
        "sql-table",
    )?;
    let (connection, dialect) = sql_connection(config, connections)?;
    let table = identifier(config, "table")?.ok_or("config.table: text is needed")?;
    let mut expanded: BTreeMap<String, String> = [
        ("connection".to_owned(), connection.clone()),
        ("table".to_owned(), table),
        ("dialect".to_owned(), dialect.name().to_owned()),
        (
            "fragment".to_owned(),
            identifier(config, "fragment")?.unwrap_or_else(|| "id".to_owned()),
        ),
    ]
    .into();
    if let Some(key) = identifier(config, "primaryKey")? {
        expanded.insert("primaryKey".to_owned(), key);
    }
    match config.get("columns") {
        None => {}
        Some(Value::Array(listed)) if !listed.is_empty() => {
            let mut names = Vec::with_capacity(listed.len());
            for (i, name) in listed.iter().enumerate() {
                let name = sql_name(name, &format!("config.columns[{i}]"))?;
                if names.contains(&name) {
                    return Err(format!("config.columns[{i}]: `{name}` is listed twice"));
                }
                names.push(name);
            }
            expanded.insert(
                "served".to_owned(),
                serde_json::to_string(&names).unwrap_or_default(),
            );
        }
        Some(_) => return Err("config.columns: a list of column names".into()),
    }
    Ok(Expanded {
        script: include_str!("../../../engines/builtins/sql-table.js"),
        config: expanded,
        connection: Some(connection),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::builtin::tests::{config, project};
    use serde_json::json;

    #[test]
    fn a_table_is_named_by_a_plain_identifier_on_a_sql_connection() {
        let made = expand(
            &config(json!({ "connection": "App", "table": "todo" })),
            &project("postgres://u@h/db"),
        )
        .unwrap();
        assert_eq!(made.config["table"], "todo");
        assert_eq!(made.config["dialect"], "postgres");
        assert_eq!(made.config["fragment"], "id");
        assert!(!made.config.contains_key("primaryKey"));
        assert!(!made.config.contains_key("served"));
        let listed = expand(
            &config(json!({ "connection": "App", "table": "todo", "columns": ["id", "title"] })),
            &project("sqlite://x.db"),
        )
        .unwrap();
        assert_eq!(listed.config["served"], r#"["id","title"]"#);
        assert_eq!(made.connection.as_deref(), Some("App"));
        for (bad, says) in [
            (json!({ "connection": "App" }), "config.table"),
            (
                json!({ "connection": "App", "table": "todo; DROP TABLE x" }),
                "config.table: `todo; DROP TABLE x` is not a name",
            ),
            (
                json!({ "connection": "App", "table": "t", "primaryKey": "a\"b" }),
                "config.primaryKey",
            ),
            (
                json!({ "connection": "Api", "table": "t" }),
                "config.connection: `Api` is not a SQL connection",
            ),
            (
                json!({ "connection": "App", "table": "t", "column": ["a"] }),
                "config.column: `sql-table` takes",
            ),
            (
                json!({ "connection": "App", "table": "t", "columns": "a, b" }),
                "config.columns: a list",
            ),
            (
                json!({ "connection": "App", "table": "t", "columns": ["a", "b c"] }),
                "config.columns[1]: `b c` is not a name",
            ),
            (
                json!({ "connection": "App", "table": "t", "columns": ["a", "a"] }),
                "config.columns[1]: `a` is listed twice",
            ),
        ] {
            let err = expand(&config(bad.clone()), &project("sqlite://x.db")).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
    }
}
