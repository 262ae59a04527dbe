//! JavaScript actions on the engine Fusio ships: deployed from `.js` files
//! beside Rust components, reaching SQL (SQLite and PostgreSQL), the cache
//! and the log through PHP Fusio's worker API; refused at deploy with the
//! line and column of a syntax error; stopped by the timeout, the memory
//! limit and the stack; failing as a 500 problem whose message only the error log holds;
//! and saved as source through the backend.

use crate::request_log::{error_of, flushed, read};
use crate::support::sqldb::{Kind, SqlTarget};
use crate::support::{Backend, TestApp, app::TestResponse};
use axum::body::Body;
use http::Request;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const ADMIN_PASSWORD: &str = "admin password";

/// Writes `text` as `name` in `dir`; answers its path for fusio.yml.
fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn start(yaml: &str) -> TestApp {
    TestApp::start_with(Backend::Sqlite, yaml, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
}

async fn post_json(app: &TestApp, uri: &str, body: Value) -> TestResponse {
    app.send(
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

const HELLO: &str = r#"
module.exports = async function (request, context, connector, response, dispatcher, logger) {
  const name = request.get("name") || "World";
  return response.build(200, { "x-engine": "quickjs" }, { message: `Hello ${name}!`, route: context.route });
};
"#;

#[tokio::test]
async fn a_javascript_and_a_rust_action_are_deployed_together_and_called() {
    let scripts = tempfile::tempdir().unwrap();
    let hello = script(scripts.path(), "hello.js", HELLO);
    let app = start(&format!(
        r#"
routes:
  /js/:name:
    methods:
      GET: {{ action: js, public: true }}
  /rust:
    methods:
      GET: {{ action: rust, public: true }}
action:
  js:
    component: "{hello}"
  rust:
    component: "{{guest:echo}}"
"#,
        hello = hello.display()
    ))
    .await;

    let answer = app.get("/js/Ada").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("x-engine"), Some("quickjs"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({ "message": "Hello Ada!", "route": "/js/:name" })
    );
    let rust = app.get("/rust").await;
    assert_eq!(rust.status, 200, "{}", rust.text());
}

/// A todo list on `kind`: rows written in a transaction, read back as
/// objects, a count kept in the cache, and log lines.
async fn todo_on(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let target = SqlTarget::new(kind, dir.path()).await;
    let (one, two) = match kind {
        Kind::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let table = match kind {
        Kind::Postgres => {
            "CREATE TABLE todo (id SERIAL PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL);"
        }
        _ => {
            "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL);"
        }
    };
    std::fs::write(dir.path().join("todo.sql"), table).unwrap();
    let todo = script(
        dir.path(),
        "todo.js",
        &format!(
            r#"
module.exports = async function (request, context, connector, response, dispatcher, logger) {{
  const db = connector.getConnection("App");
  if (request.context.method === "POST") {{
    const tx = await db.beginTransaction();
    for (const title of request.payload.titles) {{
      await tx.execute("INSERT INTO todo (title, done) VALUES ({one}, {two})", [title, false]);
    }}
    await tx.commit();
    const writes = await cache.incr("writes", 1, 60000);
    logger.info("inserted", {{ count: request.payload.titles.length }});
    console.log("writes so far", writes);
    return response.build(201, {{}}, {{ inserted: request.payload.titles.length, writes }});
  }}
  const rows = await db.query("SELECT id, title, done FROM todo WHERE title <> {one} ORDER BY id", [request.get("skip") || ""]);
  const written = await context.cache.get("writes");
  return response.build(200, {{}}, {{ entry: rows, writes: Number(written) }});
}};
"#
        ),
    );
    let app = TestApp::start_with(
        Backend::Sqlite,
        &format!(
            r#"
routes:
  /todo:
    methods:
      GET: {{ action: todo, public: true }}
      POST: {{ action: todo, public: true }}
action:
  todo:
    component: "{todo}"
    connections: [App]
connection:
  App:
    type: sql
    config:
      url: "{url}"
migration:
  App: [todo.sql]
"#,
            todo = todo.display(),
            url = target.url
        ),
        |options| {
            let project = options.deploy.as_ref().unwrap().parent().unwrap();
            std::fs::copy(dir.path().join("todo.sql"), project.join("todo.sql")).unwrap();
            options.sqlite_dirs.push(dir.path().to_owned());
            options.admin_password = Some(ADMIN_PASSWORD.into());
        },
    )
    .await;

    let written = post_json(
        &app,
        "/todo",
        json!({ "titles": ["milk", "eggs'); DROP TABLE todo; --"] }),
    )
    .await;
    assert_eq!(written.status, 201, "{}", written.text());
    assert_eq!(written.json(), json!({ "inserted": 2, "writes": 1 }));
    let again = post_json(&app, "/todo", json!({ "titles": ["bread"] })).await;
    assert_eq!(again.json()["writes"], 2);

    let listed = app.get("/todo?skip=bread").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let body = listed.json();
    assert_eq!(body["writes"], 2);
    let titles: Vec<&str> = body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["milk", "eggs'); DROP TABLE todo; --"]);
    assert_eq!(body["entry"][0]["done"], false);
    assert_eq!(target.count("todo").await, 3, "the injection stayed data");

    // Both log lines are in the action log of the first write.
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    flushed(&app).await;
    let log = read(
        &app,
        &token,
        &format!("/backend/log/action?search={}", written.request_id()),
    )
    .await
    .json();
    let messages: Vec<&str> = log["entry"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"inserted"), "{log}");
    assert!(messages.contains(&"writes so far 1"), "{log}");
}

#[tokio::test]
async fn a_javascript_action_uses_sql_the_cache_and_the_log_on_sqlite() {
    todo_on(Kind::Sqlite).await;
}

#[tokio::test]
async fn a_javascript_action_uses_sql_the_cache_and_the_log_on_postgres() {
    todo_on(Kind::Postgres).await;
}

#[tokio::test]
async fn a_syntax_error_is_refused_at_deploy_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let broken = script(
        dir.path(),
        "broken.js",
        "module.exports = async function (request) {\n  const x = ;\n};\n",
    );
    let yaml = format!(
        r#"
routes:
  /broken:
    methods:
      GET: {{ action: broken, public: true }}
action:
  broken:
    component: "{broken}"
"#,
        broken = broken.display()
    );
    let file = crate::support::app::write_project(dir.path(), &yaml);
    let db = crate::support::db::TestDb::new(Backend::Sqlite, dir.path()).await;
    let mut options = crate::support::app::options(dir.path(), &db);
    options.deploy = Some(file);
    let Err(refused) = fusio::server::boot(&options).await else {
        panic!("a script that does not parse is refused")
    };
    let text = format!("{refused}");
    assert!(text.contains("action.broken"), "{text}");
    assert!(text.contains("broken.js:2:13"), "{text}");
    assert!(text.contains("SyntaxError"), "{text}");
}

#[tokio::test]
async fn loops_and_allocations_without_end_are_stopped_and_throws_are_500_problems() {
    let dir = tempfile::tempdir().unwrap();
    let spin = script(
        dir.path(),
        "spin.js",
        "module.exports = function () { for (;;) {} };\n",
    );
    let hog = script(
        dir.path(),
        "hog.js",
        "module.exports = function (request, context, connector, response) {\n  const kept = [];\n  for (;;) { kept.push(new Array(100000).fill(kept.length)); }\n};\n",
    );
    let deep = script(
        dir.path(),
        "deep.js",
        "module.exports = function () { function f(n) { return f(n + 1) + 1; } return f(0); };\n",
    );
    let throws = script(
        dir.path(),
        "throws.js",
        "module.exports = async function (request) {\n  throw new Error('secret ' + request.get('token'));\n};\n",
    );
    let app = start(&format!(
        r#"
routes:
  /spin:
    methods:
      GET: {{ action: spin, public: true }}
  /hog:
    methods:
      GET: {{ action: hog, public: true }}
  /throws:
    methods:
      GET: {{ action: throws, public: true }}
  /deep:
    methods:
      GET: {{ action: deep, public: true }}
action:
  deep:
    component: "{deep}"
  spin:
    component: "{spin}"
    limits: {{ timeout: 1s }}
  hog:
    component: "{hog}"
    limits: {{ memory: 16 MiB, timeout: 20s }}
  throws:
    component: "{throws}"
"#,
        spin = spin.display(),
        hog = hog.display(),
        throws = throws.display(),
        deep = deep.display()
    ))
    .await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;

    let started = std::time::Instant::now();
    let spun = app.get("/spin").await;
    spun.assert_problem(504);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        error_of(&app, &token, &spun).await["error"]["kind"],
        "timeout"
    );

    let hogged = app.get("/hog").await;
    hogged.assert_problem(500);
    let entry = error_of(&app, &token, &hogged).await;
    let message = entry["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("memory") || message.contains("out of memory"),
        "{message}"
    );

    // Recursion without end overflows the instance's stack: its request
    // fails, the next one is served.
    app.get("/deep").await.assert_problem(500);
    assert_eq!(app.get("/throws").await.status, 500);

    let thrown = app.get("/throws?token=t0p").await;
    let problem = thrown.assert_problem(500);
    assert!(
        !problem.to_string().contains("t0p"),
        "no message to the client: {problem}"
    );
    let entry = error_of(&app, &token, &thrown).await;
    let message = entry["error"]["message"].as_str().unwrap();
    assert!(message.contains("Error: secret t0p"), "{message}");
    assert!(
        message.contains("throws.js:2"),
        "the stack names the line: {message}"
    );
}

#[tokio::test]
async fn each_request_gets_its_own_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let random = script(
        dir.path(),
        "random.js",
        "module.exports = (request, context, connector, response) => response.build(200, {}, { r: Math.random() });\n",
    );
    let app = start(&format!(
        r#"
routes:
  /random:
    methods:
      GET: {{ action: random, public: true }}
action:
  random:
    component: "{random}"
"#,
        random = random.display()
    ))
    .await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let answer = app.get("/random").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let r = answer.json()["r"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&r));
        seen.insert(r.to_bits());
    }
    assert_eq!(
        seen.len(),
        5,
        "the snapshot's seed is not shared by instances"
    );
}

#[tokio::test]
async fn the_backend_saves_javascript_source_and_serves_it() {
    let app = start(
        r#"
routes:
  /typed:
    methods:
      GET: { action: typed, public: true }
action:
  typed:
    component: "{guest:echo}"
"#,
    )
    .await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    let source = "module.exports = (request, context, connector, response) =>\n  response.build(200, {}, { saved: 'in the backend', config: context.config.greeting });\n";
    let saved = app
        .send(
            Request::put("/backend/action/typed")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({
                        "name": "typed",
                        "source": source,
                        "config": { "greeting": "hi" },
                        "limits": { "memory": 67108864, "timeout": "10s" }
                    })
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let answer = app.get("/typed").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json(),
        json!({ "saved": "in the backend", "config": "hi" })
    );

    let shown = read(&app, &token, "/backend/action/typed").await.json();
    assert_eq!(shown["code"], "javascript", "{shown}");
    let code = read(&app, &token, "/backend/action/typed/component").await;
    assert_eq!(code.status, 200);
    assert_eq!(code.text(), source);

    // A syntax error is refused on save, with its place; the route keeps
    // serving the saved script.
    let refused = app
        .send(
            Request::put("/backend/action/typed/component")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/javascript")
                .body(Body::from("module.exports = (request =>;\n"))
                .unwrap(),
        )
        .await;
    refused.assert_problem_saying(400, "typed.js:1:");
    assert_eq!(app.get("/typed").await.json()["saved"], "in the backend");
}
