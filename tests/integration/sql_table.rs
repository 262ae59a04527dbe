//! The built-in `sql-table`: a todo API with no code on SQLite, PostgreSQL
//! and MariaDB — paging, sorting, filtering, a row read, inserted, updated
//! and deleted — where a sort or filter naming no real column is refused and
//! a filter value carrying SQL or wildcards stays data; a table that cannot
//! be read is refused at deploy naming the action.

use crate::support::Backend;
use crate::support::app::{TestApp, TestResponse};
use crate::support::sqldb::{Kind, SqlTarget};
use axum::body::Body;
use http::{Method, Request};
use serde_json::{Value, json};

fn project(url: &str, table: &str) -> String {
    format!(
        r#"
routes:
  /todo:
    methods:
      GET: {{ action: todo, public: true }}
      POST: {{ action: todo, public: true }}
      DELETE: {{ action: todo, public: true }}
  /todo/:id:
    methods:
      GET: {{ action: todo, public: true }}
      PUT: {{ action: todo, public: true }}
      DELETE: {{ action: todo, public: true }}
action:
  todo:
    builtin: sql-table
    config: {{ connection: App, table: {table} }}
connection:
  App:
    type: sql
    config:
      url: "{url}"
migration:
  App: [todo.sql]
"#
    )
}

fn migration(kind: Kind) -> String {
    let id = match kind {
        Kind::Postgres => "id SERIAL PRIMARY KEY",
        Kind::Mariadb => "id INTEGER AUTO_INCREMENT PRIMARY KEY",
        Kind::Sqlite => "id INTEGER PRIMARY KEY",
    };
    let mut sql = format!(
        "CREATE TABLE todo ({id}, title VARCHAR(100) NOT NULL, \
         done BOOLEAN NOT NULL DEFAULT false, due DATE NULL);\n"
    );
    for (title, done) in [
        ("milk", false),
        ("eggs", false),
        ("bread", true),
        ("tea", false),
        ("100% juice", false),
    ] {
        sql.push_str(&format!(
            "INSERT INTO todo (title, done) VALUES ('{title}', {done});\n"
        ));
    }
    sql
}

async fn start(kind: Kind, dir: &std::path::Path, url: &str) -> TestApp {
    start_project(kind, dir, &project(url, "todo")).await
}

async fn start_project(kind: Kind, dir: &std::path::Path, yaml: &str) -> TestApp {
    let sql = migration(kind);
    let data = dir.to_owned();
    TestApp::start_with(Backend::Sqlite, yaml, move |options| {
        let project = options.deploy.as_ref().unwrap().parent().unwrap();
        std::fs::write(project.join("todo.sql"), &sql).unwrap();
        options.sqlite_dirs.push(data);
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
}

const ADMIN_PASSWORD: &str = "admin password";

fn titles(answer: &TestResponse) -> Vec<String> {
    answer.json()["entry"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: {}", answer.status, answer.text()))
        .iter()
        .map(|row| row["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn send(app: &TestApp, method: Method, uri: &str, body: Value) -> TestResponse {
    app.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// A database's `true` as the row answers it (MariaDB's BOOLEAN is a
/// `tinyint(1)`, answered as 1).
fn truth(value: &Value) -> bool {
    value == &json!(true) || value == &json!(1)
}

async fn todo_api_on(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let target = SqlTarget::new(kind, dir.path()).await;
    let app = start(kind, dir.path(), &target.url).await;

    // The collection, paged in the key's order by default.
    let all = app.get("/todo").await;
    assert_eq!(all.status, 200, "{}", all.text());
    assert_eq!(all.json()["totalResults"], 5);
    assert_eq!(all.json()["startIndex"], 0);
    assert_eq!(all.json()["itemsPerPage"], 16);
    assert_eq!(titles(&all), ["milk", "eggs", "bread", "tea", "100% juice"]);
    let page = app.get("/todo?startIndex=2&count=2").await;
    assert_eq!(titles(&page), ["bread", "tea"]);
    assert_eq!(page.json()["totalResults"], 5);

    // Sorting by a real column, either way.
    let sorted = app.get("/todo?sortBy=title&sortOrder=desc&count=2").await;
    assert_eq!(titles(&sorted), ["tea", "milk"]);
    let sorted = app.get("/todo?sortBy=title&sortOrder=ASC&count=1").await;
    assert_eq!(titles(&sorted), ["100% juice"]);

    // Filtering.
    let contains = app.get("/todo?filterBy=title&filterValue=Ea").await;
    assert_eq!(titles(&contains), ["bread", "tea"], "contains ignores case");
    assert_eq!(contains.json()["totalResults"], 2);
    let starts = app
        .get("/todo?filterBy=title&filterOp=startsWith&filterValue=m")
        .await;
    assert_eq!(titles(&starts), ["milk"]);
    let equals = app
        .get("/todo?filterBy=done&filterOp=equals&filterValue=true")
        .await;
    assert_eq!(titles(&equals), ["bread"], "{}", equals.text());
    let by_id = app
        .get("/todo?filterBy=id&filterOp=equals&filterValue=4")
        .await;
    assert_eq!(titles(&by_id), ["tea"]);
    let present = app.get("/todo?filterBy=due&filterOp=present").await;
    assert_eq!(present.json()["totalResults"], 0, "{}", present.text());

    // A filter value is data: SQL in it matches nothing, a wildcard in it
    // is the character itself.
    let injected = app
        .get("/todo?filterBy=title&filterValue=x%27%20OR%20%271%27%3D%271")
        .await;
    assert_eq!(injected.status, 200, "{}", injected.text());
    assert_eq!(injected.json()["totalResults"], 0);
    let percent = app.get("/todo?filterBy=title&filterValue=%25").await;
    assert_eq!(titles(&percent), ["100% juice"]);
    let underscore = app.get("/todo?filterBy=title&filterValue=_").await;
    assert_eq!(underscore.json()["totalResults"], 0);

    // A column named by the request must be a real one; every other bad
    // parameter is a 400 naming it.
    for (uri, says) in [
        (
            "/todo?sortBy=title%3B%20DROP%20TABLE%20todo",
            "sortBy: `title; DROP TABLE todo` is not a column of `todo` (there are: id, title, done, due)",
        ),
        (
            "/todo?sortBy=(SELECT%201)",
            "sortBy: `(SELECT 1)` is not a column",
        ),
        (
            "/todo?filterBy=1%3D1%20OR%20title&filterValue=x",
            "filterBy: `1=1 OR title` is not a column",
        ),
        (
            "/todo?sortBy=title&sortOrder=sideways",
            "sortOrder: `sideways`",
        ),
        (
            "/todo?count=0",
            "count: \"0\" is not an integer from 1 to 1024",
        ),
        ("/todo?count=5000", "count: \"5000\""),
        ("/todo?startIndex=-1", "startIndex: \"-1\""),
        (
            "/todo?filterBy=title&filterOp=like&filterValue=x",
            "filterOp: `like`",
        ),
        (
            "/todo?filterBy=title&filterOp=equals",
            "filterValue: `filterOp=equals` needs a value",
        ),
        (
            "/todo?filterBy=id&filterOp=equals&filterValue=1%20OR%201%3D1",
            "filterValue: \"1 OR 1=1\" is not an integer",
        ),
    ] {
        app.get(uri).await.assert_problem_saying(400, says);
    }
    assert_eq!(target.count("todo").await, 5);

    // The collection is not deleted as a whole, whatever the route allows.
    let whole = app.call(Method::DELETE, "/todo").await;
    whole.assert_problem_saying(405, "DELETE is not served on the collection");
    assert_eq!(whole.header("allow"), Some("GET, HEAD, POST"));

    // One row.
    let milk = app.get("/todo/1").await;
    assert_eq!(milk.status, 200, "{}", milk.text());
    assert_eq!(milk.json()["title"], "milk");
    app.get("/todo/999")
        .await
        .assert_problem_saying(404, "no row 999");
    app.get("/todo/abc").await.assert_problem(404);

    // Insert: only real columns, each value of the column's kind, the
    // required ones given.
    let jam = send(
        &app,
        Method::POST,
        "/todo",
        json!({ "title": "jam", "due": "2027-01-02" }),
    )
    .await;
    assert_eq!(jam.status, 201, "{}", jam.text());
    let id = jam.json()["id"].as_i64().unwrap();
    assert_eq!(jam.json()["title"], "jam");
    assert_eq!(jam.json()["due"], "2027-01-02");
    assert!(!truth(&jam.json()["done"]), "{}", jam.text());
    for (body, says) in [
        (
            json!({ "titel": "x" }),
            "titel: `titel` is not a column of `todo`",
        ),
        (json!({ "done": true }), "title: a value is required"),
        (
            json!({ "title": { "a": 1 } }),
            "title: {\"a\":1} is not text",
        ),
        (
            json!({ "title": "x", "done": "maybe" }),
            "done: \"maybe\" is not true or false",
        ),
        (json!(["x"]), "the body must be a JSON object"),
    ] {
        send(&app, Method::POST, "/todo", body.clone())
            .await
            .assert_problem_saying(400, says);
    }
    assert_eq!(target.count("todo").await, 6);
    let due = app.get("/todo?filterBy=due&filterOp=present").await;
    assert_eq!(titles(&due), ["jam"]);

    // Update and delete by the key.
    let done = send(
        &app,
        Method::PUT,
        &format!("/todo/{id}"),
        json!({ "done": true }),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(truth(&done.json()["done"]), "{}", done.text());
    assert_eq!(done.json()["title"], "jam");
    send(&app, Method::PUT, "/todo/999", json!({ "done": true }))
        .await
        .assert_problem_saying(404, "no row 999");
    send(
        &app,
        Method::PUT,
        &format!("/todo/{id}"),
        json!({ "id": 1 }),
    )
    .await
    .assert_problem_saying(400, "the key of a row does not change");
    let deleted = app.call(Method::DELETE, &format!("/todo/{id}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    app.call(Method::DELETE, &format!("/todo/{id}"))
        .await
        .assert_problem_saying(404, "no row");
    assert_eq!(target.count("todo").await, 5);

    // A node that loads the stored revision reads the table again.
    let app = app.restart(false).await;
    assert_eq!(titles(&app.get("/todo?count=1").await), ["milk"]);
}

#[tokio::test]
async fn sql_table_serves_a_todo_api_on_sqlite() {
    todo_api_on(Kind::Sqlite).await;
}

#[tokio::test]
async fn sql_table_serves_a_todo_api_on_postgres() {
    todo_api_on(Kind::Postgres).await;
}

#[tokio::test]
async fn sql_table_serves_a_todo_api_on_mariadb() {
    todo_api_on(Kind::Mariadb).await;
}

/// A table that is not there, or that has no single key naming a row, is
/// refused at deploy, naming the action; nothing is served from it.
#[tokio::test]
async fn a_table_that_cannot_be_served_is_refused_at_deploy() {
    for (table, sql, says) in [
        (
            "nope",
            "CREATE TABLE todo (id INTEGER PRIMARY KEY);",
            "action.todo: the table `nope` does not exist",
        ),
        (
            "todo",
            "CREATE TABLE todo (title TEXT);",
            "action.todo: `todo` has no primary key",
        ),
        (
            "todo",
            "CREATE TABLE todo (a INTEGER, b INTEGER, PRIMARY KEY (a, b));",
            "action.todo: `todo` has a primary key of several columns",
        ),
    ] {
        // A relative path: a file in the server's connections directory.
        let yaml = project("sqlite:todo.db", table);
        let err = crate::support::app::boot_refused(&yaml, &[("todo.sql", sql)]).await;
        assert!(err.contains(says), "{err}");
    }
}

/// `columns:` limits what the table serves: the others are neither
/// answered nor accepted in a sort, a filter or a row; the backend creates
/// a `sql-table` too, and it keeps its name.
#[tokio::test]
async fn a_table_serves_only_the_columns_it_lists() {
    let dir = tempfile::tempdir().unwrap();
    let target = SqlTarget::new(Kind::Sqlite, dir.path()).await;
    let yaml = project(&target.url, "todo")
        .replace("table: todo }", "table: todo, columns: [id, title] }");
    let app = start_project(Kind::Sqlite, dir.path(), &yaml).await;
    let listed = app.get("/todo?count=1").await;
    assert_eq!(
        listed.json()["entry"],
        json!([{ "id": 1, "title": "milk" }])
    );
    app.get("/todo?filterBy=done&filterOp=present")
        .await
        .assert_problem_saying(
            400,
            "filterBy: `done` is not a column of `todo` (there are: id, title)",
        );
    send(
        &app,
        Method::POST,
        "/todo",
        json!({ "title": "jam", "done": true }),
    )
    .await
    .assert_problem_saying(400, "done: `done` is not a column");
    let jam = send(&app, Method::POST, "/todo", json!({ "title": "jam" })).await;
    assert_eq!(jam.status, 201, "{}", jam.text());
    assert_eq!(jam.json(), json!({ "id": 6, "title": "jam" }));

    // The backend: a listed column that is not there is refused, naming it.
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    let put = |columns: Value| {
        Request::put("/backend/action/todo")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({
                    "name": "todo",
                    "builtin": "sql-table",
                    "config": { "connection": "App", "table": "todo", "columns": columns },
                    "limits": { "memory": 67108864, "timeout": "10s" },
                })
                .to_string(),
            ))
            .unwrap()
    };
    app.send(put(json!(["id", "title", "colour"])))
        .await
        .assert_problem_saying(400, "config.columns: `colour` is not a column of `todo`");
    let saved = app.send(put(json!(["id", "title", "done"]))).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let listed = app
        .get("/todo?count=1&filterBy=done&filterOp=equals&filterValue=false")
        .await;
    assert_eq!(
        listed.json()["entry"],
        json!([{ "id": 1, "title": "milk", "done": false }])
    );
    let shown = app
        .send(
            Request::get("/backend/action/todo")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert_eq!(shown["builtin"], "sql-table", "{shown}");
}

/// A table that cannot be served refuses the deploy before any migration
/// runs, when no migration of its own connection is pending: the other
/// connection's migration is not half-applied.
#[tokio::test]
async fn a_refused_table_leaves_the_other_migrations_unrun() {
    let dir = tempfile::tempdir().unwrap();
    let other = SqlTarget::new(Kind::Sqlite, dir.path()).await;
    let yaml = format!(
        r#"
routes:
  /todo:
    methods:
      GET: {{ action: todo, public: true }}
action:
  todo:
    builtin: sql-table
    config: {{ connection: App, table: nope }}
connection:
  App:
    type: sql
    config: {{ url: "sqlite:app.db" }}
  Other:
    type: sql
    config: {{ url: "{url}" }}
migration:
  Other: [other.sql]
"#,
        url = other.url
    );
    let data = dir.path().to_owned();
    let err = crate::support::app::boot_refused_with(
        &yaml,
        &[("other.sql", "CREATE TABLE visit (id INTEGER);")],
        move |options| options.sqlite_dirs.push(data),
    )
    .await;
    assert!(
        err.contains("action.todo: the table `nope` does not exist"),
        "{err}"
    );
    // The migration did not run: its database was never even opened.
    let file = dir.path().join("app.db");
    assert!(!file.exists() || !other.has_table("visit").await);
}
