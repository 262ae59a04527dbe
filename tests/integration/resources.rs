//! The project's entities through `/backend`: routes, actions, schemas and
//! connections read, created, changed and deleted — each write a validated
//! deploy that lands as a new revision or changes nothing — plus an action
//! executed from the backend.

use crate::support::app::TestResponse;
use crate::support::{Backend, TestApp, on_both_stores};
use axum::body::Body;
use http::{Method, Request};

const PROJECT: &str = r#"
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
    config:
      generation: "1"
"#;

async fn admin(app: &TestApp) -> String {
    app.password_token("fusio", "admin", "admin password").await
}

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<serde_json::Value>,
    if_match: Option<&str>,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    app.send(request.body(body).unwrap()).await
}

async fn routes_are_read_added_changed_and_removed(backend: Backend) {
    let app = TestApp::start_with(backend, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    let token = admin(&app).await;
    let first = app.state.live.current().revision;

    let listed = send(&app, Method::GET, "/backend/routes", &token, None, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["totalResults"], 1);
    assert_eq!(listed.json()["entry"][0]["path"], "/echo");
    let echo = send(
        &app,
        Method::GET,
        "/backend/routes/~%2Fecho",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(echo.status, 200, "{}", echo.text());
    let tag = echo.header("etag").unwrap().to_owned();

    // Add a route: a new revision serves it.
    let new_route = serde_json::json!({
        "path": "/new",
        "versions": [{ "version": 1, "methods": [{ "method": "GET", "action": "echo", "public": true }] }]
    });
    let created = send(
        &app,
        Method::POST,
        "/backend/routes",
        &token,
        Some(new_route.clone()),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(app.state.live.current().revision, first + 1);
    assert_eq!(app.get("/new").await.status, 200);
    send(
        &app,
        Method::POST,
        "/backend/routes",
        &token,
        Some(new_route),
        None,
    )
    .await
    .assert_problem(409);

    // A change that does not validate is refused, naming the entry; nothing changes.
    let broken = serde_json::json!({
        "path": "/echo",
        "versions": [{ "version": 1, "methods": [{ "method": "GET", "action": "nope", "public": true }] }]
    });
    let refused = send(
        &app,
        Method::PUT,
        "/backend/routes/~%2Fecho",
        &token,
        Some(broken),
        None,
    )
    .await;
    let problem = refused.assert_problem(400);
    assert_eq!(
        problem["problems"][0]["entry"],
        "routes.\"/echo\".methods.GET"
    );
    assert_eq!(app.state.live.current().revision, first + 1);

    // A stale If-Match is refused; the current tag works.
    let protected = serde_json::json!({
        "path": "/echo",
        "versions": [{ "version": 1, "methods": [{ "method": "GET", "action": "echo", "scopes": ["echo.read"] }] }]
    });
    send(
        &app,
        Method::PUT,
        "/backend/routes/~%2Fecho",
        &token,
        Some(protected.clone()),
        Some("\"0000\""),
    )
    .await
    .assert_problem(412);
    assert_eq!(app.get("/echo").await.status, 200);
    let updated = send(
        &app,
        Method::PUT,
        "/backend/routes/~%2Fecho",
        &token,
        Some(protected),
        Some(&tag),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_ne!(updated.header("etag"), Some(tag.as_str()));
    app.get("/echo").await.assert_problem(401);

    // Delete; the audit log and the revisions name the API as the source.
    let deleted = send(
        &app,
        Method::DELETE,
        "/backend/routes/~%2Fnew",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(app.get("/new").await.status, 404);
    send(
        &app,
        Method::GET,
        "/backend/routes/~%2Fnew",
        &token,
        None,
        None,
    )
    .await
    .assert_problem(404);
    let revisions = send(&app, Method::GET, "/backend/revision", &token, None, None)
        .await
        .json();
    assert_eq!(revisions["entry"][0]["source"], "api:route");
    assert_eq!(revisions["entry"][0]["author"], "admin via fusio");
    let audit = send(&app, Method::GET, "/backend/audit", &token, None, None)
        .await
        .json();
    assert_eq!(audit["entry"][0]["detail"]["routes"]["removed"][0], "/new");
}

async fn actions_schemas_and_connections_are_managed(backend: Backend) {
    let app = TestApp::start_with(backend, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    let token = admin(&app).await;

    // An action: read, reconfigured, executed from the backend.
    let echo = send(
        &app,
        Method::GET,
        "/backend/action/~echo",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(echo.status, 200, "{}", echo.text());
    let mut spec = echo.json();
    assert_eq!(spec["sha256"].as_str().unwrap().len(), 64);
    spec["config"]["generation"] = "2".into();
    let changed = send(
        &app,
        Method::PUT,
        "/backend/action/~echo",
        &token,
        Some(spec),
        None,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(
        crate::deploy::generation(&app.get("/echo").await.json()),
        "2"
    );
    let executed = send(
        &app,
        Method::POST,
        "/backend/action/execute/~echo",
        &token,
        Some(serde_json::json!({ "method": "POST", "query": { "q": "1" }, "body": "hi" })),
        None,
    )
    .await;
    assert_eq!(executed.status, 200, "{}", executed.text());
    let answer = executed.json();
    assert_eq!(answer["status"], 200);
    let body: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], "POST");
    assert_eq!(body["body"], "hi");
    let failing = send(
        &app,
        Method::POST,
        "/backend/action/execute/~echo",
        &token,
        Some(serde_json::json!({ "query": { "fail": "bad-request" } })),
        None,
    )
    .await
    .json();
    assert_eq!(failing["status"], 400);
    assert_eq!(
        failing["headers"]["content-type"],
        "application/problem+json"
    );
    send(
        &app,
        Method::POST,
        "/backend/action/execute/~nope",
        &token,
        None,
        None,
    )
    .await
    .assert_problem(404);

    // A schema: refused when it is not one, stored when it is.
    let bad = send(
        &app,
        Method::POST,
        "/backend/schema",
        &token,
        Some(serde_json::json!({ "name": "Todo", "document": { "type": 12 } })),
        None,
    )
    .await;
    let problem = bad.assert_problem(400);
    assert_eq!(problem["problems"][0]["entry"], "schema.Todo");
    let good = send(
        &app,
        Method::POST,
        "/backend/schema",
        &token,
        Some(serde_json::json!({ "name": "Todo", "document": { "type": "object" } })),
        None,
    )
    .await;
    assert_eq!(good.status, 201, "{}", good.text());

    // A connection: its settings are never shown.
    let connection = send(
        &app,
        Method::POST,
        "/backend/connection",
        &token,
        Some(serde_json::json!({
            "name": "Api", "type": "http",
            "config": { "url": "https://api.example.com", "headers": { "authorization": "Bearer s3cr3t-value" } }
        })),
        None,
    )
    .await;
    assert_eq!(connection.status, 201, "{}", connection.text());
    let shown = send(
        &app,
        Method::GET,
        "/backend/connection/~Api",
        &token,
        None,
        None,
    )
    .await;
    assert!(!shown.text().contains("s3cr3t-value"), "{}", shown.text());
    assert_eq!(shown.json()["config"]["url"], "(hidden)");
    let listed = send(&app, Method::GET, "/backend/connection", &token, None, None).await;
    assert!(!listed.text().contains("s3cr3t-value"));
    // Sending back what GET showed would overwrite the secret: refused.
    let mut round_trip = shown.json();
    round_trip["config"]["headers"] = serde_json::json!({ "authorization": "(hidden)" });
    round_trip["config"]["url"] = "https://api.example.com".into();
    send(
        &app,
        Method::PUT,
        "/backend/connection/~Api",
        &token,
        Some(round_trip),
        None,
    )
    .await
    .assert_problem_saying(400, "send every setting in clear");
    let bad_url = send(
        &app,
        Method::POST,
        "/backend/connection",
        &token,
        Some(serde_json::json!({ "name": "Db", "type": "sql", "config": { "url": "oracle://x" } })),
        None,
    )
    .await;
    bad_url.assert_problem_saying(400, "connection.Db");
}

async fn settings_are_typed_conditional_audited_and_honoured(backend: Backend) {
    let app = TestApp::start_with(backend, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    let token = admin(&app).await;
    let read = send(&app, Method::GET, "/backend/config", &token, None, None).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["consumerMaxApps"], 16);
    assert_eq!(read.json()["registrationOpen"], true);
    let tag = read.header("etag").unwrap().to_owned();

    send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "colour": 1 })),
        None,
    )
    .await
    .assert_problem_saying(400, "`colour` is not a setting");
    send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "consumerMaxApps": "many" })),
        None,
    )
    .await
    .assert_problem(400);
    send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "consumerMaxApps": 1 })),
        Some("\"stale\""),
    )
    .await
    .assert_problem(412);
    let saved = send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "consumerMaxApps": 1, "registrationOpen": false })),
        Some(&tag),
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let now = send(&app, Method::GET, "/backend/config", &token, None, None).await;
    assert_eq!(now.json()["consumerMaxApps"], 1);
    assert_eq!(now.header("etag"), saved.header("etag"));

    // Registration is closed; a developer may own one app.
    let register = app
        .send(
            Request::post("/consumer/register")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"name":"ada","email":"ada@example.org","password":"a long password"}"#,
                ))
                .unwrap(),
        )
        .await;
    register.assert_problem_saying(403, "registration is switched off");
    send(
        &app,
        Method::POST,
        "/backend/user",
        &token,
        Some(serde_json::json!({ "name": "dev", "password": "dev password", "role": "Consumer" })),
        None,
    )
    .await;
    let dev = app.password_token("developer", "dev", "dev password").await;
    let app_body = |name: &str| serde_json::json!({ "name": name, "scopes": ["consumer.account"] });
    let first = send(
        &app,
        Method::POST,
        "/consumer/app",
        &dev,
        Some(app_body("One")),
        None,
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text());
    send(
        &app,
        Method::POST,
        "/consumer/app",
        &dev,
        Some(app_body("Two")),
        None,
    )
    .await
    .assert_problem_saying(409, "the most this server allows");

    let audit = send(
        &app,
        Method::GET,
        "/backend/audit?search=settings",
        &token,
        None,
        None,
    )
    .await
    .json();
    assert_eq!(audit["entry"][0]["action"], "config");
    assert_eq!(audit["entry"][0]["detail"]["consumerMaxApps"], 1);
}

async fn a_schema_previews_an_example(backend: Backend) {
    let app = TestApp::start_with(backend, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    let token = admin(&app).await;
    let schema = serde_json::json!({
        "name": "Todo",
        "document": { "type": "object", "properties": { "title": { "type": "string" } }, "required": ["title"] }
    });
    send(
        &app,
        Method::POST,
        "/backend/schema",
        &token,
        Some(schema),
        None,
    )
    .await;
    let good = send(
        &app,
        Method::POST,
        "/backend/schema/~Todo/check",
        &token,
        Some(serde_json::json!({ "title": "milk" })),
        None,
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.json()["valid"], true);
    let bad = send(
        &app,
        Method::POST,
        "/backend/schema/~Todo/check",
        &token,
        Some(serde_json::json!({ "title": 5 })),
        None,
    )
    .await
    .json();
    assert_eq!(bad["valid"], false);
    assert_eq!(bad["violations"][0]["pointer"], "/title");
    send(
        &app,
        Method::POST,
        "/backend/schema/~Nope/check",
        &token,
        Some(serde_json::json!({})),
        None,
    )
    .await
    .assert_problem(404);
}

on_both_stores!(
    routes_are_read_added_changed_and_removed,
    actions_schemas_and_connections_are_managed,
    settings_are_typed_conditional_audited_and_honoured,
    a_schema_previews_an_example,
);

/// What an action logs is stored with the request id and shown by
/// `GET /backend/log/action`, searchable by the request id of a response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_log_entries_are_kept_for_the_backend() {
    let app = TestApp::start_with(Backend::Sqlite, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    let token = admin(&app).await;
    let answered = app.get("/echo").await;
    assert_eq!(answered.status, 200);
    let id = answered.request_id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let entry = loop {
        let log = send(
            &app,
            Method::GET,
            &format!("/backend/log/action?search={id}"),
            &token,
            None,
            None,
        )
        .await;
        assert_eq!(log.status, 200, "{}", log.text());
        let log = log.json();
        if log["totalResults"] == 1 {
            break log["entry"][0].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the entry was never stored: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(entry["action"], "echo");
    assert_eq!(entry["level"], "info");
    assert_eq!(entry["message"], "echo called");
    assert_eq!(entry["fields"], serde_json::json!([["path", "/echo"]]));
}

/// Entries older than `logRetentionDays` (30 by default) are removed when a
/// node starts (and every hour); 0 keeps them for ever.
async fn log_entries_past_the_retention_are_removed(backend: Backend) {
    let app = TestApp::start_with(backend, PROJECT, |o| {
        o.admin_password = Some("admin password".into());
    })
    .await;
    assert_eq!(app.get("/echo").await.status, 200);
    assert_eq!(app.get("/echo").await.status, 200);
    let stored = |app: &TestApp| {
        let store = app.state.store.clone();
        async move {
            let page = fusio::store::Page {
                start: 0,
                count: 10,
                search: None,
            };
            store.list_log(page).await.unwrap().0
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while stored(&app).await < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "entries were never stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // One entry from long ago, written straight into the store.
    sqlx::any::install_default_drivers();
    let url = app.options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            app.options.data_dir.join("fusio.db").display()
        )
    });
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE fusio_log SET created_at = '2020-01-01T00:00:00.000Z' \
         WHERE id = (SELECT MIN(id) FROM fusio_log)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = sqlx::Connection::close(conn).await;

    // Kept for ever: a restart removes nothing.
    let token = admin(&app).await;
    let kept = send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "logRetentionDays": 0 })),
        None,
    )
    .await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    let app = app.restart(false).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stored(&app).await, 2);

    // 30 days: the old entry goes when the node starts, the new one stays.
    let token = admin(&app).await;
    send(
        &app,
        Method::PUT,
        "/backend/config",
        &token,
        Some(serde_json::json!({ "logRetentionDays": 30 })),
        None,
    )
    .await;
    let app = app.restart(false).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while stored(&app).await != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the old entry was never removed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

on_both_stores!(log_entries_past_the_retention_are_removed);
