//! What the host offers an action beyond its request — today its granted
//! SQL connections. The runtime defines the shape and enforces the grants;
//! the server implements it (pools, drivers), so the runtime knows nothing
//! of sqlx.

use super::bindings::fusio::action::connector::{
    ConnectorError, HttpRequest, HttpResponse, RedisValue, Rows, SqlValue,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, for the object-safe traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The connections of one served revision.
pub trait Capabilities: Send + Sync + std::fmt::Debug {
    /// Keeps an entry the action logged (for the backend's log view); never
    /// waits: an entry that cannot be kept at once is dropped.
    fn log(&self, entry: LogRecord);
    /// The deployed action `name`, for the processor.
    fn action(&self, name: &str) -> Option<Arc<super::LoadedAction>>;
    /// Opens the SQL connection `name` (the grant is already checked).
    fn open_sql<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn SqlSession>, ConnectorError>>;
    /// Runs a Redis command through the connection `name` (the grant is
    /// already checked).
    fn redis<'a>(
        &'a self,
        name: &'a str,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<RedisValue, ConnectorError>>;
    /// Publishes a message through the AMQP connection `name` (the grant
    /// is already checked).
    fn amqp_publish<'a>(
        &'a self,
        name: &'a str,
        message: AmqpMessage,
    ) -> BoxFuture<'a, Result<(), ConnectorError>>;
    /// Sends `request` through the HTTP connection `name` (the grant is
    /// already checked).
    fn http_send<'a>(
        &'a self,
        name: &'a str,
        request: HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, ConnectorError>>;
}

/// An open SQL connection.
pub trait SqlSession: Send + Sync {
    /// Runs a statement that answers rows.
    fn query<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>>;
    /// Runs a statement; answers how many rows it changed.
    fn execute<'a>(
        &'a self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>>;
    /// Starts a transaction on a connection of its own.
    fn begin(&self) -> BoxFuture<'_, Result<Box<dyn SqlTransaction>, ConnectorError>>;
}

/// An open transaction; dropping it without a commit rolls it back.
pub trait SqlTransaction: Send {
    /// Runs a statement that answers rows.
    fn query<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<Rows, ConnectorError>>;
    /// Runs a statement; answers how many rows it changed.
    fn execute<'a>(
        &'a mut self,
        statement: &'a str,
        params: Vec<SqlValue>,
    ) -> BoxFuture<'a, Result<u64, ConnectorError>>;
    /// Commits; the transaction is over.
    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), ConnectorError>>;
    /// Rolls back; the transaction is over.
    fn rollback(self: Box<Self>) -> BoxFuture<'static, Result<(), ConnectorError>>;
}

/// An entry an action logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The request it belongs to.
    pub request_id: String,
    /// The action that logged it.
    pub action: String,
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The message.
    pub message: String,
    /// Key-value fields.
    pub fields: Vec<(String, String)>,
}

/// A message to publish over AMQP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpMessage {
    /// The exchange (`""`: the default one).
    pub exchange: String,
    /// The routing key (with the default exchange: a queue's name).
    pub routing_key: String,
    /// The body.
    pub body: Vec<u8>,
    /// Its media type, when said.
    pub content_type: Option<String>,
}

/// No connections at all (a validation run, a project without any).
#[derive(Debug, Default)]
pub struct NoCapabilities;

impl Capabilities for NoCapabilities {
    fn log(&self, _: LogRecord) {}

    fn action(&self, _: &str) -> Option<Arc<super::LoadedAction>> {
        None
    }

    fn amqp_publish<'a>(
        &'a self,
        name: &'a str,
        _: AmqpMessage,
    ) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            Err(ConnectorError::NotFound(format!(
                "no AMQP connection `{name}` is served"
            )))
        })
    }

    fn redis<'a>(
        &'a self,
        name: &'a str,
        _: String,
        _: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<RedisValue, ConnectorError>> {
        Box::pin(async move {
            Err(ConnectorError::NotFound(format!(
                "no Redis connection `{name}` is served"
            )))
        })
    }

    fn http_send<'a>(
        &'a self,
        name: &'a str,
        _: HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, ConnectorError>> {
        Box::pin(async move {
            Err(ConnectorError::NotFound(format!(
                "no HTTP connection `{name}` is served"
            )))
        })
    }

    fn open_sql<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn SqlSession>, ConnectorError>> {
        Box::pin(async move {
            Err(ConnectorError::NotFound(format!(
                "no SQL connection `{name}` is served"
            )))
        })
    }
}
