//! `/backend/role`: the scopes a user gets by default. Fusio's own roles
//! (`Administrator`, `Consumer`) keep their names and cannot be deleted,
//! and `Administrator` keeps `backend`, so the backend cannot be locked.
//! Taking a scope away from a role revokes its users' tokens at once.

use super::{
    Reference, RoleScope, bad_request, conflict, created, entity, listing, lookup, updated,
};
use crate::api::answer::{Written, json, respond, store_problem};
use crate::api::precondition::if_match;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::auth::bootstrap::{ADMINISTRATOR, CONSUMER};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::identity::{Role, RoleChanges};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// A role and the scopes its users get by default.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    id: i64,
    name: String,
    scopes: Vec<String>,
    /// How many users have it.
    users: i64,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        Self {
            id: role.id,
            name: role.name,
            scopes: role.scopes,
            users: role.users,
        }
    }
}

/// `POST /backend/role`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleBody {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `PUT /backend/role/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    name: Option<String>,
    /// The new default scopes, replacing the old.
    scopes: Option<Vec<String>>,
}

/// Fusio's own roles: registration and bootstrap name them.
fn is_builtin(name: &str) -> bool {
    name == ADMINISTRATOR || name == CONSUMER
}

/// A role's name: 1 to 64 characters, not only spaces, no `~` first (it
/// would read as a name lookup).
fn check_name(name: &str) -> Result<(), Problem> {
    if name.trim().is_empty() || name.len() > 64 || name.starts_with('~') {
        return Err(bad_request(
            "`name` must have 1 to 64 characters and not start with `~`",
        ));
    }
    Ok(())
}

async fn find(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Role, Problem> {
    lookup(headers, "role", id, |reference| async move {
        match reference {
            Reference::Id(n) => state.store.role_by_id(n).await,
            Reference::Name(name) => state.store.role_by_name(name).await,
        }
    })
    .await
}

#[utoipa::path(get, path = "/backend/role", params(CollectionQuery),
    responses((status = 200, body = Collection<RoleView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn list(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, RoleView, _>(&headers, &query, |page| state.store.list_roles(page)).await
}

#[utoipa::path(get, path = "/backend/role/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = RoleView, headers(("ETag" = String))), (status = 404)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn get(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = find(&state, &headers, &id)
        .await
        .map(|role| entity(role.revision, RoleView::from(role)));
    respond(&headers, result)
}

#[utoipa::path(post, path = "/backend/role", request_body = NewRoleBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn create(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: NewRoleBody = json(&body)?;
        check_name(&form.name)?;
        let id = state
            .store
            .create_role(&form.name, &form.scopes)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(created("the role was created", id))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/role/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = RoleUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn update(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let role = find(&state, &headers, &id).await?;
        let form: RoleUpdate = json(&body)?;
        if let Some(name) = &form.name {
            check_name(name)?;
            if is_builtin(&role.name) && *name != role.name {
                return Err(conflict(format!(
                    "`{}` is one of Fusio's own roles and keeps its name",
                    role.name
                )));
            }
        }
        if role.name == ADMINISTRATOR
            && form
                .scopes
                .as_ref()
                .is_some_and(|scopes| !scopes.iter().any(|s| s == "backend"))
        {
            return Err(conflict(
                "`Administrator` keeps the scope `backend`, or nobody could administer Fusio",
            ));
        }
        let revision = state
            .auth
            .update_role(
                role.id,
                &RoleChanges {
                    name: form.name.as_deref(),
                    scopes: form.scopes.as_deref(),
                },
                &if_match(&headers),
            )
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(updated("the role was updated", role.id, revision))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/role/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Written), (status = 404), (status = 409)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn delete(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let role = find(&state, &headers, &id).await?;
        if is_builtin(&role.name) {
            return Err(conflict(format!(
                "`{}` is one of Fusio's own roles and cannot be deleted",
                role.name
            )));
        }
        let deleted = state
            .store
            .delete_role(role.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        if !deleted {
            return Err(conflict(
                "users still have this role; move them to another first",
            ));
        }
        Ok(Json(Written::new("the role was deleted", role.id)))
    }
    .await;
    respond(&headers, result)
}
