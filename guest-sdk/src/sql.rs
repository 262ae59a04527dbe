//! SQL through the connections the action was granted (`connections:` in
//! fusio.yml). Parameters are always bound, never spliced into the
//! statement; the placeholders are the database's (`?` for SQLite and
//! MySQL, `$1` for PostgreSQL).
//!
//! Values are typed both ways ([`Value`]): a JSON parameter
//! (`serde_json::Value` converts into one) is bound as JSON, a
//! [`Value::Timestamp`] (RFC 3339) as a timestamp; columns come back as
//! their database type says — JSON as [`Value::Json`], timestamps in UTC as
//! [`Value::Timestamp`], exact decimals as text. [`Sql::query_json`] and
//! [`Sql::query_as`] turn them into plain JSON (a JSON column nested as
//! JSON, a timestamp as its RFC 3339 string).
//!
//! ```no_run
//! use fusio_sdk::sql::{self, Value};
//! # fn run() -> Result<(), fusio_sdk::Error> {
//! #[derive(serde::Deserialize)]
//! struct Todo { id: i64, title: String }
//!
//! let db = sql::open("Default-Connection")?;
//! let open: Vec<Todo> = db.query_as("SELECT id, title FROM todo WHERE done = ?", &[false.into()])?;
//! db.execute("INSERT INTO todo (title, done) VALUES (?, ?)", &["milk".into(), false.into()])?;
//! # Ok(()) }
//! ```

use crate::Error;
use crate::bindings::fusio::action::connector as raw;
pub use raw::{ConnectorError, Rows, SqlValue as Value};
use serde::de::DeserializeOwned;

/// An open SQL connection.
pub struct Sql(raw::Sql);

/// Opens the connection `name`; an error when the action was not granted it
/// or it does not exist.
pub fn open(name: &str) -> Result<Sql, ConnectorError> {
    raw::open_sql(name).map(Sql)
}

/// The statements a connection and a transaction both run, written once.
macro_rules! statements {
    ($on:ident) => {
        impl $on {
            /// Runs a statement that answers rows, typed.
            pub fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, ConnectorError> {
                self.0.query(statement, params)
            }

            /// Runs a statement that answers rows, each as a JSON object of
            /// its columns.
            pub fn query_json(
                &self,
                statement: &str,
                params: &[Value],
            ) -> Result<Vec<JsonRow>, ConnectorError> {
                self.query_json_text(statement, params)
                    .and_then(|text| parse(&text))
            }

            /// Runs a statement that answers rows, as the text of a JSON
            /// array of objects built by the host — the cheapest way to hand
            /// rows on in a response, e.g. as a `serde_json::value::RawValue`
            /// field.
            ///
            /// ```no_run
            /// # fn run(db: &fusio_sdk::sql::Sql) -> Result<(), fusio_sdk::Error> {
            /// let todos = db.query_json_text("SELECT id, title FROM todo", &[])?;
            /// let response = fusio_sdk::Response::new(200)
            ///     .header("content-type", "application/json")
            ///     .body(todos);
            /// # Ok(()) }
            /// ```
            pub fn query_json_text(
                &self,
                statement: &str,
                params: &[Value],
            ) -> Result<String, ConnectorError> {
                self.0.query_json(statement, params)
            }

            /// Runs a statement that answers rows, each decoded into a `T` by
            /// its column names.
            pub fn query_as<T: DeserializeOwned>(
                &self,
                statement: &str,
                params: &[Value],
            ) -> Result<Vec<T>, Error> {
                decode(&self.query_json_text(statement, params)?)
            }

            /// Runs a statement; answers how many rows it changed.
            pub fn execute(
                &self,
                statement: &str,
                params: &[Value],
            ) -> Result<u64, ConnectorError> {
                self.0.execute(statement, params)
            }
        }
    };
}

statements!(Sql);
statements!(Transaction);

impl Sql {
    /// Starts a transaction on a connection of its own. It is rolled back
    /// unless committed — also when the action fails or traps.
    ///
    /// ```no_run
    /// # fn run(db: &fusio_sdk::sql::Sql) -> Result<(), fusio_sdk::Error> {
    /// let tx = db.begin()?;
    /// tx.execute("UPDATE account SET balance = balance - ? WHERE id = ?", &[10.into(), 1.into()])?;
    /// tx.execute("UPDATE account SET balance = balance + ? WHERE id = ?", &[10.into(), 2.into()])?;
    /// tx.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn begin(&self) -> Result<Transaction, ConnectorError> {
        self.0.begin().map(Transaction)
    }
}

/// A row as a JSON object of its columns.
pub type JsonRow = serde_json::Map<String, serde_json::Value>;

/// An open transaction (see [`Sql::begin`]).
pub struct Transaction(raw::Transaction);

impl Transaction {
    /// Makes the changes permanent.
    pub fn commit(self) -> Result<(), ConnectorError> {
        self.0.commit()
    }

    /// Undoes the changes (as dropping the transaction does).
    pub fn rollback(self) -> Result<(), ConnectorError> {
        self.0.rollback()
    }
}

/// The host's JSON rows as objects.
fn parse(text: &str) -> Result<Vec<JsonRow>, ConnectorError> {
    serde_json::from_str(text).map_err(|e| ConnectorError::Query(format!("rows as JSON: {e}")))
}

/// The host's JSON rows, each decoded into a `T` by its column names.
fn decode<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, Error> {
    serde_json::from_str(text).map_err(|e| Error::internal(format!("a row does not decode: {e}")))
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Float(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Boolean(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Self {
        Value::Bytes(value)
    }
}

/// A JSON document, bound as JSON (`jsonb`/`json` on PostgreSQL, `JSON` on
/// MySQL, text on SQLite).
impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Self {
        Value::Json(value.to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// A connector failure as the client sees it: a timeout is 504, an
/// unreachable service 503 (the reason goes to the log, never to the
/// client), anything else (a denied grant, a refused statement) a 500 whose
/// detail stays in the log.
impl From<ConnectorError> for Error {
    fn from(err: ConnectorError) -> Self {
        match err {
            ConnectorError::Timeout(_) => Error::custom(
                504,
                "Gateway Timeout",
                Some("the request's deadline passed while a service answered".into()),
            ),
            ConnectorError::Unavailable(d) => {
                crate::log::warn(format!("a connection is unavailable: {d}"));
                Error::custom(
                    503,
                    "Service Unavailable",
                    Some("a service this API needs is unavailable".into()),
                )
            }
            ConnectorError::AccessDenied(d) => Error::internal(format!("access denied: {d}")),
            ConnectorError::NotFound(d) => Error::internal(format!("no such connection: {d}")),
            ConnectorError::Query(d) => Error::internal(format!("the query failed: {d}")),
        }
    }
}

impl ConnectorError {
    /// The kind of failure, as WIT names it: `access-denied`, `not-found`,
    /// `unavailable`, `query` or `timeout`.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectorError::AccessDenied(_) => "access-denied",
            ConnectorError::NotFound(_) => "not-found",
            ConnectorError::Unavailable(_) => "unavailable",
            ConnectorError::Query(_) => "query",
            ConnectorError::Timeout(_) => "timeout",
        }
    }

    /// What the host said about it.
    pub fn detail(&self) -> &str {
        match self {
            ConnectorError::AccessDenied(d)
            | ConnectorError::NotFound(d)
            | ConnectorError::Unavailable(d)
            | ConnectorError::Query(d)
            | ConnectorError::Timeout(d) => d,
        }
    }
}
