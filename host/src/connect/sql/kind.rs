//! SQL connections as a kind: their settings, the deploy check (a URL of a
//! database the server knows, reaching only what user connections may),
//! the served connection (a node pool per settings, results bounded) and
//! the backend's test (`SELECT 1`).

use super::{Pool, ResultLimits, Single};
use crate::confine::Confinement;
use crate::connect::Pools;
use crate::connect::kind::{Kind, NotWorking, SettingsError, scheme_of, typed};
use crate::runtime::{BoxFuture, Connection, ConnectorError, SqlConnection, SqlSession};
use crate::store::model::{ConnectionKind, ConnectionRecord};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Connections per pool unless the connection says otherwise.
const POOL_SIZE: u32 = 10;

/// A SQL database: `sqlite:`, `postgres:` or `mysql:` (MariaDB too).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    /// The database URL with its credentials; a relative `sqlite:` path
    /// is a file in the server's connections directory (see
    /// [`Confinement::sql_target`]).
    pub url: String,
    /// How many connections the node's pool keeps open at most (10).
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// The most rows one query may answer (100 000); more is an error.
    #[serde(default)]
    pub max_rows: Option<u64>,
    /// The most bytes of values one query may answer (16 MiB).
    #[serde(default)]
    pub max_result: Option<bytesize::ByteSize>,
}

/// The SQL settings of `record`, or why it has none.
pub fn settings(record: &ConnectionRecord) -> Result<SqlConfig, SettingsError> {
    if record.kind != ConnectionKind::Sql {
        return Err(SettingsError::Invalid(format!(
            "`{}` is not a SQL connection",
            record.name
        )));
    }
    let config: SqlConfig = typed(&record.config)?;
    scheme_of(
        &config.url,
        &["sqlite", "postgres", "postgresql", "mysql", "mariadb"],
    )?;
    Ok(config)
}

/// The SQL kind.
pub struct Sql;

impl Kind for Sql {
    fn check(
        &self,
        record: &ConnectionRecord,
        confinement: &Confinement,
    ) -> Result<(), SettingsError> {
        confinement.sql_target(&settings(record)?.url)?;
        Ok(())
    }

    fn serve(
        &self,
        record: ConnectionRecord,
        pools: Arc<Pools>,
        longest_call: Duration,
    ) -> Connection {
        Connection::Sql(Arc::new(Served {
            record,
            pools,
            statement_limit: longest_call,
            opened: tokio::sync::OnceCell::new(),
        }))
    }

    fn test<'a>(
        &self,
        record: &'a ConnectionRecord,
        confinement: &'a Confinement,
    ) -> BoxFuture<'a, Result<String, NotWorking>> {
        Box::pin(async move {
            let config = settings(record).map_err(|e| e.to_string())?;
            let target = confinement
                .sql_target(&config.url)
                .map_err(|e| e.to_string())?;
            let mut conn = Single::connect(&target)
                .await
                .map_err(|e| format!("cannot connect: {e}"))?;
            conn.ping()
                .await
                .map_err(|e| format!("connected, but `SELECT 1` failed: {e}"))?;
            conn.close().await;
            Ok("connected and ran SELECT 1".into())
        })
    }
}

/// A SQL connection of a revision: the node's pool for its settings, found
/// on first use and kept for the revision's life.
struct Served {
    record: ConnectionRecord,
    pools: Arc<Pools>,
    statement_limit: Duration,
    opened: tokio::sync::OnceCell<(Arc<Pool>, ResultLimits)>,
}

impl Served {
    async fn open_pool(&self) -> Result<(Arc<Pool>, ResultLimits), ConnectorError> {
        let name = &self.record.name;
        let config = settings(&self.record)
            .map_err(|e| ConnectorError::NotFound(format!("`{name}`: {e}")))?;
        let size = config.max_connections.unwrap_or(POOL_SIZE);
        // Deploy refused every path that leaves its place; one that fails
        // now (its file became a directory or a link since) cannot be
        // reached.
        let target = self
            .pools
            .confinement()
            .sql_target(&config.url)
            .map_err(|reason| ConnectorError::Unavailable(format!("`{name}`: {reason}")))?;
        let defaults = ResultLimits::default();
        let results = ResultLimits {
            rows: config.max_rows.unwrap_or(defaults.rows),
            bytes: config.max_result.map_or(defaults.bytes, |b| b.as_u64()),
        };
        let key = format!(
            "sql\n{name}\n{target:?}\n{size}\n{}",
            self.statement_limit.as_millis()
        );
        let limit = self.statement_limit;
        let pool = self
            .pools
            .shared()
            .get_or_open(
                key,
                |_| true,
                || async {
                    Pool::lazy(&target, size, Some(limit))
                        .map_err(|e| ConnectorError::Unavailable(format!("`{name}`: {e}")))
                },
            )
            .await?;
        Ok((pool, results))
    }
}

impl SqlConnection for Served {
    fn open(&self) -> BoxFuture<'_, Result<Arc<dyn SqlSession>, ConnectorError>> {
        Box::pin(async move {
            let (pool, results) = self.opened.get_or_try_init(|| self.open_pool()).await?;
            Ok(pool.session(&self.record.name, *results))
        })
    }
}
