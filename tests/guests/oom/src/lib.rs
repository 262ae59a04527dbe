//! Grows memory without bound when `?grow` is given; answers otherwise.
use fusio_sdk::{Error, Request, Response, action};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    if req.query("grow").is_some() {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            chunks.push(vec![1u8; 1024 * 1024]);
            std::hint::black_box(&chunks);
        }
    }
    Ok(Response::text(200, "small"))
}
