//! Takes more than its share, one way per query parameter, so tests can
//! show each limit holds: `?log=N` logs N entries, `?cache=N` stores N
//! values of 1 MiB (and `?cache_small=N` N of 512 KiB) under fresh keys,
//! `?headers=N` answers N headers built by the host's response factory,
//! `?raw_headers=N` N headers in its own answer (no host call), `?stdout=N`
//! prints N lines of 100 bytes,
//! `?grow` allocates until its memory limit traps it. Answers `ok` otherwise.
use fusio_sdk::{Error, Request, Response, action, cache, log};
use std::time::Duration;

fn count(req: &Request, name: &str) -> Option<usize> {
    req.query(name).and_then(|n| n.parse().ok())
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    if let Some(n) = count(&req, "log") {
        for i in 0..n {
            log::info(format!("flood line {i} of {n}"));
        }
    }
    for (name, size) in [("cache", 1024 * 1024), ("cache_small", 512 * 1024)] {
        if let Some(n) = count(&req, name) {
            let value = vec![7u8; size];
            let round = req.query("round").unwrap_or("0");
            for i in 0..n {
                cache::set(
                    &format!("{name}-{round}-{i}"),
                    &value,
                    Duration::from_secs(3600),
                );
            }
        }
    }
    if let Some(n) = count(&req, "stdout") {
        let line = "x".repeat(99);
        for _ in 0..n {
            println!("{line}");
        }
    }
    if req.query("grow").is_some() {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            chunks.push(vec![1u8; 1024 * 1024]);
            std::hint::black_box(&chunks);
        }
    }
    if let Some(n) = count(&req, "headers") {
        let headers: Vec<(String, String)> = (0..n)
            .map(|i| (format!("x-h{i}"), "v".to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        return Response::build(200, &pairs, b"many headers");
    }
    if let Some(n) = count(&req, "raw_headers") {
        return Ok(
            (0..n).fold(Response::text(200, "many headers"), |response, i| {
                response.header(format!("x-h{i}"), "v")
            }),
        );
    }
    Ok(Response::text(200, "ok"))
}
