//! Panics with a recognizable message.
use fusio_sdk::{Error, Request, Response, action};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    panic!(
        "guest panic with secret {}",
        req.query("token").unwrap_or("none")
    );
}
