//! `/doc`: the documentation of the served revision for API consumers —
//! `GET /doc` lists every route, `GET /doc/{version}/{path}` one version of
//! one route (`*` for the default version) with its parameters and schemas.
//! Anyone may read it; versions in development are shown only with a
//! backend token.

use crate::api_error::ApiError;
use crate::auth::scopes;
use crate::doc::{self, Index, Reader, RouteDoc};
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use http::{HeaderMap, StatusCode};

/// The `/doc` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/doc", get(index))
        .route("/doc/{version}/{*path}", get(route))
}

/// Backend readers see versions in development; everyone else does not (a
/// token that does not check counts as none).
async fn reader(state: &AppState, headers: &HeaderMap) -> Reader {
    if !headers.contains_key(http::header::AUTHORIZATION) {
        return Reader::Public;
    }
    match state.auth.authenticate(headers).await {
        Ok(caller) if scopes::any_grants(caller.scopes(), "backend") => Reader::Backend,
        _ => Reader::Public,
    }
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Json<Index> {
    let reader = reader(&state, &headers).await;
    let snapshot = state.live.current();
    Json(doc::index(
        &snapshot.project,
        reader,
        state.auth.jwt().issuer(),
    ))
}

async fn route(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<RouteDoc>, ApiError> {
    let number = match version.as_str() {
        "*" => None,
        text => Some(text.parse::<u32>().map_err(|_| {
            Problem::new(StatusCode::NOT_FOUND)
                .detail(format!("`{text}` is not a version: give its number or `*`"))
        })?),
    };
    let path = format!("/{}", path.trim_start_matches('/'));
    let reader = reader(&state, &headers).await;
    let snapshot = state.live.current();
    let issuer = state.auth.jwt().issuer();
    doc::route(&snapshot.project, number, &path, reader, issuer)
        .map(Json)
        .ok_or_else(|| {
            Problem::new(StatusCode::NOT_FOUND)
                .detail(format!("no route `{path}` in version `{version}`"))
                .into()
        })
}
