//! `/backend/role`: the scopes a user gets by default. Fusio's own roles
//! (`Administrator`, `Consumer`) keep their names and cannot be deleted,
//! and `Administrator` keeps `backend`, so the backend cannot be locked.
//! Taking a scope away from a role revokes its users' tokens at once.

use super::identity::{self, Identity, Reference, conflict, identity_handlers};
use super::{RoleScope, bad_request, created, updated};
use crate::api::answer::{Written, json};
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::auth::bootstrap::{ADMINISTRATOR, CONSUMER};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::identity::{Role, RoleChanges};
use crate::store::{Page, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
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

impl Identity for Role {
    const WHAT: &'static str = "role";
    const DELETED: &'static str = "the role was deleted";
    type Listed = RoleView;
    type Shown = RoleView;

    async fn fetch(state: &AppState, reference: Reference<'_>) -> Result<Option<Self>, StoreError> {
        match reference {
            Reference::Id(n) => state.store.role_by_id(n).await,
            Reference::Name(name) => state.store.role_by_name(name).await,
        }
    }

    async fn page(state: &AppState, page: Page<'_>) -> Result<(i64, Vec<RoleView>), ApiError> {
        let (total, roles) = state.store.list_roles(page).await?;
        Ok((total, roles.into_iter().map(RoleView::from).collect()))
    }

    async fn shown(self, _: &AppState) -> Result<RoleView, ApiError> {
        Ok(self.into())
    }

    fn id_and_revision(&self) -> (i64, i64) {
        (self.id, self.revision)
    }

    async fn remove(&self, state: &AppState, _: &Caller) -> Result<(), ApiError> {
        if is_builtin(&self.name) {
            return Err(conflict(format!(
                "`{}` is one of Fusio's own roles and cannot be deleted",
                self.name
            )));
        }
        if !state.store.delete_role(self.id).await? {
            return Err(conflict(
                "users still have this role; move them to another first",
            ));
        }
        Ok(())
    }
}

identity_handlers!(
    Role,
    RoleScope,
    "backend.role",
    "/backend/role",
    "/backend/role/{id}",
    RoleView,
    RoleView
);

#[utoipa::path(post, path = "/backend/role", request_body = NewRoleBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn create(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: NewRoleBody = json(&body)?;
    check_name(&form.name)?;
    let id = state.store.create_role(&form.name, &form.scopes).await?;
    Ok(created("the role was created", id))
}

#[utoipa::path(put, path = "/backend/role/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = RoleUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.role"])))]
pub(super) async fn update(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let role = identity::find::<Role>(&state, &id).await?;
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
    let changes = RoleChanges {
        name: form.name.as_deref(),
        scopes: form.scopes.as_deref(),
    };
    let revision = state
        .auth
        .update_role(role.id, &changes, &if_match.expected())
        .await?;
    Ok(updated("the role was updated", role.id, revision))
}
