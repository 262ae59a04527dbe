//! The server's side of `fusio:action/connector`: connection pools, created
//! on first use and shared by every request and node-local instance, keyed
//! by the connection's settings so a changed connection gets a new pool.
//! SQL runs through sqlx, one driver per database (`sql/`); parameters
//! are always bound.

mod amqp;
pub mod check;
mod http;
mod log;
mod redis;
pub mod settings;
pub mod sql;

use crate::confine::Confinement;
use crate::runtime::{
    AmqpMessage, BoxFuture, Capabilities, ConnectorError, HttpRequest, HttpResponse, LogRecord,
    RedisValue, SqlSession,
};
use crate::store::Store;
use crate::store::model::{ConnectionKind, ConnectionRecord, Project};
use settings as connection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Connections per SQL pool unless the connection says otherwise.
const POOL_SIZE: u32 = 10;

/// Every pool of this node, by connection settings.
pub struct Pools {
    /// What user connections may reach.
    confinement: Arc<Confinement>,
    sql: Mutex<HashMap<String, sql::Pool>>,
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
    /// Pools whose actions' log entries are stored in `store`, whose
    /// connections reach only what `confinement` allows.
    pub fn new(store: Store, confinement: Arc<Confinement>) -> Self {
        Self {
            log: Some(log::LogSink::start(store)),
            confinement,
            sql: Mutex::default(),
            http: Mutex::default(),
            redis: tokio::sync::Mutex::default(),
            amqp: tokio::sync::Mutex::default(),
        }
    }

    /// What user connections of this node may reach.
    pub fn confinement(&self) -> &Arc<Confinement> {
        &self.confinement
    }

    /// The connections and actions of `project`, for its snapshot.
    pub fn for_project(
        self: &Arc<Self>,
        project: &Project,
        actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    ) -> Arc<dyn Capabilities> {
        let mut statement_limits: HashMap<String, Duration> = HashMap::new();
        for action in &project.actions {
            for name in &action.connections {
                let limit = statement_limits.entry(name.clone()).or_default();
                *limit = (*limit).max(action.limits.timeout);
            }
        }
        Arc::new(ProjectConnections {
            actions,
            statement_limits,
            connections: project
                .connections
                .iter()
                .map(|c| (c.name.clone(), Opened::new(c.clone())))
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

    fn sql(
        &self,
        record: &ConnectionRecord,
        statement_limit: Duration,
    ) -> Result<(sql::Pool, sql::ResultLimits), ConnectorError> {
        let config = connection::sql(record).map_err(ConnectorError::NotFound)?;
        let size = config.max_connections.unwrap_or(POOL_SIZE);
        // Deploy refused every path that leaves its place; one that fails
        // now (its file became a directory or a link since) cannot be
        // reached.
        let target = self.confinement.sql_target(&config.url).map_err(|reason| {
            ConnectorError::Unavailable(format!("`{}`: {reason}", record.name))
        })?;
        let key = format!(
            "{}\n{target:?}\n{size}\n{}",
            record.name,
            statement_limit.as_millis()
        );
        let mut pools = self
            .sql
            .lock()
            .expect("the pool registry is never poisoned");
        let defaults = sql::ResultLimits::default();
        let results = sql::ResultLimits {
            rows: config.max_rows.unwrap_or(defaults.rows),
            bytes: config.max_result.map_or(defaults.bytes, |b| b.as_u64()),
        };
        if let Some(pool) = pools.get(&key) {
            return Ok((pool.clone(), results));
        }
        let pool = sql::Pool::lazy(&target, size, Some(statement_limit))
            .map_err(|e| ConnectorError::Unavailable(format!("`{}`: {e}", record.name)))?;
        pools.insert(key, pool.clone());
        Ok((pool, results))
    }
}

/// The connections one revision serves.
#[derive(Debug)]
struct ProjectConnections {
    actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    /// Per SQL connection, the longest timeout of the actions granted it:
    /// no statement on it may run longer (see [`sql::Pool::lazy`]).
    statement_limits: HashMap<String, Duration>,
    connections: HashMap<String, Opened>,
    pools: Arc<Pools>,
}

/// A connection of the revision with what this snapshot opened of it, so
/// a request after the first skips parsing its settings and the node's
/// registry.
#[derive(Debug)]
struct Opened {
    record: ConnectionRecord,
    sql: OnceLock<(sql::Pool, sql::ResultLimits)>,
    http: OnceLock<http::HttpClient>,
}

impl Opened {
    fn new(record: ConnectionRecord) -> Self {
        Self {
            record,
            sql: OnceLock::new(),
            http: OnceLock::new(),
        }
    }
}

/// The value in `cell`, made by `make` the first time it succeeds (a
/// failure is not kept: the next call tries again).
fn cached<T: Clone>(
    cell: &OnceLock<T>,
    make: impl FnOnce() -> Result<T, ConnectorError>,
) -> Result<T, ConnectorError> {
    if let Some(value) = cell.get() {
        return Ok(value.clone());
    }
    let value = make()?;
    Ok(cell.get_or_init(|| value).clone())
}

impl ProjectConnections {
    /// The connection `name` if it is of `kind`.
    fn of_kind(&self, name: &str, kind: ConnectionKind) -> Result<&Opened, ConnectorError> {
        self.connections
            .get(name)
            .filter(|c| c.record.kind == kind)
            .ok_or_else(|| {
                let kind = match kind {
                    ConnectionKind::Sql => "SQL",
                    ConnectionKind::Http => "HTTP",
                    ConnectionKind::Redis => "Redis",
                    ConnectionKind::Amqp => "AMQP",
                };
                ConnectorError::NotFound(format!("no {kind} connection `{name}`"))
            })
    }
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
            let opened = self.of_kind(name, ConnectionKind::Amqp)?;
            self.pools
                .amqp(&opened.record)
                .await?
                .publish(message)
                .await
        })
    }

    fn redis<'a>(
        &'a self,
        name: &'a str,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<RedisValue, ConnectorError>> {
        Box::pin(async move {
            let opened = self.of_kind(name, ConnectionKind::Redis)?;
            let mut manager = self.pools.redis(&opened.record).await?;
            redis::run(&mut manager, &command, args).await
        })
    }

    fn http_send<'a>(
        &'a self,
        name: &'a str,
        request: HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, ConnectorError>> {
        Box::pin(async move {
            let opened = self.of_kind(name, ConnectionKind::Http)?;
            cached(&opened.http, || self.pools.http(&opened.record))?
                .send(request)
                .await
        })
    }

    fn open_sql<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn SqlSession>, ConnectorError>> {
        Box::pin(async move {
            let opened = self.of_kind(name, ConnectionKind::Sql)?;
            let limit = self
                .statement_limits
                .get(name)
                .copied()
                .unwrap_or_else(|| crate::runtime::Limits::default().timeout);
            let (pool, results) = cached(&opened.sql, || self.pools.sql(&opened.record, limit))?;
            Ok(pool.session(name, results))
        })
    }
}
