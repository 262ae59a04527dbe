//! Components stored content-addressed: the sha256 of the bytes is the key,
//! so storing the same component twice is a no-op and every node can load it.

use super::{Store, StoreError, now};
use crate::digest::sha256_hex;
use sqlx::Row;

impl Store {
    /// The bytes of a stored component.
    pub async fn component(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query("SELECT content FROM fusio_component WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::MissingComponent(sha256.to_owned()))?;
        Ok(row.try_get::<Vec<u8>, _>(0)?)
    }

    /// Which of `hashes` the store does not hold, in the given order.
    pub async fn missing_components(&self, hashes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut missing = Vec::new();
        for sha256 in hashes {
            let held = sqlx::query("SELECT 1 FROM fusio_component WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
            if !held && !missing.contains(sha256) {
                missing.push(sha256.clone());
            }
        }
        Ok(missing)
    }

    /// Stores a component (content-addressed: storing it twice is one copy);
    /// answers its sha256.
    pub async fn put_component(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let sha256 = insert(&mut tx, bytes).await?;
        tx.commit().await?;
        Ok(sha256)
    }
}

pub(super) async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    bytes: &[u8],
) -> Result<String, StoreError> {
    let sha256 = sha256_hex(bytes);
    let exists = sqlx::query("SELECT 1 FROM fusio_component WHERE sha256 = $1")
        .bind(&sha256)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !exists {
        sqlx::query(
            "INSERT INTO fusio_component (sha256, size, content, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
        .bind(bytes)
        .bind(now())
        .execute(&mut **tx)
        .await?;
    }
    Ok(sha256)
}
