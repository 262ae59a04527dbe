//! Counts visits in Redis: `GET ?key=K` increments `K` and appends the
//! visit to the list `K:log`, answering both; `?command=CMD&arg=A&arg=B`
//! runs any command with its arguments (answering what it returned); `POST ?queue=Q` publishes the body to the queue
//! `Q` (through `?exchange=E` when given) over the AMQP connection in the
//! config's `queue`. A connector error
//! answers 502 with its kind.
use fusio_sdk::redis::{self, ConnectorError};
use fusio_sdk::{Error, Request, Response, action, config};
use serde_json::json;

fn failed(err: ConnectorError) -> Result<Response, Error> {
    Response::json(502, &json!({ "error": err.kind(), "detail": err.detail() }))
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let connection = config::get("connection").unwrap_or_default();
    let key = req.query("key").unwrap_or("visits");
    if let Some(queue) = req.query("queue") {
        let amqp = config::get("queue").unwrap_or_default();
        let exchange = req.query("exchange").unwrap_or("");
        return match fusio_sdk::amqp::publish(
            &amqp,
            exchange,
            queue,
            req.body(),
            Some("text/plain"),
        ) {
            Ok(()) => Response::json(200, &json!({ "published": queue })),
            Err(err) => failed(err),
        };
    }
    if let Some(command) = req.query("command") {
        let args: Vec<&[u8]> = req
            .query_pairs()
            .iter()
            .filter(|(name, _)| name == "arg")
            .map(|(_, value)| value.as_bytes())
            .collect();
        return match redis::command(&connection, command, &args) {
            Ok(value) => Response::json(
                200,
                &json!({ "ran": command, "value": format!("{value:?}") }),
            ),
            Err(err) => failed(err),
        };
    }
    let count = match redis::incr(&connection, key, 1) {
        Ok(count) => count,
        Err(err) => return failed(err),
    };
    let log = format!("{key}:log");
    if let Err(err) = redis::rpush(&connection, &log, format!("visit {count}").as_bytes()) {
        return failed(err);
    }
    let visits = redis::lrange(&connection, &log, 0, -1).map_err(Error::from)?;
    let visits: Vec<String> = visits
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect();
    Response::json(200, &json!({ "count": count, "log": visits }))
}
