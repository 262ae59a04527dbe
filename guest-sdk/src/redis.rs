//! Redis through the connections the action was granted. Typed helpers for
//! the common commands; [`command`] for any other (commands that
//! administer the server are refused).
//!
//! ```no_run
//! # fn run() -> Result<(), fusio_sdk::Error> {
//! use fusio_sdk::redis;
//! let views = redis::incr("Cache", "views:home", 1)?;
//! redis::set("Cache", "greeting", b"hello", Some(std::time::Duration::from_secs(60)))?;
//! # Ok(()) }
//! ```

use crate::bindings::fusio::action::connector as raw;
pub use raw::{ConnectorError, RedisValue as Value};
use std::time::Duration;

/// Runs one command with its arguments.
pub fn command(connection: &str, command: &str, args: &[&[u8]]) -> Result<Value, ConnectorError> {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    raw::redis(connection, command, &args)
}

fn unexpected(value: Value) -> ConnectorError {
    ConnectorError::Query(format!("unexpected Redis reply {value:?}"))
}

/// The value under `key`.
pub fn get(connection: &str, key: &str) -> Result<Option<Vec<u8>>, ConnectorError> {
    match command(connection, "GET", &[key.as_bytes()])? {
        Value::Nil => Ok(None),
        Value::Bytes(b) => Ok(Some(b)),
        other => Err(unexpected(other)),
    }
}

/// Sets `key`, expiring after `ttl` when given.
pub fn set(
    connection: &str,
    key: &str,
    value: &[u8],
    ttl: Option<Duration>,
) -> Result<(), ConnectorError> {
    match ttl {
        Some(ttl) => {
            let ms = ttl.as_millis().max(1).to_string();
            command(
                connection,
                "SET",
                &[key.as_bytes(), value, b"PX", ms.as_bytes()],
            )?;
        }
        None => {
            command(connection, "SET", &[key.as_bytes(), value])?;
        }
    }
    Ok(())
}

/// Deletes `key`; answers whether it existed.
pub fn delete(connection: &str, key: &str) -> Result<bool, ConnectorError> {
    match command(connection, "DEL", &[key.as_bytes()])? {
        Value::Integer(n) => Ok(n > 0),
        other => Err(unexpected(other)),
    }
}

/// Adds `by` to the integer under `key`; answers the new value.
pub fn incr(connection: &str, key: &str, by: i64) -> Result<i64, ConnectorError> {
    match command(
        connection,
        "INCRBY",
        &[key.as_bytes(), by.to_string().as_bytes()],
    )? {
        Value::Integer(n) => Ok(n),
        other => Err(unexpected(other)),
    }
}

/// A field of the hash under `key`.
pub fn hget(connection: &str, key: &str, field: &str) -> Result<Option<Vec<u8>>, ConnectorError> {
    match command(connection, "HGET", &[key.as_bytes(), field.as_bytes()])? {
        Value::Nil => Ok(None),
        Value::Bytes(b) => Ok(Some(b)),
        other => Err(unexpected(other)),
    }
}

/// Sets a field of the hash under `key`.
pub fn hset(connection: &str, key: &str, field: &str, value: &[u8]) -> Result<(), ConnectorError> {
    command(
        connection,
        "HSET",
        &[key.as_bytes(), field.as_bytes(), value],
    )
    .map(|_| ())
}

/// Appends to the list under `key`; answers its length.
pub fn rpush(connection: &str, key: &str, value: &[u8]) -> Result<u64, ConnectorError> {
    match command(connection, "RPUSH", &[key.as_bytes(), value])? {
        Value::Integer(n) => Ok(u64::try_from(n).unwrap_or(0)),
        other => Err(unexpected(other)),
    }
}

/// Items `start..=stop` of the list under `key` (negative from the end).
pub fn lrange(
    connection: &str,
    key: &str,
    start: i64,
    stop: i64,
) -> Result<Vec<Vec<u8>>, ConnectorError> {
    let (start, stop) = (start.to_string(), stop.to_string());
    match command(
        connection,
        "LRANGE",
        &[key.as_bytes(), start.as_bytes(), stop.as_bytes()],
    )? {
        Value::Items(items) => Ok(items),
        other => Err(unexpected(other)),
    }
}
