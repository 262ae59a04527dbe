//! MySQL and MariaDB: integers (an unsigned one beyond `i64` as text),
//! `DECIMAL` as exact text, `JSON` as JSON (MariaDB's JSON is text, and
//! reads as text), `DATETIME` and `TIMESTAMP` as UTC timestamps (the
//! session's time zone is UTC), `DATE` and `TIME` as text, `BOOLEAN`
//! (`TINYINT(1)`) as a boolean.

use super::{Driver, Statement, bind_typed, timestamp, unreadable};
use crate::runtime::SqlValue;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::mysql::{MySql, MySqlQueryResult, MySqlRow};
use sqlx::{Row, TypeInfo, ValueRef};

impl Driver for MySql {
    fn bind(
        statement: Statement<'_, Self>,
        value: SqlValue,
    ) -> Result<Statement<'_, Self>, String> {
        bind_typed(statement, value, |s| s.bind(None::<String>))
    }

    fn read(row: &MySqlRow, index: usize) -> Result<SqlValue, sqlx::Error> {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            return Ok(SqlValue::Null);
        }
        let type_name = raw.type_info().name().to_owned();
        Ok(match type_name.as_str() {
            "NULL" => SqlValue::Null,
            "BOOLEAN" => SqlValue::Boolean(row.try_get(index)?),
            "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => {
                SqlValue::Integer(row.try_get(index)?)
            }
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED"
            | "BIGINT UNSIGNED" => {
                let n: u64 = row.try_get(index)?;
                i64::try_from(n).map_or_else(|_| SqlValue::Text(n.to_string()), SqlValue::Integer)
            }
            "FLOAT" => SqlValue::Float(row.try_get::<f32, _>(index)?.into()),
            "DOUBLE" => SqlValue::Float(row.try_get(index)?),
            "DECIMAL" => {
                SqlValue::Text(row.try_get::<rust_decimal::Decimal, _>(index)?.to_string())
            }
            "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM"
            | "SET" => SqlValue::Text(row.try_get(index)?),
            // A `_bin` collation looks binary on the wire but is text (so is
            // MariaDB's JSON); only the `binary` character set is bytes.
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
                match row.try_get::<String, _>(index) {
                    Ok(text) => SqlValue::Text(text),
                    Err(_) => SqlValue::Bytes(row.try_get(index)?),
                }
            }
            "JSON" => SqlValue::Json(row.try_get::<serde_json::Value, _>(index)?.to_string()),
            "TIMESTAMP" => timestamp(row.try_get::<DateTime<Utc>, _>(index)?),
            "DATETIME" => timestamp(row.try_get::<NaiveDateTime, _>(index)?.and_utc()),
            "DATE" => SqlValue::Text(row.try_get::<NaiveDate, _>(index)?.to_string()),
            "TIME" => SqlValue::Text(row.try_get::<NaiveTime, _>(index)?.to_string()),
            other => return Err(unreadable(index, other)),
        })
    }

    fn rows_affected(done: &MySqlQueryResult) -> u64 {
        done.rows_affected()
    }
}
