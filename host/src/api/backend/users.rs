//! `/backend/user`: accounts, their role and their own scopes. Switching a
//! user off or narrowing what they hold revokes their tokens at once.

use super::identity::{self, Identity, Reference, conflict, identity_handlers};
use super::{FIRST_PARTY, UserScope, created, updated};
use crate::api::answer::{Written, json};
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::auth::accounts::{self, Account};
use crate::state::AppState;
use crate::store::identity::{Status, User, UserChanges};
use crate::store::{Page, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
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

impl Identity for User {
    const WHAT: &'static str = "user";
    const DELETED: &'static str = "the user, their apps and their tokens were deleted";
    type Listed = UserView;
    type Shown = UserDetail;

    async fn fetch(state: &AppState, reference: Reference<'_>) -> Result<Option<Self>, StoreError> {
        match reference {
            Reference::Id(n) => state.store.user_by_id(n).await,
            Reference::Name(name) => state.store.user_by_name(name).await,
        }
    }

    async fn page(state: &AppState, page: Page<'_>) -> Result<(i64, Vec<UserView>), ApiError> {
        let (total, users) = state.store.list_users(page).await?;
        Ok((total, users.into_iter().map(UserView::from).collect()))
    }

    async fn shown(self, state: &AppState) -> Result<UserDetail, ApiError> {
        let scopes = state.store.own_scopes(self.id).await?;
        Ok(UserDetail {
            user: self.into(),
            scopes,
        })
    }

    fn id_and_revision(&self) -> (i64, i64) {
        (self.id, self.revision)
    }

    async fn remove(&self, state: &AppState, caller: &Caller) -> Result<(), ApiError> {
        if caller.claims.sub == self.id.to_string() {
            return Err(conflict("you cannot delete your own account"));
        }
        let owns_first_party = state
            .store
            .apps_of(self.id)
            .await?
            .iter()
            .any(|app| FIRST_PARTY.contains(&app.client_id.as_str()));
        if owns_first_party {
            return Err(conflict(
                "this user owns Fusio's own apps (`fusio`, `developer`) and cannot be deleted",
            ));
        }
        state.auth.delete_user(self.id).await?;
        Ok(())
    }
}

identity_handlers!(
    User,
    UserScope,
    "backend.user",
    "/backend/user",
    "/backend/user/{id}",
    UserView,
    UserDetail
);

#[utoipa::path(post, path = "/backend/user", request_body = NewUserBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn create(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: NewUserBody = json(&body)?;
    let account = Account {
        name: &form.name,
        email: form.email.as_deref(),
        password: &form.password,
        role: &form.role,
        scopes: &form.scopes,
    };
    let id = accounts::add_user(&state.store, &account).await?;
    Ok(created("the user was created", id))
}

#[utoipa::path(put, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = UserUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 412)),
    security(("bearer" = ["backend.user"])))]
pub(super) async fn update(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let user = identity::find::<User>(&state, &id).await?;
    let form: UserUpdate = json(&body)?;
    let changes = UserChanges {
        status: form.status,
        role: form.role.as_deref(),
        scopes: form.scopes.as_deref(),
    };
    let revision = state
        .auth
        .update_user(user.id, &changes, &if_match.expected())
        .await?;
    Ok(updated("the user was updated", user.id, revision))
}
