//! Redis connections: one multiplexed, reconnecting connection manager per
//! connection's settings; the data commands of an allow-list only.

pub mod kind;

use crate::runtime::{ConnectorError, RedisValue};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// The commands an action may run: data commands on keys it names.
/// Everything else is refused — scripting (`EVAL`, `FUNCTION`, `FCALL`,
/// `SCRIPT`), administration, `MODULE`, `DEBUG`, `MIGRATE`, whole-server
/// scans (`KEYS`, `SCAN`, `RANDOMKEY`), commands that touch another
/// database (`SELECT`, `COPY … DB`, `MOVE`, `SWAPDB`), and commands that
/// would block or change the state of the connection every request shares
/// (`BLPOP` and the other blocking forms, `SUBSCRIBE`, `MULTI`/`EXEC`,
/// `WATCH`) — as is any command this list does not know.
#[rustfmt::skip]
const ALLOWED: &[&str] = &[
    // strings
    "GET", "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "GETRANGE",
    "SETRANGE", "APPEND", "STRLEN", "MGET", "MSET", "MSETNX", "INCR", "INCRBY", "INCRBYFLOAT",
    "DECR", "DECRBY", "LCS",
    // keys and expiry
    "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "EXPIRETIME",
    "PEXPIRETIME", "TTL", "PTTL", "PERSIST", "TYPE", "RENAME", "RENAMENX", "TOUCH",
    // hashes
    "HGET", "HSET", "HSETNX", "HMGET", "HMSET", "HDEL", "HEXISTS", "HGETALL", "HKEYS", "HVALS",
    "HLEN", "HINCRBY", "HINCRBYFLOAT", "HSTRLEN", "HRANDFIELD", "HSCAN",
    // lists
    "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LRANGE", "LLEN", "LINDEX", "LSET",
    "LINSERT", "LREM", "LTRIM", "LPOS", "LMOVE", "RPOPLPUSH", "LMPOP",
    // sets
    "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SPOP", "SRANDMEMBER",
    "SINTER", "SINTERSTORE", "SINTERCARD", "SUNION", "SUNIONSTORE", "SDIFF", "SDIFFSTORE",
    "SMOVE", "SSCAN",
    // sorted sets
    "ZADD", "ZREM", "ZSCORE", "ZMSCORE", "ZINCRBY", "ZCARD", "ZCOUNT", "ZRANGE",
    "ZRANGEBYSCORE", "ZREVRANGE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZRANK",
    "ZREVRANK", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX",
    "ZRANDMEMBER", "ZRANGESTORE", "ZUNION", "ZUNIONSTORE", "ZINTER", "ZINTERSTORE",
    "ZINTERCARD", "ZDIFF", "ZDIFFSTORE", "ZLEXCOUNT", "ZSCAN", "ZMPOP",
    // bitmaps, HyperLogLog, geo
    "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO", "PFADD",
    "PFCOUNT", "PFMERGE", "GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH",
    "GEOSEARCHSTORE",
    // streams (without the blocking reads)
    "XADD", "XLEN", "XRANGE", "XREVRANGE", "XDEL", "XTRIM",
    // messaging and the connection's liveness
    "PUBLISH", "PING", "ECHO", "TIME",
];

/// Whether an action may run `command` (upper case).
fn allowed(command: &str) -> bool {
    ALLOWED.contains(&command)
}

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
    if !allowed(&upper) {
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

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn data_commands_pass_and_everything_else_is_refused() {
        for command in [
            "GET", "SET", "HSET", "LPUSH", "ZADD", "INCRBY", "EXPIRE", "PUBLISH",
        ] {
            assert!(allowed(command), "{command}");
        }
        #[rustfmt::skip]
        let refused = [
            "EVAL", "EVALSHA", "EVAL_RO", "FUNCTION", "FCALL", "SCRIPT", "MODULE", "DEBUG",
            "MIGRATE", "KEYS", "SCAN", "SELECT", "COPY", "MOVE", "FLUSHALL", "CONFIG", "BLPOP",
            "SUBSCRIBE", "MULTI", "WATCH", "SORT", "OBJECT", "", "NOSUCHCOMMAND",
        ];
        for command in refused {
            assert!(!allowed(command), "{command}");
        }
    }
}
