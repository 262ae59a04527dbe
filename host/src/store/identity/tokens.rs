//! Issued access and refresh tokens and authorization codes: recorded,
//! looked up, used once, revoked.

use super::{CodeRecord, TokenRecord, token_from};
use crate::store::{Page, Store, StoreError, now};
use sqlx::Row;

/// Who a token was issued to, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    /// Whether it was revoked.
    pub revoked: bool,
    /// The app's name.
    pub app: String,
    /// The user's name (empty for a token without a user).
    pub user: String,
}

impl Store {
    /// Records an issued token.
    pub async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO fusio_token (",
            token_columns!(),
            ", created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&token.jti)
        .bind(&token.family)
        .bind(token.app_id)
        .bind(token.user_id)
        .bind(&token.scope)
        .bind(token.expires_at)
        .bind(&token.refresh_hash)
        .bind(token.refresh_expires_at)
        .bind(i64::from(token.refresh_used))
        .bind(i64::from(token.revoked))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with JWT id `jti`.
    pub async fn token_by_jti(&self, jti: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE jti = $1"
        ))
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(token_from)
        .transpose()
    }

    /// Whether the token with JWT id `jti` is live, and the names of the
    /// app and user it was issued to (what rate allocations match on).
    pub async fn token_holder(&self, jti: &str) -> Result<Option<TokenHolder>, StoreError> {
        let row = sqlx::query(
            "SELECT t.revoked, a.name, u.name FROM fusio_token t \
             JOIN fusio_app a ON a.id = t.app_id \
             LEFT JOIN fusio_user u ON u.id = t.user_id WHERE t.jti = $1",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(TokenHolder {
                revoked: row.try_get::<i64, _>(0)? != 0,
                app: row.try_get(1)?,
                user: row.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// The token whose refresh token hashes to `refresh_hash`.
    pub async fn token_by_refresh(
        &self,
        refresh_hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE refresh_hash = $1"
        ))
        .bind(refresh_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(token_from)
        .transpose()
    }

    /// Marks the refresh token of `jti` used; false when it already was, so
    /// that two concurrent exchanges cannot both succeed.
    pub async fn use_refresh(&self, jti: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fusio_token SET refresh_used = 1 WHERE jti = $1 AND refresh_used = 0 AND revoked = 0",
        )
        .bind(jti)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes the token `jti`.
    pub async fn revoke_token(&self, jti: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE jti = $1")
            .bind(jti)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes every token of a rotation family: used when a refresh token
    /// is revoked or replayed.
    pub async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE family = $1")
            .bind(family)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records an authorization code by its hash.
    pub async fn insert_code(&self, code_hash: &str, code: &CodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_app_code (code_hash, app_id, user_id, redirect_uri, scope, code_challenge, \
             expires_at, used, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
        )
        .bind(code_hash)
        .bind(code.app_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.code_challenge)
        .bind(code.expires_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The code whose hash is `code_hash`, marked used in the same step.
    /// A code that was used before comes back with `used` set: the caller
    /// must refuse it (and revoke what it issued).
    pub async fn take_code(&self, code_hash: &str) -> Result<Option<CodeRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, app_id, user_id, redirect_uri, scope, code_challenge, expires_at, used \
             FROM fusio_app_code WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let claimed = sqlx::query("UPDATE fusio_app_code SET used = 1 WHERE id = $1 AND used = 0")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(Some(CodeRecord {
            id,
            app_id: row.try_get(1)?,
            user_id: row.try_get(2)?,
            redirect_uri: row.try_get(3)?,
            scope: row.try_get(4)?,
            code_challenge: row.try_get(5)?,
            expires_at: row.try_get(6)?,
            used: !claimed,
        }))
    }

    /// A page of tokens, newest first, all or only `app`'s; and how many
    /// there are.
    pub async fn list_tokens(
        &self,
        page: Page<'_>,
        app: Option<i64>,
    ) -> Result<(i64, Vec<TokenRecord>), StoreError> {
        // `$1` is -1 for every app: ids start at 1.
        let app = app.unwrap_or(-1);
        let total: i64 =
            sqlx::query("SELECT COUNT(*) FROM fusio_token WHERE $1 = -1 OR app_id = $1")
                .bind(app)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE $1 = -1 OR app_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(app)
        .bind(page.count)
        .bind(page.start)
        .fetch_all(&self.pool)
        .await?;
        Ok((
            total,
            rows.iter().map(token_from).collect::<Result<_, _>>()?,
        ))
    }
}
