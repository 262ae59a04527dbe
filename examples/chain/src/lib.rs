//! Composes two deployed actions through the processor
//! (`fusio_sdk::processor`, PHP Fusio's `$processor->execute`):
//! `GET /chain?name=Ada` asks `hello` for a greeting and `todo` for the
//! open todos, and answers both. Each callee runs in its own fresh
//! instance, with its own grants, on this request's deadline.
use fusio_sdk::{Error, Request, Response, action, processor};
use serde_json::{Value, json};

fn answer_of(name: &str, req: &Request) -> Result<Value, Error> {
    let response = processor::call(name, req)?;
    serde_json::from_slice(response.body_bytes())
        .map_err(|e| Error::internal(format!("`{name}` did not answer JSON: {e}")))
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let greeting = answer_of("hello", &req)?;
    let todos = answer_of("todo", &req)?;
    Response::json(
        200,
        &json!({
            "message": greeting["message"],
            "openTodos": todos["totalResults"],
        }),
    )
}
