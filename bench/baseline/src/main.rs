//! The benchmark baseline: a bare axum server answering `GET /hello` with
//! the JSON `examples/hello` answers, so the harness can report Fusio's
//! throughput as a ratio measured in the same run.

use axum::{Json, Router, routing::get};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".into());
    let app = Router::new().route(
        "/hello",
        get(|| async { Json(serde_json::json!({ "message": "Hello World!" })) }),
    );
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening address={}", listener.local_addr()?);
    axum::serve(listener, app).await
}
