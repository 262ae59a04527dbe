//! A todo list on a SQL connection: `GET` lists (or finds `?title=`),
//! `POST` inserts the body as a title, `?open=NAME` opens another
//! connection, `?pg_sleep=SECONDS` runs PostgreSQL's `pg_sleep`. A
//! connector error answers 502 with its kind, so tests see what the guest
//! received.
use fusio_sdk::sql::{self, ConnectorError, Value};
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::json;

fn failed(err: ConnectorError) -> Result<Response, Error> {
    Response::json(502, &json!({ "error": err.kind(), "detail": err.detail() }))
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let name = req
        .query("open")
        .map(str::to_owned)
        .or_else(|| config::get("connection"))
        .unwrap_or_default();
    let db = match sql::open(&name) {
        Ok(db) => db,
        Err(err) => return failed(err),
    };
    match req.query("tx") {
        Some("trap") => {
            let tx = db.begin().map_err(Error::from)?;
            tx.execute("INSERT INTO todo (title) VALUES (?)", &["in-tx".into()])?;
            panic!("the guest traps inside a transaction");
        }
        Some("commit") => {
            let tx = db.begin()?;
            tx.execute("INSERT INTO todo (title) VALUES (?)", &["in-tx".into()])?;
            tx.commit()?;
            return Response::json(200, &json!({ "committed": true }));
        }
        _ => {}
    }
    if let Some(seconds) = req.query("pg_sleep") {
        let seconds: f64 = seconds.parse().unwrap_or(1.0);
        return match db.query("SELECT 1 AS slept FROM pg_sleep($1)", &[seconds.into()]) {
            Ok(_) => Response::json(200, &json!({ "slept": seconds })),
            Err(err) => failed(err),
        };
    }
    let answer = match req.method() {
        "POST" => {
            let title = String::from_utf8_lossy(req.body()).into_owned();
            db.execute("INSERT INTO todo (title) VALUES (?)", &[title.into()])
                .map(|n| json!({ "inserted": n }))
        }
        _ => match req.query("title") {
            Some(title) => db.query_json(
                "SELECT id, title FROM todo WHERE title = ? ORDER BY id",
                &[Value::from(title)],
            ),
            None => db.query_json("SELECT id, title FROM todo ORDER BY id", &[]),
        }
        .map(|rows| json!({ "totalResults": rows.len(), "entry": rows })),
    };
    match answer {
        Ok(body) => Response::json(200, &body),
        Err(err) => failed(err),
    }
}
