//! Loading a project from `fusio.yml`: parse, build the action packages,
//! validate every entry, then apply it to the store and the live snapshot in
//! one step. Validation is complete before anything is written, so a refused
//! file changes nothing. `fusio serve --deploy` uses this today; the remote
//! `fusio deploy` will use the same validation.
//!
//! Parsing never panics: every problem becomes a [`ProjectError`] that names
//! the file and the line and column or the offending entry.

mod build;
pub mod file;

pub use build::{BuildError, BuildOptions, WASM_TARGET, build_package};

use crate::auth;
use crate::routes::RoutePath;
use crate::runtime::{ActionSpec, Limits, LoadedAction, Runtime};
use crate::snapshot::{self, LiveSnapshot, SnapshotError};
use crate::store::model::{MethodRecord, Project, RouteRecord};
use crate::store::{Store, StoreError, sha256_hex};
use serde_saphyr::Location;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A project that passed validation: ready to store and serve.
#[derive(Debug)]
pub struct Prepared {
    /// The file it came from.
    pub file: PathBuf,
    /// The records to store.
    pub project: Project,
    components: Vec<Arc<[u8]>>,
    actions: HashMap<String, Arc<LoadedAction>>,
}

/// One refused entry of a project file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProblem {
    /// Line and column of the entry, when known.
    pub location: Option<(u64, u64)>,
    /// The entry, e.g. `routes."/hello".methods.GET`.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a project file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The file cannot be read.
    #[error("cannot read {}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("{}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Entries are invalid; every one found is listed.
    #[error("{} is refused:\n{}", file.display(), ProblemList(file, problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The refused entries.
        problems: Vec<EntryProblem>,
    },
    /// The store could not take the project.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct ProblemList<'a>(&'a Path, &'a [EntryProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.1.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}", self.0.display())?;
            if let Some((line, column)) = problem.location {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": {}: {}", problem.entry, problem.reason)?;
        }
        Ok(())
    }
}

fn at(location: Location) -> Option<(u64, u64)> {
    (location != Location::UNKNOWN).then(|| (location.line(), location.column()))
}

fn valid_action_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Parses, builds and validates the project in `file`; nothing is stored.
pub async fn prepare(
    file: &Path,
    runtime: &Runtime,
    build: &BuildOptions,
) -> Result<Prepared, ProjectError> {
    let text = std::fs::read_to_string(file).map_err(|source| ProjectError::Read {
        file: file.to_owned(),
        source,
    })?;
    let parsed = file::parse(&text).map_err(|err| ProjectError::Parse {
        file: file.to_owned(),
        message: err.to_string(),
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    let mut project = Project::default();
    let mut components = Vec::new();
    let mut actions = HashMap::new();
    let mut built: HashMap<PathBuf, Arc<[u8]>> = HashMap::new();

    for (key, entry) in &parsed.action.0 {
        let name = &key.value;
        let location = at(key.referenced);
        let mut refuse = |reason: String| {
            problems.push(EntryProblem {
                location,
                entry: format!("action.{name}"),
                reason,
            })
        };
        if !valid_action_name(name) {
            refuse("an action name uses letters, digits, `-`, `_` and `.`".into());
            continue;
        }
        let defaults = Limits::default();
        let limits = Limits {
            memory: entry.limits.memory.map_or(defaults.memory, |m| m.as_u64()),
            timeout: entry.limits.timeout.unwrap_or(defaults.timeout),
        };
        if limits.timeout.is_zero() || limits.memory == 0 {
            refuse("limits must be greater than zero".into());
            continue;
        }
        let bytes = match component_bytes(&base.join(&entry.component), build, &mut built).await {
            Ok(bytes) => bytes,
            Err(reason) => {
                refuse(format!("component `{}`: {reason}", entry.component));
                continue;
            }
        };
        let spec = ActionSpec {
            name: name.clone(),
            sha256: sha256_hex(&bytes),
            config: entry
                .config
                .iter()
                .map(|(k, v)| (k.clone(), file::config_text(v)))
                .collect(),
            limits,
        };
        match snapshot::load_action(runtime, spec.clone(), bytes.clone()).await {
            Ok(loaded) => {
                actions.insert(name.clone(), Arc::new(loaded));
                project.actions.push(spec);
                components.push(bytes);
            }
            Err(source) => refuse(format!("component `{}`: {source}", entry.component)),
        }
    }

    let mut route_locations = HashMap::new();
    for (key, route) in &parsed.routes.0 {
        let path = &key.value;
        let location = at(key.referenced);
        route_locations.insert(path.clone(), location);
        if let Err(err) = RoutePath::parse(path) {
            problems.push(EntryProblem {
                location,
                entry: format!("routes.{path:?}"),
                reason: err.to_string(),
            });
            continue;
        }
        let mut record = RouteRecord {
            path: path.clone(),
            version: route.version,
            methods: Vec::new(),
        };
        for (key, entry) in &route.methods.0 {
            let method = &key.value;
            let mut refuse = |reason: String| {
                problems.push(EntryProblem {
                    location: at(key.referenced),
                    entry: format!("routes.{path:?}.methods.{method}"),
                    reason,
                })
            };
            if snapshot::parse_method(method).is_none() {
                refuse(format!(
                    "`{method}` is not an HTTP method (write it in upper case, e.g. GET)"
                ));
                continue;
            }
            if !parsed.action.contains_key(&entry.action) {
                refuse(format!(
                    "the action `{}` is not defined under `action:`",
                    entry.action
                ));
                continue;
            }
            if let Err(reason) = check_scopes(entry.public, &entry.scopes) {
                refuse(reason);
                continue;
            }
            record.methods.push(MethodRecord {
                method: method.clone(),
                action: entry.action.clone(),
                public: entry.public,
                scopes: entry.scopes.clone(),
            });
        }
        project.routes.push(record);
    }

    if problems.is_empty()
        && let Err(err) = snapshot::assemble(0, &project, &actions)
    {
        let (entry, location) = match &err {
            SnapshotError::Conflict(conflict) => (
                format!("routes.{:?}", conflict.path),
                route_locations.get(&conflict.path).copied().flatten(),
            ),
            _ => ("project".to_owned(), None),
        };
        problems.push(EntryProblem {
            location,
            entry,
            reason: err.to_string(),
        });
    }
    if !problems.is_empty() {
        return Err(ProjectError::Invalid {
            file: file.to_owned(),
            problems,
        });
    }
    Ok(Prepared {
        file: file.to_owned(),
        project,
        components,
        actions,
    })
}

/// A method's scopes: a protected method names at least one, a public one
/// none; each is a valid name outside the system scopes.
fn check_scopes(public: bool, scopes: &[String]) -> Result<(), String> {
    if public && !scopes.is_empty() {
        return Err("a public method takes no scopes: anyone may call it".into());
    }
    if !public && scopes.is_empty() {
        return Err(
            "a method that is not public must name the scopes that may call it (`scopes: [...]`)"
                .into(),
        );
    }
    for scope in scopes {
        if !auth::scopes::is_valid_name(scope) {
            return Err(format!("`{scope}` is not a valid scope name"));
        }
        if auth::scopes::is_system(scope) {
            return Err(format!(
                "`{scope}` is a system scope; a project cannot grant it"
            ));
        }
    }
    Ok(())
}

/// The component of an action: a `.wasm` file as it is, or a Rust package
/// directory built for `wasm32-wasip2` (once per package).
async fn component_bytes(
    source: &Path,
    build: &BuildOptions,
    built: &mut HashMap<PathBuf, Arc<[u8]>>,
) -> Result<Arc<[u8]>, String> {
    if let Some(bytes) = built.get(source) {
        return Ok(bytes.clone());
    }
    let wasm = if source.is_dir() {
        if !source.join("Cargo.toml").is_file() {
            return Err("the directory has no Cargo.toml".into());
        }
        build_package(source, build)
            .await
            .map_err(|e| e.to_string())?
    } else if source.is_file() {
        source.to_owned()
    } else {
        return Err("no such file or package directory".into());
    };
    let bytes: Arc<[u8]> = std::fs::read(&wasm)
        .map_err(|e| format!("cannot read {}: {e}", wasm.display()))?
        .into();
    built.insert(source.to_owned(), bytes.clone());
    Ok(bytes)
}

/// Stores `prepared` as a new revision and serves it. Answers the revision.
pub async fn apply(
    prepared: Prepared,
    store: &Store,
    live: &LiveSnapshot,
) -> Result<i64, ProjectError> {
    let components: Vec<&[u8]> = prepared.components.iter().map(|c| &c[..]).collect();
    let source = format!("file:{}", prepared.file.display());
    let revision = store
        .deploy(&prepared.project, &components, &source)
        .await?;
    let snapshot = snapshot::assemble(revision, &prepared.project, &prepared.actions)
        .expect("a prepared project always assembles");
    live.swap(snapshot);
    Ok(revision)
}
