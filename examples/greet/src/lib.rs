//! `GET /greet/:id?loud` answers a greeting for `id`, shouted on request.
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::json;

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let id = req
        .uri_param("id")
        .ok_or_else(|| Error::bad_request("id is missing"))?;
    let greeting = config::get("greeting").unwrap_or_else(|| "Hello".into());
    fusio_sdk::log::info(format!("greeting {id}"));
    let text = format!("{greeting} {id}!");
    let message = if req.query("loud").is_some() {
        text.to_uppercase()
    } else {
        text
    };
    Response::json(200, &json!({ "message": message }))
}
