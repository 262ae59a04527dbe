//! The keys that sign access tokens, sealed with the server's secret key.

use super::SigningKey;
use crate::store::{Store, StoreError, now};
use sqlx::Row;

impl Store {
    /// Every key that may verify tokens, newest first, with its private
    /// key opened (it is stored sealed with the server's key, like
    /// connection settings); a store whose keys do not open with this
    /// server's key is [`StoreError::Sealed`].
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key, public_key FROM fusio_signing_key \
             WHERE retired_at IS NULL ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kid: String = row.try_get(0)?;
                let sealed: String = row.try_get(2)?;
                let private_key = String::from_utf8(self.cipher()?.open(&sealed).map_err(|e| {
                    StoreError::Sealed(format!("the signing key {kid} does not open: {e}"))
                })?)
                .map_err(|_| StoreError::Corrupt(format!("signing key {kid}")))?;
                Ok(SigningKey {
                    kid,
                    algorithm: row.try_get(1)?,
                    private_key,
                    public_key: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Stores a new signing key.
    pub async fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_signing_key (kid, algorithm, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(self.cipher()?.seal(key.private_key.as_bytes()))
        .bind(&key.public_key)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Seals every private key an older Fusio stored in clear, each in its
    /// own statement guarded by its clear value, so nodes starting at
    /// once never seal a key twice.
    pub async fn seal_clear_signing_keys(&self) -> Result<(), StoreError> {
        let clear: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, private_key FROM fusio_signing_key")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .filter(|(_, key): &(String, String)| !crate::secrets::Cipher::is_sealed(key))
                .collect();
        for (kid, key) in clear {
            sqlx::query(
                "UPDATE fusio_signing_key SET private_key = $1 WHERE kid = $2 AND private_key = $3",
            )
            .bind(self.cipher()?.seal(key.as_bytes()))
            .bind(&kid)
            .bind(&key)
            .execute(&self.pool)
            .await?;
            tracing::info!(kid, "sealed a signing key stored in clear");
        }
        Ok(())
    }
}
