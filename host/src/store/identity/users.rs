//! User accounts: creation, lookup, listing, changes, their one-time
//! tokens (activation, password reset) and linked external identities.

use super::{NewUser, Status, User, UserChanges, conflict_or, grant_user_scopes_in, user_from};
use crate::store::revision::{Expected, Revised, bump};
use crate::store::{Page, Store, StoreError, now};
use sqlx::Row;

impl Store {
    /// How many user accounts exist: 0 means a first start.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM fusio_user")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Creates a user with their own scopes, all or nothing; fails with
    /// [`StoreError::Conflict`] when the name or email is taken and
    /// [`StoreError::Missing`] for an unknown role or scope.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now();
        let row = sqlx::query(
            "INSERT INTO fusio_user (role_id, status, name, email, password_hash, created_at, updated_at) \
             SELECT id, $1, $2, $3, $4, $5, $5 FROM fusio_role WHERE name = $6 RETURNING id",
        )
        .bind(user.status.as_str())
        .bind(user.name)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(&now)
        .bind(user.role)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| conflict_or(err, || format!("a user named `{}` or with that email", user.name)))?;
        let id: i64 = row
            .map(|row| row.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::Missing(format!("role `{}`", user.role)))?;
        grant_user_scopes_in(&mut tx, id, user.scopes).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The user called `name`.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// The user with store id `id`.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// The scopes a user holds: the role's plus the user's own, sorted.
    pub async fn user_scopes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_role_scope rs ON rs.scope_id = s.id \
             JOIN fusio_user u ON u.role_id = rs.role_id WHERE u.id = $1 \
             UNION SELECT s.name FROM fusio_scope s JOIN fusio_user_scope us ON us.scope_id = s.id \
             WHERE us.user_id = $1 ORDER BY 1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    /// A page of users whose name contains the search; and how many match.
    pub async fn list_users(&self, page: Page<'_>) -> Result<(i64, Vec<User>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_user WHERE name LIKE $1 ESCAPE '\\'",
                user_select!("u.name LIKE $1 ESCAPE '\\' ORDER BY u.id LIMIT $2 OFFSET $3"),
                page,
            )
            .await?;
        Ok((total, rows.iter().map(user_from).collect::<Result<_, _>>()?))
    }

    /// Records a one-use token mailed to a user (`purpose`: `activate` or
    /// `password_reset`), by its hash.
    pub async fn insert_user_token(
        &self,
        user_id: i64,
        purpose: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_user_token (user_id, purpose, token_hash, expires_at, used, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(user_id)
        .bind(purpose)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses up the unexpired, unused token with this hash and purpose, in
    /// one step; answers its user.
    pub async fn take_user_token(
        &self,
        purpose: &str,
        token_hash: &str,
        now_unix: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, user_id FROM fusio_user_token \
             WHERE token_hash = $1 AND purpose = $2 AND used = 0 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now_unix)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let claimed =
            sqlx::query("UPDATE fusio_user_token SET used = 1 WHERE id = $1 AND used = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        tx.commit().await?;
        if claimed {
            Ok(Some(row.try_get(1)?))
        } else {
            Ok(None)
        }
    }

    /// Deletes a user with everything they own (apps, tokens, codes).
    pub async fn delete_user(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_user WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user with this email address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// Replaces a user's password hash and revokes every token they hold:
    /// whoever knew the old password loses access.
    pub async fn set_user_password(
        &self,
        user_id: i64,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE fusio_user SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's email address; [`StoreError::Conflict`] when another
    /// account has it.
    pub async fn set_user_email(&self, user_id: i64, email: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_user SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email)
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(|err| conflict_or(err, || "an account with that email".to_owned()))?;
        Ok(())
    }

    /// Applies `changes` to a user, all or nothing, and answers their new
    /// revision. Switching the account off or changing its role or scopes
    /// revokes its tokens in the same transaction; the caller must forget
    /// cached token checks.
    pub async fn update_user(
        &self,
        user_id: i64,
        changes: &UserChanges<'_>,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::User, user_id, expected).await?;
        if let Some(status) = changes.status {
            sqlx::query("UPDATE fusio_user SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(role) = changes.role {
            let moved = sqlx::query(
                "UPDATE fusio_user SET role_id = (SELECT id FROM fusio_role WHERE name = $1) \
                 WHERE id = $2 AND EXISTS (SELECT 1 FROM fusio_role WHERE name = $1)",
            )
            .bind(role)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                return Err(StoreError::Missing(format!("role `{role}`")));
            }
        }
        if let Some(scopes) = changes.scopes {
            sqlx::query("DELETE FROM fusio_user_scope WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            grant_user_scopes_in(&mut tx, user_id, scopes).await?;
        }
        let restricted = changes.status.is_some_and(|s| s != Status::Active)
            || changes.role.is_some()
            || changes.scopes.is_some();
        if restricted {
            sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE user_id = $1 AND revoked = 0")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE fusio_user SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// The scopes a user holds beyond their role's, sorted.
    pub async fn own_scopes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_user_scope us ON us.scope_id = s.id \
             WHERE us.user_id = $1 ORDER BY s.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
    }

    /// The user linked to `remote_id` at `provider`.
    pub async fn user_by_identity(
        &self,
        provider: &str,
        remote_id: &str,
    ) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!(
            "u.id = (SELECT user_id FROM fusio_user_identity WHERE provider = $1 AND remote_id = $2)"
        ))
        .bind(provider)
        .bind(remote_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    /// Links `remote_id` at `provider` to a user.
    pub async fn link_identity(
        &self,
        user_id: i64,
        provider: &str,
        remote_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_user_identity (user_id, provider, remote_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(provider)
        .bind(remote_id)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(|err| conflict_or(err, || format!("the {provider} account {remote_id}")))?;
        Ok(())
    }

    /// Sets a user's status.
    pub async fn set_user_status(&self, user_id: i64, status: Status) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_user SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
