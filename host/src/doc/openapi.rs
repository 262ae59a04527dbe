//! The served revision as an OpenAPI 3.1 document: one path per route (in
//! OpenAPI's `{param}` syntax), one operation per method with its path and
//! query parameters, its request body and its responses as references to
//! the project's schemas (which become `components.schemas` as they are,
//! since they already refer to each other that way), its security (public,
//! or the OAuth2 scheme with the scopes it needs), deprecated versions
//! marked. The OAuth2 scheme offers the authorization-code (with PKCE),
//! client-credentials and password flows against this server.

use super::Reader;
use crate::store::model::{MethodRecord, Project, RouteRecord, VersionRecord, VersionStatus};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Which route versions a document covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// Each route's default version (`*`).
    Default,
    /// This version of each route that has it.
    Number(u32),
}

/// What to export: which versions, which path (`None`: every route).
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The versions.
    pub versions: Versions,
    /// One route's path as written in the project, or all.
    pub path: Option<&'a str>,
}

/// The OpenAPI 3.1 document of `project` for `selection`, with the server
/// at `base` and the scopes' descriptions; `None` when the selection names
/// no route version a public reader may see.
pub fn document(
    project: &Project,
    selection: Selection<'_>,
    base: &str,
    scope_descriptions: &BTreeMap<String, String>,
) -> Option<Value> {
    let mut paths = Map::new();
    let mut used_scopes = BTreeMap::new();
    for route in &project.routes {
        if selection.path.is_some_and(|path| path != route.path) {
            continue;
        }
        let Some(version) = chosen(route, selection.versions) else {
            continue;
        };
        let mut item = Map::new();
        for method in &version.methods {
            for scope in &method.scopes {
                let description = scope_descriptions.get(scope).cloned().unwrap_or_default();
                used_scopes.insert(scope.clone(), description);
            }
            item.insert(
                method.method.to_ascii_lowercase(),
                operation(route, version, method),
            );
        }
        paths.insert(openapi_path(&route.path), Value::Object(item));
    }
    if paths.is_empty() {
        return None;
    }
    let schemas: Map<String, Value> = project
        .schemas
        .iter()
        .map(|s| (s.name.clone(), s.document.clone()))
        .collect();
    Some(json!({
        "openapi": "3.1.0",
        "info": { "title": "Fusio", "version": version_label(selection.versions) },
        "servers": [{ "url": base }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "oauth2": security_scheme(base, &used_scopes) },
        },
    }))
}

fn version_label(versions: Versions) -> String {
    match versions {
        Versions::Default => "default".into(),
        Versions::Number(n) => n.to_string(),
    }
}

/// The version of `route` that `versions` picks, if a public reader may
/// see it.
pub(super) fn chosen(route: &RouteRecord, versions: Versions) -> Option<&VersionRecord> {
    super::pick(
        route,
        match versions {
            Versions::Default => None,
            Versions::Number(n) => Some(n),
        },
        Reader::Public,
    )
}

/// Fusio's `/todo/:id` and `/files/*path` as OpenAPI's `/todo/{id}` and
/// `/files/{path}`.
pub fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix([':', '*']) {
            Some(name) if !name.is_empty() => format!("{{{name}}}"),
            _ => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The names of the path's parameters, in order.
pub(super) fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix([':', '*']))
        .filter(|name| !name.is_empty())
        .collect()
}

fn operation(route: &RouteRecord, version: &VersionRecord, method: &MethodRecord) -> Value {
    let mut parameters: Vec<Value> = path_parameters(&route.path)
        .into_iter()
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect();
    for (name, parameter) in &method.parameters {
        let mut entry = json!({
            "name": name,
            "in": "query",
            "required": parameter.required,
            "schema": parameter.schema(),
        });
        if let Some(description) = &parameter.description {
            entry["description"] = description.clone().into();
        }
        parameters.push(entry);
    }
    let mut operation = json!({
        "operationId": operation_id(&method.method, &route.path, version.version),
        "parameters": parameters,
        "responses": responses(method),
        "security": if method.public { json!([]) } else { json!([{ "oauth2": method.scopes }]) },
    });
    if let Some(body) = request_body(method) {
        operation["requestBody"] = body;
    }
    if version.status == VersionStatus::Deprecated {
        operation["deprecated"] = true.into();
    }
    if let Some(sunset) = &version.sunset {
        operation["x-sunset"] = sunset.clone().into();
    }
    operation
}

/// The request body a method takes: its schema under `application/json`,
/// and the other media types it accepts (any content).
fn request_body(method: &MethodRecord) -> Option<Value> {
    let schema = method.request.as_deref().map(schema_ref);
    let mut content = Map::new();
    let types: Vec<&str> = if method.content_types.is_empty() {
        vec!["application/json"]
    } else {
        method.content_types.iter().map(String::as_str).collect()
    };
    for media_type in types {
        let json = media_type == "application/json" || media_type.ends_with("+json");
        let entry = match (&schema, json) {
            (Some(schema), true) => json!({ "schema": schema }),
            _ => json!({}),
        };
        content.insert(media_type.to_owned(), entry);
    }
    (schema.is_some() || !method.content_types.is_empty())
        .then(|| json!({ "required": schema.is_some(), "content": content }))
}

/// A stable, unique name for the operation: `get.todo.id.v1`.
fn operation_id(method: &str, path: &str, version: u32) -> String {
    let words: Vec<&str> = path
        .split(['/', ':', '*', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let path = if words.is_empty() {
        "root".to_owned()
    } else {
        words.join(".")
    };
    format!("{}.{path}.v{version}", method.to_ascii_lowercase())
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{}{name}", crate::schema::COMPONENT_PREFIX) })
}

fn responses(method: &MethodRecord) -> Value {
    let mut responses = Map::new();
    for (status, schema) in &method.responses {
        responses.insert(
            status.to_string(),
            json!({
                "description": reason(*status),
                "content": { "application/json": { "schema": schema_ref(schema) } },
            }),
        );
    }
    if responses.is_empty() {
        responses.insert("200".into(), json!({ "description": "OK" }));
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "An error, as RFC 9457 problem details",
            "content": { "application/problem+json": { "schema": { "type": "object" } } },
        }),
    );
    Value::Object(responses)
}

fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Answer")
        .to_owned()
}

/// The OAuth2 scheme of this server: its flows, and the scopes the
/// exported operations need, with their descriptions.
pub fn security_scheme(base: &str, scopes: &BTreeMap<String, String>) -> Value {
    let token = format!("{base}/authorization/token");
    json!({
        "type": "oauth2",
        "description": "Fusio's authorization server; the authorization-code flow requires PKCE (S256).",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": format!("{base}/authorization/authorize"),
                "tokenUrl": token,
                "refreshUrl": token,
                "scopes": scopes,
            },
            "clientCredentials": { "tokenUrl": token, "refreshUrl": token, "scopes": scopes },
            "password": { "tokenUrl": token, "refreshUrl": token, "scopes": scopes },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_operation_ids_follow_openapi() {
        assert_eq!(openapi_path("/todo/:id"), "/todo/{id}");
        assert_eq!(openapi_path("/files/*path"), "/files/{path}");
        assert_eq!(openapi_path("/"), "/");
        assert_eq!(path_parameters("/a/:id/b/*rest"), ["id", "rest"]);
        assert_eq!(operation_id("GET", "/todo/:id", 2), "get.todo.id.v2");
        assert_eq!(operation_id("POST", "/", 1), "post.root.v1");
    }
}
