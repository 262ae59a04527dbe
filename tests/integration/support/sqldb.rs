//! A database for a project's SQL connection, created for one test on the
//! machine's SQLite, PostgreSQL or MariaDB and removed afterwards.

use super::Backend;
use super::db::TestDb;
use sqlx::Connection;
use std::path::Path;

/// The MariaDB server tests use.
const MARIADB: &str = "mysql://root@127.0.0.1:3306/";

/// Which database a connection points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file in the test's directory.
    Sqlite,
    /// A fresh database on the machine's PostgreSQL.
    Postgres,
    /// A fresh database on the machine's MariaDB.
    Mariadb,
}

/// A database created for the test; dropped with it.
pub struct SqlTarget {
    /// The URL a connection uses.
    pub url: String,
    /// Holds (and at the end drops) a PostgreSQL database.
    _postgres: Option<TestDb>,
    /// A MariaDB database to drop at the end.
    mariadb: Option<String>,
}

impl SqlTarget {
    /// A fresh, empty database of `kind`; SQLite's file lives in `dir`.
    pub async fn new(kind: Kind, dir: &Path) -> Self {
        match kind {
            Kind::Sqlite => Self {
                url: format!("sqlite:{}/app.db", dir.display()),
                _postgres: None,
                mariadb: None,
            },
            Kind::Postgres => {
                let db = TestDb::new(Backend::Postgres, dir).await;
                Self {
                    url: db.url.clone().expect("a PostgreSQL URL"),
                    _postgres: Some(db),
                    mariadb: None,
                }
            }
            Kind::Mariadb => {
                let name = format!("fusio_test_{}", uuid::Uuid::new_v4().simple());
                mariadb_admin(&format!("CREATE DATABASE {name}")).await;
                Self {
                    url: format!("{MARIADB}{name}"),
                    _postgres: None,
                    mariadb: Some(name),
                }
            }
        }
    }

    /// Whether a table exists in the database.
    pub async fn has_table(&self, table: &str) -> bool {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        let found = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .execute(&mut conn)
            .await
            .is_ok();
        let _ = conn.close().await;
        found
    }

    /// How many rows `table` holds.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        let _ = conn.close().await;
        n
    }
}

async fn mariadb_admin(sql: &str) {
    let mut admin = sqlx::MySqlConnection::connect(MARIADB)
        .await
        .expect("MariaDB is reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut admin)
        .await
        .expect("admin statement");
    let _ = admin.close().await;
}

impl Drop for SqlTarget {
    fn drop(&mut self) {
        if let Some(name) = self.mariadb.take() {
            super::db::finish_in_drop(async move {
                mariadb_admin(&format!("DROP DATABASE IF EXISTS {name}")).await
            });
        }
    }
}
