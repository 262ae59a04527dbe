//! The request and error log: every request is logged once, off the
//! request path, with credentials hidden; a full queue counts what it
//! drops; `/backend/log` filters and shows a request with its action's log
//! lines; traps and timeouts are in the error log, found by the request id
//! of the client's problem.

use crate::support::app::TestResponse;
use crate::support::{Backend, TestApp, on_both_stores};
use axum::body::Body;
use http::Request;
use sqlx::Row;

const PROJECT: &str = r#"
rate: {}
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
      POST: { action: echo, public: true }
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
  /panic:
    methods:
      GET: { action: panic, public: true }
  /spin:
    methods:
      GET: { action: spin, public: true }
action:
  echo:
    component: "{guest:echo}"
  panic:
    component: "{guest:panic}"
  spin:
    component: "{guest:spin}"
    limits: { timeout: 300ms }
"#;

const ADMIN_PASSWORD: &str = "admin password";

async fn start(backend: Backend, tweak: impl FnOnce(&mut fusio::server::BootOptions)) -> TestApp {
    TestApp::start_with(backend, PROJECT, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
        tweak(options);
    })
    .await
}

/// Waits until every request answered so far is in the store.
pub(crate) async fn flushed(app: &TestApp) {
    app.state
        .journal
        .as_ref()
        .expect("the request log is on")
        .flush()
        .await;
    app.state.deployer.pools().flush_action_log().await;
}

async fn rows(app: &TestApp, condition: &str) -> i64 {
    let mut store = app.store_connection().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM fusio_request_log WHERE {condition}"
    )))
    .fetch_one(&mut store)
    .await
    .unwrap()
    .try_get(0)
    .unwrap()
}

pub(crate) async fn read(app: &TestApp, token: &str, uri: &str) -> TestResponse {
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_logged_once_per_request_and_never_with_credentials() {
    use futures_util::StreamExt;
    const BURST: usize = 10_000;
    let app = start(Backend::Sqlite, |options| {
        options.request_log.redact = vec![http::HeaderName::from_static("x-api-key")];
    })
    .await;
    let (client_id, client_secret) = app.developer_app("echo.read").await;
    let token = app.client_credentials(&client_id, &client_secret).await;
    let router = app.router();
    let statuses: Vec<u16> = futures_util::stream::iter(0..BURST)
        .map(|i| {
            let request = Request::get(format!("/private?n={i}"))
                .header("authorization", format!("Bearer {token}"))
                .header("cookie", "session=cookie-secret")
                .header("x-api-key", "key-secret")
                .header("user-agent", "burst")
                .body(Body::empty())
                .unwrap();
            let router = router.clone();
            async move {
                use tower::ServiceExt;
                router.oneshot(request).await.unwrap().status().as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200));
    flushed(&app).await;
    assert_eq!(rows(&app, "path = '/private'").await, BURST as i64);
    assert_eq!(
        rows(
            &app,
            "path = '/private' AND app = 'Dev app' AND route = '/private'"
        )
        .await,
        BURST as i64
    );
    for secret in [token.as_str(), "cookie-secret", "key-secret"] {
        assert_eq!(
            rows(&app, &format!("headers LIKE '%{secret}%'")).await,
            0,
            "no row holds {secret}"
        );
    }
    assert_eq!(
        rows(
            &app,
            r#"path = '/private' AND headers LIKE '%["authorization","(hidden)"]%'"#
        )
        .await,
        BURST as i64
    );
    let stats = app.state.journal.as_ref().unwrap().stats();
    assert_eq!((stats.dropped, stats.failed), (0, 0));
    // The rollups the statistics read hold every one of them too, though
    // under load the writer adds them once a second.
    let mut store = app.store_connection().await;
    for table in ["fusio_request_hourly", "fusio_request_daily"] {
        let rolled: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(SUM(requests) AS BIGINT) FROM {table} \
             WHERE dimension = 'route' AND value = '/private'"
        )))
        .fetch_one(&mut store)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(rolled, BURST as i64, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_queue_counts_every_record_it_drops() {
    use futures_util::StreamExt;
    const BURST: usize = 500;
    let app = start(Backend::Sqlite, |options| options.request_log.queue = 2).await;
    let router = app.router();
    futures_util::stream::iter(0..BURST)
        .map(|_| {
            let router = router.clone();
            async move {
                use tower::ServiceExt;
                let request = Request::get("/echo").body(Body::empty()).unwrap();
                assert_eq!(router.oneshot(request).await.unwrap().status(), 200);
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
    flushed(&app).await;
    let stats = app.state.journal.as_ref().unwrap().stats();
    assert!(
        stats.dropped > 0,
        "a queue of 2 cannot take {BURST}: {stats:?}"
    );
    let stored = rows(&app, "path = '/echo'").await;
    assert_eq!(stored, BURST as i64 - stats.dropped as i64);
    assert_eq!(stats.written, stored as u64);
    let health = app.get("/system/health").await.json();
    assert_eq!(health["requestLog"]["dropped"], stats.dropped);
}

on_both_stores!(the_backend_filters_the_log_and_shows_a_request_with_its_lines);
async fn the_backend_filters_the_log_and_shows_a_request_with_its_lines(backend: Backend) {
    let app = start(backend, |options| {
        options.request_log.body_limit = 8;
        options.request_log.redact_query = vec!["API_KEY".into()];
    })
    .await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    let got = app.get("/echo?greeting=hi").await;
    let keyed = app
        .get("/echo?greeting=hi&api_key=k-secret&access%5Ftoken=t-secret&flag")
        .await;
    let posted = app
        .send(
            Request::post("/echo")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"name": "a long body"}"#))
                .unwrap(),
        )
        .await;
    let missing = app.get("/nowhere").await;
    assert_eq!(
        (
            got.status.as_u16(),
            posted.status.as_u16(),
            missing.status.as_u16()
        ),
        (200, 200, 404)
    );
    flushed(&app).await;

    let list = |query: &str| {
        let uri = format!("/backend/log?{query}");
        let (app, token) = (&app, &token);
        async move { read(app, token, &uri).await }
    };
    let found = list(&format!("search={}", got.request_id())).await.json();
    assert_eq!(found["totalResults"], 1, "{found}");
    let entry = &found["entry"][0];
    assert_eq!(entry["route"], "/echo");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["query"], "greeting=hi");
    // A configured parameter and `access_token` are kept by name only
    // (their names compared decoded, ignoring case).
    let found = list(&format!("search={}", keyed.request_id())).await.json();
    assert_eq!(
        found["entry"][0]["query"], "greeting=hi&api_key=(hidden)&access%5Ftoken=(hidden)&flag",
        "{found}"
    );
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["version"], 1);
    assert_eq!(entry["system"], false);
    assert!(entry["duration"].as_i64().unwrap() > 0);
    assert!(entry["error"].is_null());

    let posts = list("method=post&route=/echo").await.json();
    assert_eq!(posts["totalResults"], 1, "{posts}");
    assert_eq!(
        posts["entry"][0]["body"], r#"{"name":"#,
        "the body up to the cap"
    );
    assert_eq!(list("status=404").await.json()["totalResults"], 1);
    assert_eq!(
        list("route=/echo&status=200").await.json()["totalResults"],
        3
    );
    assert_eq!(list("from=2999-01-01").await.json()["totalResults"], 0);
    assert_eq!(
        list("from=2020-01-01&to=2999-01-01&route=/echo")
            .await
            .json()["totalResults"],
        3
    );
    for (query, parameter) in [
        ("status=abc", "`status`"),
        ("from=yesterday", "`from`"),
        ("method=G%20T", "`method`"),
        ("count=5000", "`count`"),
    ] {
        list(query).await.assert_problem_saying(400, parameter);
    }

    // One request with what its action logged.
    let id = entry["id"].as_i64().unwrap();
    let detail = read(&app, &token, &format!("/backend/log/{id}"))
        .await
        .json();
    assert_eq!(detail["requestId"], got.request_id().as_str());
    assert_eq!(detail["actionLog"][0]["message"], "echo called");
    assert_eq!(
        detail["actionLog"][0]["fields"],
        serde_json::json!([["path", "/echo"]])
    );
    read(&app, &token, "/backend/log/999999")
        .await
        .assert_problem(404);
    read(&app, &token, &format!("/backend/log/error/{id}"))
        .await
        .assert_problem(404);

    // The system API is logged too, marked as such, with its caller and
    // without credentials or bodies.
    flushed(&app).await;
    let system = list("route=/backend/log/{id}&status=200").await.json();
    assert_eq!(system["totalResults"], 1, "{system}");
    let entry = &system["entry"][0];
    assert_eq!(entry["system"], true);
    assert_eq!(entry["path"], format!("/backend/log/{id}"));
    assert_eq!(
        (&entry["app"], &entry["user"]),
        (&"Fusio backend".into(), &"admin".into())
    );
    assert!(entry["body"].is_null());
    let token_row = rows(&app, &format!("headers LIKE '%{token}%'")).await;
    assert_eq!(token_row, 0);
    // System queries carry codes and secrets (a provider's callback): the
    // log keeps their names only.
    let refused = list("route=/backend/log&status=400").await.json();
    assert_eq!(refused["totalResults"], 4, "{refused}");
    let queries: Vec<&str> = refused["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["query"].as_str().unwrap())
        .collect();
    assert!(queries.contains(&"from=(hidden)"), "{queries:?}");
    assert!(
        queries
            .iter()
            .all(|q| !q.contains("yesterday") && !q.contains("abc"))
    );
    let login = list("route=/authorization/token").await.json();
    assert_eq!(login["totalResults"], 1, "the admin's login: {login}");
    assert!(
        login["entry"][0]["body"].is_null(),
        "no password in the log"
    );
}

/// Waits for the error-log entry of `problem` and answers its detail.
pub(crate) async fn error_of(
    app: &TestApp,
    token: &str,
    problem: &TestResponse,
) -> serde_json::Value {
    flushed(app).await;
    let request_id = problem.json()["requestId"].as_str().unwrap().to_owned();
    assert_eq!(request_id, problem.request_id());
    let listed = read(
        app,
        token,
        &format!("/backend/log/error?search={request_id}"),
    )
    .await
    .json();
    assert_eq!(listed["totalResults"], 1, "{listed}");
    let id = listed["entry"][0]["id"].as_i64().unwrap();
    let detail = read(app, token, &format!("/backend/log/error/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    detail.json()
}

on_both_stores!(traps_and_timeouts_are_in_the_error_log_with_their_lines);
async fn traps_and_timeouts_are_in_the_error_log_with_their_lines(backend: Backend) {
    let app = start(backend, |_| {}).await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;

    let trapped = app.get("/panic?token=t0p").await;
    let problem = trapped.assert_problem(500);
    assert!(
        !problem.to_string().contains("guest panic"),
        "no trap text to the client"
    );
    let entry = error_of(&app, &token, &trapped).await;
    assert_eq!(entry["route"], "/panic");
    assert_eq!(entry["status"], 500);
    assert_eq!(entry["error"]["kind"], "trap");
    let message = entry["error"]["message"].as_str().unwrap();
    assert!(message.contains("guest panic with secret t0p"), "{message}");
    assert!(message.contains("wasm backtrace"), "{message}");
    // The backtrace names the guest's own functions.
    assert!(message.contains("guest_panic"), "{message}");
    assert_eq!(entry["actionLog"][0]["message"], "about to panic");
    assert_eq!(entry["actionLog"][0]["level"], "warn");

    let timed_out = app.get("/spin").await;
    timed_out.assert_problem(504);
    let entry = error_of(&app, &token, &timed_out).await;
    assert_eq!(entry["error"]["kind"], "timeout");
    assert!(
        entry["error"]["message"]
            .as_str()
            .unwrap()
            .contains("action `spin`"),
        "{entry}"
    );
    assert_eq!(entry["actionLog"][0]["message"], "spinning until stopped");

    // Answers the client got wrong are in the request log, not the error log.
    assert_eq!(app.get("/nowhere").await.status, 404);
    flushed(&app).await;
    let errors = read(&app, &token, "/backend/log/error").await.json();
    assert_eq!(errors["totalResults"], 2, "{errors}");
}
