//! Failed-login counters in the store, so every node of one store counts
//! the same failures (the login throttle reads and moves them). Each counter
//! has a key (`account address`, `address`) and lapses at `expires_at`; a
//! failure after it lapsed starts again from one.

use super::{Store, StoreError};
use sqlx::Row;

impl Store {
    /// The failures counted under each of `keys` that have not lapsed at
    /// `now` (unix seconds); a key without any answers 0.
    pub async fn login_failures(&self, keys: &[String], now: i64) -> Result<Vec<u32>, StoreError> {
        let mut counts = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query(
                "SELECT failures FROM fusio_login_failure WHERE key = $1 AND expires_at > $2",
            )
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            let failures: i64 = match row {
                Some(row) => row.try_get(0)?,
                None => 0,
            };
            counts.push(u32::try_from(failures).unwrap_or(u32::MAX));
        }
        Ok(counts)
    }

    /// Counts one failure under each of `keys`, each lapsing at
    /// `expires_at`; removes counters that lapsed before `now`.
    pub async fn count_login_failure(
        &self,
        keys: &[String],
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM fusio_login_failure WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for key in keys {
            sqlx::query(
                "INSERT INTO fusio_login_failure (key, failures, expires_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET failures = fusio_login_failure.failures + 1, \
                 expires_at = $2",
            )
            .bind(key)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the failures under `key`.
    pub async fn forget_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_login_failure WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
