//! OAuth2 clients (apps): creation, lookup, listing, changes, secrets and
//! the apps a user granted.

use super::{App, AppChanges, NewApp, Status, conflict_or, scope_id};
use crate::store::revision::{Expected, Revised, bump};
use crate::store::{Page, Store, StoreError, now};
use sqlx::Row;
use sqlx::any::AnyRow;

impl Store {
    /// Creates an app with its scopes; fails with [`StoreError::Conflict`]
    /// when the name or client id is taken.
    pub async fn create_app(&self, app: &NewApp<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now();
        let redirect_uris = serde_json::to_string(app.redirect_uris)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let app_id: i64 = sqlx::query(
            "INSERT INTO fusio_app (user_id, status, name, client_id, secret_hash, redirect_uris, created_at, updated_at) \
             VALUES ($1, 'active', $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(app.user_id)
        .bind(app.name)
        .bind(app.client_id)
        .bind(app.secret_hash)
        .bind(redirect_uris)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| conflict_or(err, || format!("an app named `{}` or with that client id", app.name)))?
        .try_get(0)?;
        for scope in app.scopes {
            let scope_id = scope_id(&mut tx, scope).await?;
            sqlx::query("INSERT INTO fusio_app_scope (app_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(app_id)
                .bind(scope_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(app_id)
    }

    /// The app whose client id is `client_id`, with its scopes.
    pub async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("client_id = $1"))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    /// The app called `name`, with its scopes.
    pub async fn app_by_name(&self, name: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    /// The app with store id `id`, with its scopes.
    pub async fn app_by_id(&self, id: i64) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    pub(super) async fn apps_from(&self, rows: Vec<AnyRow>) -> Result<Vec<App>, StoreError> {
        let mut apps = Vec::with_capacity(rows.len());
        for row in rows {
            apps.extend(self.app_from(Some(row)).await?);
        }
        Ok(apps)
    }

    pub(super) async fn app_from(&self, row: Option<AnyRow>) -> Result<Option<App>, StoreError> {
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let redirect_uris: String = row.try_get(6)?;
        let scopes = sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_app_scope a ON a.scope_id = s.id \
             WHERE a.app_id = $1 ORDER BY s.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
        Ok(Some(App {
            id,
            user_id: row.try_get(1)?,
            status: Status::parse(&row.try_get::<String, _>(2)?)?,
            name: row.try_get(3)?,
            client_id: row.try_get(4)?,
            secret_hash: row.try_get(5)?,
            redirect_uris: serde_json::from_str(&redirect_uris)
                .map_err(|e| StoreError::Corrupt(format!("redirect uris: {e}")))?,
            scopes,
            revision: row.try_get(7)?,
        }))
    }

    /// A page of apps whose name contains the search; and how many match.
    pub async fn list_apps(&self, page: Page<'_>) -> Result<(i64, Vec<App>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_app WHERE name LIKE $1 ESCAPE '\\'",
                app_select!("name LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2 OFFSET $3"),
                page,
            )
            .await?;
        Ok((total, self.apps_from(rows).await?))
    }

    /// Applies `changes` to an app, all or nothing, and answers its new
    /// revision. Switching the app off or changing its scopes revokes its
    /// tokens in the same transaction (they were issued under the old
    /// terms); the caller must forget cached token checks.
    pub async fn update_app(
        &self,
        app_id: i64,
        changes: &AppChanges<'_>,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::App, app_id, expected).await?;
        let now = now();
        if let Some(name) = changes.name {
            sqlx::query("UPDATE fusio_app SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(app_id)
                .execute(&mut *tx)
                .await
                .map_err(|err| conflict_or(err, || format!("an app named `{name}`")))?;
        }
        if let Some(status) = changes.status {
            sqlx::query("UPDATE fusio_app SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(uris) = changes.redirect_uris {
            let uris =
                serde_json::to_string(uris).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE fusio_app SET redirect_uris = $1 WHERE id = $2")
                .bind(uris)
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(scopes) = changes.scopes {
            sqlx::query("DELETE FROM fusio_app_scope WHERE app_id = $1")
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
            for scope in scopes {
                let scope_id = scope_id(&mut tx, scope).await?;
                sqlx::query("INSERT INTO fusio_app_scope (app_id, scope_id) VALUES ($1, $2)")
                    .bind(app_id)
                    .bind(scope_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if changes.status.is_some_and(|s| s != Status::Active) || changes.scopes.is_some() {
            sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE app_id = $1 AND revoked = 0")
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE fusio_app SET updated_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Deletes an app; its tokens and codes go with it.
    pub async fn delete_app(&self, app_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_app WHERE id = $1")
            .bind(app_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces an app's secret hash.
    pub async fn set_app_secret(&self, app_id: i64, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_app SET secret_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(secret_hash)
            .bind(now())
            .bind(app_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The apps of other users that hold live tokens for `user_id`: the
    /// apps the user has authorized.
    pub async fn grants_of(&self, user_id: i64) -> Result<Vec<App>, StoreError> {
        let rows = sqlx::query(app_select!(
            "user_id <> $1 AND id IN (SELECT app_id FROM fusio_token WHERE user_id = $1 AND revoked = 0) ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        self.apps_from(rows).await
    }

    /// Revokes every token that `app_id` holds for `user_id`; answers how
    /// many there were.
    pub async fn revoke_grant(&self, user_id: i64, app_id: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE fusio_token SET revoked = 1 WHERE user_id = $1 AND app_id = $2 AND revoked = 0",
        )
        .bind(user_id)
        .bind(app_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// The apps a user owns, with their scopes.
    pub async fn apps_of(&self, user_id: i64) -> Result<Vec<App>, StoreError> {
        let rows = sqlx::query(app_select!("user_id = $1 ORDER BY id"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        self.apps_from(rows).await
    }
}
