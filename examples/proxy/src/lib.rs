//! A small reverse proxy over an HTTP connection (`fusio_sdk::http`):
//! `/proxy/*path` is sent to the connection named by the config's
//! `connection` (its base URL, default headers and timeout apply; its
//! credentials never reach the client), with the method, query string,
//! body and content type of the request; the answer's status, content
//! type and body come back. An unreachable upstream is 503, a slow one 504.
use fusio_sdk::{Error, Request, Response, action, config, http};

/// Headers passed on in each direction.
const PASSED: &[&str] = &["content-type", "accept"];

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let connection = config::get("connection")
        .ok_or_else(|| Error::internal("the proxy's config names no `connection`"))?;
    let mut path = format!("/{}", req.uri_param("path").unwrap_or_default());
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(req.query_pairs())
        .finish();
    if !query.is_empty() {
        path = format!("{path}?{query}");
    }
    let headers: Vec<(&str, &str)> = PASSED
        .iter()
        .filter_map(|name| Some((*name, req.header(name)?)))
        .collect();
    let answer = http::send(&connection, req.method(), &path, &headers, req.body())?;
    let mut response = Response::new(answer.status).body(answer.body.clone());
    if let Some(kind) = answer.header("content-type") {
        response = response.header("content-type", kind);
    }
    Ok(response)
}
