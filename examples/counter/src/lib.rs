//! Counts hits per name in the host's cache (`fusio_sdk::cache`):
//! `GET /counter/:name` adds one and answers the count, `DELETE` resets it.
//! The increment is one atomic step on the host, so concurrent requests
//! never lose a hit; counts live a day after the last hit, per node, until
//! a restart (use a Redis connection for counts that must last).
use fusio_sdk::{Error, Request, Response, action, cache};
use serde_json::json;
use std::time::Duration;

/// How long a count lives after its last hit.
const KEEP: Duration = Duration::from_secs(24 * 3600);

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let name = req
        .uri_param("name")
        .ok_or_else(|| Error::bad_request("name is missing"))?;
    let count = match req.method() {
        "DELETE" => {
            cache::delete(name);
            0
        }
        _ => cache::incr(name, 1, KEEP),
    };
    Response::json(200, &json!({ "name": name, "count": count }))
}
