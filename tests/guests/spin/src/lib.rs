//! Loops forever unless `?quick` is given; says so on stderr and in the
//! action log first.
use fusio_sdk::{Error, Request, Response, action, log};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    if req.query("quick").is_some() {
        return Ok(Response::text(200, "quick"));
    }
    eprintln!("spinning until stopped");
    log::log(log::Level::Info, "spinning until stopped", &[]);
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}
