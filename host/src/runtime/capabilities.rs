//! What the host offers an action beyond its request: its connections
//! (one trait per kind), the log and the other actions. The runtime
//! defines the shape and enforces the grants; the server implements it
//! (`connect`: pools, drivers, clients), so the runtime knows nothing of
//! sqlx, reqwest, redis or lapin.

use super::bindings::fusio::action::connector::{
    ConnectorError, HttpRequest, HttpResponse, RedisValue, Rows, SqlValue,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, for the object-safe traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one served revision offers its actions: the log, the other
/// actions, and its connections, each as the trait of its kind.
pub trait Capabilities: Send + Sync + std::fmt::Debug {
    /// Keeps an entry the action logged (for the backend's log view); never
    /// waits: an entry that cannot be kept at once is dropped.
    fn log(&self, entry: LogRecord);
    /// The deployed action `name`, for the processor.
    fn action(&self, name: &str) -> Option<Arc<super::LoadedAction>>;
    /// The served connection `name` (the grant is checked by the caller).
    fn connection(&self, name: &str) -> Option<Connection>;
}

/// A served connection, as the trait of its kind: the connector interface
/// asks for the kind it needs, and a name of another kind is not found.
/// A new kind of connection is a new variant and trait here.
#[derive(Clone)]
pub enum Connection {
    /// A SQL database.
    Sql(Arc<dyn SqlConnection>),
    /// An HTTP API.
    Http(Arc<dyn HttpConnection>),
    /// A Redis server.
    Redis(Arc<dyn RedisConnection>),
    /// An AMQP broker.
    Amqp(Arc<dyn AmqpConnection>),
}

impl Connection {
    /// Its kind as fusio.yml names it: `sql`, `http`, `redis`, `amqp`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sql(_) => "sql",
            Self::Http(_) => "http",
            Self::Redis(_) => "redis",
            Self::Amqp(_) => "amqp",
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sql(_) => "Connection::Sql",
            Self::Http(_) => "Connection::Http",
            Self::Redis(_) => "Connection::Redis",
            Self::Amqp(_) => "Connection::Amqp",
        })
    }
}

/// A SQL database connection of a revision.
pub trait SqlConnection: Send + Sync {
    /// Opens a session on the node's pool for it.
    fn open(&self) -> BoxFuture<'_, Result<Arc<dyn SqlSession>, ConnectorError>>;
}

/// An HTTP API connection of a revision.
pub trait HttpConnection: Send + Sync {
    /// Sends `request`, relative to the connection's base URL.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, ConnectorError>>;
}

/// A Redis connection of a revision.
pub trait RedisConnection: Send + Sync {
    /// Runs one command (only the data commands are allowed).
    fn run(
        &self,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> BoxFuture<'_, Result<RedisValue, ConnectorError>>;
}

/// An AMQP connection of a revision.
pub trait AmqpConnection: Send + Sync {
    /// Publishes `message` and waits for the broker's confirmation.
    fn publish(&self, message: AmqpMessage) -> BoxFuture<'_, Result<(), ConnectorError>>;
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

    fn connection(&self, _: &str) -> Option<Connection> {
        None
    }
}

impl ConnectorError {
    /// Its text, whatever its kind (for a message that names the kind
    /// itself, or needs none).
    pub fn into_reason(self) -> String {
        match self {
            Self::AccessDenied(why)
            | Self::NotFound(why)
            | Self::Unavailable(why)
            | Self::Query(why)
            | Self::Timeout(why) => why,
        }
    }
}
