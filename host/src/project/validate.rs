//! The server side of a deploy: every check a project must pass before it is
//! stored — names, limits, methods, scopes, references, route paths and
//! conflicts, and every component loaded (compiled or from the precompile
//! cache, linked, its world checked). Problems name the entry, so the file
//! side can add the line and column.

use super::EntryProblem;
use super::compile::{
    action_entry, connection_entry, method_entry, migration_entry, rate_entry, route_entry,
    schema_entry,
};
use crate::auth;
use crate::confine::Confinement;
use crate::connect::Pools;
use crate::connect::check_settings;
use crate::cors::Origins;
use crate::media;
use crate::query::QueryCheck;
use crate::routes::RoutePath;
use crate::runtime::{ActionSpec, LoadedAction, Runtime};
use crate::schema::SchemaSet;
use crate::snapshot::{self, Components, SnapshotError};
use crate::store::StoreError;
use crate::store::model::{ConnectionRecord, MethodRecord, Project};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A project that passed validation: ready to store and serve.
#[derive(Debug)]
pub struct Validated {
    /// The records to store.
    pub project: Project,
    /// What will be served once the store has numbered it.
    pub assembled: snapshot::Assembled,
}

/// Why a project was refused.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// Entries are invalid; every one found is listed.
    #[error("{} entries are refused", .0.len())]
    Invalid(Vec<EntryProblem>),
    /// The store could not deliver what validation needs.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The interface through which actions open connections: a component that
/// imports it must be granted at least one.
const CONNECTOR: &str = "fusio:action/connector";

/// Whether `name` may name an action, a connection or a schema: what
/// `~name` lookups and the action's grants can carry unescaped.
fn valid_entity_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn problem(entry: String, reason: impl Into<String>) -> EntryProblem {
    EntryProblem {
        location: None,
        entry,
        reason: reason.into(),
    }
}

/// Checks `project` completely and loads its actions from `components`.
pub async fn validate(
    project: Project,
    components: Components<'_>,
    runtime: &Runtime,
    pools: &Arc<Pools>,
) -> Result<Validated, ValidateError> {
    let mut problems = Vec::new();
    let connections = check_connections(&project, pools.confinement(), &mut problems);
    check_migrations(&project, &connections, &mut problems);
    let (names, loadable) = check_actions(&project, &connections, &mut problems);
    let actions = load(runtime, &loadable, components, &mut problems).await?;
    let schema_names = check_schemas(&project, &mut problems);
    check_routes(&project, &names, &schema_names, &mut problems);
    check_rates(&project, &mut problems);
    if !problems.is_empty() {
        return Err(ValidateError::Invalid(problems));
    }
    let capabilities = pools.for_project(&project, actions.clone());
    match snapshot::assemble(&project, &actions, capabilities) {
        Ok(assembled) => Ok(Validated { project, assembled }),
        Err(err) => {
            let entry = match &err {
                SnapshotError::Conflict(conflict) => route_entry(&conflict.path),
                _ => "project".to_owned(),
            };
            Err(ValidateError::Invalid(vec![problem(
                entry,
                err.to_string(),
            )]))
        }
    }
}

/// The connections, by name: each name valid and once, each one's settings
/// allowed for this node.
fn check_connections<'p>(
    project: &'p Project,
    confinement: &Confinement,
    problems: &mut Vec<EntryProblem>,
) -> HashMap<&'p str, &'p ConnectionRecord> {
    let mut connections = HashMap::new();
    for record in &project.connections {
        let entry = connection_entry(&record.name);
        if !valid_entity_name(&record.name) {
            problems.push(problem(
                entry,
                "a connection name uses letters, digits, `-`, `_` and `.`",
            ));
        } else if connections.insert(record.name.as_str(), record).is_some() {
            problems.push(problem(entry, "the connection is defined twice"));
        } else if let Err(reason) = check_settings(record, confinement) {
            problems.push(problem(entry, reason.to_string()));
        }
    }
    connections
}

/// Each migration names a SQL connection of the project, each file once.
fn check_migrations(
    project: &Project,
    connections: &HashMap<&str, &ConnectionRecord>,
    problems: &mut Vec<EntryProblem>,
) {
    let mut migrated = HashSet::new();
    for migration in &project.migrations {
        let entry = migration_entry(&migration.connection);
        match connections.get(migration.connection.as_str()) {
            None => problems.push(problem(
                entry.clone(),
                format!(
                    "the connection `{}` is not defined under `connection:`",
                    migration.connection
                ),
            )),
            Some(record) if crate::connect::sql::kind::settings(record).is_err() => {
                problems.push(problem(
                    entry.clone(),
                    format!(
                        "`{}` is not a SQL connection; only SQL connections migrate",
                        record.name
                    ),
                ))
            }
            Some(_) => {}
        }
        if !migrated.insert((migration.connection.as_str(), migration.file.as_str())) {
            problems.push(problem(
                entry,
                format!("`{}` is listed twice", migration.file),
            ));
        }
    }
}

/// The actions' names (each valid and once) and the specs worth loading:
/// positive limits, defined connections, forwardable headers.
fn check_actions<'p>(
    project: &'p Project,
    connections: &HashMap<&str, &ConnectionRecord>,
    problems: &mut Vec<EntryProblem>,
) -> (HashSet<&'p str>, Vec<ActionSpec>) {
    let mut names = HashSet::new();
    let mut loadable = Vec::new();
    for spec in &project.actions {
        let entry = action_entry(&spec.name);
        if !valid_entity_name(&spec.name) {
            problems.push(problem(
                entry,
                "an action name uses letters, digits, `-`, `_` and `.`",
            ));
        } else if !names.insert(spec.name.as_str()) {
            problems.push(problem(entry, "the action is defined twice"));
        } else if spec.limits.timeout.is_zero() || spec.limits.memory == 0 {
            problems.push(problem(entry, "limits must be greater than zero"));
        } else if let Some(missing) = spec
            .connections
            .iter()
            .find(|name| !connections.contains_key(name.as_str()))
        {
            problems.push(problem(
                entry,
                format!("the connection `{missing}` is not defined under `connection:`"),
            ));
        } else if let Some(other) = spec
            .forward_headers
            .iter()
            .find(|h| !crate::gateway::CREDENTIAL_HEADERS.contains(&h.as_str()))
        {
            problems.push(problem(
                entry,
                format!(
                    "forwardHeaders: `{other}` always reaches the action; only {} can be forwarded",
                    crate::gateway::CREDENTIAL_HEADERS.join(", ")
                ),
            ));
        } else {
            loadable.push(spec.clone());
        }
    }
    (names, loadable)
}

/// Loads each action's component; one that cannot load, or that imports
/// the connector without being granted a connection, is a problem.
async fn load(
    runtime: &Runtime,
    loadable: &[ActionSpec],
    components: Components<'_>,
    problems: &mut Vec<EntryProblem>,
) -> Result<HashMap<String, Arc<LoadedAction>>, StoreError> {
    let mut actions = HashMap::new();
    for (spec, loaded) in snapshot::load_actions(runtime, loadable, components).await? {
        match loaded {
            // A generated component imports every interface; its code
            // is refused only when it opens what it was not granted.
            Ok(loaded)
                if loaded.imports(CONNECTOR)
                    && spec.connections.is_empty()
                    && !spec.code.imports_everything() =>
            {
                problems.push(problem(
                    action_entry(&spec.name),
                    format!(
                        "its component imports `{CONNECTOR}` but the action is granted no connection (`connections: [...]`)"
                    ),
                ));
            }
            Ok(loaded) => {
                actions.insert(spec.name.clone(), Arc::new(loaded));
            }
            Err(reason) if !spec.code.is_script() => problems.push(problem(
                action_entry(&spec.name),
                format!("component {}: {reason}", short(&spec.sha256)),
            )),
            Err(reason) => problems.push(problem(
                action_entry(&spec.name),
                format!("script: {reason}"),
            )),
        }
    }
    Ok(actions)
}

/// The schemas' names (each valid and once); the schemas compile together
/// (each valid, every `$ref` to a schema of the project, no reference
/// coming back to where it started).
fn check_schemas<'p>(project: &'p Project, problems: &mut Vec<EntryProblem>) -> HashSet<&'p str> {
    let mut schema_names = HashSet::new();
    let mut named = Vec::new();
    for record in &project.schemas {
        let entry = schema_entry(&record.name);
        if !valid_entity_name(&record.name) {
            problems.push(problem(
                entry,
                "a schema name uses letters, digits, `-`, `_` and `.`",
            ));
        } else if !schema_names.insert(record.name.as_str()) {
            problems.push(problem(entry, "the schema is defined twice"));
        } else {
            named.push((record.name.as_str(), &record.document));
        }
    }
    if let Err(refused) = SchemaSet::compile(named) {
        for (name, reason) in refused {
            problems.push(problem(schema_entry(&name), reason.to_string()));
        }
    }
    schema_names
}

/// Each route: a valid path once, versions numbered from 1, methods that
/// are HTTP methods once per version, naming defined actions and schemas,
/// with sound scopes and statuses.
/// Each rate named once and countable, each allocation's route one of
/// the project's and its method one HTTP knows.
fn check_rates(project: &Project, problems: &mut Vec<EntryProblem>) {
    let routes: HashSet<&str> = project.routes.iter().map(|r| r.path.as_str()).collect();
    let mut names = HashSet::new();
    for rate in project.rates.iter().flatten() {
        let entry = rate_entry(&rate.name);
        if !valid_entity_name(&rate.name) {
            problems.push(problem(
                entry,
                "a rate name uses letters, digits, `-`, `_` and `.`",
            ));
            continue;
        }
        if !names.insert(rate.name.as_str()) {
            problems.push(problem(entry, "the rate is defined twice"));
            continue;
        }
        if let Err((_, reason)) = crate::limit::RatePlan::compile(std::slice::from_ref(rate)) {
            problems.push(problem(entry.clone(), reason.to_string()));
        }
        for (index, allocation) in rate.allocations.iter().enumerate() {
            if let Some(route) = &allocation.route
                && !routes.contains(route.as_str())
            {
                problems.push(problem(
                    entry.clone(),
                    format!(
                        "allocation {index}: the route `{route}` is not defined under `routes:`"
                    ),
                ));
            }
        }
    }
}

fn check_routes(
    project: &Project,
    names: &HashSet<&str>,
    schema_names: &HashSet<&str>,
    problems: &mut Vec<EntryProblem>,
) {
    let mut paths = HashSet::new();
    for route in &project.routes {
        if let Err(err) = RoutePath::parse(&route.path) {
            problems.push(problem(route_entry(&route.path), err.to_string()));
            continue;
        }
        if !paths.insert(route.path.as_str()) {
            problems.push(problem(
                route_entry(&route.path),
                "the route is defined twice",
            ));
        }
        if route.versions.is_empty() {
            problems.push(problem(
                route_entry(&route.path),
                "the route has no version",
            ));
        }
        if let Some(Err(reason)) = route.cors.as_ref().map(|c| Origins::parse(&c.origins)) {
            problems.push(problem(route_entry(&route.path), format!("cors: {reason}")));
        }
        let several = route.versions.len() > 1;
        let mut numbers = HashSet::new();
        for version in &route.versions {
            if version.version == 0 || !numbers.insert(version.version) {
                problems.push(problem(
                    route_entry(&route.path),
                    format!("version {} is not a new number from 1", version.version),
                ));
            }
            if let Some(Err(reason)) = version.sunset.as_deref().map(snapshot::sunset_header) {
                problems.push(problem(route_entry(&route.path), reason));
            }
        }
        let all_methods = route.versions.iter().flat_map(|version| {
            version
                .methods
                .iter()
                .map(move |method| (several.then_some(version.version), version.version, method))
        });
        let mut methods = HashSet::new();
        for (shown, number, method) in all_methods {
            let entry = method_entry(&route.path, shown, &method.method);
            if snapshot::parse_method(&method.method).is_none() {
                problems.push(problem(
                    entry,
                    format!(
                        "`{}` is not an HTTP method (write it in upper case, e.g. GET)",
                        method.method
                    ),
                ));
                continue;
            }
            if !methods.insert((number, method.method.as_str())) {
                problems.push(problem(entry, "the method is defined twice"));
                continue;
            }
            if !names.contains(method.action.as_str()) {
                problems.push(problem(
                    entry,
                    format!(
                        "the action `{}` is not defined under `action:`",
                        method.action
                    ),
                ));
                continue;
            }
            check_method(method, entry, schema_names, problems);
        }
    }
}

/// One method of a route version: sound scopes, defined schemas, query
/// parameters that can be checked, HTTP statuses.
fn check_method(
    method: &MethodRecord,
    entry: String,
    schema_names: &HashSet<&str>,
    problems: &mut Vec<EntryProblem>,
) {
    if let Err(reason) = check_scopes(method.public, &method.scopes) {
        problems.push(problem(entry.clone(), reason));
    }
    let named = method.request.iter().chain(method.responses.values());
    for schema in named {
        if !schema_names.contains(schema.as_str()) {
            problems.push(problem(
                entry.clone(),
                format!("the schema `{schema}` is not defined under `schema:`"),
            ));
        }
    }
    if let Err(refused) = QueryCheck::compile(&method.parameters) {
        problems.push(problem(entry.clone(), refused.to_string()));
    }
    if let Some(bad) = method
        .content_types
        .iter()
        .find(|t| !media::is_media_range(t))
    {
        problems.push(problem(
            entry.clone(),
            format!("contentTypes: `{bad}` is not a media type (type/subtype or type/*)"),
        ));
    }
    if let Some(status) = method.responses.keys().find(|s| !(100..=599).contains(*s)) {
        problems.push(problem(
            entry,
            format!("{status} is not an HTTP status code"),
        ));
    }
}

/// The first characters of a sha256, enough to recognise a component.
fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
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
