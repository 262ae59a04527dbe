//! Built-in actions: endpoints that need no code, configured in fusio.yml
//! (`builtin: static` with its `config:`). Each is a script Fusio ships,
//! run on its JavaScript engine like any script action — so a built-in
//! gets exactly the sandbox, limits, grants and logging of an action, and
//! no request reaches host code written for it. Here each one's
//! configuration is checked at deploy (unknown keys and wrong types
//! refused, naming the key) and turned into the config its script reads.

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

/// How a SQL connection writes a statement's placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?` (SQLite, MySQL, MariaDB).
    Question,
    /// `$1`, `$2`, … (PostgreSQL).
    Dollar,
}

impl Placeholders {
    /// The placeholders of the SQL connection at `url`.
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres") {
            Self::Dollar
        } else {
            Self::Question
        }
    }
}

/// What a built-in may ask of the rest of the project: the placeholders of
/// its SQL connection `name`, or why it has none.
pub type SqlConnections<'a> = &'a dyn Fn(&str) -> Result<Placeholders, String>;

/// The built-ins there are, for messages.
pub const BUILTINS: &[&str] = &["static", "sql-query"];

/// The built-in `name` configured with `config`, or why not.
pub fn expand(
    name: &str,
    config: &BTreeMap<String, Value>,
    connections: SqlConnections<'_>,
) -> Result<Expanded, String> {
    match name {
        "static" => static_answer(config),
        "sql-query" => sql_query(config, connections),
        other => Err(format!(
            "`{other}` is not a built-in action (there are: {})",
            BUILTINS.join(", ")
        )),
    }
}

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

/// `static`: `status` (100-599, 200 when not said), `headers` (name to
/// text), `body` (text, or any JSON, sent as JSON).
fn static_answer(config: &BTreeMap<String, Value>) -> Result<Expanded, String> {
    refuse_unknown(config, &["status", "headers", "body"], "static")?;
    let status = match config.get("status") {
        None => 200,
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("config.status: {n} is not an HTTP status (100 to 599)"))?,
        Some(other) => {
            return Err(format!(
                "config.status: {other} is not an HTTP status (100 to 599)"
            ));
        }
    };
    let headers = match config.get("headers") {
        None => serde_json::Map::new(),
        Some(Value::Object(map)) => {
            for (name, value) in map {
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(format!("config.headers: `{name}` is not a header name"));
                }
                let Value::String(text) = value else {
                    return Err(format!("config.headers.{name}: a header's value is text"));
                };
                if http::HeaderValue::from_str(text).is_err() {
                    return Err(format!("config.headers.{name}: not a header value"));
                }
            }
            map.clone()
        }
        Some(_) => return Err("config.headers: a mapping of header name to value".into()),
    };
    let body = config.get("body").cloned().unwrap_or(Value::Null);
    Ok(Expanded {
        script: include_str!("../../engines/builtins/static.js"),
        config: [
            ("status".to_owned(), status.to_string()),
            ("headers".to_owned(), Value::Object(headers).to_string()),
            ("body".to_owned(), body.to_string()),
        ]
        .into(),
        connection: None,
    })
}

/// `sql-query`: `connection` (a SQL connection of the project), `sql` (a
/// statement with `{name}` parameters), `parameters` (name to `integer`,
/// `number`, `boolean` or `string`; `string` when not said), `mode`
/// (`query`, answering the rows, or `execute`, answering how many changed).
fn sql_query(
    config: &BTreeMap<String, Value>,
    connections: SqlConnections<'_>,
) -> Result<Expanded, String> {
    refuse_unknown(
        config,
        &["connection", "sql", "parameters", "mode"],
        "sql-query",
    )?;
    let text = |key: &str| match config.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(format!("config.{key}: text is needed")),
    };
    let connection = text("connection")?;
    let placeholders =
        connections(&connection).map_err(|reason| format!("config.connection: {reason}"))?;
    let (sql, names) = positional(&text("sql")?, placeholders)
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
        script: include_str!("../../engines/builtins/sql-query.js"),
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
/// and the names in order (a name used twice is bound twice).
fn positional(sql: &str, placeholders: Placeholders) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| &after[..c]).filter(|n| {
            let mut chars = n.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match (name, close) {
            (Some(name), Some(close)) => {
                names.push(name.to_owned());
                match placeholders {
                    Placeholders::Question => out.push('?'),
                    Placeholders::Dollar => out.push_str(&format!("${}", names.len())),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if names.is_empty() && sql.contains('{') {
        return Err("no `{name}` parameter is well formed".into());
    }
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn none(name: &str) -> Result<Placeholders, String> {
        Err(format!("no SQL connection `{name}`"))
    }

    #[test]
    fn sql_query_binds_named_parameters_in_the_connections_dialect() {
        let sql = "SELECT * FROM t WHERE a = {a} AND b = {b} OR a = {a} AND x = '{not one}'";
        let pg = |_: &str| Ok(Placeholders::Dollar);
        let made = expand(
            "sql-query",
            &config(json!({ "connection": "App", "sql": sql, "parameters": { "a": "integer" } })),
            &pg,
        )
        .unwrap();
        assert_eq!(
            made.config["sql"],
            "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $3 AND x = '{not one}'"
        );
        assert_eq!(made.config["names"], r#"["a","b","a"]"#);
        assert_eq!(made.connection.as_deref(), Some("App"));
        let q = |_: &str| Ok(Placeholders::Question);
        let made = expand("sql-query", &config(json!({ "connection": "App", "sql": "DELETE FROM t WHERE id = {id}", "mode": "execute" })), &q).unwrap();
        assert_eq!(made.config["sql"], "DELETE FROM t WHERE id = ?");
        for (bad, says) in [
            (
                json!({ "connection": "Nope", "sql": "SELECT 1" }),
                "config.connection: no SQL connection",
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
        ] {
            let err = expand("sql-query", &config(bad.clone()), &|n: &str| {
                if n == "App" {
                    Ok(Placeholders::Question)
                } else {
                    none(n)
                }
            })
            .unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
    }

    #[test]
    fn static_takes_its_three_keys_and_refuses_the_rest() {
        let made = expand(
            "static",
            &config(json!({ "status": 201, "headers": { "x-a": "1" }, "body": { "ok": true } })),
            &none,
        )
        .unwrap();
        assert_eq!(made.config["status"], "201");
        assert_eq!(made.config["headers"], r#"{"x-a":"1"}"#);
        assert_eq!(made.config["body"], r#"{"ok":true}"#);
        assert_eq!(
            expand("static", &config(json!({})), &none).unwrap().config["status"],
            "200"
        );
        for (bad, says) in [
            (json!({ "status": 99 }), "config.status"),
            (json!({ "status": "200" }), "config.status"),
            (json!({ "headers": { "bad name": "x" } }), "config.headers"),
            (json!({ "headers": { "x-a": 1 } }), "config.headers.x-a"),
            (json!({ "bodyy": 1 }), "config.bodyy"),
        ] {
            let err = expand("static", &config(bad.clone()), &none).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
        assert!(
            expand("nope", &config(json!({})), &none)
                .unwrap_err()
                .contains("not a built-in")
        );
    }
}
