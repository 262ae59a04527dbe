//! The benchmark baseline: a bare axum server answering `GET /hello` with
//! the JSON `examples/hello` answers, and — when `BASELINE_TODO_DB` names
//! the todo example's SQLite file — `GET /todo` with what `examples/todo`
//! answers, from the same two queries through sqlx natively, so the harness
//! can report Fusio's throughput as a ratio measured in the same run.
//!
//! `BASELINE_SPIN_US=N` makes the hello handler busy-wait N µs first: a
//! calibration of how this machine's throughput falls as a handler gets
//! slower (see BENCHMARKS.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router, routing::get};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use std::time::{Duration, Instant};

/// Todos a page holds, as in examples/todo.
const PAGE: i64 = 16;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".into());
    let spin = Duration::from_micros(
        std::env::var("BASELINE_SPIN_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let mut app = Router::new().route(
        "/hello",
        get(move || async move {
            let start = Instant::now();
            while start.elapsed() < spin {
                std::hint::spin_loop();
            }
            Json(json!({ "message": "Hello World!" }))
        }),
    );
    if let Ok(file) = std::env::var("BASELINE_TODO_DB") {
        // The same pool size as a Fusio SQL connection's default.
        let pool = SqlitePoolOptions::new()
            .max_connections(10)
            .connect(&format!("sqlite://{file}"))
            .await
            .map_err(std::io::Error::other)?;
        app = app.route("/todo", get(todo).with_state(pool));
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening address={}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// examples/todo's collection, natively.
async fn todo(State(pool): State<SqlitePool>) -> Result<Json<Value>, StatusCode> {
    let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM app_todo WHERE status = 1")
        .fetch_one(&pool)
        .await
        .and_then(|row| row.try_get("n"))
        .map_err(failed)?;
    let rows = sqlx::query(
        "SELECT id, status, title, insert_date FROM app_todo WHERE status = 1 \
         ORDER BY insert_date DESC, id DESC LIMIT ? OFFSET ?",
    )
    .bind(PAGE)
    .bind(0i64)
    .fetch_all(&pool)
    .await
    .map_err(failed)?;
    let entry = rows
        .iter()
        .map(|row| {
            let at: DateTime<Utc> = row.try_get("insert_date")?;
            Ok(json!({
                "id": row.try_get::<i64, _>("id")?,
                "status": row.try_get::<i64, _>("status")?,
                "title": row.try_get::<String, _>("title")?,
                "insert_date": at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(failed)?;
    Ok(Json(json!({
        "totalResults": total,
        "startIndex": 0,
        "itemsPerPage": PAGE,
        "entry": entry,
    })))
}
