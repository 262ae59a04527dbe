//! Writing a whole project in one transaction, and reading the current one.
//! A deploy either lands completely with a new revision or not at all.

use super::Page;
use super::identity::ensure_scope_in;
use super::model::{
    MethodRecord, Project, RouteRecord, StoredProject, VersionRecord, VersionStatus,
};
use super::{Backend, Store, StoreError, audit, components, now};
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

/// The PostgreSQL channel on which a new revision is announced (its id as
/// the payload), so every node serves it within a moment.
pub const REVISION_CHANNEL: &str = "fusio_revision";
/// The PostgreSQL channel on which a revocation is announced, so every node
/// forgets the tokens it checked.
pub const AUTH_CHANNEL: &str = "fusio_auth";

/// One deploy as the store records it.
#[derive(Debug)]
pub struct Deployment<'a> {
    /// The whole project that will be served.
    pub project: &'a Project,
    /// Component bytes to store with it (those not uploaded before).
    pub components: &'a [&'a [u8]],
    /// Where it came from: `file:…`, `api`, `rollback:N`.
    pub source: &'a str,
    /// Who deployed it (the audit log's actor).
    pub author: &'a str,
    /// The revision the deployer planned against: when another deploy landed
    /// since, this one is refused with [`StoreError::Stale`].
    pub expected: Option<i64>,
    /// What changed, for the audit log.
    pub detail: &'a serde_json::Value,
}

/// A revision as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionInfo {
    /// The revision number.
    pub id: i64,
    /// Where it came from.
    pub source: String,
    /// Who deployed it (unknown for revisions from before authors were kept).
    pub author: Option<String>,
    /// When, RFC 3339.
    pub created_at: String,
    /// Whether its project is kept (revisions from before were not).
    pub restorable: bool,
}

impl Store {
    /// Replaces the deployed project, stores the component bytes it brings,
    /// keeps the project with the new revision, records the deploy in the
    /// audit log and (on PostgreSQL) announces it — all in one transaction.
    /// Answers the new revision.
    pub async fn deploy(&self, deployment: &Deployment<'_>) -> Result<i64, StoreError> {
        let Deployment {
            project,
            components,
            source,
            author,
            expected,
            detail,
        } = deployment;
        let mut tx = self.begin_write().await?;
        if let Some(expected) = expected {
            self.check_served(&mut tx, *expected).await?;
        }
        for bytes in components.iter() {
            components::insert(&mut tx, bytes).await?;
        }
        let now = now();
        replace_actions(&mut tx, project, &now).await?;
        // Routes live in the revision's project; the scopes their methods
        // name must exist so apps and users can be given them.
        let named = project
            .routes
            .iter()
            .flat_map(|route| &route.versions)
            .flat_map(|version| &version.methods)
            .flat_map(|method| &method.scopes);
        for scope in named {
            ensure_scope_in(&mut tx, scope, "", false).await?;
        }
        let content = serde_json::to_string(&self.seal(project)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO fusio_revision (source, created_at, content, author) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(*source)
        .bind(&now)
        .bind(content)
        .bind(*author)
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = row.try_get(0)?;
        let action = if source.starts_with("rollback:") {
            "rollback"
        } else {
            "deploy"
        };
        audit::record_in(
            &mut tx,
            author,
            action,
            &format!("revision:{revision}"),
            detail,
        )
        .await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(REVISION_CHANNEL)
                .bind(revision.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(revision)
    }

    /// Refuses a deploy planned against another revision than the one
    /// served. Writing the revision table first serializes concurrent
    /// deploys (the write lock on SQLite; on PostgreSQL the lock below).
    async fn check_served(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        expected: i64,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE fusio_revision IN EXCLUSIVE MODE")
                .execute(&mut **tx)
                .await?;
        }
        let current: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM fusio_revision")
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
        if current != expected {
            return Err(StoreError::Stale(format!(
                "project (revision {current} is served, the plan was made against {expected})"
            )));
        }
        Ok(())
    }

    /// On PostgreSQL, a connection that hears every new revision (on
    /// [`REVISION_CHANNEL`]) and every revocation (on [`AUTH_CHANNEL`]);
    /// `None` on SQLite, where nodes share a file and poll.
    pub async fn listener(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url)
            .await
            .map_err(StoreError::Connect)?;
        listener
            .listen_all([REVISION_CHANNEL, AUTH_CHANNEL])
            .await?;
        Ok(Some(listener))
    }

    /// Tells the other nodes that tokens were revoked (PostgreSQL; nothing
    /// on SQLite).
    pub async fn announce_revocation(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(AUTH_CHANNEL)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// `project` with every connection's config sealed.
    fn seal(&self, project: &Project) -> Result<Project, StoreError> {
        let mut sealed = project.clone();
        if sealed.connections.is_empty() {
            return Ok(sealed);
        }
        let cipher = self
            .cipher
            .as_ref()
            .ok_or_else(|| StoreError::Sealed("the store has no key".into()))?;
        for connection in &mut sealed.connections {
            let clear = connection.config.to_string();
            connection.config = serde_json::Value::String(cipher.seal(clear.as_bytes()));
        }
        Ok(sealed)
    }

    /// `project` with every connection's config opened.
    fn open_sealed(&self, mut project: Project) -> Result<Project, StoreError> {
        for connection in &mut project.connections {
            let serde_json::Value::String(sealed) = &connection.config else {
                return Err(StoreError::Corrupt(format!(
                    "connection `{}` is stored in clear",
                    connection.name
                )));
            };
            let cipher = self
                .cipher
                .as_ref()
                .ok_or_else(|| StoreError::Sealed("the store has no key".into()))?;
            let clear = cipher
                .open(sealed)
                .map_err(|e| StoreError::Sealed(e.to_string()))?;
            connection.config = serde_json::from_slice(&clear).map_err(|e| {
                StoreError::Corrupt(format!("connection `{}`: {e}", connection.name))
            })?;
        }
        Ok(project)
    }

    /// The newest revision number (0 before any deploy).
    pub async fn latest_revision(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COALESCE(MAX(id), 0) FROM fusio_revision")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// The project revision `id` deployed, when it was kept.
    pub async fn revision_project(&self, id: i64) -> Result<Option<StoredProject>, StoreError> {
        let Some(row) = sqlx::query("SELECT content FROM fusio_revision WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let Some(content) = row.try_get::<Option<String>, _>(0)? else {
            return Ok(None);
        };
        let project = serde_json::from_str(&content)
            .map_err(|e| StoreError::Corrupt(format!("revision {id}: {e}")))?;
        Ok(Some(StoredProject {
            revision: id,
            project: self.open_sealed(project)?,
        }))
    }

    /// A page of revisions, newest first; and how many there are.
    pub async fn list_revisions(
        &self,
        page: Page<'_>,
    ) -> Result<(i64, Vec<RevisionInfo>), StoreError> {
        let total = self.latest_revision_count().await?;
        let rows = sqlx::query(
            "SELECT id, source, author, created_at, CASE WHEN content IS NULL THEN 0 ELSE 1 END FROM fusio_revision \
             ORDER BY id DESC LIMIT $1 OFFSET $2",
        )
        .bind(page.count)
        .bind(page.start)
        .fetch_all(&self.pool)
        .await?;
        let revisions = rows
            .iter()
            .map(|row| {
                Ok(RevisionInfo {
                    id: row.try_get(0)?,
                    source: row.try_get(1)?,
                    author: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                    restorable: row.try_get::<i64, _>(4)? != 0,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((total, revisions))
    }

    async fn latest_revision_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM fusio_revision")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// The deployed project and its revision (0 and empty before any deploy).
    pub async fn current(&self) -> Result<StoredProject, StoreError> {
        let latest = self.latest_revision().await?;
        if let Some(stored) = self.revision_project(latest).await? {
            return Ok(stored);
        }
        // Revisions from before projects were kept: read the tables.
        let mut conn = self.pool.acquire().await?;
        let revision: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM fusio_revision")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        Ok(StoredProject {
            revision,
            project: Project {
                actions: legacy_actions(&mut conn).await?,
                routes: legacy_routes(&mut conn).await?,
                schemas: Vec::new(),
                connections: Vec::new(),
                migrations: Vec::new(),
                rates: None,
            },
        })
    }
}

/// Replaces the table of deployed actions with `project`'s (what older
/// readers of the store still look at).
async fn replace_actions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    project: &Project,
    now: &str,
) -> Result<(), StoreError> {
    for query in [
        "DELETE FROM fusio_routes_method",
        "DELETE FROM fusio_routes",
        "DELETE FROM fusio_action",
    ] {
        sqlx::query(query).execute(&mut **tx).await?;
    }
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
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The actions of a store from before revisions kept their project.
async fn legacy_actions(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<Vec<ActionSpec>, StoreError> {
    let mut actions = Vec::new();
    for row in sqlx::query(
        "SELECT name, component, config, memory_limit, timeout_ms FROM fusio_action ORDER BY name",
    )
    .fetch_all(&mut **conn)
    .await?
    {
        let config: String = row.try_get(2)?;
        let config: BTreeMap<String, String> = serde_json::from_str(&config)
            .map_err(|e| StoreError::Corrupt(format!("action config: {e}")))?;
        actions.push(ActionSpec {
            name: row.try_get(0)?,
            sha256: row.try_get(1)?,
            code: Default::default(),
            builtin: None,
            config,
            limits: Limits {
                memory: to_u64(row.try_get(3)?, "memory_limit")?,
                timeout: Duration::from_millis(to_u64(row.try_get(4)?, "timeout_ms")?),
            },
            connections: Vec::new(),
            forward_headers: Vec::new(),
        });
    }
    Ok(actions)
}

/// The routes of a store from before revisions kept their project: one
/// production version each, with its methods and their scopes.
async fn legacy_routes(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<Vec<RouteRecord>, StoreError> {
    let mut routes: Vec<(i64, RouteRecord)> = Vec::new();
    for row in sqlx::query("SELECT id, path, version FROM fusio_routes ORDER BY position")
        .fetch_all(&mut **conn)
        .await?
    {
        let version: i64 = row.try_get(2)?;
        routes.push((
            row.try_get(0)?,
            RouteRecord {
                path: row.try_get(1)?,
                versions: vec![VersionRecord {
                    version: u32::try_from(version)
                        .map_err(|_| StoreError::Corrupt(format!("route version {version}")))?,
                    status: VersionStatus::Production,
                    sunset: None,
                    methods: Vec::new(),
                }],
                cors: None,
            },
        ));
    }
    let mut method_scopes: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT g.method_id, s.name FROM fusio_scope_route g JOIN fusio_scope s ON s.id = g.scope_id ORDER BY s.name",
    )
    .fetch_all(&mut **conn)
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
    .fetch_all(&mut **conn)
    .await?
    {
        let route_id: i64 = row.try_get(0)?;
        let public: i64 = row.try_get(3)?;
        let method_id: i64 = row.try_get(4)?;
        if let Some((_, route)) = routes.iter_mut().find(|(id, _)| *id == route_id) {
            route.versions[0].methods.push(MethodRecord {
                method: row.try_get(1)?,
                action: row.try_get(2)?,
                public: public != 0,
                scopes: method_scopes.remove(&method_id).unwrap_or_default(),
                request: None,
                responses: BTreeMap::new(),
                parameters: BTreeMap::new(),
                content_types: Vec::new(),
            });
        }
    }
    Ok(routes.into_iter().map(|(_, r)| r).collect())
}
