//! The system store: sqlx over SQLite (embedded default, WAL) or PostgreSQL,
//! with migrations compiled into the binary. Queries use `$n` placeholders,
//! which both backends accept through sqlx's `Any` driver.

pub mod applied;
pub mod audit;
mod components;
pub mod deploy;
pub mod identity;
pub mod log;
mod login_failures;
pub mod model;
mod page;
pub use page::Page;
pub mod request_log;
mod request_record;
pub mod request_stats;
pub mod revision;
pub mod settings;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use std::path::Path;
use std::sync::Arc;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A file in the data directory: one binary just works.
    Sqlite,
    /// A server shared by several nodes.
    Postgres,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("the store migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("a store query failed")]
    Query(#[from] sqlx::Error),
    /// Stored data that this version cannot read.
    #[error("the store holds unreadable data: {0}")]
    Corrupt(String),
    /// Something a write refers to does not exist.
    #[error("{0} does not exist")]
    Missing(String),
    /// A write would duplicate something unique.
    #[error("{0} already exists")]
    Conflict(String),
    /// An update based on a revision that is no longer current.
    #[error("the {0} changed since it was read")]
    Stale(String),
    /// Sealed secrets (connection settings, signing keys) that cannot be
    /// opened (no key, another key).
    #[error("sealed secrets cannot be opened: {0}")]
    Sealed(String),
    /// A component that should be stored is not.
    #[error("the component {0} is not in the store")]
    MissingComponent(String),
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// The system store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Kept for the PostgreSQL listener (never logged: it may hold a password).
    url: Arc<str>,
    /// Seals connection credentials at rest; `None` until boot sets it.
    cipher: Option<Arc<crate::secrets::Cipher>>,
}

impl Store {
    /// Opens `url`, or the SQLite file `fusio.db` in `data_dir` when `url` is
    /// `None` (creating the directory and the file).
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        match url {
            Some(url) => Self::connect(url).await,
            None => {
                std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
                    path: data_dir.to_owned(),
                    source,
                })?;
                let file = data_dir.join("fusio.db");
                Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
            }
        }
    }

    /// Connects to a `sqlite://` or `postgres://` URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        sqlx::AnyConnection::connect(url)
            .await
            .map_err(StoreError::Connect)?
            .close()
            .await
            .map_err(StoreError::Connect)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(url)
            .map_err(StoreError::Connect)?;
        Ok(Self {
            pool,
            backend,
            url: Arc::from(url),
            cipher: None,
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a transaction that reads first and writes
    /// later would otherwise fail with "database is locked" the moment
    /// another writer (the action-log writer, another request) holds the
    /// lock, instead of waiting its turn.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// The key that seals secrets in this store, or why there is none.
    pub(crate) fn cipher(&self) -> Result<&crate::secrets::Cipher, StoreError> {
        self.cipher
            .as_deref()
            .ok_or_else(|| StoreError::Sealed("the store has no key".into()))
    }

    /// This store, sealing connection credentials and signing keys with
    /// `cipher`.
    pub fn with_cipher(mut self, cipher: Arc<crate::secrets::Cipher>) -> Self {
        self.cipher = Some(cipher);
        self
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Which engine holds the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The `VALUES` rows of a multi-row `INSERT`: `rows` tuples of `columns`
    /// placeholders. SQLite gets anonymous `?`s: sqlx looks every numbered
    /// one up by name, which SQLite does by scanning all of them, so a
    /// statement of a thousand `$n`s costs a million steps to bind.
    pub(crate) fn value_rows(&self, rows: usize, columns: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 4);
        for row in 0..rows {
            if row > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push(',');
                }
                match self.backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * columns + column + 1).to_string());
                    }
                }
            }
            sql.push(')');
        }
        sql
    }

    /// Answers whether the database is reachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection; waits for checked-out ones.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}
