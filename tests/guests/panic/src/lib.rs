//! Logs one line, then panics with a recognizable message.
use fusio_sdk::{Error, Request, Response, action, log};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    log::log(log::Level::Warn, "about to panic", &[("path", req.path())]);
    panic!(
        "guest panic with secret {}",
        req.query("token").unwrap_or("none")
    );
}
