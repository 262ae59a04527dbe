//! Runs the statements of its request body on the SQL connection named by
//! `?connection=` (or its config's `connection`) and answers each one's
//! typed result, so one component tests every database:
//!
//! ```json
//! {"transaction": "commit" | "trap" | "none",
//!  "statements": [{"sql": "SELECT ? AS n", "params": [{"integer": 1}], "rows": true}]}
//! ```
//!
//! A statement with `"json": true` answers the host's JSON rows instead.
//! Values are written as `{"integer": 1}`, `{"text": "a"}`, `{"null": null}`
//! and so on (the WIT variant's case names). A connector error answers 502
//! with its kind and detail; with `?raise` it goes through `?` instead, so
//! the client sees the SDK's problem.
use fusio_sdk::sql::{self, ConnectorError, Rows, Value};
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::{Value as Json, json};

fn value_of(json: &Json) -> Result<Value, Error> {
    let (case, inner) = json
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| Error::bad_request(format!("`{json}` is not a value")))?;
    let text = || inner.as_str().map(str::to_owned).unwrap_or_default();
    Ok(match case.as_str() {
        "null" => Value::Null,
        "boolean" => Value::Boolean(inner.as_bool().unwrap_or_default()),
        "integer" => Value::Integer(inner.as_i64().unwrap_or_default()),
        "float" => Value::Float(inner.as_f64().unwrap_or_default()),
        "text" => Value::Text(text()),
        "json" => Value::Json(text()),
        "timestamp" => Value::Timestamp(text()),
        "bytes" => Value::Bytes(
            inner
                .as_array()
                .map(|b| {
                    b.iter()
                        .filter_map(|n| n.as_u64())
                        .map(|n| n as u8)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        other => return Err(Error::bad_request(format!("`{other}` is not a value case"))),
    })
}

fn json_of(value: Value) -> Json {
    match value {
        Value::Null => json!({ "null": null }),
        Value::Boolean(b) => json!({ "boolean": b }),
        Value::Integer(i) => json!({ "integer": i }),
        Value::Float(f) => json!({ "float": f }),
        Value::Text(t) => json!({ "text": t }),
        Value::Json(t) => json!({ "json": t }),
        Value::Timestamp(t) => json!({ "timestamp": t }),
        Value::Bytes(b) => json!({ "bytes": b }),
    }
}

fn rows_json(rows: Rows) -> Json {
    json!({
        "columns": rows.columns,
        "rows": rows.rows.into_iter()
            .map(|row| row.into_iter().map(json_of).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}

/// One statement on a connection or in a transaction.
trait Run {
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, ConnectorError>;
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, ConnectorError>;
    fn query_json_text(&self, sql: &str, params: &[Value]) -> Result<String, ConnectorError>;
}

impl Run for sql::Sql {
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, ConnectorError> {
        sql::Sql::query(self, sql, params)
    }
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, ConnectorError> {
        sql::Sql::execute(self, sql, params)
    }
    fn query_json_text(&self, sql: &str, params: &[Value]) -> Result<String, ConnectorError> {
        sql::Sql::query_json_text(self, sql, params)
    }
}

impl Run for sql::Transaction {
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, ConnectorError> {
        sql::Transaction::query(self, sql, params)
    }
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, ConnectorError> {
        sql::Transaction::execute(self, sql, params)
    }
    fn query_json_text(&self, sql: &str, params: &[Value]) -> Result<String, ConnectorError> {
        sql::Transaction::query_json_text(self, sql, params)
    }
}

fn run_all(on: &dyn Run, statements: &[Json]) -> Result<Vec<Json>, ConnectorError> {
    statements
        .iter()
        .map(|statement| {
            let sql = statement["sql"].as_str().unwrap_or_default();
            let params = statement["params"]
                .as_array()
                .map(|p| p.iter().map(value_of).collect::<Result<Vec<_>, _>>())
                .transpose()
                .map_err(|e| ConnectorError::Query(format!("{e:?}")))?
                .unwrap_or_default();
            if statement["json"].as_bool().unwrap_or(false) {
                on.query_json_text(sql, &params).map(|text| {
                    json!({ "json": serde_json::from_str::<Json>(&text).unwrap_or(Json::Null) })
                })
            } else if statement["rows"].as_bool().unwrap_or(false) {
                on.query(sql, &params).map(rows_json)
            } else {
                on.execute(sql, &params).map(|n| json!({ "changed": n }))
            }
        })
        .collect()
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let body: Json = req.json()?;
    let name = req
        .query("connection")
        .map(str::to_owned)
        .or_else(|| config::get("connection"))
        .unwrap_or_default();
    let statements = body["statements"].as_array().cloned().unwrap_or_default();
    let outcome = sql::open(&name).and_then(|db| match body["transaction"].as_str() {
        Some("commit") => {
            let tx = db.begin()?;
            let results = run_all(&tx, &statements)?;
            tx.commit()?;
            Ok(results)
        }
        Some("trap") => {
            let tx = db.begin()?;
            run_all(&tx, &statements)?;
            panic!("the guest traps inside a transaction");
        }
        _ => run_all(&db, &statements),
    });
    match outcome {
        Ok(results) => Response::json(200, &json!({ "results": results })),
        Err(err) if req.query("raise").is_some() => Err(err.into()),
        Err(err) => Response::json(502, &json!({ "error": err.kind(), "detail": err.detail() })),
    }
}
