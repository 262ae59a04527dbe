//! The file side of a deploy: read `fusio.yml` (with `!include`s and
//! variables), build or read every component, and produce the project
//! records with each entry's line and column. Nothing here needs the
//! server: `fusio deploy` compiles on the developer's machine or in CI and
//! sends the result; `fusio serve --deploy` compiles and validates locally.

use super::build::{BuildOptions, build_package};
use super::substitute::Variables;
use super::{EntryProblem, ProjectError, at, file};
use crate::digest::sha256_hex;
use crate::runtime::{ActionSpec, Code, Limits};
use crate::store::model::{
    ConnectionRecord, MethodRecord, MigrationRecord, Project, RateRecord, RouteRecord,
    SchemaRecord, VersionRecord, VersionStatus,
};
use serde_saphyr::Location;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A compiled project: the records, the component bytes they refer to, and
/// where each entry was written.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The project file.
    pub file: PathBuf,
    /// The records to validate and deploy.
    pub project: Project,
    /// Component bytes by sha256.
    pub components: HashMap<String, Arc<[u8]>>,
    /// Line and column of each entry (`action.NAME`, `routes."PATH"`,
    /// `routes."PATH".methods.METHOD`), to locate problems the server finds.
    pub locations: HashMap<String, (u64, u64)>,
    /// The test cases declared on methods, in file order.
    pub tests: Vec<DeclaredCase>,
}

/// A test case as declared under a route method's `tests:`.
#[derive(Debug, Clone)]
pub struct DeclaredCase {
    /// The route path as declared.
    pub path: String,
    /// The version, for a route with several.
    pub version: Option<u32>,
    /// The upper-case method.
    pub method: String,
    /// The method's entry name, e.g. `routes."/todo".methods.GET`.
    pub entry: String,
    /// Line and column of the method in the file.
    pub location: Option<(u64, u64)>,
    /// The case.
    pub case: file::TestCaseFile,
}

impl Compiled {
    /// Attaches this file's locations to problems that name entries.
    pub fn locate(&self, problems: Vec<EntryProblem>) -> ProjectError {
        ProjectError::Invalid {
            file: self.file.clone(),
            problems: problems
                .into_iter()
                .map(|mut problem| {
                    if problem.location.is_none() {
                        problem.location = self.locations.get(&problem.entry).copied();
                    }
                    problem
                })
                .collect(),
        }
    }
}

/// The entry name of an action.
pub fn action_entry(name: &str) -> String {
    format!("action.{name}")
}

/// The entry name of a schema.
pub fn schema_entry(name: &str) -> String {
    format!("schema.{name}")
}

/// The entry name of a connection.
pub fn connection_entry(name: &str) -> String {
    format!("connection.{name}")
}

/// The entry name of a connection's migrations.
pub fn migration_entry(connection: &str) -> String {
    format!("migration.{connection}")
}

/// The entry name of a rate.
pub fn rate_entry(name: &str) -> String {
    format!("rate.{name}")
}

/// The entry name of a route.
pub fn route_entry(path: &str) -> String {
    format!("routes.{path:?}")
}

/// The entry name of a route's method; `version` only for routes with
/// several versions.
pub fn method_entry(path: &str, version: Option<u32>, method: &str) -> String {
    match version {
        Some(version) => format!("routes.{path:?}.versions.{version}.methods.{method}"),
        None => format!("routes.{path:?}.methods.{method}"),
    }
}

/// Reads, builds and hashes the project in `file`.
pub async fn compile(file: &Path, build: &BuildOptions) -> Result<Compiled, ProjectError> {
    compile_sections(file, build, true).await
}

/// Reads the contract of the project in `file` — routes and schemas —
/// without building its actions or reading its connections: what the
/// exports need, on a machine that may not build the actions.
pub async fn compile_contract(file: &Path) -> Result<Compiled, ProjectError> {
    compile_sections(file, &BuildOptions::default(), false).await
}

async fn compile_sections(
    file: &Path,
    build: &BuildOptions,
    everything: bool,
) -> Result<Compiled, ProjectError> {
    let text = std::fs::read_to_string(file).map_err(|source| ProjectError::Read {
        file: file.to_owned(),
        source,
    })?;
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parsed = file::parse(&text, base).map_err(|err| ProjectError::Parse {
        file: file.to_owned(),
        message: err.to_string(),
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let src = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    let mut compiling = Compiling {
        base,
        build,
        vars: Variables {
            src: &src,
            env: &env,
        },
        compiled: Compiled {
            file: file.to_owned(),
            project: Project::default(),
            components: HashMap::new(),
            locations: HashMap::new(),
            tests: Vec::new(),
        },
        problems: Vec::new(),
        built: HashMap::new(),
    };
    if everything {
        compiling.actions(&parsed).await;
    }
    compiling.routes(&parsed);
    compiling.schemas(&parsed);
    if everything {
        compiling.connections(&parsed);
        compiling.migrations(&parsed);
        compiling.rates(&parsed);
    }
    if !compiling.problems.is_empty() {
        return Err(ProjectError::Invalid {
            file: file.to_owned(),
            problems: compiling.problems,
        });
    }
    Ok(compiling.compiled)
}

/// One compilation under way: what is compiled so far and the located
/// problems found, which every section adds to.
struct Compiling<'a> {
    /// The project file's directory: relative paths start here.
    base: &'a Path,
    build: &'a BuildOptions,
    vars: Variables<'a>,
    compiled: Compiled,
    problems: Vec<EntryProblem>,
    /// Packages built so far, so each is built once.
    built: HashMap<PathBuf, Arc<[u8]>>,
}

impl Compiling<'_> {
    /// Records where `entry` was written; answers the location.
    fn locate(&mut self, entry: &str, referenced: Location) -> Option<(u64, u64)> {
        let location = at(referenced);
        if let Some(location) = location {
            self.compiled.locations.insert(entry.to_owned(), location);
        }
        location
    }

    fn refuse(&mut self, location: Option<(u64, u64)>, entry: &str, reason: String) {
        self.problems.push(EntryProblem {
            location,
            entry: entry.to_owned(),
            reason,
        });
    }

    /// `action:`: each action's component built or read and hashed, its
    /// variables replaced, its limits defaulted.
    async fn actions(&mut self, parsed: &file::ProjectFile) {
        for (key, entry) in &parsed.action.0 {
            let name = &key.value;
            let entry_name = action_entry(name);
            let location = self.locate(&entry_name, key.referenced);
            let mut values = std::collections::BTreeMap::new();
            let mut config_ok = true;
            for (k, v) in &entry.config {
                match self.vars.apply_json(v) {
                    Ok(v) => {
                        values.insert(k.clone(), v);
                    }
                    Err(reason) => {
                        self.refuse(location, &entry_name, format!("config.{k}: {reason}"));
                        config_ok = false;
                    }
                }
            }
            // A built-in that uses a connection is granted it.
            let mut granted = entry.connections.clone();
            let code = match (&entry.component, &entry.builtin) {
                (Some(component), None) => self
                    .component(component, location, &entry_name)
                    .await
                    .map(|(bytes, code)| (bytes, code, None)),
                (None, Some(builtin)) => match super::builtin::expand(builtin, &values, &|name| {
                    connection_of(parsed, &self.vars, name)
                }) {
                    Ok(expanded) => {
                        if let Some(connection) = expanded.connection {
                            granted.push(connection);
                        }
                        Some((
                            Arc::from(expanded.script.as_bytes()),
                            Code::Javascript,
                            Some((builtin.clone(), expanded.config)),
                        ))
                    }
                    Err(reason) => {
                        self.refuse(
                            location,
                            &entry_name,
                            format!("builtin `{builtin}`: {reason}"),
                        );
                        None
                    }
                },
                _ => {
                    self.refuse(
                        location,
                        &entry_name,
                        "an action has either `component` (its code) or `builtin` (an action Fusio ships)".into(),
                    );
                    None
                }
            };
            let Some((bytes, code, expanded)) = code else {
                continue;
            };
            if !config_ok {
                continue;
            }
            let (builtin, config) = match expanded {
                Some((builtin, config)) => (Some(builtin), config),
                None => (
                    None,
                    values
                        .iter()
                        .map(|(k, v)| (k.clone(), file::config_text(v)))
                        .collect(),
                ),
            };
            let defaults = Limits::default();
            let sha256 = sha256_hex(&bytes);
            self.compiled.components.insert(sha256.clone(), bytes);
            self.compiled.project.actions.push(ActionSpec {
                name: name.clone(),
                sha256,
                code,
                builtin,
                config,
                limits: Limits {
                    memory: entry.limits.memory.map_or(defaults.memory, |m| m.as_u64()),
                    timeout: entry.limits.timeout.unwrap_or(defaults.timeout),
                },
                connections: granted,
                forward_headers: entry
                    .forward_headers
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
            });
        }
    }

    /// An action's component (built or read) and what it is; `None` after
    /// refusing it.
    async fn component(
        &mut self,
        component: &str,
        location: Option<(u64, u64)>,
        entry_name: &str,
    ) -> Option<(Arc<[u8]>, Code)> {
        let component = match self.vars.apply(component) {
            Ok(component) => component,
            Err(reason) => {
                self.refuse(location, entry_name, format!("component: {reason}"));
                return None;
            }
        };
        let path = self.base.join(&component);
        match component_bytes(&path, self.build, &mut self.built).await {
            Ok(bytes) => Some((bytes, code_of(&path))),
            Err(reason) => {
                self.refuse(
                    location,
                    entry_name,
                    format!("component `{component}`: {reason}"),
                );
                None
            }
        }
    }

    /// `routes:`: each route with its versions (one, from `methods`, or
    /// several under `versions`) and their methods.
    fn routes(&mut self, parsed: &file::ProjectFile) {
        for (key, route) in &parsed.routes.0 {
            let path = &key.value;
            let entry_name = route_entry(path);
            let location = self.locate(&entry_name, key.referenced);
            let versions: Vec<(
                u32,
                VersionStatus,
                Option<String>,
                &file::Entries<file::MethodFile>,
            )> = match (&route.methods, &route.versions) {
                (Some(methods), None) => vec![(
                    route.version.unwrap_or(1),
                    route.status.unwrap_or_default(),
                    route.sunset.clone(),
                    methods,
                )],
                (None, Some(versions))
                    if route.version.is_none()
                        && route.status.is_none()
                        && route.sunset.is_none() =>
                {
                    let mut list = Vec::new();
                    for (key, version) in &versions.0 {
                        match key.value.parse::<u32>() {
                            Ok(number) if number > 0 => list.push((
                                number,
                                version.status,
                                version.sunset.clone(),
                                &version.methods,
                            )),
                            _ => self.refuse(
                                location,
                                &entry_name,
                                format!("`{}` is not a version number (1, 2, …)", key.value),
                            ),
                        }
                    }
                    list
                }
                (None, Some(_)) => {
                    self.refuse(
                        location,
                        &entry_name,
                        "`version`, `status` and `sunset` belong inside each of `versions`".into(),
                    );
                    continue;
                }
                _ => {
                    self.refuse(
                        location,
                        &entry_name,
                        "a route has either `methods` (one version) or `versions`".into(),
                    );
                    continue;
                }
            };
            let several = versions.len() > 1;
            let mut record = RouteRecord {
                path: path.clone(),
                versions: Vec::new(),
                cors: route.cors.clone(),
            };
            for (number, status, sunset, methods) in versions {
                let mut version = VersionRecord {
                    version: number,
                    status,
                    sunset,
                    methods: Vec::new(),
                };
                for (key, entry) in &methods.0 {
                    let entry_name = method_entry(path, several.then_some(number), &key.value);
                    let location = self.locate(&entry_name, key.referenced);
                    for case in &entry.tests {
                        self.compiled.tests.push(DeclaredCase {
                            path: path.clone(),
                            version: several.then_some(number),
                            method: key.value.clone(),
                            entry: entry_name.clone(),
                            location,
                            case: case.clone(),
                        });
                    }
                    let mut responses = entry.responses.clone();
                    if let Some(response) = &entry.response {
                        responses.entry(200).or_insert_with(|| response.clone());
                    }
                    version.methods.push(MethodRecord {
                        method: key.value.clone(),
                        action: entry.action.clone(),
                        public: entry.public,
                        scopes: entry.scopes.clone(),
                        request: entry.request.clone(),
                        responses,
                        parameters: entry.parameters.clone(),
                        content_types: entry.content_types.clone(),
                    });
                }
                record.versions.push(version);
            }
            self.compiled.project.routes.push(record);
        }
    }

    /// `schema:`: each JSON Schema document as written.
    fn schemas(&mut self, parsed: &file::ProjectFile) {
        for (key, document) in &parsed.schema.0 {
            self.locate(&schema_entry(&key.value), key.referenced);
            self.compiled.project.schemas.push(SchemaRecord {
                name: key.value.clone(),
                document: document.clone(),
            });
        }
    }

    /// `connection:`: each connection with its variables replaced.
    fn connections(&mut self, parsed: &file::ProjectFile) {
        for (key, entry) in &parsed.connection.0 {
            let name = &key.value;
            let entry_name = connection_entry(name);
            let location = self.locate(&entry_name, key.referenced);
            let mut config = serde_json::Map::new();
            for (k, v) in &entry.config {
                match self.vars.apply_json(v) {
                    Ok(v) => {
                        config.insert(k.clone(), v);
                    }
                    Err(reason) => {
                        self.refuse(location, &entry_name, format!("config.{k}: {reason}"));
                    }
                }
            }
            self.compiled.project.connections.push(ConnectionRecord {
                name: name.clone(),
                kind: entry.kind,
                config: serde_json::Value::Object(config),
            });
        }
    }

    /// `rate:`: each rate as written; `None` when the file has no `rate:`.
    fn rates(&mut self, parsed: &file::ProjectFile) {
        let Some(rates) = &parsed.rate else {
            return;
        };
        let mut records = Vec::new();
        for (key, entry) in &rates.0 {
            self.locate(&rate_entry(&key.value), key.referenced);
            records.push(RateRecord {
                name: key.value.clone(),
                priority: entry.priority,
                rate_limit: entry.rate_limit,
                timespan: entry.timespan.clone(),
                allocations: entry.allocation.clone(),
            });
        }
        self.compiled.project.rates = Some(records);
    }

    /// `migration:`: each connection's SQL files, read in order.
    fn migrations(&mut self, parsed: &file::ProjectFile) {
        for (key, files) in &parsed.migration.0 {
            let connection = &key.value;
            let entry_name = migration_entry(connection);
            let location = self.locate(&entry_name, key.referenced);
            for name in files {
                let path = match self.vars.apply(name) {
                    Ok(path) => self.base.join(path),
                    Err(reason) => {
                        self.refuse(location, &entry_name, format!("`{name}`: {reason}"));
                        continue;
                    }
                };
                match std::fs::read_to_string(&path) {
                    Ok(sql) => self.compiled.project.migrations.push(MigrationRecord {
                        connection: connection.clone(),
                        file: name.clone(),
                        sql,
                    }),
                    Err(err) => self.refuse(
                        location,
                        &entry_name,
                        format!("cannot read `{}`: {err}", path.display()),
                    ),
                }
            }
        }
    }
}

/// The component of an action: a `.wasm` file as it is, or a Rust package
/// directory built for `wasm32-wasip2` (once per package).
/// The kind and URL of the project's connection `name`, for a built-in.
fn connection_of(
    parsed: &file::ProjectFile,
    vars: &Variables<'_>,
    name: &str,
) -> Option<(crate::store::model::ConnectionKind, String)> {
    let (_, connection) = parsed
        .connection
        .0
        .iter()
        .find(|(key, _)| key.value == name)?;
    let url = connection
        .config
        .get("url")
        .and_then(|url| vars.apply_json(url).ok())
        .and_then(|url| url.as_str().map(str::to_owned))
        .unwrap_or_default();
    Some((connection.kind, url))
}

/// What a component path holds: a `.js` file is JavaScript for the shipped
/// engine, a `.py` file a Python module built into a component; anything
/// else is a component (or a package that builds one).
fn code_of(path: &Path) -> Code {
    match path.extension().and_then(|e| e.to_str()) {
        Some("js") => Code::Javascript,
        Some("py") => Code::Python,
        _ => Code::Component,
    }
}

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
    } else if source.is_file() && code_of(source) == Code::Python {
        super::build_python(source, build)
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
