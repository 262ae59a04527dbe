//! SQL connections, one implementation per database so every column type
//! the database knows comes back typed (a PostgreSQL `timestamptz` as a
//! timestamp, `jsonb` as JSON, `numeric` as exact text) and every
//! parameter is bound as what it is. The statement text is the database's
//! own (placeholders included); parameters are always bound, never spliced.

mod bounded;
pub mod kind;
mod mysql;
mod postgres;
mod single;
mod sqlite;
mod sqlite_guard;

use crate::confine::SqlTarget;
use crate::runtime::{BoxFuture, ConnectorError, Rows, SqlSession, SqlTransaction, SqlValue};
pub use bounded::ResultLimits;
use chrono::{DateTime, SecondsFormat, Utc};
pub use single::{ScriptError, Single};
use sqlx::pool::PoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Database, Executor};
use std::sync::Arc;
use std::time::Duration;

/// How long a statement may wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite virtual-machine steps between two calls of the progress handler
/// that limits a statement's time.
const PROGRESS_STEPS: i32 = 10_000;

/// A statement with its bound parameters, for database `DB`.
type Statement<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// What differs between databases: how a parameter is bound and how a
/// column value is read.
pub(super) trait Driver: Database {
    /// `statement` with `value` bound as its next parameter; `Err` says why
    /// the value cannot be (a timestamp that is not RFC 3339, JSON that is
    /// not JSON).
    fn bind(statement: Statement<'_, Self>, value: SqlValue)
    -> Result<Statement<'_, Self>, String>;
    /// Column `index` of `row`, typed by the column's database type.
    fn read(row: &Self::Row, index: usize) -> Result<SqlValue, sqlx::Error>;
    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
    /// The statement that begins a guest's transaction, when the
    /// database's plain `BEGIN` is not the right one.
    const BEGIN: Option<&'static str> = None;
}

/// A node's pool for one SQL connection, on its database's driver.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

impl Pool {
    /// A pool of at most `size` connections to `target`, connecting on
    /// first use (so a deploy never waits for a database its actions may
    /// not call yet). Each connection's statements are limited to
    /// `statement_limit` when given: a statement cut off by a request's
    /// deadline is detached from the pool, and this makes the database end
    /// it too instead of letting it run on (PostgreSQL and MySQL/MariaDB by
    /// their own settings, SQLite by a progress handler). Every SQLite
    /// connection is confined to its own file first (`sqlite_guard`).
    pub(crate) fn lazy(
        target: &SqlTarget,
        size: u32,
        statement_limit: Option<Duration>,
    ) -> Result<Self, sqlx::Error> {
        fn options<DB: Database>(size: u32) -> PoolOptions<DB> {
            PoolOptions::new()
                .max_connections(size)
                .acquire_timeout(ACQUIRE_TIMEOUT)
        }
        let url = match target {
            SqlTarget::SqliteFile(_) | SqlTarget::SqliteMemory => {
                let connect = match target {
                    SqlTarget::SqliteFile(path) => SqliteConnectOptions::new()
                        .filename(path)
                        .create_if_missing(true),
                    _ => SqliteConnectOptions::new().in_memory(true),
                };
                return Ok(Self::Sqlite(
                    options(size)
                        .after_connect(move |conn: &mut sqlx::SqliteConnection, _| {
                            Box::pin(async move {
                                let mut handle = conn.lock_handle().await?;
                                sqlite_guard::confine(&mut handle)?;
                                if let Some(limit) = statement_limit {
                                    handle.set_progress_handler(
                                        PROGRESS_STEPS,
                                        sqlite::runaway_guard(limit),
                                    );
                                }
                                Ok(())
                            })
                        })
                        .connect_lazy_with(connect),
                ));
            }
            SqlTarget::Server(url) => url,
        };
        let millis = statement_limit.map(|limit| limit.as_millis().max(1));
        Ok(match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("postgres" | "postgresql") => Self::Postgres(
                options(size)
                    .after_connect(move |conn: &mut sqlx::PgConnection, _| {
                        Box::pin(async move {
                            let Some(millis) = millis else { return Ok(()) };
                            let set = format!("SET statement_timeout = {millis}");
                            conn.execute(sqlx::AssertSqlSafe(set)).await.map(drop)
                        })
                    })
                    .connect_lazy(url)?,
            ),
            Some("mysql" | "mariadb") => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                Self::MySql(
                    options(size)
                        .after_connect(move |conn: &mut sqlx::MySqlConnection, _| {
                            Box::pin(async move {
                                let Some(millis) = millis else { return Ok(()) };
                                // MariaDB limits every statement (seconds);
                                // MySQL only SELECTs (milliseconds).
                                let mariadb = format!(
                                    "SET SESSION max_statement_time = {}",
                                    millis as f64 / 1000.0
                                );
                                if conn.execute(sqlx::AssertSqlSafe(mariadb)).await.is_err() {
                                    let mysql =
                                        format!("SET SESSION max_execution_time = {millis}");
                                    conn.execute(sqlx::AssertSqlSafe(mysql)).await?;
                                }
                                Ok(())
                            })
                        })
                        .connect_lazy(&url)?,
                )
            }
            _ => {
                return Err(sqlx::Error::Configuration(
                    format!("`{url}` is not a sqlite:, postgres: or mysql: URL").into(),
                ));
            }
        })
    }

    /// A session on this pool for the guest, named `name` in errors,
    /// whose query results are bounded by `limits`.
    pub(super) fn session(&self, name: &str, limits: ResultLimits) -> Arc<dyn SqlSession> {
        let name = name.to_owned();
        match self {
            Self::Sqlite(pool) => Arc::new(Session {
                name,
                pool: pool.clone(),
                limits,
            }),
            Self::Postgres(pool) => Arc::new(Session {
                name,
                pool: pool.clone(),
                limits,
            }),
            Self::MySql(pool) => Arc::new(Session {
                name,
                pool: pool.clone(),
                limits,
            }),
        }
    }
}

/// A SQL connection handed to a guest: statements run on the pool.
struct Session<DB: Database> {
    name: String,
    pool: sqlx::Pool<DB>,
    limits: ResultLimits,
}

/// A pooled connection running one statement. When the statement's future
/// is dropped before it finishes (the request's deadline passed), the
/// connection is detached and closed instead of going back to the pool,
/// where it would stay busy until the database finished the statement: the
/// pool gets its slot back at once.
struct InFlight<DB: Database> {
    connection: Option<sqlx::pool::PoolConnection<DB>>,
    finished: bool,
}

impl<DB: Database> InFlight<DB> {
    async fn acquire(session: &Session<DB>) -> Result<Self, ConnectorError> {
        let connection = session
            .pool
            .acquire()
            .await
            .map_err(|e| unavailable(&session.name, e))?;
        Ok(Self {
            connection: Some(connection),
            finished: false,
        })
    }

    fn connection(&mut self) -> &mut DB::Connection {
        self.connection
            .as_mut()
            .expect("the connection is held until drop")
    }
}

impl<DB: Database> Drop for InFlight<DB> {
    fn drop(&mut self) {
        if !self.finished
            && let Some(connection) = self.connection.take()
        {
            drop(connection.detach());
        }
    }
}

/// The guest's view of a sqlx error: the database's own message for a
/// statement it refused, "unavailable" (with the connection's name) when
/// the database cannot be reached.
fn failure(name: &str, err: sqlx::Error) -> ConnectorError {
    match err {
        sqlx::Error::Database(db) => ConnectorError::Query(db.message().to_owned()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::TypeNotFound { .. } => {
            ConnectorError::Query(err.to_string())
        }
        other => ConnectorError::Unavailable(format!("`{name}`: {other}")),
    }
}

/// The guest's view of a failure to get a connection at all (a wrong
/// password, an unreachable host, a full pool): whatever the database
/// said, the connection is unavailable.
fn unavailable(name: &str, err: sqlx::Error) -> ConnectorError {
    ConnectorError::Unavailable(format!("`{name}`: {err}"))
}

/// `statement` with `params` bound, or which parameter cannot be.
fn prepare<DB: Driver>(
    statement: &str,
    params: Vec<SqlValue>,
) -> Result<Statement<'_, DB>, ConnectorError> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
    for (index, param) in params.into_iter().enumerate() {
        query = DB::bind(query, param)
            .map_err(|why| ConnectorError::Query(format!("parameter {}: {why}", index + 1)))?;
    }
    Ok(query)
}

/// Binds `value` on a database that takes JSON and timestamps as such
/// (PostgreSQL, MySQL); `null` binds its own kind of NULL.
fn bind_typed<'q, DB: Database>(
    statement: Statement<'q, DB>,
    value: SqlValue,
    null: impl FnOnce(Statement<'q, DB>) -> Statement<'q, DB>,
) -> Result<Statement<'q, DB>, String>
where
    for<'e> bool: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> i64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> f64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> String: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Vec<u8>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> sqlx::types::Json<serde_json::Value>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> DateTime<Utc>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    Ok(match value {
        SqlValue::Null => null(statement),
        SqlValue::Boolean(b) => statement.bind(b),
        SqlValue::Integer(i) => statement.bind(i),
        SqlValue::Float(f) => statement.bind(f),
        SqlValue::Text(t) => statement.bind(t),
        SqlValue::Bytes(b) => statement.bind(b),
        SqlValue::Json(t) => statement.bind(sqlx::types::Json(parse_json(&t)?)),
        SqlValue::Timestamp(t) => statement.bind(parse_timestamp(&t)?),
    })
}

/// A timestamp parameter: RFC 3339, with its offset.
fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 timestamp ({e})"))
}

/// A JSON parameter.
fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))
}

/// A timestamp column value, in UTC.
fn timestamp(at: DateTime<Utc>) -> SqlValue {
    SqlValue::Timestamp(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The error for a column of a type Fusio does not read.
fn unreadable(index: usize, type_name: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: format!(
            "the column's type {type_name} has no Fusio value; cast it in the statement (e.g. to text)"
        )
        .into(),
    }
}

impl<DB: Driver> SqlSession for Session<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    fn query<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>> {
        Box::pin(async move {
            let query = prepare::<DB>(statement, params)?;
            let mut flight = InFlight::acquire(self).await?;
            let rows =
                bounded::collect::<DB>(&self.name, query.fetch(flight.connection()), self.limits)
                    .await;
            // A result cut off at its cap leaves the statement unfinished:
            // the connection is closed rather than drained.
            flight.finished = rows.is_ok();
            rows
        })
    }

    fn execute<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>> {
        Box::pin(async move {
            let query = prepare::<DB>(statement, params)?;
            let mut flight = InFlight::acquire(self).await?;
            let done = query.execute(flight.connection()).await;
            flight.finished = true;
            done.map(|done| DB::rows_affected(&done))
                .map_err(|e| failure(&self.name, e))
        })
    }

    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn SqlTransaction>, ConnectorError>> {
        Box::pin(async move {
            let tx = match DB::BEGIN {
                Some(begin) => self.pool.begin_with(begin).await,
                None => self.pool.begin().await,
            }
            .map_err(|e| unavailable(&self.name, e))?;
            Ok(Box::new(Tx {
                name: self.name.clone(),
                tx,
                limits: self.limits,
            }) as Box<dyn SqlTransaction>)
        })
    }
}

/// An open transaction; sqlx rolls it back when it is dropped uncommitted.
struct Tx<DB: Database> {
    name: String,
    tx: sqlx::Transaction<'static, DB>,
    limits: ResultLimits,
}

impl<DB: Driver> SqlTransaction for Tx<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    fn query<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>> {
        Box::pin(async move {
            let query = prepare::<DB>(statement, params)?;
            bounded::collect::<DB>(&self.name, query.fetch(&mut *self.tx), self.limits).await
        })
    }

    fn execute<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>> {
        Box::pin(async move {
            let query = prepare::<DB>(statement, params)?;
            query
                .execute(&mut *self.tx)
                .await
                .map(|done| DB::rows_affected(&done))
                .map_err(|e| failure(&self.name, e))
        })
    }

    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), ConnectorError>> {
        Box::pin(async move {
            let name = self.name;
            self.tx.commit().await.map_err(|e| failure(&name, e))
        })
    }

    fn rollback(self: Box<Self>) -> BoxFuture<'static, Result<(), ConnectorError>> {
        Box::pin(async move {
            let name = self.name;
            self.tx.rollback().await.map_err(|e| failure(&name, e))
        })
    }
}
