//! GET /hello?name=Ada answers {"message": "Hello Ada!"}.
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::json;

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let name = req.query("name").unwrap_or("World");
    let greeting = config::get("greeting").unwrap_or_else(|| "Hello".into());
    Response::json(200, &json!({ "message": format!("{greeting} {name}!") }))
}
