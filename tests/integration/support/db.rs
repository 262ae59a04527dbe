//! A system store per test: a SQLite file in the test's directory, or a
//! uniquely named PostgreSQL database that is dropped afterwards.

use std::path::Path;

/// Which store backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the data directory.
    Sqlite,
    /// A fresh database on the machine's PostgreSQL.
    Postgres,
}

/// The PostgreSQL server tests use; `FUSIO_TEST_POSTGRES` overrides it.
fn postgres_server() -> String {
    std::env::var("FUSIO_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A test's store; drops its PostgreSQL database when dropped.
pub struct TestDb {
    /// The URL to give `BootOptions::database_url` (`None`: SQLite in the data dir).
    pub url: Option<String>,
    database: Option<String>,
}

async fn admin(sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", postgres_server()))
        .await
        .expect("PostgreSQL is reachable (set FUSIO_TEST_POSTGRES)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .expect("admin statement");
    conn.close().await.ok();
}

impl TestDb {
    /// A fresh store on `backend`; SQLite lives in `_data_dir`.
    pub async fn new(backend: Backend, _data_dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => Self {
                url: None,
                database: None,
            },
            Backend::Postgres => {
                let name = format!("fusio_test_{}", uuid::Uuid::new_v4().simple());
                admin(&format!("CREATE DATABASE {name}")).await;
                Self {
                    url: Some(format!("{}/{name}", postgres_server())),
                    database: Some(name),
                }
            }
        }
    }
}

/// Runs `cleanup` to its end from a `Drop`, which runs inside the test's
/// runtime: on a thread with a runtime of its own.
pub fn finish_in_drop<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(cleanup);
    })
    .join()
    .ok();
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.database.take() {
            finish_in_drop(async move {
                admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await
            });
        }
    }
}
