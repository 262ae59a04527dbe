//! Which SQL migrations deploys have run (`fusio_deploy_migration`), with
//! the hash of each file as it ran.

use super::{Store, StoreError, now};
use sqlx::Row;

/// A migration that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The connection it changed.
    pub connection: String,
    /// The file's name.
    pub file: String,
    /// The sha256 of its SQL.
    pub sha256: String,
}

impl Store {
    /// Every migration that ran.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        sqlx::query("SELECT connection, file, sha256 FROM fusio_deploy_migration ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(AppliedMigration {
                    connection: row.try_get(0)?,
                    file: row.try_get(1)?,
                    sha256: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// Records that a migration ran.
    pub async fn record_migration(&self, applied: &AppliedMigration) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_deploy_migration (connection, file, sha256, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&applied.connection)
        .bind(&applied.file)
        .bind(&applied.sha256)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
