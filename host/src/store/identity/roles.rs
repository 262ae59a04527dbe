//! Roles: the scopes a user gets by default. A user's tokens never carry
//! more than the role's scopes plus the user's own.

use super::{conflict_or, scope_id};
use crate::store::Page;
use crate::store::revision::{Expected, Revised, bump};
use crate::store::{Store, StoreError, now};
use sqlx::{Any, Row, Transaction};

/// A role and its default scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Store id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The scopes its users hold, sorted.
    pub scopes: Vec<String>,
    /// Bumped by every change (the entity tag).
    pub revision: i64,
    /// How many users have it.
    pub users: i64,
}

/// Changes to a role; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleChanges<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// The new default scopes, replacing the old; each must exist.
    pub scopes: Option<&'a [String]>,
}

/// The role columns `role_rows` groups, as a literal for `concat!`.
macro_rules! role_select {
    ($condition:literal) => {
        concat!(
            "SELECT r.id, r.name, r.revision, ",
            "(SELECT COUNT(*) FROM fusio_user u WHERE u.role_id = r.id), s.name ",
            "FROM fusio_role r LEFT JOIN fusio_role_scope rs ON rs.role_id = r.id ",
            "LEFT JOIN fusio_scope s ON s.id = rs.scope_id WHERE ",
            $condition,
            " ORDER BY r.name, s.name"
        )
    };
}

/// Groups one row per (role, scope) into roles.
fn roles_from(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Role>, StoreError> {
    let mut roles: Vec<Role> = Vec::new();
    for row in rows {
        let id: i64 = row.try_get(0)?;
        if roles.last().is_none_or(|role| role.id != id) {
            roles.push(Role {
                id,
                name: row.try_get(1)?,
                scopes: Vec::new(),
                revision: row.try_get(2)?,
                users: row.try_get(3)?,
            });
        }
        if let (Some(scope), Some(role)) = (row.try_get::<Option<String>, _>(4)?, roles.last_mut())
        {
            role.scopes.push(scope);
        }
    }
    Ok(roles)
}

/// Replaces a role's default scopes; answers whether any was taken away.
async fn set_role_scopes_in(
    tx: &mut Transaction<'_, Any>,
    role_id: i64,
    scopes: &[String],
) -> Result<bool, StoreError> {
    let before: Vec<String> = sqlx::query(
        "SELECT s.name FROM fusio_scope s JOIN fusio_role_scope rs ON rs.scope_id = s.id WHERE rs.role_id = $1",
    )
    .bind(role_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|row| row.try_get(0))
    .collect::<Result<_, _>>()?;
    sqlx::query("DELETE FROM fusio_role_scope WHERE role_id = $1")
        .bind(role_id)
        .execute(&mut **tx)
        .await?;
    for scope in scopes {
        let scope_id = scope_id(tx, scope).await?;
        sqlx::query(
            "INSERT INTO fusio_role_scope (role_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(role_id)
        .bind(scope_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(before.iter().any(|scope| !scopes.contains(scope)))
}

impl Store {
    /// Adds the role unless it exists, and grants it `scopes` by default.
    pub async fn ensure_role(&self, name: &str, scopes: &[&str]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO fusio_role (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        let role_id: i64 = sqlx::query("SELECT id FROM fusio_role WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        for scope in scopes {
            let scope_id = scope_id(&mut tx, scope).await?;
            sqlx::query(
                "INSERT INTO fusio_role_scope (role_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(role_id)
            .bind(scope_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of roles whose name contains the search, by name; and how
    /// many match.
    pub async fn list_roles(&self, page: Page<'_>) -> Result<(i64, Vec<Role>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_role WHERE name LIKE $1 ESCAPE '\\'",
                role_select!(
                    "r.id IN (SELECT id FROM fusio_role WHERE name LIKE $1 ESCAPE '\\' ORDER BY name LIMIT $2 OFFSET $3)"
                ),
                page,
            )
            .await?;
        Ok((total, roles_from(&rows)?))
    }

    /// The role called `name`.
    pub async fn role_by_name(&self, name: &str) -> Result<Option<Role>, StoreError> {
        let rows = sqlx::query(role_select!("r.name = $1"))
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        Ok(roles_from(&rows)?.pop())
    }

    /// The role with store id `id`.
    pub async fn role_by_id(&self, id: i64) -> Result<Option<Role>, StoreError> {
        let rows = sqlx::query(role_select!("r.id = $1"))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(roles_from(&rows)?.pop())
    }

    /// Creates a role with its default scopes, all or nothing;
    /// [`StoreError::Conflict`] when the name is taken,
    /// [`StoreError::Missing`] for an unknown scope.
    pub async fn create_role(&self, name: &str, scopes: &[String]) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 =
            sqlx::query("INSERT INTO fusio_role (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| conflict_or(err, || format!("a role named `{name}`")))?
                .try_get(0)?;
        set_role_scopes_in(&mut tx, id, scopes).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a role, all or nothing, and answers its new revision. Taking
    /// a scope away revokes the tokens of the role's users in the same
    /// transaction (they were issued with it); the caller must forget
    /// cached token checks.
    pub async fn update_role(
        &self,
        role_id: i64,
        changes: &RoleChanges<'_>,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::Role, role_id, expected).await?;
        if let Some(name) = changes.name {
            sqlx::query("UPDATE fusio_role SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(role_id)
                .execute(&mut *tx)
                .await
                .map_err(|err| conflict_or(err, || format!("a role named `{name}`")))?;
        }
        if let Some(scopes) = changes.scopes
            && set_role_scopes_in(&mut tx, role_id, scopes).await?
        {
            sqlx::query(
                "UPDATE fusio_token SET revoked = 1 WHERE revoked = 0 AND user_id IN \
                 (SELECT id FROM fusio_user WHERE role_id = $1)",
            )
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(revision)
    }

    /// Deletes a role unless a user has it; answers whether it did.
    pub async fn delete_role(&self, role_id: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM fusio_role WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM fusio_user WHERE role_id = $1)",
        )
        .bind(role_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }
}
