//! The serving snapshot: the route table and the loaded actions of one
//! revision, immutable, behind an atomic pointer. A request takes the current
//! snapshot once when it is routed, so a swap never disturbs it: in-flight
//! requests finish on the revision they started with, new ones see the new.

use crate::cors::Origins;
use crate::limit::{Candidates, RatePlan};
use crate::query::QueryCheck;
use crate::routes::{PathError, RouteConflict, RoutePath, RouteTable};
use crate::runtime::{ActionSpec, Capabilities, LoadError, LoadedAction, NoCapabilities, Runtime};
use crate::schema::{Schema, SchemaSet};
use crate::store::model::{MethodRecord, Project, StoredProject, VersionStatus};
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use http::Method;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One revision, ready to serve.
#[derive(Debug)]
pub struct Snapshot {
    /// The store revision this snapshot was built from (0: nothing deployed).
    pub revision: i64,
    /// The routes, each with its versions.
    pub routes: RouteTable<RouteVersions>,
    /// Every action by name (routes refer to some; the backend's execute and
    /// other actions may call any).
    pub actions: HashMap<String, Arc<LoadedAction>>,
    /// The revision's connections, which actions reach through the host.
    pub capabilities: Arc<dyn Capabilities>,
    /// The project as deployed, for what documents it (`/doc`, exports).
    pub project: Arc<Project>,
}

/// A revision's routes, actions and connections, assembled and checked
/// before the store has numbered it: validation builds it once, and the
/// deploy turns that same value into the served [`Snapshot`].
#[derive(Debug)]
pub struct Assembled {
    routes: RouteTable<RouteVersions>,
    actions: HashMap<String, Arc<LoadedAction>>,
    capabilities: Arc<dyn Capabilities>,
    project: Arc<Project>,
}

impl Assembled {
    /// Reads, for each built-in SQL table action on a connection `wanted`
    /// accepts, its table's columns from the database; answers the actions
    /// whose table could not be read.
    pub async fn read_tables(
        &self,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<crate::tables::Unread> {
        crate::tables::read_tables(&self.actions, &*self.capabilities, wanted).await
    }
}

impl Snapshot {
    /// `assembled`, served as revision `revision` of the store.
    pub fn numbered(revision: i64, assembled: Assembled) -> Self {
        Self {
            revision,
            routes: assembled.routes,
            actions: assembled.actions,
            capabilities: assembled.capabilities,
            project: assembled.project,
        }
    }
}

impl Default for Snapshot {
    /// Nothing deployed.
    fn default() -> Self {
        Self {
            revision: 0,
            routes: RouteTable::default(),
            actions: HashMap::new(),
            capabilities: Arc::new(NoCapabilities),
            project: Arc::default(),
        }
    }
}

/// The versions of one route.
#[derive(Debug)]
pub struct RouteVersions {
    /// Version number → what it answers.
    pub versions: BTreeMap<u32, RouteMethods>,
    /// The version a request that names none gets: the highest production
    /// version, else the highest deprecated, else the highest in
    /// development; `None` when every version is closed.
    pub default: Option<u32>,
    /// The browser origins the route allows instead of the server's.
    pub cors_origins: Option<Arc<Origins>>,
}

impl RouteVersions {
    fn new(versions: BTreeMap<u32, RouteMethods>, cors_origins: Option<Arc<Origins>>) -> Self {
        let default = crate::store::model::default_version(versions.values(), |v| v.status)
            .map(|v| v.version);
        Self {
            versions,
            default,
            cors_origins,
        }
    }
}

/// The methods of one version of a route.
#[derive(Debug)]
pub struct RouteMethods {
    /// The version number.
    pub version: u32,
    /// Its lifecycle.
    pub status: VersionStatus,
    /// When it stops answering, as the `Sunset` header says it (RFC 8594).
    pub sunset: Option<http::HeaderValue>,
    /// Method → endpoint.
    pub methods: HashMap<Method, Endpoint>,
}

/// What answers one method of one route.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The action that runs.
    pub action: Arc<LoadedAction>,
    /// Who may call it.
    pub access: Access,
    /// The schema a request body must match, when the method names one.
    pub request_schema: Option<Arc<Schema>>,
    /// The query parameters it declares, when it declares any.
    pub query: Option<Arc<QueryCheck>>,
    /// The media types its request bodies may have, when it says.
    pub content_types: Option<Arc<[String]>>,
    /// In a version in development only: the schemas its answers should
    /// match, by status, checked after the action answers (a mismatch is
    /// logged; the answer still goes out).
    pub response_schemas: Option<Arc<BTreeMap<u16, Arc<Schema>>>>,
    /// The rates that can apply to its callers, highest priority first.
    pub rates: Candidates,
}

/// Who may call an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A caller whose token holds one of these scopes (never empty).
    Scopes(Arc<[String]>),
}

/// Why a project cannot be served. Each names the offending entry.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A route path is not valid Fusio syntax or is reserved.
    #[error("route `{path}` is not valid")]
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
    /// A schema does not compile.
    #[error("schema `{name}`: {reason}")]
    Schema {
        /// The schema.
        name: String,
        /// Why it does not compile.
        reason: crate::schema::SchemaError,
    },
    /// A method names a schema that does not exist.
    #[error("route `{path}` {method}: the schema `{schema}` is not defined")]
    UnknownSchema {
        /// The route.
        path: String,
        /// The method.
        method: String,
        /// The missing schema.
        schema: String,
    },
    /// A route's CORS origins are not origins.
    #[error("route `{path}`: cors: {reason}")]
    Cors {
        /// The route.
        path: String,
        /// What is wrong.
        reason: crate::cors::CorsError,
    },
    /// A method's query parameters cannot be checked.
    #[error("route `{path}` {method}: {reason}")]
    Parameters {
        /// The route.
        path: String,
        /// The method.
        method: String,
        /// What is wrong with them.
        reason: crate::query::ParameterError,
    },
    /// A rate cannot be counted with.
    #[error("rate `{name}`: {reason}")]
    Rate {
        /// The rate.
        name: String,
        /// What is wrong.
        reason: crate::limit::RateError,
    },
    /// An action's component cannot serve.
    #[error("action `{action}` cannot serve")]
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

/// An HTTP method as fusio.yml and the store spell it: upper-case letters.
pub fn parse_method(text: &str) -> Option<Method> {
    let upper = !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase());
    upper
        .then(|| Method::from_bytes(text.as_bytes()).ok())
        .flatten()
}

/// What answers one method: its action, who may call it, the schema its
/// body must match and the query parameters it checks.
fn endpoint(
    path: &str,
    record: &MethodRecord,
    actions: &HashMap<String, Arc<LoadedAction>>,
    schemas: &SchemaSet,
) -> Result<Endpoint, SnapshotError> {
    let action =
        actions
            .get(&record.action)
            .cloned()
            .ok_or_else(|| SnapshotError::UnknownAction {
                path: path.to_owned(),
                method: record.method.clone(),
                action: record.action.clone(),
            })?;
    let request_schema = match &record.request {
        None => None,
        Some(name) => Some(schemas.get(name.as_str()).cloned().ok_or_else(|| {
            SnapshotError::UnknownSchema {
                path: path.to_owned(),
                method: record.method.clone(),
                schema: name.clone(),
            }
        })?),
    };
    let query = if record.parameters.is_empty() {
        None
    } else {
        let check = QueryCheck::compile(&record.parameters).map_err(|reason| {
            SnapshotError::Parameters {
                path: path.to_owned(),
                method: record.method.clone(),
                reason,
            }
        })?;
        Some(Arc::new(check))
    };
    Ok(Endpoint {
        action,
        access: if record.public {
            Access::Public
        } else {
            Access::Scopes(record.scopes.clone().into())
        },
        request_schema,
        query,
        content_types: (!record.content_types.is_empty())
            .then(|| record.content_types.clone().into()),
        response_schemas: None,
        rates: Candidates::default(),
    })
}

/// The compiled response schemas of `record`, when it declares any.
fn response_schemas(
    record: &MethodRecord,
    schemas: &SchemaSet,
) -> Option<Arc<BTreeMap<u16, Arc<Schema>>>> {
    let compiled: BTreeMap<u16, Arc<Schema>> = record
        .responses
        .iter()
        .filter_map(|(status, name)| Some((*status, schemas.get(name)?.clone())))
        .collect();
    (!compiled.is_empty()).then(|| Arc::new(compiled))
}

/// A version's sunset (`2027-06-30`, midnight UTC, or an RFC 3339 time)
/// as the HTTP date the `Sunset` header carries; the error says what to
/// write instead.
pub fn sunset_header(text: &str) -> Result<http::HeaderValue, String> {
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| format!("sunset: `{text}` is not a date (2027-06-30) or an RFC 3339 time"))?;
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    http::HeaderValue::from_str(&date).map_err(|e| e.to_string())
}

/// Builds the route table of `project` over already loaded `actions`, with
/// the connections (`capabilities`) its actions reach.
pub fn assemble(
    project: &Project,
    actions: &HashMap<String, Arc<LoadedAction>>,
    capabilities: Arc<dyn Capabilities>,
) -> Result<Assembled, SnapshotError> {
    let schemas = SchemaSet::compile(
        project
            .schemas
            .iter()
            .map(|record| (record.name.as_str(), &record.document)),
    )
    .map_err(|refused| {
        let (name, reason) = refused
            .into_iter()
            .next()
            .expect("a refusal names a schema");
        SnapshotError::Schema { name, reason }
    })?;
    let defaults;
    let rates = match &project.rates {
        Some(rates) => rates,
        None => {
            defaults = crate::limit::defaults();
            &defaults
        }
    };
    let rates =
        RatePlan::compile(rates).map_err(|(name, reason)| SnapshotError::Rate { name, reason })?;
    let mut entries = Vec::with_capacity(project.routes.len());
    for route in &project.routes {
        let path = RoutePath::parse(&route.path).map_err(|source| SnapshotError::Path {
            path: route.path.clone(),
            source,
        })?;
        let mut versions = BTreeMap::new();
        for version in &route.versions {
            let mut methods = HashMap::new();
            for record in &version.methods {
                let method = parse_method(&record.method).ok_or_else(|| SnapshotError::Method {
                    path: route.path.clone(),
                    method: record.method.clone(),
                })?;
                let mut endpoint = endpoint(&route.path, record, actions, &schemas)?;
                endpoint.rates = rates.for_endpoint(&route.path, &method);
                if version.status == VersionStatus::Development {
                    endpoint.response_schemas = response_schemas(record, &schemas);
                }
                methods.insert(method, endpoint);
            }
            versions.insert(
                version.version,
                RouteMethods {
                    version: version.version,
                    status: version.status,
                    sunset: version
                        .sunset
                        .as_deref()
                        .and_then(|text| sunset_header(text).ok()),
                    methods,
                },
            );
        }
        let cors_origins = match &route.cors {
            None => None,
            Some(cors) => Some(Arc::new(Origins::parse(&cors.origins).map_err(
                |reason| SnapshotError::Cors {
                    path: route.path.clone(),
                    reason,
                },
            )?)),
        };
        entries.push((path, RouteVersions::new(versions, cors_origins)));
    }
    Ok(Assembled {
        routes: RouteTable::build(entries)?,
        actions: actions.clone(),
        capabilities,
        project: Arc::new(project.clone()),
    })
}

/// Runs a CPU-heavy load of `spec` on a blocking thread.
async fn off_workers<T: Send + 'static>(
    runtime: &Runtime,
    spec: ActionSpec,
    load: impl FnOnce(&Runtime, &ActionSpec) -> Result<T, LoadError> + Send + 'static,
) -> Result<T, LoadError> {
    let runtime = runtime.clone();
    tokio::task::spawn_blocking(move || load(&runtime, &spec))
        .await
        .expect("loading an action panicked")
}

/// Loads one action from `bytes` (or the precompile cache when it has them).
pub async fn load_action(
    runtime: &Runtime,
    spec: ActionSpec,
    bytes: Arc<[u8]>,
) -> Result<LoadedAction, LoadError> {
    let loaded = off_workers(runtime, spec, move |runtime, spec| {
        runtime.load(spec, &bytes)
    })
    .await?;
    runtime.check_script(&loaded).await?;
    Ok(loaded)
}

/// Where component bytes come from when the precompile cache lacks them.
#[derive(Debug, Clone, Copy)]
pub enum Components<'a> {
    /// Bytes at hand, by sha256 (a deploy from a local file).
    Local(&'a HashMap<String, Arc<[u8]>>),
    /// The system store (a remote deploy, a rollback, a start).
    Stored(&'a Store),
}

/// Loads every action of `specs`, each from the precompile cache or, on a
/// miss, from `components`; answers each action's outcome. A component
/// that is nowhere is that action's error; only a failing store is an
/// error of the whole.
pub async fn load_actions(
    runtime: &Runtime,
    specs: &[ActionSpec],
    components: Components<'_>,
) -> Result<Vec<(ActionSpec, Result<LoadedAction, LoadError>)>, StoreError> {
    let mut loaded = Vec::with_capacity(specs.len());
    for spec in specs {
        let cached = off_workers(runtime, spec.clone(), |runtime, spec| {
            runtime.load_cached(spec)
        })
        .await;
        let outcome = match cached {
            Ok(Some(action)) => Ok(action),
            Err(err) => Err(err),
            Ok(None) => {
                let bytes: Option<Arc<[u8]>> = match components {
                    Components::Local(map) => map.get(&spec.sha256).cloned(),
                    Components::Stored(store) => match store.component(&spec.sha256).await {
                        Ok(bytes) => Some(bytes.into()),
                        Err(StoreError::MissingComponent(_)) => None,
                        Err(err) => return Err(err),
                    },
                };
                match bytes {
                    Some(bytes) => load_action(runtime, spec.clone(), bytes).await,
                    None => Err(LoadError::Missing),
                }
            }
        };
        loaded.push((spec.clone(), outcome));
    }
    Ok(loaded)
}

/// Builds the snapshot of what the store holds, loading every action from
/// the precompile cache or, on a miss, from the stored component;
/// `connections` gives the revision's capabilities over its actions.
pub async fn from_store(
    runtime: &Runtime,
    store: &Store,
    stored: &StoredProject,
    connections: impl FnOnce(&Project, HashMap<String, Arc<LoadedAction>>) -> Arc<dyn Capabilities>,
) -> Result<Snapshot, SnapshotError> {
    let mut actions = HashMap::new();
    for (spec, outcome) in
        load_actions(runtime, &stored.project.actions, Components::Stored(store)).await?
    {
        let loaded = outcome.map_err(|source| SnapshotError::Load {
            action: spec.name.clone(),
            source,
        })?;
        actions.insert(spec.name, Arc::new(loaded));
    }
    let capabilities = connections(&stored.project, actions.clone());
    let assembled = assemble(&stored.project, &actions, capabilities)?;
    // A table that cannot be read now makes only its action fail (it says
    // why); the rest of the revision serves.
    for unread in assembled.read_tables(&|_| true).await {
        tracing::warn!(
            revision = stored.revision,
            action = %unread.action,
            reason = %unread.reason,
            "a built-in SQL table's columns could not be read"
        );
    }
    Ok(Snapshot::numbered(stored.revision, assembled))
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

    /// Makes `snapshot` the one new requests see, unless a newer revision
    /// is served already (two swaps racing never go back in time). Answers
    /// whether it was swapped in.
    pub fn swap(&self, snapshot: Snapshot) -> bool {
        let revision = snapshot.revision;
        let next = Arc::new(snapshot);
        let previous = self.current.rcu(|current| {
            if current.revision < revision {
                next.clone()
            } else {
                current.clone()
            }
        });
        let swapped = previous.revision < revision;
        if swapped {
            tracing::info!(revision, "serving a new revision");
        }
        swapped
    }
}
