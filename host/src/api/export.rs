//! `/export`: the served revision as an OpenAPI 3.1 document —
//! `GET /export/openapi/{version}/{path}`, `*` for each route's default
//! version or for every route — as JSON, or YAML with `?format=yaml` or
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
    Router::new().route("/export/openapi/{version}/{*path}", get(openapi_export))
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

async fn openapi_export(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
    Query(format): Query<Format>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let versions = match version.as_str() {
        "*" => Versions::Default,
        text => Versions::Number(text.parse().map_err(|_| {
            Problem::new(StatusCode::NOT_FOUND)
                .detail(format!("`{text}` is not a version: give its number or `*`"))
        })?),
    };
    let path = format!("/{}", path.trim_start_matches('/'));
    let snapshot = state.live.current();
    let key = (snapshot.revision, version.clone(), path.clone());
    let document = match state.exports.get(&key) {
        Some(document) => document,
        None => {
            let scopes = state.store.scope_descriptions().await?;
            let selection = Selection {
                versions,
                path: (path != "/*").then_some(path.as_str()),
            };
            let issuer = state.auth.jwt().issuer();
            let document = openapi::document(&snapshot.project, selection, issuer, &scopes)
                .ok_or_else(|| {
                    Problem::new(StatusCode::NOT_FOUND)
                        .detail(format!("no route `{path}` in version `{version}`"))
                })?;
            let document = Arc::new(document);
            state.exports.insert(key, document.clone());
            document
        }
    };
    if wants_yaml(&format, &headers) {
        let text = serde_saphyr::to_string(&*document)
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
        Ok(axum::Json(&*document).into_response())
    }
}
