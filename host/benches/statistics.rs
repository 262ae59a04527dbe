//! Every statistic of `/backend/statistic/{name}` on a request log of one
//! million rows (the last 30 days: 30 routes, 50 apps, 200 users, 2 000
//! client addresses, 2 % errors), through the router as a client calls it,
//! on SQLite and on PostgreSQL: `cargo bench -p fusio --bench statistics`
//! (`FUSIO_BENCH_ROWS` for another size, `FUSIO_BENCH_POSTGRES` for the
//! server; without PostgreSQL only SQLite is measured). The rows are stored
//! as the request-log writer stores them, batch by batch, rollups included.
//! Each figure is the median of five calls after a warm-up.
#![allow(missing_docs)]

use axum::body::Body;
use fusio::app::router;
use fusio::server::{BootOptions, boot};
use fusio::store::request_log::{Failure, RequestRecord, timestamp};
use http::Request;
use http_body_util::BodyExt;
use std::time::{Duration, Instant, SystemTime};
use tower::ServiceExt;

const STATISTICS: [&str; 14] = [
    "incoming_requests",
    "count_requests",
    "most_used_routes",
    "most_used_apps",
    "requests_per_route",
    "requests_per_ip",
    "requests_per_user",
    "errors_per_route",
    "time_average",
    "time_per_route",
    "issued_tokens",
    "user_registrations",
    "most_used_activities",
    "activities_per_user",
];

/// A small, fast, deterministic generator (xorshift), so every run seeds
/// the same log.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// 0..n, skewed towards 0 (a few callers make most requests).
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.next() % n;
        let b = self.next() % n;
        a.min(b)
    }
}

fn record(dice: &mut Dice, i: usize, now: SystemTime) -> RequestRecord {
    let ago = Duration::from_secs(dice.next() % (30 * 86_400));
    let anonymous = dice.next() % 10 < 3;
    let failed = dice.next().is_multiple_of(50);
    let route = format!("/route/{}", dice.skewed(30));
    RequestRecord {
        request_id: format!("bench-{i}"),
        route: Some(route.clone()),
        version: Some(1),
        method: "GET".into(),
        path: route,
        app: (!anonymous).then(|| format!("app-{}", dice.skewed(50))),
        user: (!anonymous).then(|| format!("user-{}", dice.skewed(200))),
        ip: Some(format!("10.0.{}.{}", dice.skewed(8), dice.skewed(250))),
        status: if failed { 500 } else { 200 },
        duration_us: i64::try_from(100 + dice.next() % 5000).unwrap_or(100),
        error: failed.then(|| Failure {
            kind: "trap".into(),
            message: "bench".into(),
        }),
        headers: vec![("accept".into(), "application/json".into())],
        created_at: timestamp(now - ago),
        ..RequestRecord::default()
    }
}

async fn call(app: &axum::Router, uri: &str, token: &str) -> (u16, Vec<u8>) {
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

async fn measure(name: &str, url: Option<String>, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = BootOptions::new(dir.path().join("data"));
    options.database_url = url;
    options.admin_password = Some("bench password".into());
    options.request_log.enabled = false;
    let state = boot(&options).await.expect("boot");
    let started = Instant::now();
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let now = SystemTime::now();
    let mut batch = Vec::with_capacity(256);
    for i in 0..rows {
        batch.push(record(&mut dice, i, now));
        if batch.len() == 256 || i + 1 == rows {
            state.store.insert_requests(&batch).await.unwrap();
            batch.clear();
        }
    }
    println!(
        "{name}: {rows} rows stored in {:.1} s ({:.0} rows/s, rollups with every batch)",
        started.elapsed().as_secs_f64(),
        rows as f64 / started.elapsed().as_secs_f64()
    );
    let app = router(state.clone());
    let form = "grant_type=password&client_id=fusio&username=admin&password=bench+password";
    let issued = app
        .clone()
        .oneshot(
            Request::post("/authorization/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    let body = issued.into_body().collect().await.unwrap().to_bytes();
    let token: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let mut queries: Vec<(String, String)> = STATISTICS
        .iter()
        .map(|s| ((*s).to_owned(), format!("/backend/statistic/{s}")))
        .collect();
    queries.push(("dashboard (9 panels)".into(), "/backend/dashboard".into()));
    queries.push((
        "incoming_requests?route= (rollup)".into(),
        "/backend/statistic/incoming_requests?route=/route/3".into(),
    ));
    queries.push((
        "incoming_requests?status=500 (log)".into(),
        "/backend/statistic/incoming_requests?status=500".into(),
    ));
    queries.push((
        "requests_per_route?app=&user= (log)".into(),
        "/backend/statistic/requests_per_route?app=app-1&user=user-1".into(),
    ));
    for (label, uri) in queries {
        let (status, body) = call(&app, &uri, &token).await;
        assert_eq!(status, 200, "{uri}: {}", String::from_utf8_lossy(&body));
        let mut times: Vec<f64> = Vec::new();
        for _ in 0..5 {
            let at = Instant::now();
            let (status, _) = call(&app, &uri, &token).await;
            assert_eq!(status, 200);
            times.push(at.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{name}: {label:40} {:8.1} ms", times[2]);
    }
    state.store.close().await;
}

fn main() {
    let rows: usize = std::env::var("FUSIO_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        measure("sqlite", None, rows).await;
        let server = std::env::var("FUSIO_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let database = format!("fusio_bench_{}", std::process::id());
        sqlx::any::install_default_drivers();
        let Ok(mut admin) =
            <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{server}/postgres")).await
        else {
            println!("postgres: not reachable at {server}; skipped");
            return;
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .unwrap();
        measure("postgres", Some(format!("{server}/{database}")), rows).await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {database} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    });
}
