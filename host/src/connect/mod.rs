//! The server's side of `fusio:action/connector`: connection pools, created
//! on first use and shared by every request and node-local instance, keyed
//! by the connection's settings so a changed connection gets a new pool.
//! SQL runs through sqlx (SQLite, PostgreSQL, MySQL/MariaDB); parameters
//! are always bound.

mod amqp;
pub mod check;
mod http;
mod log;
mod redis;

use crate::project::connection;
use crate::runtime::{
    AmqpMessage, BoxFuture, Capabilities, ConnectorError, HttpRequest, HttpResponse, LogRecord,
    RedisValue, Rows, SqlSession, SqlTransaction, SqlValue,
};
use crate::store::Store;
use crate::store::model::{ConnectionKind, ConnectionRecord, Project};
use sqlx::any::{AnyPoolOptions, AnyRow, AnyTypeInfoKind};
use sqlx::{AnyPool, Column, Row, ValueRef};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a statement may wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per SQL pool unless the connection says otherwise.
const POOL_SIZE: u32 = 10;

/// Every pool of this node, by connection settings.
#[derive(Default)]
pub struct Pools {
    sql: Mutex<HashMap<String, AnyPool>>,
    http: Mutex<HashMap<String, http::HttpClient>>,
    redis: tokio::sync::Mutex<HashMap<String, ::redis::aio::ConnectionManager>>,
    amqp: tokio::sync::Mutex<HashMap<String, Arc<amqp::Publisher>>>,
    log: Option<log::LogSink>,
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pools(…)")
    }
}

impl Pools {
    /// Pools whose actions' log entries are stored in `store`.
    pub fn new(store: Store) -> Self {
        Self {
            log: Some(log::LogSink::start(store)),
            ..Self::default()
        }
    }

    /// The connections and actions of `project`, for its snapshot.
    pub fn for_project(
        self: &Arc<Self>,
        project: &Project,
        actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    ) -> Arc<dyn Capabilities> {
        Arc::new(ProjectConnections {
            actions,
            records: project
                .connections
                .iter()
                .map(|c| (c.name.clone(), c.clone()))
                .collect(),
            pools: self.clone(),
        })
    }

    async fn amqp(
        &self,
        record: &ConnectionRecord,
    ) -> Result<Arc<amqp::Publisher>, ConnectorError> {
        let url = record.config["url"]
            .as_str()
            .ok_or_else(|| ConnectorError::NotFound(format!("`{}` has no url", record.name)))?;
        let key = format!("{}\n{url}", record.name);
        let mut publishers = self.amqp.lock().await;
        if let Some(publisher) = publishers.get(&key).filter(|p| p.is_open()) {
            return Ok(publisher.clone());
        }
        let publisher = Arc::new(amqp::Publisher::open(url).await?);
        publishers.insert(key, publisher.clone());
        Ok(publisher)
    }

    async fn redis(
        &self,
        record: &ConnectionRecord,
    ) -> Result<::redis::aio::ConnectionManager, ConnectorError> {
        let url = record.config["url"]
            .as_str()
            .ok_or_else(|| ConnectorError::NotFound(format!("`{}` has no url", record.name)))?;
        let key = format!("{}\n{url}", record.name);
        let mut managers = self.redis.lock().await;
        if let Some(manager) = managers.get(&key) {
            return Ok(manager.clone());
        }
        let manager = redis::connect(url).await?;
        managers.insert(key, manager.clone());
        Ok(manager)
    }

    fn http(&self, record: &ConnectionRecord) -> Result<http::HttpClient, ConnectorError> {
        let config: connection::HttpConfig = serde_json::from_value(record.config.clone())
            .map_err(|e| ConnectorError::NotFound(format!("`{}`: {e}", record.name)))?;
        let key = format!("{}\n{}", record.name, record.config);
        let mut clients = self
            .http
            .lock()
            .expect("the client registry is never poisoned");
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = http::HttpClient::new(&config)?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    fn sql(&self, record: &ConnectionRecord) -> Result<AnyPool, ConnectorError> {
        let config = connection::sql(record).map_err(ConnectorError::NotFound)?;
        let size = config.max_connections.unwrap_or(POOL_SIZE);
        let key = format!("{}\n{}\n{size}", record.name, config.url);
        let mut pools = self
            .sql
            .lock()
            .expect("the pool registry is never poisoned");
        if let Some(pool) = pools.get(&key) {
            return Ok(pool.clone());
        }
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy(&config.url)
            .map_err(|e| ConnectorError::Unavailable(format!("`{}`: {e}", record.name)))?;
        pools.insert(key, pool.clone());
        Ok(pool)
    }
}

/// The connections one revision serves.
#[derive(Debug)]
struct ProjectConnections {
    actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    records: HashMap<String, ConnectionRecord>,
    pools: Arc<Pools>,
}

impl Capabilities for ProjectConnections {
    fn log(&self, entry: LogRecord) {
        if let Some(sink) = &self.pools.log {
            sink.send(entry);
        }
    }

    fn action(&self, name: &str) -> Option<Arc<crate::runtime::LoadedAction>> {
        self.actions.get(name).cloned()
    }

    fn amqp_publish<'a>(
        &'a self,
        name: &'a str,
        message: AmqpMessage,
    ) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let record = self
                .records
                .get(name)
                .filter(|r| r.kind == ConnectionKind::Amqp)
                .ok_or_else(|| ConnectorError::NotFound(format!("no AMQP connection `{name}`")))?;
            self.pools.amqp(record).await?.publish(message).await
        })
    }

    fn redis<'a>(
        &'a self,
        name: &'a str,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<RedisValue, ConnectorError>> {
        Box::pin(async move {
            let record = self
                .records
                .get(name)
                .filter(|r| r.kind == ConnectionKind::Redis)
                .ok_or_else(|| ConnectorError::NotFound(format!("no Redis connection `{name}`")))?;
            let mut manager = self.pools.redis(record).await?;
            redis::run(&mut manager, &command, args).await
        })
    }

    fn http_send<'a>(
        &'a self,
        name: &'a str,
        request: HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, ConnectorError>> {
        Box::pin(async move {
            let record = self
                .records
                .get(name)
                .filter(|r| r.kind == ConnectionKind::Http)
                .ok_or_else(|| ConnectorError::NotFound(format!("no HTTP connection `{name}`")))?;
            self.pools.http(record)?.send(request).await
        })
    }

    fn open_sql<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn SqlSession>, ConnectorError>> {
        Box::pin(async move {
            let record = self
                .records
                .get(name)
                .filter(|r| r.kind == ConnectionKind::Sql)
                .ok_or_else(|| ConnectorError::NotFound(format!("no SQL connection `{name}`")))?;
            let pool = self.pools.sql(record)?;
            Ok(Arc::new(SqlPool {
                name: name.to_owned(),
                pool,
            }) as Arc<dyn SqlSession>)
        })
    }
}

/// A SQL connection handed to a guest: statements run on the pool.
struct SqlPool {
    name: String,
    pool: AnyPool,
}

/// A pooled connection running one statement. When the statement's future
/// is dropped before it finishes (the request's deadline passed), the
/// connection is detached and closed instead of going back to the pool,
/// where it would stay busy until the database finished the statement: the
/// pool gets its slot back at once.
struct InFlight {
    connection: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    finished: bool,
}

impl InFlight {
    async fn acquire(sql: &SqlPool) -> Result<Self, ConnectorError> {
        let connection = sql
            .pool
            .acquire()
            .await
            .map_err(|e| failure(&sql.name, e))?;
        Ok(Self {
            connection: Some(connection),
            finished: false,
        })
    }

    fn connection(&mut self) -> &mut sqlx::AnyConnection {
        self.connection
            .as_mut()
            .expect("the connection is held until drop")
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished
            && let Some(connection) = self.connection.take()
        {
            drop(connection.detach());
        }
    }
}

fn failure(name: &str, err: sqlx::Error) -> ConnectorError {
    match err {
        sqlx::Error::Database(db) => ConnectorError::Query(db.message().to_owned()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::TypeNotFound { .. } => {
            ConnectorError::Query(err.to_string())
        }
        other => ConnectorError::Unavailable(format!("`{name}`: {other}")),
    }
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    params: Vec<SqlValue>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Boolean(b) => query.bind(b),
            SqlValue::Integer(i) => query.bind(i),
            SqlValue::Float(f) => query.bind(f),
            SqlValue::Text(t) | SqlValue::Json(t) | SqlValue::Timestamp(t) => query.bind(t),
            SqlValue::Bytes(b) => query.bind(b),
        };
    }
    query
}

fn value(row: &AnyRow, index: usize) -> Result<SqlValue, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        AnyTypeInfoKind::Null => SqlValue::Null,
        AnyTypeInfoKind::Bool => SqlValue::Boolean(row.try_get(index)?),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            SqlValue::Integer(row.try_get(index)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => SqlValue::Float(row.try_get(index)?),
        AnyTypeInfoKind::Text => SqlValue::Text(row.try_get(index)?),
        AnyTypeInfoKind::Blob => SqlValue::Bytes(row.try_get(index)?),
    })
}

impl SqlSession for SqlPool {
    fn query<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>> {
        Box::pin(async move {
            let query = bind(sqlx::query(sqlx::AssertSqlSafe(statement)), params);
            let mut flight = InFlight::acquire(self).await?;
            let rows = query.fetch_all(flight.connection()).await;
            flight.finished = true;
            let rows = rows.map_err(|e| failure(&self.name, e))?;
            rows_of(&self.name, &rows)
        })
    }

    fn execute<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>> {
        Box::pin(async move {
            let query = bind(sqlx::query(sqlx::AssertSqlSafe(statement)), params);
            let mut flight = InFlight::acquire(self).await?;
            let done = query.execute(flight.connection()).await;
            flight.finished = true;
            done.map(|done| done.rows_affected())
                .map_err(|e| failure(&self.name, e))
        })
    }

    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn SqlTransaction>, ConnectorError>> {
        Box::pin(async move {
            let tx = self
                .pool
                .begin()
                .await
                .map_err(|e| failure(&self.name, e))?;
            Ok(Box::new(SqlTx {
                name: self.name.clone(),
                tx,
            }) as Box<dyn SqlTransaction>)
        })
    }
}

/// An open transaction; sqlx rolls it back when it is dropped uncommitted.
struct SqlTx {
    name: String,
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl SqlTransaction for SqlTx {
    fn query<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>> {
        Box::pin(async move {
            let query = bind(sqlx::query(sqlx::AssertSqlSafe(statement)), params);
            let rows = query
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|e| failure(&self.name, e))?;
            rows_of(&self.name, &rows)
        })
    }

    fn execute<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>> {
        Box::pin(async move {
            let query = bind(sqlx::query(sqlx::AssertSqlSafe(statement)), params);
            query
                .execute(&mut *self.tx)
                .await
                .map(|done| done.rows_affected())
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

/// Rows with their column names, typed.
fn rows_of(name: &str, rows: &[AnyRow]) -> Result<Rows, ConnectorError> {
    let columns = rows
        .first()
        .map(|row| row.columns().iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let values = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| value(row, i)).collect())
        .collect::<Result<Vec<Vec<SqlValue>>, _>>()
        .map_err(|e| failure(name, e))?;
    Ok(Rows {
        columns,
        rows: values,
    })
}
