//! The example actions as the root `fusio.yml` serves them (what the
//! README's first command runs): PHP Fusio's todo API on the embedded
//! SQLite `Default-Connection`, the counter over the cache, the chain over
//! the processor; and examples/proxy over an HTTP connection to a local
//! upstream.

use crate::support::app::TestResponse;
use crate::support::guests::root;
use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::{Method, Request};
use serde_json::{Value, json};

/// The root project, deployed on a fresh SQLite store and data directory.
async fn start() -> TestApp {
    TestApp::start_with(Backend::Sqlite, "", |options| {
        options.deploy = Some(root().join("fusio.yml"));
    })
    .await
}

async fn send(app: &TestApp, method: Method, uri: &str, token: &str, body: Value) -> TestResponse {
    app.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_todo_api_lists_inserts_updates_and_deletes() {
    let app = start().await;
    let empty = app.get("/todo").await;
    assert_eq!(empty.status, 200, "{}", empty.text());
    assert_eq!(
        empty.json(),
        json!({ "totalResults": 0, "startIndex": 0, "itemsPerPage": 16, "entry": [] })
    );
    assert!(
        app.dir.path().join("data/connections/todo.db").is_file(),
        "the relative sqlite: path lives in the connections directory"
    );

    // Writing needs the scope `todo`.
    let anonymous = app
        .send(
            Request::post("/todo")
                .body(Body::from(r#"{"title":"milk"}"#))
                .unwrap(),
        )
        .await;
    anonymous.assert_problem(401);
    let (client_id, client_secret) = app.developer_app("todo").await;
    let token = app.client_credentials(&client_id, &client_secret).await;

    // The route's schema (`TodoInput`) refuses a title of another type
    // before the action runs; the action checks the rest and says what is
    // wrong.
    for (body, reason) in [
        (json!({}), "title is missing"),
        (json!({ "title": "   " }), "title must not be empty"),
        (json!({ "title": 5 }), "/title: 5 is not of type \"string\""),
        (json!({ "title": "x".repeat(256) }), "at most 255"),
        (json!({ "titel": "milk" }), "titel"),
    ] {
        send(&app, Method::POST, "/todo", &token, body)
            .await
            .assert_problem_saying(400, reason);
    }

    let mut ids = Vec::new();
    for i in 0..17 {
        let created = send(
            &app,
            Method::POST,
            "/todo",
            &token,
            json!({ "title": format!("todo {i}") }),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let body = created.json();
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "Insert successful");
        let id = body["id"].as_i64().unwrap();
        assert_eq!(
            created.header("location"),
            Some(format!("/todo/{id}").as_str())
        );
        ids.push(id);
    }

    // A page holds 16, newest first; the next page holds the rest.
    let page = app.get("/todo").await.json();
    assert_eq!(page["totalResults"], 17);
    let entry = page["entry"].as_array().unwrap();
    assert_eq!(entry.len(), 16);
    assert_eq!(entry[0]["title"], "todo 16");
    assert_eq!(entry[15]["title"], "todo 1");
    let at = entry[0]["insert_date"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'),
        "insert_date is an RFC 3339 timestamp in UTC: {at}"
    );
    let rest = app.get("/todo?startIndex=16").await.json();
    assert_eq!(rest["entry"][0]["title"], "todo 0");
    assert_eq!(rest["entry"].as_array().unwrap().len(), 1);
    app.get("/todo?startIndex=-1")
        .await
        .assert_problem_saying(400, "startIndex");

    // One row: get, update, delete (a delete hides the row, as in PHP Fusio).
    let id = ids[3];
    let row = app.get(&format!("/todo/{id}")).await;
    assert_eq!(row.status, 200, "{}", row.text());
    assert_eq!(row.json()["title"], "todo 3");
    assert_eq!(row.json()["status"], 1);
    let updated = send(
        &app,
        Method::PUT,
        &format!("/todo/{id}"),
        &token,
        json!({ "title": "renamed" }),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["message"], "Update successful");
    assert_eq!(
        app.get(&format!("/todo/{id}")).await.json()["title"],
        "renamed"
    );
    let deleted = send(
        &app,
        Method::DELETE,
        &format!("/todo/{id}"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(deleted.json()["message"], "Delete successful");
    app.get(&format!("/todo/{id}")).await.assert_problem(404);
    assert_eq!(app.get("/todo").await.json()["totalResults"], 16);
    send(
        &app,
        Method::DELETE,
        &format!("/todo/{id}"),
        &token,
        json!({}),
    )
    .await
    .assert_problem(404);
    send(
        &app,
        Method::PUT,
        "/todo/99999",
        &token,
        json!({ "title": "x" }),
    )
    .await
    .assert_problem(404);
    app.get("/todo/not-a-number").await.assert_problem(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_counts_every_hit_and_the_chain_composes_actions() {
    let app = start().await;
    let count = |answer: TestResponse| {
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["count"].as_i64().unwrap()
    };
    assert_eq!(count(app.get("/counter/a").await), 1);
    assert_eq!(count(app.get("/counter/a").await), 2);
    assert_eq!(count(app.get("/counter/b").await), 1);

    // Concurrent hits are never lost: each answer is a different count.
    let hits: Vec<_> = (0..20).map(|_| app.spawn_get("/counter/c")).collect();
    for hit in hits {
        assert_eq!(hit.await.unwrap().0, 200);
    }
    assert_eq!(count(app.get("/counter/c").await), 21);
    assert_eq!(count(app.call(Method::DELETE, "/counter/c").await), 0);
    assert_eq!(count(app.get("/counter/c").await), 1);

    // The chain asks `hello` and `todo` through the processor.
    let chained = app.get("/chain?name=Ada").await;
    assert_eq!(chained.status, 200, "{}", chained.text());
    assert_eq!(
        chained.json(),
        json!({ "message": "Hello Ada!", "openTodos": 0 })
    );
}

/// An upstream that answers what it was asked, with status 201.
async fn upstream() -> String {
    use axum::extract::Request as Incoming;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let echo = axum::Router::new().fallback(|request: Incoming| async move {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let answer = json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "contentType": parts.headers.get("content-type").and_then(|v| v.to_str().ok()),
            "authorization": parts.headers.get("authorization").and_then(|v| v.to_str().ok()),
            "body": String::from_utf8_lossy(&body),
        });
        (
            http::StatusCode::CREATED,
            [("content-type", "application/vnd.upstream+json")],
            answer.to_string(),
        )
    });
    tokio::spawn(async move { axum::serve(listener, echo).await });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_forwards_to_its_http_connection() {
    let upstream = upstream().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let proxy = root().join("examples/proxy");
    let yaml = format!(
        r#"
routes:
  /proxy/*path:
    methods:
      GET: {{ action: proxy, public: true }}
      POST: {{ action: proxy, public: true }}
  /down/*path:
    methods:
      GET: {{ action: down, public: true }}
action:
  proxy:
    component: {proxy}
    connections: [Upstream]
    config: {{ connection: Upstream }}
  down:
    component: {proxy}
    connections: [Down]
    config: {{ connection: Down }}
connection:
  Upstream:
    type: http
    config:
      url: {upstream}/api
      allow_private: true
      headers: {{ authorization: Bearer upstream-secret }}
  Down:
    type: http
    config:
      url: http://{closed}
      allow_private: true
"#,
        proxy = proxy.display()
    );
    let app = TestApp::start(Backend::Sqlite, &yaml).await;

    let got = app.get("/proxy/items/7?q=a%20b&x=1").await;
    assert_eq!(got.status, 201, "{}", got.text());
    assert_eq!(
        got.header("content-type"),
        Some("application/vnd.upstream+json")
    );
    let seen = got.json();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["uri"], "/api/items/7?q=a+b&x=1");
    assert_eq!(
        seen["authorization"], "Bearer upstream-secret",
        "the connection's headers are added on the server"
    );

    let posted = app
        .send(
            Request::post("/proxy/items")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"title":"milk"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert_eq!(posted.json()["method"], "POST");
    assert_eq!(posted.json()["body"], r#"{"title":"milk"}"#);
    assert_eq!(posted.json()["contentType"], "application/json");

    // An upstream that is down: 503, its reason only in the log.
    let down = app.get("/down/anything").await;
    let problem = down.assert_problem(503);
    assert!(
        !problem.to_string().contains(&closed.to_string()),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_todo_shares_the_table_with_the_rust_one() {
    let app = start().await;
    let anonymous = app
        .send(
            Request::post("/js/todo")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"title":"milk"}"#))
                .unwrap(),
        )
        .await;
    anonymous.assert_problem(401);
    let (client_id, client_secret) = app.developer_app("todo").await;
    let token = app.client_credentials(&client_id, &client_secret).await;
    let created = send(
        &app,
        Method::POST,
        "/js/todo",
        &token,
        json!({ "title": " from js " }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_i64().expect("the new id");
    assert_eq!(created.json()["success"], true);
    let blank = send(
        &app,
        Method::POST,
        "/js/todo",
        &token,
        json!({ "title": "  " }),
    )
    .await;
    assert_eq!(blank.status, 400, "{}", blank.text());

    // The Rust action reads what the script wrote, and the other way round.
    let rust = app.get(&format!("/todo/{id}")).await;
    assert_eq!(rust.status, 200, "{}", rust.text());
    assert_eq!(rust.json()["title"], "from js");
    let written = send(
        &app,
        Method::POST,
        "/todo",
        &token,
        json!({ "title": "from rust" }),
    )
    .await;
    assert_eq!(written.status, 201, "{}", written.text());
    let listed = app.get("/js/todo?count=1").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["totalResults"], 2, "{listed}");
    assert_eq!(listed["itemsPerPage"], 1);
    assert_eq!(listed["entry"].as_array().unwrap().len(), 1);

    // The built-in sql-table serves the same rows with no code.
    let table = app
        .get("/table/todo?filterBy=title&filterValue=RUST&sortBy=id&sortOrder=desc")
        .await;
    assert_eq!(table.status, 200, "{}", table.text());
    assert_eq!(table.json()["totalResults"], 1, "{}", table.text());
    assert_eq!(table.json()["entry"][0]["title"], "from rust");
    let row = app.get(&format!("/table/todo/{id}")).await;
    assert_eq!(row.json()["title"], "from js", "{}", row.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_hello_greets_and_counts() {
    let app = start().await;
    let first = app.get("/py/hello?name=Ada").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        first.json(),
        json!({ "message": "Hello Ada!", "visits": 1 })
    );
    let second = app.get("/py/hello").await;
    assert_eq!(
        second.json(),
        json!({ "message": "Hello World!", "visits": 2 })
    );
}
