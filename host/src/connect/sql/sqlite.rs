//! SQLite: values are stored as INTEGER, REAL, TEXT or BLOB whatever the
//! column says, so a value is read by what it holds, except that a column
//! declared `BOOLEAN` answers booleans and one declared `DATETIME` (or
//! `TIMESTAMP`) answers timestamps. Timestamps are stored as SQLite's own
//! `YYYY-MM-DD HH:MM:SS` in UTC, which sorts with `CURRENT_TIMESTAMP`.
//! Transactions begin `IMMEDIATE`, so concurrent ones queue instead of
//! failing; a statement running longer than its limit is interrupted.

use super::{Driver, Statement, parse_json, parse_timestamp, timestamp};
use crate::runtime::SqlValue;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{Sqlite, SqliteQueryResult, SqliteRow};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use std::time::{Duration, Instant};

impl Driver for Sqlite {
    fn bind(
        statement: Statement<'_, Self>,
        value: SqlValue,
    ) -> Result<Statement<'_, Self>, String> {
        Ok(match value {
            SqlValue::Null => statement.bind(None::<i64>),
            SqlValue::Boolean(b) => statement.bind(b),
            SqlValue::Integer(i) => statement.bind(i),
            SqlValue::Float(f) => statement.bind(f),
            SqlValue::Text(t) => statement.bind(t),
            SqlValue::Bytes(b) => statement.bind(b),
            SqlValue::Json(t) => {
                parse_json(&t)?;
                statement.bind(t)
            }
            SqlValue::Timestamp(t) => statement.bind(
                parse_timestamp(&t)?
                    .format("%Y-%m-%d %H:%M:%S%.f")
                    .to_string(),
            ),
        })
    }

    fn read(row: &SqliteRow, index: usize) -> Result<SqlValue, sqlx::Error> {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            return Ok(SqlValue::Null);
        }
        let stored = raw.type_info().name().to_owned();
        let declared = row.column(index).type_info().name();
        match (declared, stored.as_str()) {
            ("BOOLEAN", "INTEGER") => return Ok(SqlValue::Boolean(row.try_get(index)?)),
            ("DATETIME", _) => {
                if let Ok(at) = row.try_get::<DateTime<Utc>, _>(index) {
                    return Ok(timestamp(at));
                }
            }
            _ => {}
        }
        Ok(match stored.as_str() {
            "INTEGER" => SqlValue::Integer(row.try_get(index)?),
            "REAL" => SqlValue::Float(row.try_get(index)?),
            "BLOB" => SqlValue::Bytes(row.try_get(index)?),
            _ => SqlValue::Text(row.try_get(index)?),
        })
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// Takes the write lock at once: a deferred transaction that reads
    /// and then writes fails with "database is locked" (without waiting)
    /// when another connection wrote in between, whereas an immediate one
    /// waits its turn (busy timeout).
    const BEGIN: Option<&'static str> = Some("BEGIN IMMEDIATE");
}

/// A pause between two progress calls longer than this means the statement
/// before it ended (or waits for its reader): the next call starts the clock
/// again.
const IDLE: Duration = Duration::from_millis(50);

/// SQLite has no statement timeout. This progress handler (called every few
/// thousand virtual-machine steps while a statement runs) ends a statement
/// that has run longer than `limit` — a runaway statement whose request's
/// deadline passed would otherwise keep its connection's thread busy, and
/// the database's write lock held, until it finished on its own.
pub(super) fn runaway_guard(limit: Duration) -> impl FnMut() -> bool + Send + 'static {
    let mut started = Instant::now();
    let mut last = started;
    move || {
        let now = Instant::now();
        if now.duration_since(last) > IDLE {
            started = now;
        }
        last = now;
        now.duration_since(started) <= limit
    }
}
