//! PostgreSQL: every built-in scalar type a guest is likely to use is read
//! as its Fusio value (`numeric` as exact text, `date`, `time` and `uuid`
//! as text, `timestamp` without a zone as UTC); other types are refused
//! with a hint to cast them. A NULL parameter is sent untyped, so the
//! server infers its type from where it stands, as for a literal `NULL`.

use super::{Driver, Statement, bind_typed, timestamp, unreadable};
use crate::runtime::SqlValue;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgQueryResult, PgRow, PgTypeInfo, Postgres};
use sqlx::{Row, TypeInfo, ValueRef};

/// A NULL whose type the server infers (OID 0: unspecified), so it fits an
/// integer column as well as a text one.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

impl Driver for Postgres {
    fn bind(
        statement: Statement<'_, Self>,
        value: SqlValue,
    ) -> Result<Statement<'_, Self>, String> {
        bind_typed(statement, value, |s| s.bind(UntypedNull))
    }

    fn read(row: &PgRow, index: usize) -> Result<SqlValue, sqlx::Error> {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            return Ok(SqlValue::Null);
        }
        let type_name = raw.type_info().name().to_owned();
        Ok(match type_name.as_str() {
            "BOOL" => SqlValue::Boolean(row.try_get(index)?),
            "INT2" => SqlValue::Integer(row.try_get::<i16, _>(index)?.into()),
            "INT4" => SqlValue::Integer(row.try_get::<i32, _>(index)?.into()),
            "INT8" => SqlValue::Integer(row.try_get(index)?),
            "FLOAT4" => SqlValue::Float(row.try_get::<f32, _>(index)?.into()),
            "FLOAT8" => SqlValue::Float(row.try_get(index)?),
            "NUMERIC" => {
                SqlValue::Text(row.try_get::<rust_decimal::Decimal, _>(index)?.to_string())
            }
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CITEXT" => {
                SqlValue::Text(row.try_get(index)?)
            }
            "BYTEA" => SqlValue::Bytes(row.try_get(index)?),
            "JSON" | "JSONB" => {
                SqlValue::Json(row.try_get::<serde_json::Value, _>(index)?.to_string())
            }
            "TIMESTAMPTZ" => timestamp(row.try_get::<DateTime<Utc>, _>(index)?),
            "TIMESTAMP" => timestamp(row.try_get::<NaiveDateTime, _>(index)?.and_utc()),
            "DATE" => SqlValue::Text(row.try_get::<NaiveDate, _>(index)?.to_string()),
            "TIME" => SqlValue::Text(row.try_get::<NaiveTime, _>(index)?.to_string()),
            "UUID" => SqlValue::Text(row.try_get::<sqlx::types::Uuid, _>(index)?.to_string()),
            other => return Err(unreadable(index, other)),
        })
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}
