//! Bounded results. The host holds a query's rows before the guest gets
//! them, outside the guest's memory limit, so a result is read row by row
//! and refused as soon as it passes the connection's caps (`max_rows`,
//! `max_result`): a `SELECT` over a huge table costs the server at most the
//! cap, never the table.

use super::{Driver, failure};
use crate::runtime::{ConnectorError, Rows, SqlValue};
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::{Column, Row};

/// The most a query may answer, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultLimits {
    /// Rows.
    pub rows: u64,
    /// Bytes of values as the host holds them (text and bytes by their
    /// length, plus 32 for each value).
    pub bytes: u64,
}

impl Default for ResultLimits {
    /// 100 000 rows and 16 MiB.
    fn default() -> Self {
        Self {
            rows: 100_000,
            bytes: 16 * 1024 * 1024,
        }
    }
}

/// What `value` costs to hold.
fn weight(value: &SqlValue) -> u64 {
    let len = match value {
        SqlValue::Text(t) | SqlValue::Json(t) | SqlValue::Timestamp(t) => t.len(),
        SqlValue::Bytes(b) => b.len(),
        _ => 0,
    };
    // What a value costs beyond its bytes: the enum and its heap header.
    32 + len as u64
}

/// The rows of `stream`, typed, or the error naming the cap it passed.
/// `Err(…, true)` means the stream was left unfinished.
pub(super) async fn collect<DB: Driver>(
    name: &str,
    mut stream: BoxStream<'_, Result<DB::Row, sqlx::Error>>,
    limits: ResultLimits,
) -> Result<Rows, ConnectorError> {
    let mut columns = None;
    let mut rows: Vec<Vec<SqlValue>> = Vec::new();
    let mut bytes = 0u64;
    while let Some(row) = stream.try_next().await.map_err(|e| failure(name, e))? {
        if rows.len() as u64 >= limits.rows {
            return Err(ConnectorError::Query(format!(
                "the result of `{name}` has more than {} rows (its max_rows); ask for fewer, e.g. with LIMIT",
                limits.rows
            )));
        }
        if columns.is_none() {
            columns = Some(row.columns().iter().map(|c| c.name().to_owned()).collect());
        }
        let values = (0..row.len())
            .map(|i| DB::read(&row, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failure(name, e))?;
        bytes += values.iter().map(weight).sum::<u64>();
        if bytes > limits.bytes {
            return Err(ConnectorError::Query(format!(
                "the result of `{name}` is larger than {} (its max_result); ask for fewer rows or columns",
                bytesize::ByteSize::b(limits.bytes)
            )));
        }
        rows.push(values);
    }
    Ok(Rows {
        columns: columns.unwrap_or_default(),
        rows,
    })
}
