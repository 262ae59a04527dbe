//! `/backend/statistic/{name}` and `/backend/dashboard` on seeded data, on
//! both stores: the request statistics from the rollups and, with filters
//! the rollups cannot answer, from the log; tokens, registrations and
//! activities; day and hour buckets; bad input.

use crate::support::{Backend, TestApp, on_both_stores};
use axum::body::Body;
use fusio::store::request_log::{Failure, RequestRecord};
use http::Request;
use serde_json::{Value, json};

const PROJECT: &str = r#"
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
action:
  echo:
    component: "{guest:echo}"
"#;

const DAYS: &str = "from=2026-01-01&to=2026-01-03";

#[allow(clippy::too_many_arguments)]
fn request(
    at: &str,
    route: &str,
    app: Option<&str>,
    user: Option<&str>,
    ip: &str,
    status: i64,
    duration_us: i64,
) -> RequestRecord {
    RequestRecord {
        request_id: format!("{at}{route}{ip}"),
        route: Some(route.to_owned()),
        method: "GET".into(),
        path: route.to_owned(),
        app: app.map(str::to_owned),
        user: user.map(str::to_owned),
        ip: Some(ip.to_owned()),
        status,
        duration_us,
        error: (status >= 500).then(|| Failure {
            kind: "trap".into(),
            message: "boom".into(),
        }),
        created_at: at.to_owned(),
        ..RequestRecord::default()
    }
}

/// Ten requests over two days (and five system ones, never counted).
fn seed() -> Vec<RequestRecord> {
    let mut records = Vec::new();
    let day1 = "2026-01-01T10:15:00.000Z";
    let day2 = "2026-01-02T05:00:00.000Z";
    for _ in 0..3 {
        records.push(request(
            day1,
            "/todo",
            Some("A"),
            Some("u1"),
            "1.1.1.1",
            200,
            1000,
        ));
    }
    records.push(request(
        day1,
        "/todo",
        Some("B"),
        Some("u2"),
        "2.2.2.2",
        500,
        3000,
    ));
    for _ in 0..2 {
        records.push(request(day1, "/hello", None, None, "1.1.1.1", 200, 500));
    }
    for _ in 0..4 {
        records.push(request(
            day2,
            "/hello",
            Some("A"),
            Some("u1"),
            "3.3.3.3",
            200,
            100,
        ));
    }
    for _ in 0..5 {
        records.push(RequestRecord {
            system: true,
            ..request(
                day1,
                "/backend/user",
                Some("Fusio backend"),
                Some("admin"),
                "9.9.9.9",
                200,
                10,
            )
        });
    }
    records
}

async fn start(backend: Backend) -> (TestApp, String) {
    let app = TestApp::start_with(backend, PROJECT, |options| {
        options.admin_password = Some("admin password".into());
    })
    .await;
    let token = app.password_token("fusio", "admin", "admin password").await;
    // In two batches, as the writer would store them: the rollups add up.
    let records = seed();
    let (first, second) = records.split_at(4);
    app.state.store.insert_requests(first).await.unwrap();
    app.state.store.insert_requests(second).await.unwrap();
    (app, token)
}

async fn statistic(app: &TestApp, token: &str, name: &str, query: &str) -> Value {
    let request = Request::get(format!("/backend/statistic/{name}?{query}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, 200, "{name}?{query}: {}", answer.text());
    answer.json()
}

fn chart(labels: Value, series: &[(&str, Value)]) -> Value {
    json!({
        "labels": labels,
        "series": series.iter().map(|(name, data)| json!({"name": name, "data": data})).collect::<Vec<_>>(),
    })
}

on_both_stores!(
    request_counts_per_bucket,
    the_most_used_routes_and_apps_over_time,
    requests_errors_and_time_per_entity,
    filters_the_rollups_cannot_answer_read_the_log,
    tokens_registrations_and_activities,
    the_dashboard_has_every_panel_and_bad_input_is_refused,
);

async fn request_counts_per_bucket(backend: Backend) {
    let (app, token) = start(backend).await;
    let days = json!(["2026-01-01", "2026-01-02"]);
    assert_eq!(
        statistic(&app, &token, "incoming_requests", DAYS).await,
        chart(days.clone(), &[("Requests", json!([6, 4]))])
    );
    assert_eq!(
        statistic(&app, &token, "count_requests", DAYS).await,
        json!({"count": 10, "from": "2026-01-01", "to": "2026-01-03"})
    );
    // (3 × 1000 + 3000 + 2 × 500) µs / 6 = 1.17 ms; 100 µs = 0.1 ms.
    assert_eq!(
        statistic(&app, &token, "time_average", DAYS).await,
        chart(days, &[("Average time (ms)", json!([1.17, 0.1]))])
    );
    // Under two days: buckets of an hour.
    assert_eq!(
        statistic(
            &app,
            &token,
            "incoming_requests",
            "from=2026-01-01T09:00:00Z&to=2026-01-01T11:30:00Z"
        )
        .await,
        chart(
            json!(["2026-01-01T09", "2026-01-01T10", "2026-01-01T11"]),
            &[("Requests", json!([0, 6, 0]))]
        )
    );
}

async fn the_most_used_routes_and_apps_over_time(backend: Backend) {
    let (app, token) = start(backend).await;
    let days = json!(["2026-01-01", "2026-01-02"]);
    assert_eq!(
        statistic(&app, &token, "most_used_routes", DAYS).await,
        chart(
            days.clone(),
            &[("/hello", json!([2, 4])), ("/todo", json!([4, 0]))]
        )
    );
    assert_eq!(
        statistic(&app, &token, "most_used_apps", DAYS).await,
        chart(days, &[("A", json!([3, 4])), ("B", json!([1, 0]))])
    );
}

async fn requests_errors_and_time_per_entity(backend: Backend) {
    let (app, token) = start(backend).await;
    let per = |name: &str, labels: Value, series: &str, data: Value| {
        (name.to_owned(), chart(labels, &[(series, data)]))
    };
    for (name, expected) in [
        per(
            "requests_per_route",
            json!(["/hello", "/todo"]),
            "Requests",
            json!([6, 4]),
        ),
        per(
            "requests_per_ip",
            json!(["1.1.1.1", "3.3.3.3", "2.2.2.2"]),
            "Requests",
            json!([5, 4, 1]),
        ),
        per(
            "requests_per_user",
            json!(["u1", "u2"]),
            "Requests",
            json!([7, 1]),
        ),
        per("errors_per_route", json!(["/todo"]), "Errors", json!([1])),
        // /todo: (3 × 1000 + 3000) / 4 = 1.5 ms; /hello: (2 × 500 + 4 × 100) / 6.
        per(
            "time_per_route",
            json!(["/todo", "/hello"]),
            "Average time (ms)",
            json!([1.5, 0.23]),
        ),
    ] {
        assert_eq!(
            statistic(&app, &token, &name, DAYS).await,
            expected,
            "{name}"
        );
    }
}

async fn filters_the_rollups_cannot_answer_read_the_log(backend: Backend) {
    let (app, token) = start(backend).await;
    let days = json!(["2026-01-01", "2026-01-02"]);
    for (filter, data) in [
        // One dimension: from the rollups.
        ("route=/todo", json!([4, 0])),
        ("app=A", json!([3, 4])),
        ("ip=1.1.1.1", json!([5, 0])),
        // Anything more: from the log.
        ("route=/todo&app=A", json!([3, 0])),
        ("status=500", json!([1, 0])),
        ("method=GET&user=u1", json!([3, 4])),
        ("search=/hel", json!([2, 4])),
    ] {
        assert_eq!(
            statistic(
                &app,
                &token,
                "incoming_requests",
                &format!("{DAYS}&{filter}")
            )
            .await,
            chart(days.clone(), &[("Requests", data)]),
            "{filter}"
        );
    }
    assert_eq!(
        statistic(
            &app,
            &token,
            "requests_per_route",
            &format!("{DAYS}&status=200")
        )
        .await,
        chart(json!(["/hello", "/todo"]), &[("Requests", json!([6, 3]))])
    );
    assert_eq!(
        statistic(
            &app,
            &token,
            "time_per_route",
            &format!("{DAYS}&app=A&user=u1")
        )
        .await,
        chart(
            json!(["/todo", "/hello"]),
            &[("Average time (ms)", json!([1.0, 0.1]))]
        )
    );
}

async fn tokens_registrations_and_activities(backend: Backend) {
    let (app, token) = start(backend).await;
    let _ = app.developer_app("echo.read").await;
    let _ = app.password_token("developer", "dev", "dev password").await;
    let mut store = app.store_connection().await;
    for sql in [
        // Two tokens on the first day (the admin's and the developer's).
        "UPDATE fusio_token SET created_at = '2026-01-01T08:00:00.000Z'",
        // The developer registered on the second day, the admin before.
        "UPDATE fusio_user SET created_at = '2026-01-02T08:00:00.000Z' WHERE name = 'dev'",
        "UPDATE fusio_user SET created_at = '2025-12-01T08:00:00.000Z' WHERE name <> 'dev'",
        "DELETE FROM fusio_audit",
        "INSERT INTO fusio_audit (actor, action, entity, detail, created_at) VALUES \
         ('admin', 'deploy', 'revision:1', '{}', '2026-01-01T09:00:00.000Z'), \
         ('admin', 'deploy', 'revision:2', '{}', '2026-01-02T09:00:00.000Z'), \
         ('admin', 'user.update', 'user:2', '{}', '2026-01-02T10:00:00.000Z'), \
         ('carol', 'deploy', 'revision:3', '{}', '2026-01-02T11:00:00.000Z')",
    ] {
        sqlx::query(sql).execute(&mut store).await.unwrap();
    }
    let days = json!(["2026-01-01", "2026-01-02"]);
    assert_eq!(
        statistic(&app, &token, "issued_tokens", DAYS).await,
        chart(days.clone(), &[("Tokens", json!([2, 0]))])
    );
    assert_eq!(
        statistic(&app, &token, "user_registrations", DAYS).await,
        chart(days.clone(), &[("Registrations", json!([0, 1]))])
    );
    assert_eq!(
        statistic(&app, &token, "most_used_activities", DAYS).await,
        chart(
            days,
            &[("deploy", json!([1, 2])), ("user.update", json!([0, 1]))]
        )
    );
    assert_eq!(
        statistic(&app, &token, "activities_per_user", DAYS).await,
        chart(json!(["admin", "carol"]), &[("Activities", json!([3, 1]))])
    );
}

async fn the_dashboard_has_every_panel_and_bad_input_is_refused(backend: Backend) {
    let (app, token) = start(backend).await;
    let get = |uri: String| {
        let request = Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        app.send(request)
    };
    let dashboard = get(format!("/backend/dashboard?{DAYS}")).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.text());
    let dashboard = dashboard.json();
    assert_eq!(
        dashboard["incoming_requests"],
        statistic(&app, &token, "incoming_requests", DAYS).await
    );
    assert_eq!(dashboard["count_requests"]["count"], 10);
    for panel in [
        "most_used_routes",
        "most_used_apps",
        "time_average",
        "errors_per_route",
        "issued_tokens",
        "user_registrations",
        "most_used_activities",
    ] {
        assert!(
            dashboard[panel]["labels"].is_array(),
            "{panel}: {dashboard}"
        );
    }
    // Without a range: the last 30 days, a bucket per day.
    let recent = statistic(&app, &token, "incoming_requests", "").await;
    let labels = recent["labels"].as_array().unwrap().len();
    assert!((30..=31).contains(&labels), "{labels}");

    get("/backend/statistic/most_used_nothing".into())
        .await
        .assert_problem_saying(404, "incoming_requests");
    for (query, says) in [
        (
            "from=2026-01-03&to=2026-01-01",
            "`from` must be before `to`",
        ),
        ("from=last+week", "`from`"),
        ("status=9000", "`status`"),
    ] {
        get(format!("/backend/statistic/incoming_requests?{query}"))
            .await
            .assert_problem_saying(400, says);
    }
    // Statistics need their scope.
    let (client_id, client_secret) = app.developer_app("echo.read").await;
    let other = app.client_credentials(&client_id, &client_secret).await;
    let request = Request::get("/backend/dashboard")
        .header("authorization", format!("Bearer {other}"))
        .body(Body::empty())
        .unwrap();
    app.send(request).await.assert_problem(403);
}
