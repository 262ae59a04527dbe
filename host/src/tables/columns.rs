//! The columns of a table, read from the database itself: their names,
//! what kind of value each holds, which is the primary key and which a new
//! row must give.

use super::Dialect;
use crate::runtime::SqlValue;
use crate::runtime::capabilities::SqlSession;

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// What it holds, as a request's value is converted for it.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The database's own type name, which PostgreSQL casts a bound value
    /// to (`int4`, `timestamptz`, …; MySQL's full `tinyint(1)`).
    pub udt: String,
    /// Whether it is (part of) the primary key.
    pub key: bool,
    /// Whether a new row must give it: not null, no default, not generated.
    pub required: bool,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Whole numbers.
    Integer,
    /// Other numbers.
    Number,
    /// True or false.
    Boolean,
    /// Text.
    Text,
    /// A JSON document.
    Json,
    /// Anything else (dates, bytes, …), given as text.
    Other,
}

/// Why the columns could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ColumnsError {
    /// The table is not there (or the connection's user cannot see it).
    #[error("the table `{0}` does not exist")]
    NoTable(String),
    /// The database refused or could not answer.
    #[error("the columns of `{table}` could not be read: {reason}")]
    Database {
        /// The table.
        table: String,
        /// What the database said.
        reason: String,
    },
}

/// The columns of `table`, in their order.
pub async fn read(
    session: &dyn SqlSession,
    dialect: Dialect,
    table: &str,
) -> Result<Vec<Column>, ColumnsError> {
    let statement = match dialect {
        Dialect::Sqlite => {
            "SELECT name, type AS udt, pk > 0 AS key, \
             \"notnull\" = 1 AND dflt_value IS NULL AND NOT (pk = 1 AND upper(type) = 'INTEGER') AS required \
             FROM pragma_table_info(?) ORDER BY cid"
        }
        Dialect::Postgres => {
            "SELECT c.column_name::text AS name, c.udt_name::text AS udt, \
             EXISTS (SELECT 1 FROM information_schema.table_constraints t \
               JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name \
                 AND k.table_schema = t.table_schema AND k.table_name = t.table_name \
               WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema \
                 AND t.table_name = c.table_name AND k.column_name = c.column_name) AS key, \
             (c.is_nullable = 'NO' AND c.column_default IS NULL AND c.is_identity = 'NO' \
               AND c.is_generated = 'NEVER') AS required \
             FROM information_schema.columns c \
             WHERE c.table_schema = current_schema() AND c.table_name = $1 \
             ORDER BY c.ordinal_position"
        }
        Dialect::Mysql => {
            "SELECT column_name AS name, column_type AS udt, column_key = 'PRI' AS `key`, \
             (is_nullable = 'NO' AND column_default IS NULL AND extra NOT LIKE '%auto_increment%' \
               AND extra NOT LIKE '%GENERATED%') AS required \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
        }
    };
    let failed = |reason: String| ColumnsError::Database {
        table: table.to_owned(),
        reason,
    };
    let rows = session
        .query(statement, vec![SqlValue::Text(table.to_owned())])
        .await
        .map_err(|err| failed(err.into_reason()))?;
    let columns: Vec<Column> = rows
        .rows
        .into_iter()
        .map(|row| {
            let [name, udt, key, required] = <[SqlValue; 4]>::try_from(row)
                .map_err(|_| failed("the database answered an unexpected shape".into()))?;
            let udt = text(udt);
            Ok(Column {
                name: text(name),
                kind: kind(dialect, &udt),
                udt,
                key: truth(&key),
                required: truth(&required),
            })
        })
        .collect::<Result<_, ColumnsError>>()?;
    if columns.is_empty() {
        return Err(ColumnsError::NoTable(table.to_owned()));
    }
    Ok(columns)
}

fn text(value: SqlValue) -> String {
    match value {
        SqlValue::Text(text) => text,
        SqlValue::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        SqlValue::Null => String::new(),
        other => format!("{other:?}"),
    }
}

fn truth(value: &SqlValue) -> bool {
    match value {
        SqlValue::Boolean(b) => *b,
        SqlValue::Integer(n) => *n != 0,
        _ => false,
    }
}

/// What a column of the database type `udt` holds.
fn kind(dialect: Dialect, udt: &str) -> Kind {
    let udt = udt.to_ascii_lowercase();
    match dialect {
        Dialect::Postgres => match udt.as_str() {
            "int2" | "int4" | "int8" => Kind::Integer,
            "float4" | "float8" | "numeric" => Kind::Number,
            "bool" => Kind::Boolean,
            "text" | "varchar" | "bpchar" | "char" | "name" | "citext" => Kind::Text,
            "json" | "jsonb" => Kind::Json,
            _ => Kind::Other,
        },
        // The column's full type (`tinyint(1)`, `int(11) unsigned`):
        // BOOLEAN is `tinyint(1)`.
        Dialect::Mysql if udt.starts_with("tinyint(1)") => Kind::Boolean,
        Dialect::Mysql => match udt.split(['(', ' ']).next().unwrap_or_default() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => Kind::Integer,
            "decimal" | "numeric" | "float" | "double" | "real" => Kind::Number,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" => Kind::Text,
            "json" => Kind::Json,
            _ => Kind::Other,
        },
        // SQLite's type affinity rules, in their order.
        Dialect::Sqlite => {
            if udt.contains("int") {
                Kind::Integer
            } else if udt.contains("char") || udt.contains("clob") || udt.contains("text") {
                Kind::Text
            } else if udt.contains("bool") {
                Kind::Boolean
            } else if udt.contains("real") || udt.contains("floa") || udt.contains("doub") {
                Kind::Number
            } else if udt.contains("json") {
                Kind::Json
            } else {
                Kind::Other
            }
        }
    }
}
