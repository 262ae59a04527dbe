//! Hands the request on to the action its config names under `next`
//! (through the processor) and answers what that action answered, with an
//! `x-via` header naming itself (`name` in its config).
use fusio_sdk::{Error, Request, Response, action, config, processor};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let next = config::get("next").unwrap_or_default();
    let name = config::get("name").unwrap_or_default();
    let answer = processor::call(&next, &req)?;
    let mut response = Response::new(answer.status()).body(answer.body_bytes().to_vec());
    for (k, v) in answer.headers() {
        response = response.header(k.clone(), v.clone());
    }
    Ok(response.header("x-via", name))
}
