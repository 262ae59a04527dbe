//! The serving snapshot: the route table and the loaded actions of one
//! revision, immutable, behind an atomic pointer. A request takes the current
//! snapshot once when it is routed, so a swap never disturbs it: in-flight
//! requests finish on the revision they started with, new ones see the new.

use crate::routes::{PathError, RouteConflict, RoutePath, RouteTable};
use crate::runtime::{ActionSpec, LoadError, LoadedAction, Runtime};
use crate::store::model::{Project, StoredProject};
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use http::Method;
use std::collections::HashMap;
use std::sync::Arc;

/// One revision, ready to serve.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The store revision this snapshot was built from (0: nothing deployed).
    pub revision: i64,
    /// The routes and what answers each method.
    pub routes: RouteTable<RouteMethods>,
}

/// The methods of one route.
#[derive(Debug)]
pub struct RouteMethods {
    /// The route version served.
    pub version: u32,
    /// Method → endpoint.
    pub methods: HashMap<Method, Endpoint>,
}

/// What answers one method of one route.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The action that runs.
    pub action: Arc<LoadedAction>,
    /// Whether anonymous callers may use it.
    pub public: bool,
}

/// Why a project cannot be served. Each names the offending entry.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A route path is not valid Fusio syntax or is reserved.
    #[error("route `{path}`: {source}")]
    Path {
        /// The route.
        path: String,
        /// What is wrong with it.
        source: PathError,
    },
    /// Two routes overlap.
    #[error(transparent)]
    Conflict(#[from] RouteConflict),
    /// A method name HTTP does not know.
    #[error("route `{path}`: `{method}` is not an HTTP method")]
    Method {
        /// The route.
        path: String,
        /// The method as written.
        method: String,
    },
    /// A route refers to an action that does not exist.
    #[error("route `{path}` {method}: the action `{action}` is not defined")]
    UnknownAction {
        /// The route.
        path: String,
        /// The method.
        method: String,
        /// The missing action.
        action: String,
    },
    /// An action's component cannot serve.
    #[error("action `{action}`: {source}")]
    Load {
        /// The action.
        action: String,
        /// Why its component was refused.
        source: LoadError,
    },
    /// The store could not deliver a component.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Builds the route table of `project` over already loaded `actions`.
pub fn assemble(
    revision: i64,
    project: &Project,
    actions: &HashMap<String, Arc<LoadedAction>>,
) -> Result<Snapshot, SnapshotError> {
    let mut entries = Vec::with_capacity(project.routes.len());
    for route in &project.routes {
        let path = RoutePath::parse(&route.path).map_err(|source| SnapshotError::Path {
            path: route.path.clone(),
            source,
        })?;
        let mut methods = HashMap::new();
        for record in &route.methods {
            let method = Method::from_bytes(record.method.as_bytes())
                .ok()
                .filter(|m| m.as_str().bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| SnapshotError::Method {
                    path: route.path.clone(),
                    method: record.method.clone(),
                })?;
            let action = actions.get(&record.action).cloned().ok_or_else(|| {
                SnapshotError::UnknownAction {
                    path: route.path.clone(),
                    method: record.method.clone(),
                    action: record.action.clone(),
                }
            })?;
            methods.insert(
                method,
                Endpoint {
                    action,
                    public: record.public,
                },
            );
        }
        entries.push((
            path,
            RouteMethods {
                version: route.version,
                methods,
            },
        ));
    }
    Ok(Snapshot {
        revision,
        routes: RouteTable::build(entries)?,
    })
}

/// Loads one action on a blocking thread: from the precompile cache when it
/// can, otherwise from `bytes` (fetched lazily by the caller).
pub async fn load_action(
    runtime: &Runtime,
    spec: ActionSpec,
    bytes: Option<Arc<[u8]>>,
) -> Result<Option<LoadedAction>, SnapshotError> {
    let runtime = runtime.clone();
    let name = spec.name.clone();
    tokio::task::spawn_blocking(move || match bytes {
        Some(bytes) => runtime.load(&spec, &bytes).map(Some),
        None => runtime.load_cached(&spec),
    })
    .await
    .expect("loading an action panicked")
    .map_err(|source| SnapshotError::Load {
        action: name,
        source,
    })
}

/// Builds the snapshot of what the store holds, loading every action from
/// the precompile cache or, on a miss, from the stored component.
pub async fn from_store(
    runtime: &Runtime,
    store: &Store,
    stored: &StoredProject,
) -> Result<Snapshot, SnapshotError> {
    let mut actions = HashMap::new();
    for spec in &stored.project.actions {
        let loaded = match load_action(runtime, spec.clone(), None).await? {
            Some(loaded) => loaded,
            None => {
                let bytes: Arc<[u8]> = store.component(&spec.sha256).await?.into();
                load_action(runtime, spec.clone(), Some(bytes))
                    .await?
                    .expect("loading from bytes always answers")
            }
        };
        actions.insert(spec.name.clone(), Arc::new(loaded));
    }
    assemble(stored.revision, &stored.project, &actions)
}

/// The current snapshot, swappable while serving.
#[derive(Debug, Default)]
pub struct LiveSnapshot {
    current: ArcSwap<Snapshot>,
}

impl LiveSnapshot {
    /// The snapshot new requests are routed with.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Makes `snapshot` the one new requests see.
    pub fn swap(&self, snapshot: Snapshot) {
        let revision = snapshot.revision;
        self.current.store(Arc::new(snapshot));
        tracing::info!(revision, "serving a new revision");
    }
}
