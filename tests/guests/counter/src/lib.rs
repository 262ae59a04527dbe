//! Counts its calls in a global: a fresh instance per request always says 1.
use fusio_sdk::{Error, Request, Response, action};
use std::sync::atomic::{AtomicU32, Ordering};

static CALLS: AtomicU32 = AtomicU32::new(0);

#[action]
fn handle(_req: Request) -> Result<Response, Error> {
    let calls = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Response::json(200, &serde_json::json!({ "calls": calls }))
}
