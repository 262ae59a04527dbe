//! Redis connections: one multiplexed, reconnecting connection manager per
//! connection's settings; any command but those that administer the server.

use crate::runtime::{ConnectorError, RedisValue};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// Commands an action may not run: they administer or empty the server.
const DENIED: &[&str] = &[
    "ACL",
    "BGREWRITEAOF",
    "BGSAVE",
    "CLIENT",
    "CLUSTER",
    "CONFIG",
    "DEBUG",
    "FAILOVER",
    "FLUSHALL",
    "FLUSHDB",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "REPLICAOF",
    "SAVE",
    "SCRIPT",
    "SHUTDOWN",
    "SLAVEOF",
    "SWAPDB",
    "SYNC",
    "PSYNC",
];

/// How long connecting may take, all attempts together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection manager (connecting now, so a wrong URL or password
/// shows at the first command). A server that does not answer is
/// unavailable within [`CONNECT_TIMEOUT`]: by default the manager would
/// retry with growing delays for longer than a request may take.
pub(super) async fn connect(url: &str) -> Result<ConnectionManager, ConnectorError> {
    let client =
        redis::Client::open(url).map_err(|e| ConnectorError::Unavailable(e.to_string()))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_number_of_retries(1)
        .set_max_delay(500);
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        client.get_connection_manager_with_config(config),
    )
    .await
    .map_err(|_| {
        ConnectorError::Unavailable(format!(
            "no connection within {}s",
            CONNECT_TIMEOUT.as_secs()
        ))
    })?
    .map_err(|e| ConnectorError::Unavailable(e.to_string()))
}

/// Runs one command.
pub(super) async fn run(
    connection: &mut ConnectionManager,
    command: &str,
    args: Vec<Vec<u8>>,
) -> Result<RedisValue, ConnectorError> {
    let upper = command.to_ascii_uppercase();
    if upper.is_empty() || DENIED.contains(&upper.as_str()) {
        return Err(ConnectorError::AccessDenied(format!(
            "the Redis command `{command}` is not available to actions"
        )));
    }
    let mut cmd = redis::cmd(&upper);
    for arg in args {
        cmd.arg(arg);
    }
    let value: redis::Value = cmd
        .query_async(connection)
        .await
        .map_err(|e| match e.kind() {
            redis::ErrorKind::IoError => ConnectorError::Unavailable(e.to_string()),
            _ => ConnectorError::Query(e.to_string()),
        })?;
    Ok(convert(value))
}

fn bytes(value: redis::Value) -> Vec<u8> {
    match value {
        redis::Value::BulkString(b) => b,
        redis::Value::SimpleString(s) | redis::Value::VerbatimString { text: s, .. } => {
            s.into_bytes()
        }
        redis::Value::Int(i) => i.to_string().into_bytes(),
        redis::Value::Double(d) => d.to_string().into_bytes(),
        redis::Value::Boolean(b) => b.to_string().into_bytes(),
        _ => Vec::new(),
    }
}

fn convert(value: redis::Value) -> RedisValue {
    match value {
        redis::Value::Nil => RedisValue::Nil,
        redis::Value::Int(i) => RedisValue::Integer(i),
        redis::Value::Okay => RedisValue::Status("OK".into()),
        redis::Value::SimpleString(s) => RedisValue::Status(s),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            RedisValue::Items(items.into_iter().map(bytes).collect())
        }
        redis::Value::Map(pairs) => RedisValue::Items(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [bytes(k), bytes(v)])
                .collect(),
        ),
        other => RedisValue::Bytes(bytes(other)),
    }
}
