//! The one way a project reaches the served snapshot, whoever sends it
//! (`fusio serve --deploy`, `POST /backend/deploy`, a rollback, another
//! node's deploy): validate completely, write one store transaction, swap.
//! Deploys on a node run one at a time, so their swaps land in revision
//! order; the snapshot never goes back to an older revision.

use super::migrate;
use super::plan::Plan;
use super::validate::{ValidateError, Validated, validate};
use super::{EntryProblem, normalize};
use crate::confine::Confinement;
use crate::runtime::Runtime;
use crate::snapshot::{self, Components, LiveSnapshot, Snapshot};
use crate::store::deploy::Deployment;
use crate::store::model::Project;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Validates, stores and serves projects. Cheap to clone.
#[derive(Clone)]
pub struct Deployer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    runtime: Runtime,
    live: Arc<LiveSnapshot>,
    /// The connection pools every snapshot of this node shares.
    pools: Arc<crate::connect::Pools>,
    /// One deploy at a time on this node.
    lock: tokio::sync::Mutex<()>,
}

/// One deploy request.
#[derive(Debug)]
pub struct DeployRequest<'a> {
    /// The whole project to serve.
    pub project: Project,
    /// Where component bytes come from when the precompile cache lacks them.
    pub components: Components<'a>,
    /// Component bytes to store with the revision (a local deploy).
    pub new_components: Vec<Arc<[u8]>>,
    /// Where it came from: `file:…`, `api`, `rollback:N`.
    pub source: String,
    /// Who sends it.
    pub author: String,
    /// The revision the sender planned against; another deploy since then
    /// refuses this one.
    pub expected: Option<i64>,
    /// Validate and plan only.
    pub dry_run: bool,
}

/// What a deploy did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The revision served afterwards (unchanged when nothing changed or
    /// the run was dry).
    pub revision: i64,
    /// Whether the project differs from the served one.
    pub changed: bool,
    /// What changes.
    pub plan: Plan,
}

/// Why a deploy was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Entries are invalid; every one found is listed.
    #[error("{} entries are refused", .0.len())]
    Invalid(Vec<EntryProblem>),
    /// Another deploy landed since the sender planned.
    #[error("the project changed: {0}")]
    Stale(String),
    /// The revision to roll back to does not exist or was not kept.
    #[error("revision {0} cannot be restored: it does not exist or its project was not kept")]
    NoSuchRevision(i64),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DeployError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Stale(what) => DeployError::Stale(what),
            other => DeployError::Store(other),
        }
    }
}

impl From<migrate::MigrateError> for DeployError {
    fn from(err: migrate::MigrateError) -> Self {
        match err {
            migrate::MigrateError::Refused(problems) => DeployError::Invalid(problems),
            migrate::MigrateError::Store(err) => err.into(),
        }
    }
}

impl From<ValidateError> for DeployError {
    fn from(err: ValidateError) -> Self {
        match err {
            ValidateError::Invalid(problems) => DeployError::Invalid(problems),
            ValidateError::Store(err) => err.into(),
        }
    }
}

impl Deployer {
    /// A deployer over the store, runtime and live snapshot of one node
    /// whose user connections reach only what `confinement` allows.
    pub fn new(
        store: Store,
        runtime: Runtime,
        live: Arc<LiveSnapshot>,
        confinement: Arc<Confinement>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pools: Arc::new(crate::connect::Pools::new(store.clone(), confinement)),
                store,
                runtime,
                live,
                lock: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The connections (and the action-log writer) this node keeps open.
    pub fn pools(&self) -> &crate::connect::Pools {
        &self.inner.pools
    }

    /// What user connections of this node may reach.
    pub fn confinement(&self) -> &Confinement {
        self.inner.pools.confinement()
    }

    /// Runs `script` on the served project's SQL connection `name`,
    /// confined like a migration (a test's fixture).
    pub async fn run_sql(&self, name: &str, script: &str) -> Result<(), String> {
        let served = self
            .inner
            .store
            .current()
            .await
            .map_err(|err| err.to_string())?;
        super::migrate::run_script(&served.project, name, script, self.confinement()).await
    }

    /// Validates `request.project` completely, then (unless dry or
    /// unchanged) stores it as a new revision and serves it.
    pub async fn deploy(&self, request: DeployRequest<'_>) -> Result<Outcome, DeployError> {
        let _one_at_a_time = self.inner.lock.lock().await;
        let mut project = request.project;
        normalize(&mut project);
        let current = self.inner.store.current().await?;
        if let Some(expected) = request.expected
            && expected != current.revision
        {
            return Err(DeployError::Stale(format!(
                "revision {} is served, the plan was made against {expected}",
                current.revision
            )));
        }
        if project.rates.is_none() {
            // A project that does not say keeps the served rates; the first
            // revision gets the defaults.
            project.rates = Some(
                current
                    .project
                    .rates
                    .clone()
                    .unwrap_or_else(crate::limit::defaults),
            );
            normalize(&mut project);
        }
        let plan = Plan::between(&current.project, &project);
        let changed = project != current.project;
        if !changed {
            return Ok(Outcome {
                revision: current.revision,
                changed,
                plan,
            });
        }
        tracing::info!(source = %request.source, base = current.revision, "validating a project");
        let validated = validate(
            project,
            request.components,
            &self.inner.runtime,
            &self.inner.pools,
        )
        .await?;
        let pending = migrate::pending(&self.inner.store, &validated.project).await?;
        let mut plan = plan;
        plan.migrations = pending.names();
        // Tables whose connection no pending migration touches are read
        // now, so a table that cannot be served refuses the deploy before
        // anything is written; the others once their migrations ran.
        unread_tables(&validated, &|connection| !pending.touches(connection)).await?;
        if request.dry_run {
            return Ok(Outcome {
                revision: current.revision,
                changed,
                plan,
            });
        }
        migrate::run(
            &self.inner.store,
            &validated.project,
            &pending,
            self.confinement(),
        )
        .await?;
        // After the migrations: a table they create or change is read as it
        // now is.
        unread_tables(&validated, &|connection| pending.touches(connection)).await?;
        let bytes: Vec<&[u8]> = request.new_components.iter().map(|c| &c[..]).collect();
        let detail = serde_json::to_value(&plan).unwrap_or_default();
        let revision = self
            .inner
            .store
            .deploy(&Deployment {
                project: &validated.project,
                components: &bytes,
                source: &request.source,
                author: &request.author,
                expected: Some(current.revision),
                detail: &detail,
            })
            .await?;
        self.inner
            .live
            .swap(Snapshot::numbered(revision, validated.assembled));
        Ok(Outcome {
            revision,
            changed,
            plan,
        })
    }

    /// Deploys again what revision `to` deployed, as a new revision.
    pub async fn rollback(
        &self,
        to: i64,
        author: &str,
        dry_run: bool,
    ) -> Result<Outcome, DeployError> {
        let stored = self
            .inner
            .store
            .revision_project(to)
            .await?
            .ok_or(DeployError::NoSuchRevision(to))?;
        self.deploy(DeployRequest {
            project: stored.project,
            components: Components::Stored(&self.inner.store),
            new_components: Vec::new(),
            source: format!("rollback:{to}"),
            author: author.to_owned(),
            expected: None,
            dry_run,
        })
        .await
    }

    /// Serves the store's newest revision when it is newer than the served
    /// one (another node deployed it); answers the revision now served.
    pub async fn refresh(&self) -> Result<i64, snapshot::SnapshotError> {
        let served = self.inner.live.current().revision;
        if self.inner.store.latest_revision().await? <= served {
            return Ok(served);
        }
        let _one_at_a_time = self.inner.lock.lock().await;
        let stored = self.inner.store.current().await?;
        if stored.revision > self.inner.live.current().revision {
            let pools = &self.inner.pools;
            let snapshot = snapshot::from_store(
                &self.inner.runtime,
                &self.inner.store,
                &stored,
                |project, actions| pools.for_project(project, actions),
            )
            .await?;
            self.inner.live.swap(snapshot);
        }
        Ok(self.inner.live.current().revision)
    }
}

/// Refuses the deploy when a built-in SQL table's table cannot be read,
/// naming the action.
async fn unread_tables(
    validated: &Validated,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<(), DeployError> {
    let unread = validated.assembled.read_tables(wanted).await;
    if unread.is_empty() {
        return Ok(());
    }
    Err(DeployError::Invalid(
        unread
            .into_iter()
            .map(|unread| EntryProblem {
                location: None,
                entry: super::compile::action_entry(&unread.action),
                reason: unread.reason,
            })
            .collect(),
    ))
}
