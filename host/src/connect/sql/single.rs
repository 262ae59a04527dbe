//! One SQL connection outside any pool: a deploy's migrations (all
//! scripts in one transaction) and the backend's connection test.

use super::sqlite_guard;
use crate::confine::SqlTarget;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Database, Executor};

/// Why a script of [`Single::run_in_transaction`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// No transaction could be begun.
    #[error("cannot begin a transaction")]
    Begin(#[source] sqlx::Error),
    /// Script `index` failed, so none of them took effect.
    #[error("script {index} failed")]
    Failed {
        /// Which script.
        index: usize,
        /// What the database said.
        source: sqlx::Error,
    },
    /// The transaction could not be committed.
    #[error("cannot commit the migrations")]
    Commit(#[source] sqlx::Error),
}

/// One connection outside any pool, for a deploy's migrations and the
/// backend's connection test; a SQLite one is confined like a pool's.
pub enum Single {
    /// A SQLite file or memory database.
    Sqlite(sqlx::SqliteConnection),
    /// A database server through sqlx's `Any` driver (errors keep their
    /// cause, where a pool would answer only that it timed out).
    Server(sqlx::AnyConnection),
}

impl Single {
    /// Connects to `target`.
    pub async fn connect(target: &SqlTarget) -> Result<Self, sqlx::Error> {
        use sqlx::Connection;
        Ok(match target {
            SqlTarget::SqliteFile(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true);
                Self::sqlite(sqlx::SqliteConnection::connect_with(&options).await?).await?
            }
            SqlTarget::SqliteMemory => {
                let options = SqliteConnectOptions::new().in_memory(true);
                Self::sqlite(sqlx::SqliteConnection::connect_with(&options).await?).await?
            }
            SqlTarget::Server(url) => {
                sqlx::any::install_default_drivers();
                Self::Server(
                    sqlx::AnyConnection::connect(&url.replacen("mariadb:", "mysql:", 1)).await?,
                )
            }
        })
    }

    async fn sqlite(mut conn: sqlx::SqliteConnection) -> Result<Self, sqlx::Error> {
        sqlite_guard::confine(&mut conn.lock_handle().await?)?;
        Ok(Self::Sqlite(conn))
    }

    /// Runs each of `scripts` (several statements each) in one transaction:
    /// all of them, or (when one fails) none where the database can undo
    /// its DDL.
    pub async fn run_in_transaction(&mut self, scripts: &[&str]) -> Result<(), ScriptError> {
        match self {
            Self::Sqlite(conn) => run_scripts::<sqlx::Sqlite>(conn, scripts).await,
            Self::Server(conn) => run_scripts::<sqlx::Any>(conn, scripts).await,
        }
    }

    /// Runs `SELECT 1`.
    pub async fn ping(&mut self) -> Result<(), sqlx::Error> {
        let select = sqlx::raw_sql("SELECT 1");
        match self {
            Self::Sqlite(conn) => select.execute(conn).await.map(drop),
            Self::Server(conn) => select.execute(conn).await.map(drop),
        }
    }

    /// Says goodbye to the database.
    pub async fn close(self) {
        use sqlx::Connection;
        let _ = match self {
            Self::Sqlite(conn) => conn.close().await,
            Self::Server(conn) => conn.close().await,
        };
    }
}

async fn run_scripts<DB: Database>(
    conn: &mut DB::Connection,
    scripts: &[&str],
) -> Result<(), ScriptError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    use sqlx::Connection;
    let mut tx = conn.begin().await.map_err(ScriptError::Begin)?;
    for (index, script) in scripts.iter().enumerate() {
        sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(|source| ScriptError::Failed { index, source })?;
    }
    tx.commit().await.map_err(ScriptError::Commit)
}
