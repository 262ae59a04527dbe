//! The benchmark baseline: a bare axum server answering `GET /hello` with
//! the JSON `examples/hello` answers, so the harness can report Fusio's
//! throughput as a ratio measured in the same run.
//!
//! `BASELINE_SPIN_US=N` makes the handler busy-wait N µs first: a
//! calibration of how this machine's throughput falls as a handler gets
//! slower (see BENCHMARKS.md).

use axum::{Json, Router, routing::get};
use std::time::{Duration, Instant};

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
    let app = Router::new().route(
        "/hello",
        get(move || async move {
            let start = Instant::now();
            while start.elapsed() < spin {
                std::hint::spin_loop();
            }
            Json(serde_json::json!({ "message": "Hello World!" }))
        }),
    );
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening address={}", listener.local_addr()?);
    axum::serve(listener, app).await
}
