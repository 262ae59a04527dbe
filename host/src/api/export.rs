//! `/export`: the served revision as a RAML 1.0 document at
//! `GET /export/raml/{version}/{path}` and as an OpenAPI 3.1 document —
//! `GET /export/openapi/{version}/{path}`, `*` for each route's default
//! version or for every route — and the system API's at
//! `GET /export/openapi/system`, as JSON, or YAML with `?format=yaml` or
//! `Accept: application/yaml`. A document is generated once per revision
//! and selection and kept (scope descriptions as they were then).

use crate::api_error::ApiError;
use crate::doc::openapi::{self, Selection, Versions};
use crate::problem::Problem;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use std::sync::Arc;

/// The `/export` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/export/openapi/system", get(system_export))
        .route("/export/openapi/{version}/{*path}", get(openapi_export))
        .route("/export/raml/{version}/{*path}", get(raml_export))
}

/// The system API (`/backend`, `/consumer`, `/authorization`) as OpenAPI 3.1, from the
/// handlers' own annotations, with this server's OAuth2 scheme (under the
/// name `bearer` the handlers use) listing the system scopes.
async fn system_export(
    State(state): State<AppState>,
    Query(format): Query<Format>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = (0, "system".to_owned(), String::new());
    let document = match state.exports.get(&key) {
        Some(document) => document,
        None => {
            let mut api = super::backend::openapi();
            api.merge(super::consumer::routes().split_for_parts().1);
            api.merge(crate::auth::endpoints::openapi());
            let mut document = serde_json::to_value(&api)
                .map_err(|err| ApiError::failed("the system API could not be described", &err))?;
            let issuer = state.auth.jwt().issuer();
            let scopes = state.store.scope_descriptions().await?;
            let system: std::collections::BTreeMap<String, String> = scopes
                .into_iter()
                .filter(|(name, _)| crate::auth::scopes::is_system(name))
                .collect();
            document["info"] = serde_json::json!({
                "title": "Fusio system API",
                "version": env!("CARGO_PKG_VERSION"),
            });
            document["servers"] = serde_json::json!([{ "url": issuer }]);
            complete_operations(&mut document);
            document["components"]["securitySchemes"] =
                serde_json::json!({ "bearer": openapi::security_scheme(issuer, &system) });
            let document = Arc::new(document);
            state.exports.insert(key, document.clone());
            document
        }
    };
    answer(&document, &format, &headers)
}

/// Makes the handlers' annotations a valid document: every operation gets
/// a unique `operationId` from its method and path (the handlers' names
/// repeat across resources), and every response a description (a status
/// alone gets its reason).
fn complete_operations(document: &mut serde_json::Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let words: Vec<&str> = path
                .split(['/', '{', '}'])
                .filter(|w| !w.is_empty())
                .collect();
            operation["operationId"] = format!("{method}.{}", words.join(".")).into();
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if response.get("description").is_none() {
                    let reason = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Answer");
                    response["description"] = reason.into();
                }
            }
        }
    }
}

/// `document` as JSON, or as YAML when asked for.
fn answer(
    document: &serde_json::Value,
    format: &Format,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if wants_yaml(format, headers) {
        let text = serde_saphyr::to_string(document)
            .map_err(|err| ApiError::failed("the document could not be written as YAML", &err))?;
        Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            )],
            text,
        )
            .into_response())
    } else {
        Ok(axum::Json(document).into_response())
    }
}

#[derive(Debug, Deserialize)]
struct Format {
    format: Option<String>,
}

/// Whether the client asked for YAML.
fn wants_yaml(format: &Format, headers: &HeaderMap) -> bool {
    if let Some(format) = &format.format {
        return format.eq_ignore_ascii_case("yaml");
    }
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept.contains("application/yaml") || accept.contains("application/x-yaml")
        })
}

/// The kinds of document a revision is exported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OpenApi,
    Raml,
}

async fn openapi_export(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
    Query(format): Query<Format>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let document = exported(&state, Kind::OpenApi, &version, &path).await?;
    answer(&document, &format, &headers)
}

async fn raml_export(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let document = exported(&state, Kind::Raml, &version, &path).await?;
    let text = document.as_str().unwrap_or_default().to_owned();
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/raml+yaml"),
        )],
        text,
    )
        .into_response())
}

/// The `kind` document of the served revision for `version` and `path`,
/// from the cache or generated now (a RAML document is kept as a string).
async fn exported(
    state: &AppState,
    kind: Kind,
    version: &str,
    path: &str,
) -> Result<Arc<serde_json::Value>, ApiError> {
    let versions = match version {
        "*" => Versions::Default,
        text => Versions::Number(text.parse().map_err(|_| {
            Problem::new(StatusCode::NOT_FOUND)
                .detail(format!("`{text}` is not a version: give its number or `*`"))
        })?),
    };
    let path = format!("/{}", path.trim_start_matches('/'));
    let snapshot = state.live.current();
    let key = (
        snapshot.revision,
        format!("{kind:?}:{version}"),
        path.clone(),
    );
    if let Some(document) = state.exports.get(&key) {
        return Ok(document);
    }
    let scopes = state.store.scope_descriptions().await?;
    let selection = Selection {
        versions,
        path: (path != "/*").then_some(path.as_str()),
    };
    let issuer = state.auth.jwt().issuer();
    let document = match kind {
        Kind::OpenApi => openapi::document(&snapshot.project, selection, issuer, &scopes),
        Kind::Raml => crate::doc::raml::document(&snapshot.project, selection, issuer, &scopes)
            .map(serde_json::Value::String),
    }
    .ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND)
            .detail(format!("no route `{path}` in version `{version}`"))
    })?;
    let document = Arc::new(document);
    state.exports.insert(key, document.clone());
    Ok(document)
}
