//! `/backend/user`: accounts, their role and their own scopes. Switching a
//! user off or narrowing what they hold revokes their tokens at once.

use super::{
    FIRST_PARTY, Reference, UserScope, bad_request, conflict, created, entity, listing, lookup,
    updated,
};
use crate::api::answer::{Written, json, respond, store_problem};
use crate::api::precondition::if_match;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::auth::accounts::{self, Account, AccountError};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::identity::{Status, User, UserChanges};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// A user as the backend lists them (never the password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    id: i64,
    name: String,
    email: Option<String>,
    #[schema(value_type = String)]
    status: Status,
    role: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            name: user.name,
            email: user.email,
            status: user.status,
            role: user.role,
        }
    }
}

/// A single user: the listed fields and the scopes they hold beyond their
/// role's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    #[serde(flatten)]
    user: UserView,
    scopes: Vec<String>,
}

/// `POST /backend/user`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    name: String,
    email: Option<String>,
    password: String,
    role: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `PUT /backend/user/{id}`: what an administrator may change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[schema(value_type = Option<String>)]
    status: Option<Status>,
    role: Option<String>,
    /// The user's own scopes beyond the role's, replacing the old.
    scopes: Option<Vec<String>>,
}

async fn find(state: &AppState, headers: &HeaderMap, id: &str) -> Result<User, Problem> {
    lookup(headers, "user", id, |reference| async move {
        match reference {
            Reference::Id(n) => state.store.user_by_id(n).await,
            Reference::Name(name) => state.store.user_by_name(name).await,
        }
    })
    .await
}

#[utoipa::path(get, path = "/backend/user", params(CollectionQuery),
    responses((status = 200, body = Collection<UserView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn list(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, UserView, _>(&headers, &query, |page| state.store.list_users(page)).await
}

#[utoipa::path(get, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = UserDetail, headers(("ETag" = String))), (status = 404)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn get(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = find(&state, &headers, &id).await?;
        let scopes = state
            .store
            .own_scopes(user.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let revision = user.revision;
        Ok(entity(
            revision,
            UserDetail {
                user: user.into(),
                scopes,
            },
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/backend/user", request_body = NewUserBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn create(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: NewUserBody = json(&body)?;
        let id = accounts::add_user(
            &state.store,
            &Account {
                name: &form.name,
                email: form.email.as_deref(),
                password: &form.password,
                role: &form.role,
                scopes: &form.scopes,
            },
        )
        .await
        .map_err(|err| match err {
            AccountError::Store(e) => store_problem(&headers, e),
            other => bad_request(other.to_string()),
        })?;
        Ok(created("the user was created", id))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = UserUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 412)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn update(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = find(&state, &headers, &id).await?;
        let form: UserUpdate = json(&body)?;
        let revision = state
            .auth
            .update_user(
                user.id,
                &UserChanges {
                    status: form.status,
                    role: form.role.as_deref(),
                    scopes: form.scopes.as_deref(),
                },
                &if_match(&headers),
            )
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(updated("the user was updated", user.id, revision))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Written), (status = 404), (status = 409)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn delete(
    auth: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = find(&state, &headers, &id).await?;
        if auth.caller.claims.sub == user.id.to_string() {
            return Err(conflict("you cannot delete your own account"));
        }
        let owns_first_party = state
            .store
            .apps_of(user.id)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .iter()
            .any(|app| FIRST_PARTY.contains(&app.client_id.as_str()));
        if owns_first_party {
            return Err(conflict(
                "this user owns Fusio's own apps (`fusio`, `developer`) and cannot be deleted",
            ));
        }
        state
            .auth
            .delete_user(user.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new(
            "the user, their apps and their tokens were deleted",
            user.id,
        )))
    }
    .await;
    respond(&headers, result)
}
