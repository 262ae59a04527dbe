//! Scopes: what a token may do. System scopes guard the system API; the
//! others are granted on route methods by deploys (the revision's project
//! says where) and to apps, roles and users by administrators.

use super::{Scope, conflict_or, ensure_scope_in};
use crate::store::Page;
use crate::store::revision::{Expected, Revised, bump};
use crate::store::{Store, StoreError, now};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The scope columns `scope_from` reads, as a literal for `concat!`.
macro_rules! scope_select {
    ($condition:literal) => {
        concat!(
            "SELECT s.id, s.name, s.description, s.system, s.revision ",
            "FROM fusio_scope s WHERE ",
            $condition
        )
    };
}

fn scope_from(row: &AnyRow) -> Result<Scope, StoreError> {
    Ok(Scope {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        system: row.try_get::<i64, _>(3)? != 0,
        revision: row.try_get(4)?,
    })
}

impl Store {
    /// Every scope's description, by name (what the exports show).
    pub async fn scope_descriptions(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT name, description FROM fusio_scope")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Adds the scopes that are missing, with their descriptions; existing
    /// ones are left as they are.
    pub async fn ensure_scopes(
        &self,
        scopes: &[(&str, &str)],
        system: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (name, description) in scopes {
            ensure_scope_in(&mut tx, name, description, system).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of scopes whose name contains the search; and how many match.
    pub async fn list_scopes(&self, page: Page<'_>) -> Result<(i64, Vec<Scope>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_scope WHERE name LIKE $1 ESCAPE '\\'",
                scope_select!("s.name LIKE $1 ESCAPE '\\' ORDER BY s.name LIMIT $2 OFFSET $3"),
                page,
            )
            .await?;
        let scopes = rows.iter().map(scope_from).collect::<Result<_, _>>()?;
        Ok((total, scopes))
    }

    /// Creates a scope; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_scope(&self, name: &str, description: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO fusio_scope (name, description, system, created_at) VALUES ($1, $2, 0, $3) RETURNING id",
        )
        .bind(name)
        .bind(description)
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(|err| conflict_or(err, || format!("a scope named `{name}`")))?
        .try_get(0)?)
    }

    /// The scope called `name`.
    pub async fn scope_by_name(&self, name: &str) -> Result<Option<Scope>, StoreError> {
        sqlx::query(scope_select!("s.name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(scope_from)
            .transpose()
    }

    /// The scope with store id `id`.
    pub async fn scope_by_id(&self, id: i64) -> Result<Option<Scope>, StoreError> {
        sqlx::query(scope_select!("s.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(scope_from)
            .transpose()
    }

    /// Replaces a scope's description (its name is what tokens carry, so it
    /// stays); answers the new revision.
    pub async fn update_scope(
        &self,
        scope_id: i64,
        description: &str,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::Scope, scope_id, expected).await?;
        sqlx::query("UPDATE fusio_scope SET description = $1 WHERE id = $2")
            .bind(description)
            .bind(scope_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Deletes a scope; apps, roles and users lose it.
    pub async fn delete_scope(&self, scope_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_scope WHERE id = $1")
            .bind(scope_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
