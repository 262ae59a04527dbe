//! The served revision as a RAML 1.0 document: the same selection as the
//! OpenAPI export, with the project's schemas as types (each a JSON Schema
//! that stands alone, its references under `definitions`), one resource
//! per route with its URI and query parameters, each method secured by the
//! OAuth 2.0 scheme with the scopes it needs (or by nothing when public),
//! and deprecated versions marked with a `(deprecated)` annotation.

use super::openapi::{Selection, chosen, openapi_path, path_parameters};
use crate::schema::self_contained;
use crate::store::model::{MethodRecord, Project, VersionStatus};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The RAML 1.0 document of `project` for `selection`, with the server at
/// `base` and the scopes' descriptions; `None` when the selection names no
/// route version a public reader may see.
pub fn document(
    project: &Project,
    selection: Selection<'_>,
    base: &str,
    scope_descriptions: &BTreeMap<String, String>,
) -> Option<String> {
    let mut resources = Map::new();
    let mut used_scopes: BTreeMap<String, String> = BTreeMap::new();
    for route in &project.routes {
        if selection.path.is_some_and(|path| path != route.path) {
            continue;
        }
        let Some(version) = chosen(route, selection.versions) else {
            continue;
        };
        let mut resource = Map::new();
        let parameters = path_parameters(&route.path);
        if !parameters.is_empty() {
            let uri: Map<String, Value> = parameters
                .iter()
                .map(|name| ((*name).to_owned(), json!({ "type": "string" })))
                .collect();
            resource.insert("uriParameters".into(), Value::Object(uri));
        }
        for method in &version.methods {
            for scope in &method.scopes {
                let description = scope_descriptions.get(scope).cloned().unwrap_or_default();
                used_scopes.insert(scope.clone(), description);
            }
            let deprecated = version.status == VersionStatus::Deprecated;
            resource.insert(
                method.method.to_ascii_lowercase(),
                raml_method(method, deprecated),
            );
        }
        resources.insert(openapi_path(&route.path), Value::Object(resource));
    }
    if resources.is_empty() {
        return None;
    }
    let documents: BTreeMap<&str, &Value> = project
        .schemas
        .iter()
        .map(|s| (s.name.as_str(), &s.document))
        .collect();
    let types: Map<String, Value> = project
        .schemas
        .iter()
        .filter_map(|s| {
            let alone = draft7(self_contained(&s.name, &documents)?);
            Some((s.name.clone(), json!({ "type": alone.to_string() })))
        })
        .collect();
    let mut root = Map::new();
    root.insert("title".into(), "Fusio".into());
    root.insert("baseUri".into(), base.into());
    root.insert("mediaType".into(), "application/json".into());
    root.insert(
        "annotationTypes".into(),
        json!({ "deprecated": { "type": "boolean", "description": "The version is deprecated: clients should move on." } }),
    );
    root.insert(
        "securitySchemes".into(),
        json!({ "oauth2": security_scheme(base, &used_scopes) }),
    );
    if !types.is_empty() {
        root.insert("types".into(), Value::Object(types));
    }
    root.extend(resources);
    let yaml = serde_saphyr::to_string(&Value::Object(root)).ok()?;
    Some(format!("#%RAML 1.0\n{yaml}"))
}

/// A self-contained schema in the draft RAML processors read: `$defs`
/// become `definitions`.
fn draft7(schema: Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("$defs", value) => ("definitions".to_owned(), draft7(value)),
                    ("$ref", Value::String(reference)) => (
                        key,
                        Value::String(reference.replacen("#/$defs/", "#/definitions/", 1)),
                    ),
                    (_, value) => (key, draft7(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(draft7).collect()),
        other => other,
    }
}

fn raml_method(method: &MethodRecord, deprecated: bool) -> Value {
    let mut out = Map::new();
    out.insert(
        "securedBy".into(),
        if method.public {
            json!([null])
        } else {
            json!([{ "oauth2": { "scopes": method.scopes } }])
        },
    );
    if deprecated {
        out.insert("(deprecated)".into(), true.into());
    }
    if !method.parameters.is_empty() {
        let query: Map<String, Value> = method
            .parameters
            .iter()
            .map(|(name, parameter)| {
                let mut facets = match parameter.schema() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                facets.insert("required".into(), parameter.required.into());
                (name.clone(), Value::Object(facets))
            })
            .collect();
        out.insert("queryParameters".into(), Value::Object(query));
    }
    let mut body = Map::new();
    if let Some(request) = &method.request {
        body.insert("application/json".into(), json!({ "type": request }));
    }
    for media_type in &method.content_types {
        body.entry(media_type.clone())
            .or_insert_with(|| json!({ "type": "any" }));
    }
    if !body.is_empty() {
        out.insert("body".into(), Value::Object(body));
    }
    let mut responses = Map::new();
    for (status, schema) in &method.responses {
        responses.insert(
            status.to_string(),
            json!({ "body": { "application/json": { "type": schema } } }),
        );
    }
    if responses.is_empty() {
        responses.insert("200".into(), json!({ "description": "OK" }));
    }
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// RAML's OAuth 2.0 scheme for this server: its grants and scopes.
fn security_scheme(base: &str, scopes: &BTreeMap<String, String>) -> Value {
    let described: Vec<String> = scopes
        .iter()
        .map(|(name, description)| {
            if description.is_empty() {
                format!("`{name}`")
            } else {
                format!("`{name}`: {description}")
            }
        })
        .collect();
    json!({
        "type": "OAuth 2.0",
        "description": format!(
            "Fusio's authorization server; the authorization-code grant requires PKCE (S256). Scopes: {}",
            if described.is_empty() { "none".to_owned() } else { described.join("; ") }
        ),
        "describedBy": {
            "headers": { "Authorization": { "type": "string", "description": "`Bearer` and the access token" } },
            "responses": { "401": { "description": "No valid access token" }, "403": { "description": "The token lacks the scopes" } },
        },
        "settings": {
            "authorizationUri": format!("{base}/authorization/authorize"),
            "accessTokenUri": format!("{base}/authorization/token"),
            "authorizationGrants": ["authorization_code", "client_credentials", "password"],
            "scopes": scopes.keys().collect::<Vec<_>>(),
        },
    })
}
