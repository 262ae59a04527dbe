//! Answers everything it was given: method, path, uri params, query, headers,
//! body, context and its config, and logs one line.
use fusio_sdk::{Error, Request, Response, action, config, log};
use serde_json::json;

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    if req.query("fail") == Some("bad-request") {
        return Err(Error::bad_request("you asked for it"));
    }
    if req.query("fail") == Some("internal") {
        return Err(Error::internal("secret internal detail"));
    }
    if req.query("fail") == Some("custom") {
        return Err(Error::custom(
            418,
            "I'm a teapot",
            Some("short and stout".into()),
        ));
    }
    if req.query("header") == Some("invalid") {
        return Ok(Response::text(200, "x").header("bad header", "v"));
    }
    if req.query("header") == Some("built") {
        return Response::build(201, &[("location", "/echo/1"), ("bad header", "v")], b"x");
    }
    if req.query("header") == Some("valid") {
        return Response::build(201, &[("location", "/echo/1")], b"made");
    }
    log::log(log::Level::Info, "echo called", &[("path", req.path())]);
    let ctx = req.context();
    Response::json(
        200,
        &json!({
            "method": req.method(),
            "path": req.path(),
            "uriParams": req.uri_params(),
            "query": req.query_pairs(),
            "headers": { "x-test": req.header("X-Test") },
            "headerNames": req.headers().iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
            "body": String::from_utf8_lossy(req.body()),
            "context": {
                "requestId": ctx.request_id(),
                "route": ctx.route(),
                "version": ctx.version(),
                "app": ctx.app(),
                "user": ctx.user(),
                "scopes": ctx.scopes(),
            },
            "config": config::all(),
        }),
    )
}
