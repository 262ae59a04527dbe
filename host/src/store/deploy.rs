//! Writing a whole project in one transaction, and reading the current one.
//! A deploy either lands completely with a new revision or not at all.

use super::identity::ensure_scope_in;
use super::model::{MethodRecord, Project, RouteRecord, StoredProject};
use super::{Store, StoreError, components, now};
use crate::runtime::{ActionSpec, Limits};
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::Duration;

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative: {value}")))
}

impl Store {
    /// Replaces the deployed project with `project` and stores the component
    /// bytes it refers to; returns the new revision. `source` says where the
    /// deploy came from (a file, the API).
    pub async fn deploy(
        &self,
        project: &Project,
        components: &[&[u8]],
        source: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        for bytes in components {
            components::insert(&mut tx, bytes).await?;
        }
        for query in [
            "DELETE FROM fusio_routes_method",
            "DELETE FROM fusio_routes",
            "DELETE FROM fusio_action",
        ] {
            sqlx::query(query).execute(&mut *tx).await?;
        }
        let now = now();
        for action in &project.actions {
            let config = serde_json::to_string(&action.config)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO fusio_action (name, component, config, memory_limit, timeout_ms, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&action.name)
            .bind(&action.sha256)
            .bind(config)
            .bind(to_i64(action.limits.memory))
            .bind(to_i64(u64::try_from(action.limits.timeout.as_millis()).unwrap_or(u64::MAX)))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for (position, route) in project.routes.iter().enumerate() {
            let row = sqlx::query(
                "INSERT INTO fusio_routes (path, version, position, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&route.path)
            .bind(i64::from(route.version))
            .bind(to_i64(position as u64))
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            let route_id: i64 = row.try_get(0)?;
            for method in &route.methods {
                let method_id: i64 = sqlx::query(
                    "INSERT INTO fusio_routes_method (route_id, method, action, public) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(route_id)
                .bind(&method.method)
                .bind(&method.action)
                .bind(i64::from(method.public))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                for scope in &method.scopes {
                    let scope_id = ensure_scope_in(&mut tx, scope, "", false).await?;
                    sqlx::query(
                        "INSERT INTO fusio_scope_route (scope_id, method_id) VALUES ($1, $2)",
                    )
                    .bind(scope_id)
                    .bind(method_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let row = sqlx::query(
            "INSERT INTO fusio_revision (source, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(source)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = row.try_get(0)?;
        tx.commit().await?;
        Ok(revision)
    }

    /// The deployed project and its revision (0 and empty before any deploy).
    pub async fn current(&self) -> Result<StoredProject, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let revision: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM fusio_revision")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let mut actions = Vec::new();
        for row in sqlx::query(
            "SELECT name, component, config, memory_limit, timeout_ms FROM fusio_action ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            let config: String = row.try_get(2)?;
            let config: BTreeMap<String, String> =
                serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("action config: {e}")))?;
            actions.push(ActionSpec {
                name: row.try_get(0)?,
                sha256: row.try_get(1)?,
                config,
                limits: Limits {
                    memory: to_u64(row.try_get(3)?, "memory_limit")?,
                    timeout: Duration::from_millis(to_u64(row.try_get(4)?, "timeout_ms")?),
                },
            });
        }
        let mut routes: Vec<(i64, RouteRecord)> = Vec::new();
        for row in sqlx::query("SELECT id, path, version FROM fusio_routes ORDER BY position")
            .fetch_all(&mut *conn)
            .await?
        {
            let version: i64 = row.try_get(2)?;
            routes.push((
                row.try_get(0)?,
                RouteRecord {
                    path: row.try_get(1)?,
                    version: u32::try_from(version)
                        .map_err(|_| StoreError::Corrupt(format!("route version {version}")))?,
                    methods: Vec::new(),
                },
            ));
        }
        let mut method_scopes: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for row in sqlx::query(
            "SELECT g.method_id, s.name FROM fusio_scope_route g JOIN fusio_scope s ON s.id = g.scope_id ORDER BY s.name",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            method_scopes
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        for row in sqlx::query(
            "SELECT route_id, method, action, public, id FROM fusio_routes_method ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            let route_id: i64 = row.try_get(0)?;
            let public: i64 = row.try_get(3)?;
            let method_id: i64 = row.try_get(4)?;
            if let Some((_, route)) = routes.iter_mut().find(|(id, _)| *id == route_id) {
                route.methods.push(MethodRecord {
                    method: row.try_get(1)?,
                    action: row.try_get(2)?,
                    public: public != 0,
                    scopes: method_scopes.remove(&method_id).unwrap_or_default(),
                });
            }
        }
        Ok(StoredProject {
            revision,
            project: Project {
                actions,
                routes: routes.into_iter().map(|(_, r)| r).collect(),
            },
        })
    }
}
