//! Built-in actions: `static` answers its configured status, headers and
//! body with no code; an unknown built-in or a bad configuration is refused
//! at deploy naming the entry and the key; the backend creates one too.

use crate::request_log::read;
use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::Request;
use serde_json::json;

const ADMIN_PASSWORD: &str = "admin password";

const PROJECT: &str = r#"
routes:
  /maintenance:
    methods:
      GET: { action: maintenance, public: true }
  /robots.txt:
    methods:
      GET: { action: robots, public: true }
action:
  maintenance:
    builtin: static
    config:
      status: 503
      headers: { retry-after: "3600" }
      body: { message: "back soon", until: "2027-01-01" }
  robots:
    builtin: static
    config:
      headers: { content-type: text/plain }
      body: "User-agent: *\nDisallow:\n"
"#;

#[tokio::test]
async fn static_answers_its_configuration() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    let down = app.get("/maintenance?x=1").await;
    assert_eq!(down.status, 503, "{}", down.text());
    assert_eq!(down.header("retry-after"), Some("3600"));
    assert_eq!(down.header("content-type"), Some("application/json"));
    assert_eq!(
        down.json(),
        json!({ "message": "back soon", "until": "2027-01-01" })
    );
    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.status, 200);
    assert_eq!(robots.header("content-type"), Some("text/plain"));
    assert_eq!(robots.text(), "User-agent: *\nDisallow:\n");
}

async fn refused(yaml: &str) -> String {
    crate::support::app::boot_refused(yaml, &[]).await
}

#[tokio::test]
async fn an_unknown_builtin_or_a_bad_config_is_refused_naming_the_entry() {
    let unknown = refused(&PROJECT.replace(
        "builtin: static\n    config:\n      headers",
        "builtin: statik\n    config:\n      headers",
    ))
    .await;
    assert!(
        unknown.contains("action.robots: builtin `statik`: `statik` is not a built-in action"),
        "{unknown}"
    );
    let line = PROJECT
        .lines()
        .position(|l| l.starts_with("  robots:"))
        .unwrap()
        + 1;
    assert!(
        unknown.contains(&format!("fusio.yml:{line}:3")),
        "{unknown}"
    );

    let bad_status = refused(&PROJECT.replace("status: 503", "status: 700")).await;
    assert!(
        bad_status.contains(
            "action.maintenance: builtin `static`: config.status: 700 is not an HTTP status"
        ),
        "{bad_status}"
    );
    let unknown_key = refused(&PROJECT.replace("status: 503", "stat: 503")).await;
    assert!(
        unknown_key.contains("config.stat: `static` takes `status`, `headers`, `body`"),
        "{unknown_key}"
    );
    let both = refused(&PROJECT.replace(
        "builtin: static\n    config:\n      status",
        "builtin: static\n    component: x.js\n    config:\n      status",
    ))
    .await;
    assert!(both.contains("either `component`"), "{both}");
}

#[tokio::test]
async fn the_backend_creates_a_builtin_action() {
    let app = TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    let send = |body: serde_json::Value| {
        Request::put("/backend/action/robots")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let limits = json!({ "memory": 67108864, "timeout": "10s" });
    let saved = app
        .send(send(json!({ "name": "robots", "builtin": "static", "config": { "status": 404, "body": "gone" }, "limits": limits })))
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let gone = app.get("/robots.txt").await;
    assert_eq!(
        (gone.status.as_u16(), gone.text()),
        (404, "gone".to_owned())
    );

    let bad = app
        .send(send(json!({ "name": "robots", "builtin": "static", "config": { "status": 42 }, "limits": limits })))
        .await;
    bad.assert_problem_saying(400, "config.status: 42 is not an HTTP status");
    assert_eq!(app.get("/robots.txt").await.status, 404, "nothing changed");
    let shown = read(&app, &token, "/backend/action/robots").await.json();
    assert_eq!(shown["code"], "javascript", "{shown}");
}

/// `sql-query` on `kind`: named parameters bound in the connection's own
/// placeholders and typed as declared, from the query, the uri and the
/// body; a value carrying SQL stays data; a missing or mistyped one is a
/// 400 naming it; `execute` answers how many rows changed.
async fn sql_query_on(kind: crate::support::sqldb::Kind) {
    use crate::support::sqldb::{Kind, SqlTarget};
    let dir = tempfile::tempdir().unwrap();
    let target = SqlTarget::new(kind, dir.path()).await;
    let id = match kind {
        Kind::Postgres => "id SERIAL PRIMARY KEY",
        Kind::Mariadb => "id INTEGER AUTO_INCREMENT PRIMARY KEY",
        Kind::Sqlite => "id INTEGER PRIMARY KEY",
    };
    let migration = format!(
        "CREATE TABLE todo ({id}, title VARCHAR(100) NOT NULL, done BOOLEAN NOT NULL);\n\
         INSERT INTO todo (title, done) VALUES ('milk', false);\n\
         INSERT INTO todo (title, done) VALUES ('eggs', false);\n\
         INSERT INTO todo (title, done) VALUES ('bread', true);\n\
         INSERT INTO todo (title, done) VALUES ('tea', false);\n"
    );
    let yaml = format!(
        r#"
routes:
  /todo:
    methods:
      GET: {{ action: search, public: true }}
  /todo/:id/done:
    methods:
      POST: {{ action: finish, public: true }}
action:
  search:
    builtin: sql-query
    config:
      connection: App
      sql: SELECT id, title FROM todo WHERE done = {{done}} AND title <> {{skip}} ORDER BY id LIMIT {{count}}
      parameters: {{ done: boolean, count: integer }}
  finish:
    builtin: sql-query
    config:
      connection: App
      sql: UPDATE todo SET done = {{done}} WHERE id = {{id}}
      parameters: {{ done: boolean, id: integer }}
      mode: execute
connection:
  App:
    type: sql
    config:
      url: "{url}"
migration:
  App: [todo.sql]
"#,
        url = target.url
    );
    let app = TestApp::start_with(Backend::Sqlite, &yaml, |options| {
        let project = options.deploy.as_ref().unwrap().parent().unwrap();
        std::fs::write(project.join("todo.sql"), &migration).unwrap();
        options.sqlite_dirs.push(dir.path().to_owned());
    })
    .await;

    let open = app.get("/todo?done=false&skip=eggs&count=5").await;
    assert_eq!(open.status, 200, "{}", open.text());
    let titles = |answer: &crate::support::app::TestResponse| -> Vec<String> {
        answer.json()["entry"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", answer.text()))
            .iter()
            .map(|row| row["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(titles(&open), ["milk", "tea"]);
    let limited = app.get("/todo?done=false&skip=eggs&count=1").await;
    assert_eq!(titles(&limited), ["milk"]);

    // SQL in a value is compared as text: it matches no title, so nothing is skipped.
    let injected = app
        .get("/todo?done=false&count=5&skip=x%27%20OR%20%271%27%3D%271")
        .await;
    assert_eq!(titles(&injected), ["milk", "eggs", "tea"]);
    assert_eq!(target.count("todo").await, 4);

    app.get("/todo?done=false&skip=eggs&count=many")
        .await
        .assert_problem_saying(400, "`count` must be an integer");
    app.get("/todo?done=false&count=5")
        .await
        .assert_problem_saying(400, "`skip` is missing");

    let finished = app
        .send(
            Request::post("/todo/1/done")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"done": true}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(finished.status, 200, "{}", finished.text());
    assert_eq!(finished.json(), json!({ "affected": 1 }));
    let still_open = app.get("/todo?done=false&skip=-&count=5").await;
    assert_eq!(titles(&still_open), ["eggs", "tea"]);
}

#[tokio::test]
async fn sql_query_on_sqlite() {
    sql_query_on(crate::support::sqldb::Kind::Sqlite).await;
}

#[tokio::test]
async fn sql_query_on_postgres() {
    sql_query_on(crate::support::sqldb::Kind::Postgres).await;
}

#[tokio::test]
async fn sql_query_on_mariadb() {
    sql_query_on(crate::support::sqldb::Kind::Mariadb).await;
}
