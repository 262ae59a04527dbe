//! The action cache: `PUT ?key=K&ttl=MS` stores the body, `GET ?key=K`
//! answers it (404 when missing or expired), `DELETE ?key=K` forgets it.
use fusio_sdk::{Error, Request, Response, action, cache};
use std::time::Duration;

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let key = req.query("key").unwrap_or("default");
    match req.method() {
        "PUT" => {
            let ttl: u64 = req
                .query("ttl")
                .and_then(|t| t.parse().ok())
                .unwrap_or(60_000);
            cache::set(key, req.body(), Duration::from_millis(ttl));
            Ok(Response::text(204, ""))
        }
        "DELETE" => {
            cache::delete(key);
            Ok(Response::text(204, ""))
        }
        _ => match cache::get(key) {
            Some(value) => Ok(Response::text(
                200,
                String::from_utf8_lossy(&value).into_owned(),
            )),
            None => Err(Error::not_found(format!("no cached `{key}`"))),
        },
    }
}
