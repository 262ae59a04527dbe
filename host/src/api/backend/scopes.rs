//! `/backend/scope`: what tokens may do. System scopes and scopes still
//! granted on route methods cannot be deleted; a scope's name is what
//! tokens carry, so only its description changes.

use super::{
    Reference, ScopeScope, bad_request, conflict, created, entity, listing, lookup, updated,
};
use crate::api::answer::{Written, json, respond, store_problem};
use crate::api::precondition::if_match;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::auth::scopes::{is_system, is_valid_name};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::identity::Scope;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeView {
    id: i64,
    name: String,
    description: String,
    system: bool,
    /// On how many route methods it is granted.
    granted_on: i64,
}

impl ScopeView {
    fn new(scope: Scope, grants: &HashMap<String, i64>) -> Self {
        Self {
            granted_on: grants.get(&scope.name).copied().unwrap_or(0),
            id: scope.id,
            name: scope.name,
            description: scope.description,
            system: scope.system,
        }
    }
}

/// On how many route methods of the served project each scope is granted.
async fn grants(state: &AppState) -> Result<HashMap<String, i64>, StoreError> {
    let project = state.store.current().await?.project;
    let mut grants = HashMap::new();
    let methods = project
        .routes
        .iter()
        .flat_map(|route| &route.versions)
        .flat_map(|version| &version.methods);
    for method in methods {
        for scope in &method.scopes {
            *grants.entry(scope.clone()).or_insert(0) += 1;
        }
    }
    Ok(grants)
}

/// `POST /backend/scope`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScopeBody {
    name: String,
    #[serde(default)]
    description: String,
}

/// `PUT /backend/scope/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeUpdate {
    description: String,
}

async fn find(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Scope, Problem> {
    lookup(headers, "scope", id, |reference| async move {
        match reference {
            Reference::Id(n) => state.store.scope_by_id(n).await,
            Reference::Name(name) => state.store.scope_by_name(name).await,
        }
    })
    .await
}

#[utoipa::path(get, path = "/backend/scope", params(CollectionQuery),
    responses((status = 200, body = Collection<ScopeView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn list(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, ScopeView, _>(&headers, &query, |page| async move {
        let grants = grants(&state).await?;
        let (total, scopes) = state.store.list_scopes(page).await?;
        Ok((
            total,
            scopes
                .into_iter()
                .map(|scope| ScopeView::new(scope, &grants))
                .collect::<Vec<_>>(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/backend/scope/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = ScopeView, headers(("ETag" = String))), (status = 404)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn get(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let scope = find(&state, &headers, &id).await?;
        let grants = grants(&state)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(entity(scope.revision, ScopeView::new(scope, &grants)))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/backend/scope", request_body = NewScopeBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn create(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: NewScopeBody = json(&body)?;
        if !is_valid_name(&form.name) {
            return Err(bad_request(format!(
                "`{}` is not a valid scope name",
                form.name
            )));
        }
        if is_system(&form.name) {
            return Err(bad_request(format!(
                "`{}` lies below a system scope",
                form.name
            )));
        }
        let id = state
            .store
            .create_scope(&form.name, &form.description)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(created("the scope was created", id))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/scope/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = ScopeUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn update(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let scope = find(&state, &headers, &id).await?;
        let form: ScopeUpdate = json(&body)?;
        if scope.system {
            return Err(conflict("a system scope's description cannot be changed"));
        }
        let revision = state
            .store
            .update_scope(scope.id, &form.description, &if_match(&headers))
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(updated("the scope was updated", scope.id, revision))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/scope/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Written), (status = 404), (status = 409)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn delete(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let scope = find(&state, &headers, &id).await?;
        if scope.system {
            return Err(conflict("a system scope cannot be deleted"));
        }
        let granted_on = grants(&state)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .get(&scope.name)
            .copied()
            .unwrap_or(0);
        if granted_on > 0 {
            return Err(conflict(format!(
                "the scope is granted on {granted_on} route methods; remove it from the project first"
            )));
        }
        state
            .store
            .delete_scope(scope.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        state.auth.forget_everywhere().await;
        Ok(Json(Written::new("the scope was deleted", scope.id)))
    }
    .await;
    respond(&headers, result)
}
