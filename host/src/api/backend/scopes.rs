//! `/backend/scope`: what tokens may do. System scopes and scopes still
//! granted on route methods cannot be deleted; a scope's name is what
//! tokens carry, so only its description changes.

use super::identity::{self, Identity, Reference, conflict, identity_handlers};
use super::{ScopeScope, bad_request, created, updated};
use crate::api::answer::{Written, json};
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::auth::scopes::{is_system, is_valid_name};
use crate::state::AppState;
use crate::store::identity::Scope;
use crate::store::{Page, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
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

impl Identity for Scope {
    const WHAT: &'static str = "scope";
    const DELETED: &'static str = "the scope was deleted";
    type Listed = ScopeView;
    type Shown = ScopeView;

    async fn fetch(state: &AppState, reference: Reference<'_>) -> Result<Option<Self>, StoreError> {
        match reference {
            Reference::Id(n) => state.store.scope_by_id(n).await,
            Reference::Name(name) => state.store.scope_by_name(name).await,
        }
    }

    async fn page(state: &AppState, page: Page<'_>) -> Result<(i64, Vec<ScopeView>), ApiError> {
        let grants = grants(state).await?;
        let (total, scopes) = state.store.list_scopes(page).await?;
        let views = scopes
            .into_iter()
            .map(|scope| ScopeView::new(scope, &grants))
            .collect();
        Ok((total, views))
    }

    async fn shown(self, state: &AppState) -> Result<ScopeView, ApiError> {
        Ok(ScopeView::new(self, &grants(state).await?))
    }

    fn id_and_revision(&self) -> (i64, i64) {
        (self.id, self.revision)
    }

    async fn remove(&self, state: &AppState, _: &Caller) -> Result<(), ApiError> {
        if self.system {
            return Err(conflict("a system scope cannot be deleted"));
        }
        let granted_on = grants(state).await?.get(&self.name).copied().unwrap_or(0);
        if granted_on > 0 {
            return Err(conflict(format!(
                "the scope is granted on {granted_on} route methods; remove it from the project first"
            )));
        }
        state.store.delete_scope(self.id).await?;
        state.auth.forget_everywhere().await;
        Ok(())
    }
}

identity_handlers!(
    Scope,
    ScopeScope,
    "backend.scope",
    "/backend/scope",
    "/backend/scope/{id}",
    ScopeView,
    ScopeView
);

#[utoipa::path(post, path = "/backend/scope", request_body = NewScopeBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn create(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: NewScopeBody = json(&body)?;
    if !is_valid_name(&form.name) {
        return Err(bad_request(format!("`{}` is not a valid scope name", form.name)).into());
    }
    if is_system(&form.name) {
        return Err(bad_request(format!("`{}` lies below a system scope", form.name)).into());
    }
    let id = state
        .store
        .create_scope(&form.name, &form.description)
        .await?;
    Ok(created("the scope was created", id))
}

#[utoipa::path(put, path = "/backend/scope/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = ScopeUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.scope"])))]
pub(super) async fn update(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let scope = identity::find::<Scope>(&state, &id).await?;
    let form: ScopeUpdate = json(&body)?;
    if scope.system {
        return Err(conflict("a system scope's description cannot be changed"));
    }
    let revision = state
        .store
        .update_scope(scope.id, &form.description, &if_match.expected())
        .await?;
    Ok(updated("the scope was updated", scope.id, revision))
}
