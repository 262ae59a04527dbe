//! SQL from a guest on every database this machine runs (SQLite,
//! PostgreSQL, MariaDB), through one component (tests/guests/sqlrun): typed
//! parameters and typed columns both ways, parameters that stay data, a
//! transaction undone by a trap, a refused parameter, and a database that
//! cannot be reached (a typed error for the guest, a problem for the client).

use crate::support::TestApp;
use crate::support::sqldb::{Kind, SqlTarget};
use crate::support::{Backend, app::TestResponse};
use axum::body::Body;
use http::Request;
use serde_json::{Value, json};

/// The table each database gets by migration, in its own dialect.
fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => {
            "CREATE TABLE item (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN, \
             price REAL, data BLOB, meta TEXT, due DATETIME, n INTEGER, amount NUMERIC);"
        }
        Kind::Postgres => {
            "CREATE TABLE item (id SERIAL PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN, \
             price DOUBLE PRECISION, data BYTEA, meta JSONB, due TIMESTAMPTZ, n INTEGER, \
             amount NUMERIC(10,2));"
        }
        Kind::Mariadb => {
            "CREATE TABLE item (id INTEGER AUTO_INCREMENT PRIMARY KEY, title VARCHAR(200) NOT NULL, \
             done BOOLEAN, price DOUBLE, data BLOB, meta JSON, due DATETIME, n INTEGER, \
             amount DECIMAL(10,2));"
        }
    }
}

/// A URL of the same kind that cannot work (a wrong user, a missing file).
fn broken(kind: Kind) -> &'static str {
    match kind {
        // Deployed as a file, made a directory before the first request.
        Kind::Sqlite => "sqlite:broken.db",
        Kind::Postgres => "postgres://no_such_role@127.0.0.1:5432/postgres",
        Kind::Mariadb => "mysql://no_such_user:wrong@127.0.0.1:3306/mysql",
    }
}

/// The `n`th placeholder (1-based) in the database's dialect.
fn p(kind: Kind, n: usize) -> String {
    match kind {
        Kind::Postgres => format!("${n}"),
        _ => "?".into(),
    }
}

async fn start(kind: Kind, dir: &std::path::Path) -> (TestApp, SqlTarget) {
    start_timed(kind, dir, "10s").await
}

/// [`start`] with the action's timeout.
async fn start_timed(kind: Kind, dir: &std::path::Path, timeout: &str) -> (TestApp, SqlTarget) {
    let target = SqlTarget::new(kind, dir).await;
    let sql_dir = dir;
    let yaml = format!(
        r#"
routes:
  /sql:
    methods:
      POST: {{ action: run, public: true }}
action:
  run:
    component: "{{guest:sqlrun}}"
    connections: [App, Broken]
    config:
      connection: App
    limits:
      timeout: {timeout}
connection:
  App:
    type: sql
    config:
      url: "{url}"
  Broken:
    type: sql
    config:
      url: "{broken}"
migration:
  App: [item.sql]
"#,
        url = target.url,
        broken = broken(kind)
    );
    let app = TestApp::start_with(Backend::Sqlite, &yaml, |options| {
        let dir = options.deploy.as_ref().unwrap().parent().unwrap();
        std::fs::write(dir.join("item.sql"), table(kind)).unwrap();
        options.sqlite_dirs.push(sql_dir.to_owned());
    })
    .await;
    if kind == Kind::Sqlite {
        let broken = app.options.data_dir.join("connections/broken.db");
        std::fs::create_dir_all(broken).unwrap();
    }
    (app, target)
}

async fn run(app: &TestApp, query: &str, body: Value) -> TestResponse {
    app.send(
        Request::post(format!("/sql{query}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// The guest's results for `statements` run outside a transaction.
async fn results(app: &TestApp, statements: Value) -> Vec<Value> {
    let answer = run(app, "", json!({ "statements": statements })).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["results"].as_array().unwrap().clone()
}

const INJECTION: &str = "milk'); DROP TABLE item; --";

async fn typed_values_round_trip(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let (app, target) = start(kind, dir.path()).await;
    let insert = format!(
        "INSERT INTO item (title, done, price, data, meta, due, n, amount) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
        p(kind, 1),
        p(kind, 2),
        p(kind, 3),
        p(kind, 4),
        p(kind, 5),
        p(kind, 6),
        p(kind, 7),
        p(kind, 8)
    );
    let amount = match kind {
        // Decimals read back exact, as text; SQLite has none (NUMERIC keeps
        // a float).
        Kind::Sqlite => json!({ "float": 12.5 }),
        _ => json!({ "text": "12.50" }),
    };
    let inserted = results(
        &app,
        json!([{ "sql": insert, "params": [
            { "text": INJECTION },
            { "boolean": true },
            { "float": 1.5 },
            { "bytes": [0, 1, 255] },
            { "json": "{\"tags\": [\"a\"]}" },
            { "timestamp": "2026-11-27T11:30:00+01:00" },
            { "null": null },
            { "float": 12.5 },
        ]}]),
    )
    .await;
    assert_eq!(inserted, [json!({ "changed": 1 })]);

    let select = format!(
        "SELECT title, done, price, data, meta, due, n, amount FROM item WHERE title = {}",
        p(kind, 1)
    );
    let found = results(
        &app,
        json!([{ "sql": select, "params": [{ "text": INJECTION }], "rows": true }]),
    )
    .await;
    let rows = &found[0];
    assert_eq!(
        rows["columns"],
        json!([
            "title", "done", "price", "data", "meta", "due", "n", "amount"
        ])
    );
    let row = rows["rows"][0].as_array().unwrap();
    assert_eq!(rows["rows"].as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(
        row[0],
        json!({ "text": INJECTION }),
        "the injection stayed data"
    );
    assert_eq!(row[1], json!({ "boolean": true }));
    assert_eq!(row[2], json!({ "float": 1.5 }));
    assert_eq!(row[3], json!({ "bytes": [0, 1, 255] }));
    // PostgreSQL's jsonb answers JSON; SQLite and MariaDB keep JSON as text.
    let (case, meta) = row[4].as_object().unwrap().iter().next().unwrap();
    assert_eq!(
        case,
        if kind == Kind::Postgres {
            "json"
        } else {
            "text"
        },
        "{row:?}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(meta.as_str().unwrap()).unwrap(),
        json!({ "tags": ["a"] })
    );
    assert_eq!(
        row[5],
        json!({ "timestamp": "2026-11-27T10:30:00Z" }),
        "stored and read in UTC"
    );
    assert_eq!(row[6], json!({ "null": null }));
    assert_eq!(row[7], amount);

    // The same row as JSON written by the host, inside a transaction: keys
    // in column order, JSON nested (where the database knows JSON),
    // timestamps in UTC.
    let as_json = run(
        &app,
        "",
        json!({ "transaction": "commit", "statements": [{
            "sql": format!("SELECT title, done, meta, due, n FROM item WHERE title = {}", p(kind, 1)),
            "params": [{ "text": INJECTION }],
            "json": true,
        }] }),
    )
    .await;
    assert_eq!(as_json.status, 200, "{}", as_json.text());
    let meta = if kind == Kind::Postgres {
        json!({ "tags": ["a"] })
    } else {
        json!(meta.as_str().unwrap())
    };
    assert_eq!(
        as_json.json()["results"][0]["json"],
        json!([{ "title": INJECTION, "done": true, "meta": meta,
                 "due": "2026-11-27T10:30:00Z", "n": null }])
    );

    // A NULL parameter fits an integer column (PostgreSQL infers its type).
    let update = format!("UPDATE item SET n = {} WHERE n IS NULL", p(kind, 1));
    let updated = results(
        &app,
        json!([{ "sql": update, "params": [{ "null": null }] }]),
    )
    .await;
    assert_eq!(updated, [json!({ "changed": 1 })]);
    assert_eq!(target.count("item").await, 1, "the table is still there");

    // A parameter that is not what it says is refused before it is sent.
    let refused = run(
        &app,
        "",
        json!({ "statements": [{ "sql": update, "params": [{ "timestamp": "yesterday" }] }] }),
    )
    .await;
    assert_eq!(refused.status, 502);
    assert_eq!(refused.json()["error"], "query");
    let detail = refused.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("parameter 1") && detail.contains("RFC 3339"),
        "{detail}"
    );

    // A statement the database refuses: its message, typed as a query error.
    let wrong = run(
        &app,
        "",
        json!({ "statements": [{ "sql": "SELECT nothing FROM nowhere", "rows": true }] }),
    )
    .await;
    assert_eq!(wrong.status, 502);
    assert_eq!(wrong.json()["error"], "query", "{}", wrong.text());

    // A guest that traps inside a transaction leaves no rows behind.
    let in_tx = format!("INSERT INTO item (title) VALUES ({})", p(kind, 1));
    let statements = json!([{ "sql": in_tx, "params": [{ "text": "in-tx" }] }]);
    let trapped = run(
        &app,
        "",
        json!({ "transaction": "trap", "statements": statements }),
    )
    .await;
    trapped.assert_problem(500);
    assert_eq!(
        target.count("item").await,
        1,
        "the trapped insert was undone"
    );
    let committed = run(
        &app,
        "",
        json!({ "transaction": "commit", "statements": statements }),
    )
    .await;
    assert_eq!(committed.status, 200, "{}", committed.text());
    assert_eq!(target.count("item").await, 2);

    // A database that cannot be reached: a typed error for the guest ...
    let body = json!({ "statements": [{ "sql": "SELECT 1", "rows": true }] });
    let unavailable = run(&app, "?connection=Broken", body.clone()).await;
    assert_eq!(unavailable.status, 502, "{}", unavailable.text());
    assert_eq!(unavailable.json()["error"], "unavailable");
    // ... and, through `?`, a problem for the client that leaks nothing.
    let problem = run(&app, "?connection=Broken&raise", body).await;
    let problem = problem.assert_problem(503);
    assert!(
        !problem.to_string().contains("no_such"),
        "the reason stays in the log: {problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_sql_on_sqlite() {
    typed_values_round_trip(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_sql_on_postgres() {
    typed_values_round_trip(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_sql_on_mariadb() {
    typed_values_round_trip(Kind::Mariadb).await;
}

/// Concurrent guest transactions that read and then write on SQLite all
/// commit: they queue for the write lock (`BEGIN IMMEDIATE`) instead of
/// failing with "database is locked" when another wrote in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sqlite_transactions_that_read_then_write_all_commit() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let (app, target) = start(Kind::Sqlite, dir.path()).await;
    let body = json!({
        "transaction": "commit",
        "statements": [
            { "sql": "SELECT COUNT(*) AS n FROM item", "rows": true },
            // Time for another transaction to write in between.
            { "sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
                      WHERE x < 100000) SELECT COUNT(*) AS n FROM c", "rows": true },
            { "sql": "INSERT INTO item (title) VALUES (?)", "params": [{ "text": "racing" }] },
        ],
    })
    .to_string();
    let requests: Vec<_> = (0..24)
        .map(|_| {
            let request = Request::post("/sql")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            tokio::spawn(app.router().oneshot(request))
        })
        .collect();
    for request in requests {
        let response = request.await.unwrap().unwrap();
        let status = response.status();
        let text = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
    }
    assert_eq!(target.count("item").await, 24);
}

/// A runaway statement on SQLite (an endless recursive insert) ends the
/// request at its deadline and is then interrupted in the database too, so
/// it does not keep the write lock: the next write succeeds instead of
/// waiting for a lock that is never freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_sqlite_statement_is_interrupted_after_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (app, target) = start_timed(Kind::Sqlite, dir.path(), "1s").await;
    let runaway = run(
        &app,
        "",
        json!({ "statements": [{ "sql": "INSERT INTO item (title) \
            WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
            SELECT 'runaway' FROM c" }] }),
    )
    .await;
    runaway.assert_problem(504);
    let after = run(
        &app,
        "",
        json!({ "statements": [{ "sql": "INSERT INTO item (title) VALUES ('after')" }] }),
    )
    .await;
    assert_eq!(after.status, 200, "{}", after.text());
    assert_eq!(
        target.count("item").await,
        1,
        "the runaway insert was undone"
    );
}
