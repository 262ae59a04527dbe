//! `/backend/app`: OAuth2 clients, and the tokens each holds. Switching an
//! app off or changing its scopes revokes its tokens at once; Fusio's own
//! apps cannot be deleted.

use super::identity::{self, Identity, Reference, conflict, identity_handlers};
use super::tokens::TokenView;
use super::{AppScope, FIRST_PARTY, listing, updated};
use crate::api::answer::{Written, check_app_name, json};
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::auth::accounts::{self, AppRequest};
use crate::state::AppState;
use crate::store::identity::{App, AppChanges, Status};
use crate::store::{Page, StoreError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// An app as the backend shows it (never the secret or its hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppView {
    id: i64,
    user_id: i64,
    name: String,
    client_id: String,
    #[schema(value_type = String)]
    status: Status,
    /// A public client has no secret.
    public: bool,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
}

impl From<App> for AppView {
    fn from(app: App) -> Self {
        Self {
            id: app.id,
            user_id: app.user_id,
            name: app.name,
            client_id: app.client_id,
            status: app.status,
            public: app.secret_hash.is_none(),
            redirect_uris: app.redirect_uris,
            scopes: app.scopes,
        }
    }
}

/// `POST /backend/app`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAppBody {
    /// The owner's login name.
    user: String,
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    /// A public client (no secret).
    #[serde(default)]
    public: bool,
}

/// `PUT /backend/app/{id}`: what an administrator may change of an app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppUpdate {
    name: Option<String>,
    #[schema(value_type = Option<String>)]
    status: Option<Status>,
    scopes: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
}

impl Identity for App {
    const WHAT: &'static str = "app";
    const DELETED: &'static str = "the app and its tokens were deleted";
    type Listed = AppView;
    type Shown = AppView;

    async fn fetch(state: &AppState, reference: Reference<'_>) -> Result<Option<Self>, StoreError> {
        match reference {
            Reference::Id(n) => state.store.app_by_id(n).await,
            Reference::Name(name) => state.store.app_by_name(name).await,
        }
    }

    async fn page(state: &AppState, page: Page<'_>) -> Result<(i64, Vec<AppView>), ApiError> {
        let (total, apps) = state.store.list_apps(page).await?;
        Ok((total, apps.into_iter().map(AppView::from).collect()))
    }

    async fn shown(self, _: &AppState) -> Result<AppView, ApiError> {
        Ok(self.into())
    }

    fn id_and_revision(&self) -> (i64, i64) {
        (self.id, self.revision)
    }

    async fn remove(&self, state: &AppState, _: &Caller) -> Result<(), ApiError> {
        if FIRST_PARTY.contains(&self.client_id.as_str()) {
            return Err(conflict(format!(
                "`{}` is one of Fusio's own apps and cannot be deleted",
                self.client_id
            )));
        }
        state.auth.delete_app(self.id).await?;
        Ok(())
    }
}

identity_handlers!(
    App,
    AppScope,
    "backend.app",
    "/backend/app",
    "/backend/app/{id}",
    AppView,
    AppView
);

#[utoipa::path(get, path = "/backend/app/{id}/token", params(("id" = String, Path, description = "id or ~name"), CollectionQuery),
    responses((status = 200, body = Collection<TokenView>), (status = 404)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn tokens(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let app = identity::find::<App>(&state, &id).await?;
    listing::<_, TokenView, _, _>(&query, |page| state.store.list_tokens(page, Some(app.id))).await
}

#[utoipa::path(post, path = "/backend/app", request_body = NewAppBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn create(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: NewAppBody = json(&body)?;
    check_app_name(&form.name)?;
    let request = AppRequest {
        owner: &form.user,
        name: &form.name,
        scopes: &form.scopes,
        redirect_uris: &form.redirect_uris,
        public: form.public,
    };
    let credentials = accounts::add_app(&state.store, &request).await?;
    let written = Written::new(
        "the app was created; its secret is shown only now",
        credentials.id,
    )
    .credentials(credentials.client_id, credentials.client_secret);
    Ok((StatusCode::CREATED, Json(written)))
}

#[utoipa::path(put, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = AppUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn update(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let app = identity::find::<App>(&state, &id).await?;
    let form: AppUpdate = json(&body)?;
    if let Some(name) = &form.name {
        check_app_name(name)?;
    }
    let changes = AppChanges {
        name: form.name.as_deref(),
        status: form.status,
        redirect_uris: form.redirect_uris.as_deref(),
        scopes: form.scopes.as_deref(),
    };
    let revision = state
        .auth
        .update_app(app.id, &changes, &if_match.expected())
        .await?;
    Ok(updated("the app was updated", app.id, revision))
}
