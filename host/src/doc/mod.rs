//! The documentation of a served revision, built from its project as
//! deployed: the index of every route (its versions, methods and who may
//! call them) and, for one version of one route, its methods with their
//! query parameters and their request and response schemas, each schema
//! standing alone (the project schemas it refers to carried with it).
//! Closed versions are never shown; versions in development only to
//! readers who may see them (backend tokens).

pub mod openapi;
pub mod raml;

use crate::schema::self_contained;
use crate::store::model::{MethodRecord, Project, RouteRecord, VersionRecord, VersionStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// Exported documents, by revision and selection (version, path), so each
/// is generated once per revision.
pub type ExportCache = moka::sync::Cache<(i64, String, String), std::sync::Arc<serde_json::Value>>;

/// A cache for a few hundred exported documents.
pub fn export_cache() -> ExportCache {
    moka::sync::Cache::new(256)
}

/// Who reads the documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Anyone: production and deprecated versions.
    Public,
    /// An administrator: versions in development too.
    Backend,
}

impl Reader {
    fn sees(self, status: VersionStatus) -> bool {
        match status {
            VersionStatus::Closed => false,
            VersionStatus::Development => self == Self::Backend,
            VersionStatus::Production | VersionStatus::Deprecated => true,
        }
    }
}

/// `GET /doc`: every route a reader may call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Index {
    /// The routes, in the project's order.
    pub routes: Vec<IndexRoute>,
    /// Where the whole API is described.
    pub links: Vec<Link>,
}

/// A route in the index.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexRoute {
    /// The path in Fusio's syntax (`/todo/:id`).
    pub path: String,
    /// Its versions the reader may see, ascending.
    pub versions: Vec<IndexVersion>,
}

/// A version of a route in the index.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexVersion {
    /// Its number.
    pub version: u32,
    /// Its lifecycle.
    #[schema(value_type = String)]
    pub status: VersionStatus,
    /// When it stops answering, as the project says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
    /// Its methods.
    pub methods: Vec<IndexMethod>,
}

/// A method in the index.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexMethod {
    /// `GET`, `POST`, …
    pub method: String,
    /// Whether anyone may call it without a token.
    pub public: bool,
    /// Scopes of which a token must hold one (protected methods).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// A link to a related document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Link {
    /// What it is (`openapi`, `raml`, `self`).
    pub rel: &'static str,
    /// Where.
    pub href: String,
}

/// `GET /doc/{version}/{path}`: one version of one route.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteDoc {
    /// The path in Fusio's syntax.
    pub path: String,
    /// The version described.
    pub version: u32,
    /// Its lifecycle.
    #[schema(value_type = String)]
    pub status: VersionStatus,
    /// When it stops answering, as the project says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
    /// Method → what it takes and answers.
    pub methods: BTreeMap<String, MethodDoc>,
    /// The exports of this route version.
    pub links: Vec<Link>,
}

/// One method of a documented route version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MethodDoc {
    /// Whether anyone may call it without a token.
    pub public: bool,
    /// Scopes of which a token must hold one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The query parameters it declares.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterDoc>,
    /// The media types its request body may have (any when empty).
    #[serde(rename = "contentTypes", skip_serializing_if = "Vec::is_empty")]
    pub content_types: Vec<String>,
    /// The schema its request body must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub request: Option<serde_json::Value>,
    /// Status → the schema of the answer.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub responses: BTreeMap<String, serde_json::Value>,
}

/// A declared query parameter.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParameterDoc {
    /// Its name.
    pub name: String,
    /// Whether a request must carry it.
    pub required: bool,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its type and constraints.
    #[schema(value_type = Object)]
    pub schema: serde_json::Value,
}

/// Where the exports of `version` (a number or `*`) and `path` (`*`: all)
/// live below `base` (the server's public URL).
fn export_links(base: &str, version: &str, path: &str) -> Vec<Link> {
    let path = path.trim_start_matches('/');
    vec![
        Link {
            rel: "openapi",
            href: format!("{base}/export/openapi/{version}/{path}"),
        },
        Link {
            rel: "raml",
            href: format!("{base}/export/raml/{version}/{path}"),
        },
    ]
}

/// The index of `project` for `reader`; links below `base`.
pub fn index(project: &Project, reader: Reader, base: &str) -> Index {
    let routes = project
        .routes
        .iter()
        .filter_map(|route| {
            let versions: Vec<IndexVersion> = route
                .versions
                .iter()
                .filter(|v| reader.sees(v.status))
                .map(|v| IndexVersion {
                    version: v.version,
                    status: v.status,
                    sunset: v.sunset.clone(),
                    methods: v
                        .methods
                        .iter()
                        .map(|m| IndexMethod {
                            method: m.method.clone(),
                            public: m.public,
                            scopes: m.scopes.clone(),
                        })
                        .collect(),
                })
                .collect();
            (!versions.is_empty()).then(|| IndexRoute {
                path: route.path.clone(),
                versions,
            })
        })
        .collect();
    Index {
        routes,
        links: export_links(base, "*", "*"),
    }
}

/// The version a reader gets for `version` (`None`: the default one — the
/// highest in production, else deprecated, else, for the backend, in
/// development).
fn pick(route: &RouteRecord, version: Option<u32>, reader: Reader) -> Option<&VersionRecord> {
    let mut visible = route.versions.iter().filter(move |v| reader.sees(v.status));
    match version {
        Some(number) => visible.find(|v| v.version == number),
        None => crate::store::model::default_version(visible, |v| v.status),
    }
}

/// Version `version` (`None`: the default) of the route at `path` for
/// `reader`, or `None` when there is no such route version they may see.
pub fn route(
    project: &Project,
    version: Option<u32>,
    path: &str,
    reader: Reader,
    base: &str,
) -> Option<RouteDoc> {
    let route = project.routes.iter().find(|r| r.path == path)?;
    let chosen = pick(route, version, reader)?;
    let schemas: BTreeMap<&str, &serde_json::Value> = project
        .schemas
        .iter()
        .map(|s| (s.name.as_str(), &s.document))
        .collect();
    let methods = chosen
        .methods
        .iter()
        .map(|m| (m.method.clone(), method(m, &schemas)))
        .collect();
    Some(RouteDoc {
        path: route.path.clone(),
        version: chosen.version,
        status: chosen.status,
        sunset: chosen.sunset.clone(),
        methods,
        links: export_links(base, &chosen.version.to_string(), &route.path),
    })
}

fn method(record: &MethodRecord, schemas: &BTreeMap<&str, &serde_json::Value>) -> MethodDoc {
    let alone = |name: &String| self_contained(name, schemas).unwrap_or_default();
    MethodDoc {
        public: record.public,
        scopes: record.scopes.clone(),
        parameters: record
            .parameters
            .iter()
            .map(|(name, parameter)| ParameterDoc {
                name: name.clone(),
                required: parameter.required,
                description: parameter.description.clone(),
                schema: parameter.schema(),
            })
            .collect(),
        content_types: record.content_types.clone(),
        request: record.request.as_ref().map(alone),
        responses: record
            .responses
            .iter()
            .map(|(status, name)| (status.to_string(), alone(name)))
            .collect(),
    }
}
