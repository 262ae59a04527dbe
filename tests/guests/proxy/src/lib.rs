//! Forwards `GET ?path=P` to the HTTP connection named in its config (with
//! the header `?header=NAME:VALUE` when given) and answers what came back;
//! a connector error answers 502 with its kind.
use fusio_sdk::http;
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::json;

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let connection = config::get("connection").unwrap_or_default();
    let path = req.query("path").unwrap_or("/");
    let header = req.query("header").and_then(|h| h.split_once(':'));
    let headers: Vec<(&str, &str)> = header.into_iter().collect();
    match http::send(&connection, "GET", path, &headers, &[]) {
        Ok(answer) => Ok(Response::text(
            answer.status,
            String::from_utf8_lossy(&answer.body).into_owned(),
        )),
        Err(err) => Response::json(502, &json!({ "error": err.kind(), "detail": err.detail() })),
    }
}
