//! `sql-query`: one statement with named parameters, bound from the
//! request.

use super::{Expanded, refuse_unknown, sql_connection, text};
use crate::tables::Dialect;
use serde_json::Value;
use std::collections::BTreeMap;

/// `sql-query`: `connection` (a SQL connection of the project), `sql` (a
/// statement with `{name}` parameters), `parameters` (name to `integer`,
/// `number`, `boolean` or `string`; `string` when not said), `mode`
/// (`query`, answering the rows, or `execute`, answering how many changed).
pub(super) fn expand(
    config: &BTreeMap<String, Value>,
    connections: super::Connections<'_>,
) -> Result<Expanded, String> {
    refuse_unknown(
        config,
        &["connection", "sql", "parameters", "mode"],
        "sql-query",
    )?;
    let (connection, dialect) = sql_connection(config, connections)?;
    let (sql, names) = positional(&text(config, "sql")?, dialect)
        .map_err(|reason| format!("config.sql: {reason}"))?;
    let mut types = serde_json::Map::new();
    match config.get("parameters") {
        None => {}
        Some(Value::Object(declared)) => {
            for (name, kind) in declared {
                match kind.as_str() {
                    Some("integer" | "number" | "boolean" | "string") => {}
                    _ => {
                        return Err(format!(
                            "config.parameters.{name}: `integer`, `number`, `boolean` or `string`"
                        ));
                    }
                }
                if !names.contains(name) {
                    return Err(format!(
                        "config.parameters.{name}: the statement has no `{{{name}}}`"
                    ));
                }
                types.insert(name.clone(), kind.clone());
            }
        }
        Some(_) => return Err("config.parameters: a mapping of name to type".into()),
    }
    let mode = match config.get("mode") {
        None => "query".to_owned(),
        Some(Value::String(m)) if m == "query" || m == "execute" => m.clone(),
        Some(other) => {
            return Err(format!(
                "config.mode: {other} is neither `query` nor `execute`"
            ));
        }
    };
    Ok(Expanded {
        script: include_str!("../../../engines/builtins/sql-query.js"),
        config: [
            ("connection".to_owned(), connection.clone()),
            ("sql".to_owned(), sql),
            (
                "names".to_owned(),
                serde_json::to_string(&names).unwrap_or_default(),
            ),
            ("types".to_owned(), Value::Object(types).to_string()),
            ("mode".to_owned(), mode),
        ]
        .into(),
        connection: Some(connection),
    })
}

/// `sql` with each `{name}` replaced by the connection's next placeholder,
/// and the names in order (a name used twice is bound twice). Braces in a
/// string literal, a quoted identifier or a comment are text; any other
/// `{` must open a well-formed `{name}`.
fn positional(sql: &str, dialect: Dialect) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        let quoted = match c {
            '\'' | '"' | '`' => Some(c),
            _ => None,
        };
        let skipped = if let Some(quote) = quoted {
            literal_end(rest, quote, dialect)
        } else if rest.starts_with("--") {
            rest.find('\n').map_or(rest.len(), |n| n + 1)
        } else if let Some(comment) = rest.strip_prefix("/*") {
            comment.find("*/").map_or(rest.len(), |n| n + 4)
        } else if c == '{' {
            let close = rest.find('}');
            let name = close.map(|c| &rest[1..c]).filter(|n| {
                let mut chars = n.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            let (Some(name), Some(close)) = (name, close) else {
                let at = sql.len() - rest.len();
                let shown: String = rest.chars().take(20).collect();
                return Err(format!(
                    "`{shown}` (at character {}) is not a `{{name}}` parameter; a literal brace belongs in quotes",
                    sql[..at].chars().count() + 1
                ));
            };
            names.push(name.to_owned());
            out.push_str(&dialect.placeholder(names.len()));
            rest = &rest[close + 1..];
            continue;
        } else {
            c.len_utf8()
        };
        out.push_str(&rest[..skipped]);
        rest = &rest[skipped..];
    }
    Ok((out, names))
}

/// Where the literal that opens `text` with `quote` ends (a doubled quote
/// stays inside; MySQL also escapes with a backslash in strings); the
/// whole text when it does not end.
fn literal_end(text: &str, quote: char, dialect: Dialect) -> usize {
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == '\\' && dialect == Dialect::Mysql && quote != '`' {
            chars.next();
        } else if c == quote {
            if text[i + 1..].starts_with(quote) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::builtin::tests::{config, project};
    use serde_json::json;

    #[test]
    fn sql_query_binds_named_parameters_in_the_connections_dialect() {
        let sql = "SELECT * FROM t WHERE a = {a} AND b = {b} OR a = {a} AND x = '{not one}'";
        let literal = "SELECT '{a}', 'it''s {a}', \"{a}\" -- {a}\n, {b} /* {a} */ FROM t";
        let made = expand(
            &config(json!({ "connection": "App", "sql": sql, "parameters": { "a": "integer" } })),
            &project("postgres://u@h/db"),
        )
        .unwrap();
        assert_eq!(
            made.config["sql"],
            "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $3 AND x = '{not one}'"
        );
        assert_eq!(made.config["names"], r#"["a","b","a"]"#);
        assert_eq!(made.connection.as_deref(), Some("App"));
        let made = expand(
            &config(json!({ "connection": "App", "sql": literal })),
            &project("postgres://u@h/db"),
        )
        .unwrap();
        assert_eq!(
            made.config["sql"],
            literal.replace("{b}", "$1"),
            "braces in quotes and comments are text"
        );
        assert_eq!(made.config["names"], r#"["b"]"#);
        let mysql = "SELECT 'a\\' {b}', `{c}`, {d}";
        let made = expand(
            &config(json!({ "connection": "App", "sql": mysql })),
            &project("mysql://root@h/db"),
        )
        .unwrap();
        assert_eq!(made.config["sql"], "SELECT 'a\\' {b}', `{c}`, ?");
        let made = expand(
            &config(
                json!({ "connection": "App", "sql": "DELETE FROM t WHERE id = {id}", "mode": "execute" }),
            ),
            &project("sqlite://x.db"),
        )
        .unwrap();
        assert_eq!(made.config["sql"], "DELETE FROM t WHERE id = ?");
        for (bad, says) in [
            (
                json!({ "connection": "Nope", "sql": "SELECT 1" }),
                "config.connection: no connection `Nope`",
            ),
            (
                json!({ "connection": "Api", "sql": "SELECT 1" }),
                "config.connection: `Api` is not a SQL connection",
            ),
            (json!({ "sql": "SELECT 1" }), "config.connection"),
            (
                json!({ "connection": "App", "sql": "SELECT {a}", "parameters": { "a": "date" } }),
                "config.parameters.a",
            ),
            (
                json!({ "connection": "App", "sql": "SELECT {a}", "parameters": { "b": "integer" } }),
                "config.parameters.b",
            ),
            (
                json!({ "connection": "App", "sql": "SELECT 1", "mode": "run" }),
                "config.mode",
            ),
            (
                json!({ "connection": "App", "sql": "SELECT {a} + { b }" }),
                "config.sql: `{ b }` (at character 14) is not a `{name}` parameter",
            ),
        ] {
            let err = expand(&config(bad.clone()), &project("mysql://root@h/db")).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
    }
}
